# The conversion gateway on a Redis Cluster (IdgwRedisCluster) with
# IdgwSessionWaitReplicas 1 (docs/redis-cluster.md): 3 masters + 3 replicas
# on 17150-17155 (bus ports 27150-27155), an extra gateway of the stack with
# IdgwAcl Off (refused with a Cluster for now).
#  - Automatic settlement (docs/reconcile.md): a card write left
#    chip-unconfirmed is settled by the gateway when the phone comes back,
#    its record, time index and chip index on three slots: one
#    CARD_WRITTEN_REQ, the record settled by "gateway", the indexes moved.
#  - The reaper's shard claims, each confirmed on its own master: with the
#    replica of the master holding an abandoned operation's shard stopped,
#    the claim is not confirmed (IDGW0157), put back through the router and
#    the source told nothing; once the replica is back the operation is
#    reaped and the source hears NG exactly once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;
use IdgwTest::RedisNodes;
use Time::HiRes qw(sleep time);
use POSIX ();

my @PORTS = (17150 .. 17155);
my $stack = IdgwTest::Stack->up;
my $run = $stack->run_dir;
my $nodes = IdgwTest::RedisNodes->new('convert-cluster', dir => "$run/convert-cluster");
sub cli { $nodes->cli(@_) }
sub ccli { $nodes->cli(17150, '-c', @_) }    # follows the Cluster's redirections
sub wait_for { IdgwTest::RedisNodes::wait_for(@_) }
END { $nodes->stop(@PORTS) if $nodes && !$ENV{KEEP} }
$nodes->stop(@PORTS);
my $started = time;
ok($nodes->cluster(\@PORTS, 1), '3 masters + 3 replicas');

my %env = IdgwTest::Stack::env();
my $url = $stack->extra_gateway('convert-cluster', 6,
    "IdgwRedisServer 127.0.0.1:$env{IDGW_DEMO_REDIS_PORT}"
        => "IdgwRedisCluster 127.0.0.1:17150 127.0.0.1:17151\nIdgwSessionWaitReplicas 1 200ms",
    '    IdgwAcl On' => '    IdgwAcl Off',
    'IdgwSessionIdleTimeout 120s' => 'IdgwSessionIdleTimeout 2s',
    'IdgwSessionReaper 30s 5s' => 'IdgwSessionReaper 5s 200ms');
sub slurp { open my $fh, '<', $_[0] or return ''; local $/; return scalar <$fh> }
# the lines of a "time state" log whose state differs from the line before
# (lags blanked: they grow every second; a stopped replica's acked offset
# must not move)
sub changes {
    my ($last, @out) = ('');
    for (split /\n/, $_[0]) {
        my ($t, $state) = /^(\S+) (.*)$/ or next;
        (my $shape = $state) =~ s/lag=\d+/lag=N/g;
        push @out, $_ if $shape ne $last;
        $last = $shape;
    }
    return join("\n", @out) . "\n";
}
my $log = "$run/convert-cluster.error.log";

my $c101 = $stack->card('C101');
my @cremo = ('source=cremo', "member=$c101->{member}", "password=$c101->{password}");
my $notices = "$run/sim/notifications.log";
sub written_notices { my ($cid) = @_; grep { /^cremo WRITTEN \Q$cid\E / } split /\n/, slurp($notices) }
sub ng_count { scalar(() = slurp($notices) =~ /C101 \S+ NG/g) }
sub record { my %h = split /\n/, ccli('HGETALL', "demo:unsettled:{$_[0]}"); return \%h }

# ---- automatic settlement on the Cluster ----
my $ph = IdgwTest::Terminal->new($stack, 'convert-cluster', url => $url);
my $idm = uc $ph->idm;
my $r = $ph->run('run', 'open', ',', 'issue-area');
is($r->{rc}, 0, 'open and issue the area through the Cluster') or diag $r->{out};
$r = $ph->run({ opts => [ '--tamper', 4 ] }, 'add-card', @cremo, 'cardId=C101', 'slot=0');
is(IdgwTest::Terminal::error_code($r), 'IDGW-CNV-033', 'the final write\'s answer is refused');
my @ids = split /\n/, ccli('SMEMBERS', "demo:unsettled:chip:{$idm}");
is(scalar @ids, 1, 'one record in the chip\'s index') or diag "@ids";
my $id = $ids[0] // 'none';
my $rec = record($id);
is($rec->{kind}, 'chip-unconfirmed', 'kind chip-unconfirmed');
my $log0 = length slurp($log);
unlink "$run/sim/store/cremo-$c101->{member}-C101";
$r = $ph->run('run', 'open', ',', 'store', @cremo, 'cardId=C101', 'slot=0', ',', 'close');
is($r->{rc}, 0, 'the next session\'s deposit succeeds') or diag $r->{out};
$rec = record($id);
is("$rec->{outcome}/$rec->{settled_by}", 'written/gateway', 'settled as written by the gateway');
my @w = written_notices($rec->{cid});
is(scalar @w, 1, 'the source got exactly one CARD_WRITTEN_REQ for it');
my $new_log = substr(slurp($log), $log0);
like($new_log, qr/IDGW0461: settled $id /, 'logged (IDGW0461)');
unlike($new_log, qr/IDGW046[345]/, 'no Redis failure on the way (IDGW0463-0465)');
is(ccli('SMEMBERS', "demo:unsettled:chip:{$idm}"), '', 'the chip\'s index is empty');
is(ccli('ZSCORE', 'demo:unsettled', $id), '', 'no longer in the unsettled index');
like(ccli('ZSCORE', 'demo:settled', $id), qr/^\d+$/, 'in the settled one');

# ---- the reaper: a shard claim confirmed on its own master ----
my $ph2 = IdgwTest::Terminal->new($stack, 'convert-cluster-reap', url => $url);
$r = $ph2->run('run', 'open', ',', 'issue-area');
is($r->{rc}, 0, 'another phone: open and issue the area') or diag $r->{out};
my $ng0 = ng_count();
$r = $ph2->run({ opts => [ '--vanish-after', 2 ] }, 'add-card', @cremo, 'cardId=C101', 'slot=any');
like($r->{out}, qr/vanishes/, 'the app vanished in the middle of the write') or diag $r->{out};
my ($shard, $master);
for my $p (@PORTS) {
    next unless cli($p, 'ROLE') =~ /^master/;
    for my $k (split /\n/, cli($p, 'KEYS', 'demo:reap:{*}')) {
        ($shard, $master) = ($k, $p) if cli($p, 'ZCARD', $k) > 0;
    }
}
ok($shard, 'the reaper watches the operation in its shard') or diag 'no shard';
my ($replica) = grep { cli($_, 'ROLE') =~ /^slave/
                       && cli($_, 'INFO', 'replication') =~ /master_port:$master\b/ } @PORTS;
ok($replica, "the replica of the shard's master $master");
my ($sid) = cli($master, 'ZRANGE', $shard, 0, -1) =~ /^([0-9a-f]+)$/m;
$log0 = length slurp($log);
kill 'STOP', $nodes->pid_of($replica);     # before it is due (idle 2 s + grace 5 s)
# the master's replicas as it counts them, every 50 ms while the replica is
# stopped: shown when the put-back check fails (see below)
my $watch = "$run/convert-cluster/repl-watch.log";
my $watcher = fork // die "fork: $!";
if (!$watcher) {
    open my $w, '>', $watch or POSIX::_exit(1);
    select((select($w), $| = 1)[0]);
    my $until = time + 15;
    while (time < $until) {
        my @l = grep { /^(connected_slaves|slave\d+):/ } split /\r?\n/, cli($master, 'INFO', 'replication');
        printf {$w} "%.3f %s\n", time, join(' ', @l);
        sleep 0.05;
    }
    POSIX::_exit(0);    # not the test's END: it would stop the Cluster
}
ok(wait_for(sub { substr(slurp($log), $log0) =~ /IDGW0157: [^\n]*not confirmed/ }, 20),
   'the unconfirmed claim is logged (IDGW0157)');
sleep 1;      # several more claims
is(ng_count(), $ng0, 'an unconfirmed claim tells the source nothing');
ok(wait_for(sub { cli($master, 'ZSCORE', $shard, $sid) ne '' }, 2),
   'the claim was put back on the shard\'s master') or do {
    # a flake seen twice under load (stop 26's note): what the master counted
    my $rpid = $nodes->pid_of($replica);
    my ($state) = (slurp("/proc/$rpid/stat") =~ /^\d+ \(.*?\) (\S)/);
    diag "replica $replica pid $rpid state " . ($state // '?') . "\n"
         . cli($master, 'INFO', 'replication') . "\n" . cli($master, 'CLUSTER', 'NODES') . "\n"
         . join("\n", grep { /IDGW015[1-8]/ } split /\n/, substr(slurp($log), $log0)) . "\n"
         . "the master's replicas while stopped (changes only):\n" . changes(slurp($watch));
};
kill 'TERM', $watcher;
waitpid $watcher, 0;
kill 'CONT', $nodes->pid_of($replica);
ok(wait_for(sub { ng_count() > $ng0 }, 20), 'reaped once the replica is back');
# (the notice is out before the reaping is logged)
ok(wait_for(sub { substr(slurp($log), $log0) =~ /IDGW0151: [^\n]*claim confirmed by 1 replica\(s\)/ }, 5),
   'the reaping says its claim was confirmed (IDGW0151)');
sleep 2;      # more claims
is(ng_count(), $ng0 + 1, 'the source heard NG exactly once');
is(cli($master, 'ZSCORE', $shard, $sid), '', 'the operation is no longer watched');
unlike(substr(slurp($log), $log0), qr/IDGW0158/, 'every put-back succeeded');

my $all = slurp($log);
unlike($all, qr/exit signal|Segmentation|AH00052/, 'no child crashed');
unlike($all, qr/\Q$c101->{pan}\E|\Q$c101->{password}\E/, 'no card data in the log');
$stack->stop_extra_gateways;
diag sprintf 'convert_cluster.t took %d s', time - $started;
done_testing;
