# mod_idgw_status across a graceful restart: the counter table is kept (the
# new children count on from where the old ones stopped) and the start time
# does not move.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestRequest qw(GET);
use Apache::TestUtil;
use Time::HiRes qw(sleep time);

plan tests => 6;

sub metrics {
    my %m;
    for (split /\n/, GET('/idgw-status?format=prometheus')->content) {
        $m{$1} = $2 if !/^#/ && /^(\S+) (\S+)$/;
    }
    return \%m;
}

my $key = 'idgw_requests_total{op="probe",step="none",result="ok"}';
sub wait_for {
    my ($want) = @_;
    my $m;
    for (1 .. 40) {
        $m = metrics();
        return $m if ($m->{$key} // 0) >= $want;
        sleep 0.05;
    }
    return $m;
}

my $logs = Apache::Test::vars('t_logs');
sub count_reloads {
    my $log = do { local (@ARGV, $/) = ("$logs/error_log"); <> };
    return scalar(() = $log =~ /resuming normal operations/g);
}

my $base = metrics()->{$key} // 0;
GET '/idgw-status-probe' for 1 .. 5;
my $before = wait_for($base + 5);
ok t_cmp($before->{$key} - $base, 5, 'counted before the restart');

my $reloads = count_reloads();
open my $fh, '<', "$logs/httpd.pid" or die "httpd.pid: $!";
chomp(my $pid = <$fh>);
ok kill 'USR1', $pid;
my $deadline = time + 15;
sleep 0.2 while count_reloads() == $reloads && time < $deadline;
ok count_reloads() > $reloads;    # graceful restart done
sleep 0.3;

my $after = metrics();
ok t_cmp($after->{$key} >= $before->{$key}, 1, 'counters kept across the restart');
ok t_cmp($after->{idgw_status_start_time_seconds}, $before->{idgw_status_start_time_seconds},
         'start time unchanged');
GET '/idgw-status-probe' for 1 .. 3;
my $more = wait_for($after->{$key} + 3);
ok t_cmp($more->{$key} - $after->{$key}, 3, 'the new children count on in the same table');
