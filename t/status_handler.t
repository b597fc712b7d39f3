# mod_idgw_status: the idgw-status handler's two forms, methods and headers.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestRequest qw(GET HEAD POST);
use Apache::TestUtil;

plan tests => 24;

my @families = qw(idgw_requests_total idgw_request_duration_seconds
                  idgw_sequence_errors_total idgw_acl_denials_total
                  idgw_degraded_decisions_total idgw_backend_calls_total
                  idgw_backend_duration_seconds idgw_redis_errors_total);

# the human page
my $res = GET '/idgw-status';
ok t_cmp($res->code, 200, 'HTML page answers 200');
ok t_cmp($res->header('Content-Type'), qr{^text/html}, 'HTML by default');
ok t_cmp($res->header('Cache-Control'), 'no-store', 'never cached');
ok t_cmp($res->content, qr{<h1>idgw status</h1>}, 'page title');
my $missing = grep { index($res->content, "<h2>$_</h2>") < 0 } @families;
ok t_cmp($missing, 0, 'a table for every family');

# the machine-readable form, asked by query and by Accept (as Prometheus does)
for my $how (['query', '/idgw-status?format=prometheus'],
             ['accept', '/idgw-status', Accept => 'application/openmetrics-text;version=1.0.0,'
                                                . 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1']) {
    my ($name, $url, @h) = @$how;
    my $r = GET $url, @h;
    ok t_cmp($r->code, 200, "$name: 200");
    ok t_cmp($r->header('Content-Type'), qr{^text/plain; version=0\.0\.4}, "$name: exposition format");
    my $body = $r->content;
    my $types = grep { $body =~ /^# TYPE \Q$_\E (counter|histogram)$/m } @families;
    ok t_cmp($types, scalar @families, "$name: every family typed");
    # every sample line: name, optional {labels}, one number
    my @bad = grep { !/^#/ && !/^[a-z_]+(\{[a-z_]+="[A-Za-z0-9_.:\/+-]*"(,[a-z_]+="[A-Za-z0-9_.:\/+-]*")*\})? [0-9.]+$/ }
              split /\n/, $body;
    ok t_cmp(scalar @bad, 0, "$name: well-formed samples") or t_debug(join "\n", @bad);
    ok t_cmp($body, qr/^idgw_status_start_time_seconds \d+$/m, "$name: start time");
    ok t_cmp($body, qr/^idgw_metrics_series_capacity 256$/m, "$name: IdgwStatusSeries applied");
}

# a browser's Accept gets the page
$res = GET '/idgw-status', Accept => 'text/html,application/xhtml+xml,text/plain;q=0.8';
ok t_cmp($res->header('Content-Type'), qr{^text/html}, 'browser gets HTML');
$res = GET '/idgw-status?format=html', Accept => 'text/plain';
ok t_cmp($res->header('Content-Type'), qr{^text/html}, 'query wins over Accept');

# refusals
$res = GET '/idgw-status?format=json';
ok t_cmp($res->code, 400, 'unknown format refused');
$res = POST '/idgw-status', content => 'x=1';
ok t_cmp($res->code, 405, 'POST refused');
ok t_cmp($res->header('Allow') // '', qr/GET/, 'Allow names GET');

# HEAD: headers only
$res = HEAD '/idgw-status?format=prometheus';
ok t_cmp($res->code, 200, 'HEAD answers');
ok t_cmp(length($res->content), 0, 'HEAD has no body');
