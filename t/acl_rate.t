# Rate limits: no burst at a window edge, the per-process limiter keeps a
# flood away from Redis, and the steady path (a request inside an open
# session) costs one Redis round trip with the access checks folded in.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;
use IdgwTest::Redis;
use Time::HiRes qw(sleep time);

plan tests => 9;

IdgwTest::Acl::reset_keys();

sub passed {
    my ($n, %o) = @_;
    my $ok = 0;
    for (1 .. $n) {
        $ok++ if IdgwTest::Acl::open_session('/acl/edge', xff => '10.8.0.1', %o)->{status} == 200;
    }
    return $ok;
}

# 2 per 2 s, burst 2.  A fixed two-second window would let 2 through just
# before its edge and 2 more just after; GCRA lets through only what the
# elapsed time earned (one per second).
my $t = IdgwTest::Acl::terminal();
my $edge = 2 * (int(time / 2) + 1);            # the next multiple of 2 s
$edge += 2 if $edge - time < 0.5;
sleep($edge - 0.25 - time);
my $before = passed(2, terminal => $t);
sleep($edge + 0.02 - time) if $edge + 0.02 > time;
my $after = passed(5, terminal => $t);
ok t_cmp($before, 2, 'the burst passes before the edge');
ok t_cmp($after, 0, 'no second burst right after the edge');
sleep 1.05;
ok t_cmp(passed(2, terminal => $t), 1, 'one more after one emission interval');

# a flood from one terminal: the per-process limiter answers most of it
# without asking Redis (10 per hour, at most 4 children)
my $flood = IdgwTest::Acl::terminal();
my $calls = IdgwTest::Redis::command_calls();
my %status;
for (1 .. 60) {
    my $res = IdgwTest::Acl::open_session('/acl/rate', xff => '10.8.0.2', terminal => $flood);
    $status{ $res->{status} }++;
}
my $after_calls = IdgwTest::Redis::command_calls();
my $evals = ($after_calls->{evalsha} // 0) + ($after_calls->{fcall} // 0)
    - ($calls->{evalsha} // 0) - ($calls->{fcall} // 0);
ok t_cmp($status{200}, 10, 'the fleet-wide limit holds under a flood');
ok t_cmp($evals <= 10 * 4 ? 'bounded' : "$evals calls", 'bounded',
         "at most 10 per process (4 children) reach Redis: $evals of 60");

# steady path: status requests inside an open session, with the fleet-wide
# limits on, cost one round trip each.  MONITOR tells the commands clients
# sent from those a script ran ("[0 lua]"), which INFO commandstats mixes.
my ($res, $token) = IdgwTest::Acl::open_session('/acl/rate', xff => '10.8.0.3',
                                                terminal => 'STEADY-' . $$, idm => '0102030405060708');
ok t_cmp($res->{status}, 200, 'session opened');
my $monitor = IdgwTest::Acl::monitor_start();
my $ok = 0;
for (1 .. 5) {
    $res = IdgwTest::Acl::request(path => '/acl/rate/session/status', xff => '10.8.0.3',
                                  terminal => 'STEADY-' . $$, idm => '0102030405060708',
                                  token => $token);
    $ok++ if $res->{status} == 200;
}
my @sent = IdgwTest::Acl::monitor_stop($monitor);
ok t_cmp($ok, 5, 'five status requests served');
# per request either the session script (the limits decided in it) or, once
# leases decided them, the status read: HMGET and TIME in one write
# (modules/session/idgw_status_read.h)
my %cmd;
$cmd{ uc((split ' ', $_)[3] // '?') =~ s/"//gr }++ for @sent;
my $listing = join(', ', map { "$_=$cmd{$_}" } sort keys %cmd);
ok t_cmp(($cmd{FCALL} // 0) + ($cmd{EVALSHA} // 0) + ($cmd{HMGET} // 0), 5,
         "one script or one status read per request: $listing");
ok t_cmp(join(',', grep { !/^(?:FCALL|EVALSHA|HMGET|TIME)$/ } sort keys %cmd)
         . (($cmd{TIME} // 0) == ($cmd{HMGET} // 0) ? '' : ' TIME apart'), '',
         'nothing else, and a TIME with each read');
