# mod_idgw_status: requests are counted when logged (requests total by
# result, latency histogram), the log notes reach the access log, and the
# counters are shared by all children.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestRequest qw(GET POST);
use Apache::TestUtil;
use Time::HiRes qw(sleep);

plan tests => 10;

sub metrics {
    my $body = GET('/idgw-status?format=prometheus')->content;
    my %m;
    for (split /\n/, $body) {
        next if /^#/;
        $m{$1} = $2 if /^(\S+) (\S+)$/;
    }
    return \%m;
}

my $ok_key = 'idgw_requests_total{op="probe",step="none",result="ok"}';
my $bad_key = 'idgw_requests_total{op="probe",step="none",result="client_error"}';
my $count_key = 'idgw_request_duration_seconds_count{op="probe"}';

# counting happens in the logging phase, after the answer went out: poll
sub wait_for {
    my ($key, $want) = @_;
    my $m;
    for (1 .. 40) {
        $m = metrics();
        return $m if ($m->{$key} // 0) >= $want;
        sleep 0.05;
    }
    return $m;
}

# only what this test appends to the notes log counts (the log outlives runs)
my $log = Apache::Test::vars('serverroot') . '/logs/idgw_status_notes.log';
my $log_start = -s $log // 0;
sub new_log_lines {
    open my $fh, '<', $log or return ();
    seek $fh, $log_start, 0;
    my @l = <$fh>;
    close $fh;
    return @l;
}

my $before = metrics();
my ($ok0, $bad0, $n0) = map { $before->{$_} // 0 } $ok_key, $bad_key, $count_key;

my $n = 20;
GET '/idgw-status-probe' for 1 .. $n;
GET '/idgw-status-probe?format=nope';
POST '/idgw-status-probe', content => 'x';

my $after = wait_for($count_key, $n0 + $n + 2);
ok t_cmp($after->{$ok_key} - $ok0, $n, 'every answered request counted once as ok');
ok t_cmp(($after->{$bad_key} // 0) - $bad0, 2, '400 and 405 counted as client_error');
ok t_cmp($after->{$count_key} - $n0, $n + 2, 'latency histogram counts every request');
ok t_cmp($after->{'idgw_request_duration_seconds_bucket{op="probe",le="+Inf"}'},
         $after->{$count_key}, '+Inf bucket equals the count');
ok t_cmp($after->{'idgw_request_duration_seconds_sum{op="probe"}'} > 0, 1, 'latency sum grows');

# the status page itself is not a gateway request: never counted
ok t_cmp(scalar(grep { /op="none"/ || /op=""/ } keys %$after), 0, 'no unnamed series');

# the notes are in the access log: "%>s %{idgw-session}n %{idgw-op}n %{idgw-step}n %{idgw-result}n %U"
my @lines;
for (1 .. 40) {
    @lines = grep { m{ /idgw-status-probe$} } new_log_lines();
    last if @lines >= $n + 2;
    sleep 0.05;
}
ok t_cmp(scalar(grep { /^200 - probe - ok / } @lines), $n, 'access log: op and result notes');
ok t_cmp(scalar(grep { /^40[05] - probe - client_error / } @lines), 2, 'access log: refusals');
my @status = grep { m{ /idgw-status$} } new_log_lines();
ok t_cmp(scalar(@status) > 0, 1, 'status page requests logged');
ok t_cmp(scalar(grep { !/^\d+ - - - - / } @status), 0, 'uncounted locations carry no notes');
