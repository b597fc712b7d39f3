# The reaper across a Redis failover (docs/reliability.md, Bounded loss).
# An app vanishes in the middle of a write; its gateway runs with
# IdgwSessionWaitReplicas 1 on a master, a replica and a Sentinel.  The
# replica is cut off before the operation is due, so the reaper's claim
# reaches the master alone; then the master dies and the Sentinel promotes
# the replica, which still holds the claimed record.
#  - An unconfirmed claim must not be acted on: a failover may bring the
#    record back and another claim would tell the source a second time (the
#    fault campaign's telegram-once violations).  The claim is put back.
#  - After the failover the operation is reaped once: the source hears NG
#    exactly once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;
use IdgwTest::RedisNodes;
use Time::HiRes qw(sleep time);

my ($MASTER, $REPLICA, $SENTINEL) = (6461, 6462, 6463);
my $stack = IdgwTest::Stack->up;
my $nodes = IdgwTest::RedisNodes->new('reaper-failover',
                                      dir => $stack->run_dir . '/reaper-failover');
sub cli { $nodes->cli(@_) }
sub wait_for { IdgwTest::RedisNodes::wait_for(@_) }
sub stop_all { $nodes->stop($SENTINEL, $MASTER, $REPLICA) }
sub sentinel_log { open my $fh, '<', $stack->run_dir . '/reaper-failover/sentinel.log'
                       or return ''; local $/; return <$fh> }
END { stop_all() unless $ENV{KEEP} }

my $c101 = $stack->card('C101');
my @card = ('source=cremo', "member=$c101->{member}", "password=$c101->{password}",
            'cardId=C101', 'slot=any');
my $notes = $stack->run_dir . '/sim/notifications.log';
sub ng_count { open my $fh, '<', $notes or return 0; local $/; my $t = <$fh>;
               return scalar(() = $t =~ /C101 \S+ NG/g) }
# this run's part of the gateway's log (a rerun in the same build appends)
my $log = $stack->run_dir . '/reaper-fo.error.log';
my $log_from = -s $log || 0;
sub gw_log { open my $fh, '<', $log or return ''; seek $fh, $log_from, 0;
             local $/; return <$fh> // '' }

stop_all();
$nodes->server($MASTER);
$nodes->server($REPLICA, '--replicaof', '127.0.0.1', $MASTER);
$nodes->sentinel($SENTINEL, 'idgwreap', $MASTER, 800);
ok(wait_for(sub { $nodes->linked($REPLICA)
                  && cli($SENTINEL, 'SENTINEL', 'replicas', 'idgwreap') =~ /$REPLICA/ }, 30),
   'master, replica and Sentinel up');

my %stack_env = IdgwTest::Stack::env();
my $url = $stack->extra_gateway('reaper-fo', 4,
    "IdgwRedisServer 127.0.0.1:$stack_env{IDGW_DEMO_REDIS_PORT}"
        => "IdgwRedisSentinels 127.0.0.1:$SENTINEL\nIdgwRedisMasterName idgwreap\n"
           . "IdgwSessionWaitReplicas 1 150ms",
    'IdgwSessionIdleTimeout 120s' => 'IdgwSessionIdleTimeout 2s',
    # the record lives 2 x (2 s + 20 s): the failover and the rejoin fit in
    # the 22 s between due and gone even on a loaded machine
    '' => 'IdgwSessionReaper 20s 200ms',
    '' => 'LogLevel idgw_session:debug');    # the reaper's IDGW0154 at debug, for the diagnosis of a failure

my $ph = IdgwTest::Terminal->new($stack, 'reaper-fo', url => $url);
my $r = $ph->run('run', 'open', ',', 'issue-area');
is($r->{rc}, 0, 'open and issue the area') or diag $r->{out};
my $ng0 = ng_count();
$r = $ph->run({ opts => [ '--vanish-after', 2 ] }, 'add-card', @card);
like($r->{out}, qr/vanishes/, 'the app vanished in the middle of the write');
my ($sid) = cli($MASTER, 'ZRANGE', 'demo:reap', 0, -1) =~ /^([0-9a-f]+)$/m;
ok($sid, 'the reaper watches the operation');
ok(wait_for(sub { cli($REPLICA, 'ZSCORE', 'demo:reap', $sid) ne '' }, 5),
   'the replica has the watch');

# cut the replica off before the operation is due (idle 2 s + grace 20 s)
kill 'STOP', $nodes->pid_of($REPLICA);
cli($MASTER, 'CLIENT', 'KILL', 'TYPE', 'replica');
ok(wait_for(sub { gw_log() =~ /IDGW0157: [^\n]*not confirmed/ }, 30),
   'the unconfirmed claim is logged (IDGW0157)');
sleep 1;      # several more claims by the reaper
is(ng_count(), $ng0, 'an unconfirmed claim tells the source nothing');
# between a claim and its put-back the member is out of the set for the WAIT
ok(wait_for(sub { cli($MASTER, 'ZSCORE', 'demo:reap', $sid) ne '' }, 2),
   'the claim was put back on the master');

# The master dies in the middle of a put-back (IDGW0158): a claim waits in
# its WAIT, writes are paused so that the put-back behind it waits too, and
# the master is killed.  The Sentinel promotes the replica, which never saw
# the claim.
ok(wait_for(sub { cli($MASTER, 'INFO', 'clients') =~ /blocked_clients:[1-9]/ }, 5),
   'a claim waits for the replica');
cli($MASTER, 'CLIENT', 'PAUSE', 5000, 'WRITE');
sleep 0.4;
kill 'KILL', $nodes->pid_of($MASTER);
# The replica runs again at once: left stopped, the Sentinel finds no good
# replica, aborts the failover and waits its failover-timeout (20 s) before
# the next try, by which time the operation's context has expired (a CI run
# saw that cascade).  Paused writes hold the reaper's claim as well as its
# put-back: which of the two the kill cut depends on the scheduling, and
# either is logged (IDGW0158 put-back, IDGW0154 claim).
kill 'CONT', $nodes->pid_of($REPLICA);
ok(wait_for(sub { gw_log() =~ /IDGW0158|IDGW0154: reaper: claim failed/ }, 5),
   'the reaper saw its put-back or claim cut (IDGW0158 / IDGW0154)');
print STDERR '# cut: ', (gw_log() =~ /IDGW0158/ ? 'a put-back' : 'a claim'), "\n";
ok(wait_for(sub { cli($SENTINEL, 'SENTINEL', 'get-master-addr-by-name', 'idgwreap') =~ /$REPLICA/
                  && cli($REPLICA, 'ROLE') =~ /^master/ }, 30), 'the replica was promoted');
# (its claims on the new master are not confirmed either until a replica
# joins: the member is out of the set for each claim's WAIT, then back)
ok(wait_for(sub { cli($REPLICA, 'ZSCORE', 'demo:reap', $sid) ne '' }, 2),
   'the new master still watches the operation');
# The old master comes back as the new master's replica: claims can be
# confirmed again.  It comes back empty (no persistence), so it must not be
# promoted: on a loaded machine the Sentinel (down-after 800 ms) once found
# the new master unresponsive a second after its promotion and failed over
# again, to this empty node, and the new master resynchronised from it and
# flushed everything, the reaper's set included (the cause of this test's
# old TODO).  docs/reliability.md: a node restarted without its data.
$nodes->server($MASTER, '--replicaof', '127.0.0.1', $REPLICA, '--replica-priority', 0);
my $rejoined = wait_for(sub { $nodes->linked($MASTER) }, 30);

# Never twice, and once: the reaper resumes on the new master and tells
# the source when a replica can confirm its claim again.
my $reaped = wait_for(sub { ng_count() > $ng0 }, 30);
sleep 3 if $reaped;    # more claims by the reaper, on the new master
ok(ng_count() <= $ng0 + 1, 'the source never heard NG twice');
ok($rejoined, 'the old master rejoined as a replica');
ok($reaped, 'the operation is reaped after the failover')
    or diag grep({ /IDGW01[5-6]|IDGW045/ } split /^/, gw_log()),
            grep({ /switch-master|failover|sdown/ } split /^/, sentinel_log());
is(ng_count(), $ng0 + 1, 'the source heard NG exactly once');
is(cli($REPLICA, 'ZSCORE', 'demo:reap', $sid), '', 'the operation is no longer watched');
unlike(gw_log(), qr/IDGW015[0-9][^\n]*(?:$c101->{pan}|$c101->{password})/,
       'no card data in the reaper lines');
$stack->stop_extra_gateways;
done_testing;
