# The shipped monitoring files against the status handler that feeds them:
#   conf.d/prometheus/idgw-alerts.yml       promtool check rules
#   conf.d/prometheus/idgw-alerts.test.yml  promtool test rules (every alert fires, none when healthy)
#   conf.d/grafana/idgw-dashboard.json      parses, is a Grafana dashboard on ${DS_PROMETHEUS},
#                                           every expression is valid PromQL
# and every idgw_* name either of them uses is one the running handler
# exports (its Prometheus text, with and without the fleet read).
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestRequest qw(GET);
use Apache::TestUtil;
use File::Temp qw(tempdir);
use JSON::PP ();

my $promtool = `command -v promtool 2>/dev/null`;
chomp $promtool;

plan tests => 15, need {
    'promtool (Debian package prometheus; scripts/idgw-dev deps installs it)' => $promtool ? 1 : 0,
};

my $top = Apache::Test::vars('top_dir');
my $alerts = "$top/conf.d/prometheus/idgw-alerts.yml";
my $alerts_test = "$top/conf.d/prometheus/idgw-alerts.test.yml";
my $dashboard = "$top/conf.d/grafana/idgw-dashboard.json";
my $dir = tempdir(CLEANUP => 1);

sub slurp { my ($f) = @_; open my $fh, '<', $f or die "$f: $!"; local $/; <$fh> }

sub run {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    return ($? == 0, $out);
}

# ---- what the handler exports ----------------------------------------------
my %exported;
for my $vhost ('default', 'idgw_status_fleet') {
    Apache::TestRequest::module($vhost);
    my $body = GET('/idgw-status?format=prometheus')->content;
    for (split /\n/, $body) {
        next unless /^# TYPE (\S+) (\S+)$/;
        $exported{$1} = 1;
        $exported{"$1$_"} = 1 for $2 eq 'histogram' ? qw(_bucket _sum _count) : ();
    }
}
Apache::TestRequest::module('default');
ok t_cmp(scalar(grep { /^idgw_/ } keys %exported) >= 20, 1,
         'scraped the exported names (' . scalar(keys %exported) . ')');

# idgw_* names a file uses that the handler does not export
sub unknown_names {
    my ($text) = @_;
    my %seen = map { $_ => 1 } $text =~ /\b(idgw_[a-z0-9_]+)\b/g;
    return sort grep { !$exported{$_} } keys %seen;
}

# ---- the alerting rules ----------------------------------------------------
my ($ok, $out) = run("'$promtool' check rules '$alerts'");
ok t_cmp($ok ? 1 : 0, 1, 'promtool check rules') or t_debug($out);
my $rules_text = slurp($alerts);
my @alert_names = $rules_text =~ /^\s*- alert: (\S+)/mg;
ok t_cmp($out, qr/SUCCESS: ${\ scalar @alert_names} rules found/, 'every rule counted');

($ok, $out) = run("cd '$top/conf.d/prometheus' && '$promtool' test rules idgw-alerts.test.yml");
ok t_cmp($ok ? 1 : 0, 1, 'promtool test rules') or t_debug($out);

my @unknown = unknown_names($rules_text);
ok t_cmp("@unknown", '', 'the rules use only exported idgw_* names');

my %want_alert = map { $_ => 1 } qw(IdgwGatewayDown IdgwRedisUnreachable IdgwErrorRatioHigh
    IdgwBackendFailureRatioHigh IdgwBackendLatencyHigh IdgwSequenceErrorSpike
    IdgwDegradedDecisions IdgwRedisPoolFailures);
my @missing = grep { my $a = $_; !grep { $_ eq $a } @alert_names } sort keys %want_alert;
ok t_cmp("@missing", '', 'every alert the runbook names is there');

# every alert has a test where it fires (non-empty exp_alerts) and one where
# it stays quiet (exp_alerts: [])
my $tests_text = slurp($alerts_test);
my (@no_fire, @no_quiet);
for my $a (@alert_names) {
    push @no_fire, $a unless $tests_text =~ /alertname: \Q$a\E\s*\n\s*exp_alerts:\s*\n\s*- exp_labels/;
    push @no_quiet, $a unless $tests_text =~ /alertname: \Q$a\E\s*,?\s*exp_alerts: \[\]/;
}
ok t_cmp("@no_fire", '', 'every alert has a unit test where it fires');
ok t_cmp("@no_quiet", '', 'every alert has a unit test where it does not');

# ---- the dashboard -----------------------------------------------------------
my $dash = eval { JSON::PP->new->decode(slurp($dashboard)) };
ok t_cmp(ref $dash, 'HASH', 'dashboard JSON parses') or t_debug($@);
$dash ||= {};
my ($ds) = grep { $_->{name} eq 'DS_PROMETHEUS' } @{ $dash->{templating}{list} || [] };
ok t_cmp($ds && $ds->{type} eq 'datasource' && $ds->{query} eq 'prometheus' ? 1 : 0, 1,
         'data source is the variable ${DS_PROMETHEUS}');

my (@panels, @exprs, @bad_panels, %ids);
sub walk { for my $p (@_) { push @panels, $p; walk(@{ $p->{panels} || [] }) } }
walk(@{ $dash->{panels} || [] });
for my $p (@panels) {
    $ids{ $p->{id} // 'none' }++;
    my $g = $p->{gridPos} || {};
    push @bad_panels, "$p->{title}: gridPos" unless defined $g->{x} && $g->{x} + $g->{w} <= 24;
    next if $p->{type} eq 'row';
    push @bad_panels, "$p->{title}: data source"
        unless ($p->{datasource}{uid} // '') eq '${DS_PROMETHEUS}';
    my @t = @{ $p->{targets} || [] };
    push @bad_panels, "$p->{title}: no expression" unless @t;
    for (@t) {
        push @bad_panels, "$p->{title}: target data source"
            unless ($_->{datasource}{uid} // '') eq '${DS_PROMETHEUS}';
        push @exprs, $_->{expr};
    }
}
ok t_cmp(join('; ', @bad_panels, grep { $ids{$_} > 1 } keys %ids), '',
         scalar(@panels) . ' panels: data source, expression, layout, unique ids');

@unknown = unknown_names(join "\n", @exprs, map { $_->{definition} // '' } @{ $dash->{templating}{list} || [] });
ok t_cmp("@unknown", '', 'the dashboard uses only exported idgw_* names');

# what the dashboard must show
my $all = join "\n", @exprs;
my @topics = (qr/idgw_requests_total\b.*by \(op, result\)|by \(op, result\).*idgw_requests_total\b/,
              qr/idgw_sequence_errors_total/, qr/by \(reason\) \(rate\(idgw_acl_denials_total/,
              qr/idgw_degraded_decisions_total/, qr/by \(backend, result\) \(rate\(idgw_backend_calls_total/,
              qr/histogram_quantile\(0\.99, sum by \(backend, le\) \(rate\(idgw_backend_duration_seconds_bucket/,
              qr/idgw_redis_errors_total/, qr/idgw_fleet_value/, qr/idgw_fleet_up/);
my @absent = grep { $all !~ $_ } @topics;
ok t_cmp(scalar @absent, 0, 'panels for requests, sequence errors, ACL denials, degraded decisions, '
                           . 'backend calls and latency, Redis errors, fleet figures')
    or t_debug("@absent");

# every expression is valid PromQL: as recording rules for promtool, with
# Grafana's variables given values
open my $fh, '>', "$dir/dashboard-exprs.yml" or die $!;
print {$fh} "groups:\n  - name: dashboard\n    rules:\n";
my $n = 0;
for my $e (@exprs) {
    (my $q = $e) =~ s/\$__rate_interval/5m/g;
    $q =~ s/\$(job|instance)\b/.*/g;
    $q =~ s/\n/ /g;
    $n++;
    print {$fh} "      - record: idgw:dashboard_expr_$n\n        expr: " . JSON::PP->new->encode($q) . "\n";
}
close $fh;
($ok, $out) = run("'$promtool' check rules '$dir/dashboard-exprs.yml'");
ok t_cmp($ok ? 1 : 0, 1, "the dashboard's $n expressions parse as PromQL") or t_debug($out);

# the alerts' thresholds are the page's "bad" ones (idgw_status_page.h)
ok t_cmp($rules_text =~ /\) > 0\.10\n/ && $rules_text =~ /\) > 0\.05\n/ ? 1 : 0, 1,
         'alert thresholds: error ratio 10 %, backend failures 5 %, as on the page');
