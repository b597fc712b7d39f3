# What one steady request (session status in an open session, access control
# with the sample's two fleet-wide limits) costs Redis: INFO commandstats
# deltas over a fixed number of requests, every command counted, those a
# script ran included.  The command count is exact and bounds the CPU; the
# microseconds are printed for the report (timing: not asserted).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;
use IdgwTest::Redis;

plan tests => 3;

IdgwTest::Acl::reset_keys();

my $N = 200;
my %who = (xff => '10.8.9.1', terminal => 'COST-' . $$, idm => '0102030405060708');
my ($res, $token) = IdgwTest::Acl::open_session('/acl/steady', %who);
ok t_cmp($res->{status}, 200, 'session opened');

sub status {
    IdgwTest::Acl::request(path => '/acl/steady/session/status', token => $token, %who);
}
status() for 1 .. 20;    # every child connected, the lists loaded

sub stats {
    my %s;
    for my $line (split /\r?\n/, IdgwTest::Redis::cli('INFO', 'commandstats')) {
        $s{$1} = [$2, $3] if $line =~ /^cmdstat_(\w+):calls=(\d+),usec=(\d+)/;
    }
    return \%s;
}

# The access-control lists' listeners poll on their own (a GET of the
# version every half IdgwAclListsMaxAge per child): not per request.  Their
# count, from the metrics read around the window, is taken off the GETs.
sub polls {
    my $n = 0;
    for (split /\n/, GET('/idgw-status?format=prometheus')->content) {
        $n += $1 if /^idgw_acl_lists_syncs_total\{trigger="poll",result="\w+"\} (\d+)$/;
    }
    return $n;
}

my $polls = polls();
my $before = stats();
my $ok = 0;
for (1 .. $N) { $ok++ if status()->{status} == 200 }
my $after = stats();
$polls = polls() - $polls;
$after->{get}[0] -= $polls if $after->{get};
ok t_cmp($ok, $N, "$N status requests served");

my ($calls, $usec, @per) = (0, 0);
for my $cmd (sort keys %$after) {
    next if $cmd eq 'info';
    my $c = $after->{$cmd}[0] - ($before->{$cmd}[0] // 0);
    my $u = $after->{$cmd}[1] - ($before->{$cmd}[1] // 0);
    next unless $c;
    $calls += $c;
    $usec += $u;
    push @per, sprintf('%s %.2f calls %.1f us', $cmd, $c / $N, $u / $N);
}
# a script call's usec (evalsha, or fcall for the per-request function)
# includes the commands its script ran
my $script = 0;
for my $cmd ('evalsha', 'fcall') {
    $script += ($after->{$cmd}[1] // 0) - ($before->{$cmd}[1] // 0);
}
printf STDERR "# steady cost: %.2f commands, script %.1f us per request; %s "
    . "(%d listener polls left out)\n", $calls / $N, $script / $N, join('; ', @per), $polls;
# 2 for the status read (HMGET, TIME: modules/session/idgw_status_read.h);
# the session script (FCALL, TIME, HMGET, 2 PEXPIRE) when a child had not
# refreshed the session within its window, and the limiter's MGET and 2 SET
# (in that script) only when a lease of its tokens runs out
# (idgw_acl_lease.h): about once in 17 requests here.  It read 2.39; the
# script on every request read 5.20.
my $max = $ENV{IDGW_STEADY_MAX_COMMANDS} // 3.2;
ok t_cmp($calls / $N <= $max ? 'ok' : sprintf('%.2f', $calls / $N), 'ok',
         "at most $max Redis commands per steady request, script's included");
