# Redis Cluster (IdgwRedisCluster): a session story against 3 masters + 3
# replicas the test starts (ports 17110-17115, bus ports 27110-27115, httpd
# on 8575): open, steps, status, a refusal whose strike counters live on
# their own slots, the live session's slot resharded mid-story (ASK while it
# migrates, MOVED once it moved), its master killed and its replica promoted
# (the story finishes, or answers a documented code: never a crash or a
# silent success), close.  Bounded: about 15 s.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Digest::SHA qw(sha256_hex);
use File::Basename qw(dirname);
use HTTP::Tiny;
use POSIX ();
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use IdgwTest::Httpd;
use IdgwTest::RedisNodes;
use IdgwTest::Acl ();
use Time::HiRes qw(sleep time);

plan tests => 36;

my @PORTS = (17110 .. 17115);
my $nodes = IdgwTest::RedisNodes->new('redis-cluster');
sub cli { $nodes->cli(@_) }
sub wait_for { IdgwTest::RedisNodes::wait_for(@_) }

$nodes->stop(@PORTS);    # leftovers of an interrupted run
my $gw;
END { $gw->stop if $gw; $nodes->stop(@PORTS) if $nodes }

my $started = time;
ok($nodes->cluster(\@PORTS, 1));    # 3 masters + 3 replicas

$gw = IdgwTest::Httpd::start(name => 'cluster-httpd', port => 8575, edit => sub {
    $_[0] =~ s/^IdgwRedisServer .*$/IdgwRedisCluster 127.0.0.1:17110 127.0.0.1:17111/m;
    # the router's counters (idgw_redis_cluster_events_total)
    my $libs = dirname(Apache::Test::vars('t_dir')) . '/modules/.libs';
    $_[0] .= "\n<IfModule !idgw_status_module>\n"
           . "    LoadModule idgw_status_module $libs/mod_idgw_status.so\n</IfModule>\n"
           . "<Location /idgw-status>\n    SetHandler idgw-status\n</Location>\n";
}) or die "cannot start the httpd using the Cluster";

# idgw_redis_cluster_events_total by event, from the gateway's status page
my $http = HTTP::Tiny->new(timeout => 10);
sub events {
    my %m;
    my $page = $http->get($gw->base_url . '/idgw-status?format=prometheus')->{content} // '';
    $m{$1} = $2 while $page =~ /^idgw_redis_cluster_events_total\{event="(\w+)"\} (\d+)$/mg;
    return \%m;
}

# a session's keys in the Cluster layout: the tag of its reaper shard
sub skey {
    my ($c, $kind) = @_;
    my $sid = substr(sha256_hex($c->token), 0, 32);
    return sprintf('itest:%s:{%d}:%s', $kind || 's', hex(substr($sid, 0, 4)) % 256, $sid);
}
sub errorstat {
    my ($port, $what) = @_;
    return cli($port, 'INFO', 'errorstats') =~ /errorstat_$what:count=(\d+)/ ? $1 : 0;
}
sub cmdstat {
    my ($port, $cmd) = @_;
    return cli($port, 'INFO', 'commandstats') =~ /cmdstat_$cmd:calls=(\d+)/ ? $1 : 0;
}
sub code { IdgwTest::Client::error_code($_[0]) }
# the batchers' counters (idgw_redis_batched_total on the status page)
sub batched {
    my %m;
    my $page = $http->get($gw->base_url . '/idgw-status?format=prometheus')->{content} // '';
    $m{$1} = $2 while $page =~ /^idgw_redis_batched_total\{count="(\w+)"\} (\d+)$/mg;
    return \%m;
}

# ---- the story ---------------------------------------------------------------
my $c = IdgwTest::Client->new(base => $gw->base_url);
ok t_cmp($c->open_session->{status}, 200, 'open through the Cluster');
ok t_cmp($c->step('store_card', 'request')->{status}, 200, 'step: request');
ok t_cmp($c->step('store_card', 'relay')->{status}, 200, 'step: relay');
ok t_cmp($c->status->{status}, 200, 'status');

# one blocking round trip per steady request: one script, or the status
# read (HMGET and TIME pipelined, idgw_status_read.h) of a session its child
# refreshed a moment ago, on one master (session_roundtrip.t shows the same
# on one server); summed over the masters.  Either reads the session hash
# once (HMGET): a read handed over to the script would show as two.
sub ran {
    my @cmds = @_;
    my $n = 0;
    for my $p (@PORTS) {
        next unless cli($p, 'ROLE') =~ /^master/;
        $n += cmdstat($p, $_) for @cmds;
    }
    return $n;
}
sub scripts_run { ran('fcall', 'evalsha') }
my $N = 10;
my ($before, $reads0) = (scripts_run(), ran('hmget'));
my $ok = grep { $c->status->{status} == 200 } 1 .. $N;
my ($scripts, $hmgets) = (scripts_run() - $before, ran('hmget') - $reads0);
ok t_cmp($hmgets, $N, "$ok status requests ($scripts by script), one round trip each");
ok t_cmp($scripts <= $N / 2 ? 'mostly reads' : "$scripts scripts", 'mostly reads',
         'a fresh session\'s status is read, not scripted, on a Cluster too');
$before = scripts_run();
my $sb0 = batched();
$ok = grep { $c->step('store_card', 'relay')->{status} == 200 } 1 .. $N;
ok t_cmp(scripts_run() - $before, 2 * $N, "$ok relay steps, session script + commit each");
# both went through the batcher of the session's master (a step's scripts
# share round trips with the child's other calls to it, as on one server)
my $sb1 = batched();
my $step_batched = ($sb1->{calls} // 0) - ($sb0->{calls} // 0);
ok t_cmp($step_batched >= 2 * $N ? 'batched' : "$step_batched batched calls", 'batched',
         'the steps\' scripts went through the masters\' batchers');

my $key = skey($c);
my $slot = cli(17110, 'CLUSTER', 'KEYSLOT', $key);
my $src = $nodes->slot_owner(17110, $slot);
ok t_cmp(cli($src, 'HGET', $key, 'seq'), 2 + $N, "session hash on the master of slot $slot");
ok t_cmp(cli($src, 'CLUSTER', 'KEYSLOT', skey($c, 'vo')), $slot, 'its keys share the slot');

# concurrent polls of four sessions (spread over the masters): each gets its
# own session's answer, and the reads go by the batchers of the masters
# (idgw_redis_batched_total), whose round trips the polls that arrive
# together in a child share
my @polled;
for my $i (0 .. 3) {
    my $x = IdgwTest::Client->new(base => $gw->base_url);
    $x->open_session;
    $x->step('store_card', 'request');
    $x->step('store_card', 'relay') for 1 .. $i;
    push @polled, $x;
}
my $b0 = batched();
my @pids;
for my $i (0 .. 3) {
    for (1 .. 3) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $x = $polled[$i];
            $x->{http} = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
            my $want = $i + 1;
            # _exit: the parent's END block (which stops the gateway and the
            # Cluster) must not run in a poller
            for (1 .. 30) {
                my $res = $x->status;
                POSIX::_exit(1) unless $res->{status} == 200
                                    && $res->{content} =~ m{<seq>$want</seq>};
            }
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
}
my $failed = 0;
for (@pids) { waitpid $_, 0; $failed++ if $? }
ok t_cmp($failed, 0, '12 pollers x 30 polls: every answer 200 with its own session\'s seq');
my $b1 = batched();
my ($bcalls, $btrips) = map { ($b1->{$_} // 0) - ($b0->{$_} // 0) } qw(calls round_trips);
print STDERR "# concurrent polls on the Cluster: $bcalls batched reads in $btrips round trips\n";
ok t_cmp($bcalls >= 180 && $btrips > 0 && $btrips <= $bcalls ? 'carried' : "$bcalls in $btrips",
         'carried', 'the masters\' batchers carried most of the 360 polls');

# a refusal: the strike counter is counted on its own slot
my $other = IdgwTest::Client->new(base => $gw->base_url);
$other->open_session;
my $bad = $other->step('store_card', 'relay', seq => 5);
ok t_cmp(code($bad), 'IDGW-SEQ-001', 'a reordered step is refused');
my $strike = 'itest:strike:a:{127.0.0.1}';
my $sowner = $nodes->slot_owner(17110, cli(17110, 'CLUSTER', 'KEYSLOT', $strike));
ok(cli($sowner, 'GET', $strike) >= 1);    # the address strike, on its own slot

# ---- reshard the live session's slot mid-story ---------------------------------
my ($dst) = grep { $_ != $src && cli($_, 'ROLE') =~ /^master/ } @PORTS[0 .. 2];
my ($res, @seen);
my ($src_id, $dst_id) = ($nodes->node_id($src), $nodes->node_id($dst));
my ($ask0, $moved0) = (errorstat($src, 'ASK'), errorstat($src, 'MOVED'));
my $ev0 = events();
cli($dst, 'CLUSTER', 'SETSLOT', $slot, 'IMPORTING', $src_id);
cli($src, 'CLUSTER', 'SETSLOT', $slot, 'MIGRATING', $dst_id);
my @keys = split /\n/, cli($src, 'CLUSTER', 'GETKEYSINSLOT', $slot, 100);
cli($src, 'MIGRATE', '127.0.0.1', $dst, '""', 0, 5000, 'KEYS', @keys);
# (the importing node answers MOVED to a client that did not say ASKING)
ok t_cmp(cli($dst, 'CLUSTER', 'COUNTKEYSINSLOT', $slot) . '/' . cli($src, 'CLUSTER', 'COUNTKEYSINSLOT', $slot),
         scalar(@keys) . '/0', 'the session moved while the slot migrates');
my $asking0 = cmdstat($dst, 'asking');
# Redis 7.0 runs a script whose keys are partly absent (the vault hashes of a
# step without vault items) on neither node while its slot migrates: ASK,
# then TRYAGAIN after ASKING; the gateway answers 503 IDGW-SRV-001 (not run)
# and the terminal sends the step again
$res = $c->step('store_card', 'relay');
ok t_cmp($res->{status} . ':' . code($res), qr/^(200:|503:IDGW-SRV-001)$/, 'step during the migration (ASK)');
# the old master answered ASK and the gateway sent ASKING to the new one
ok(errorstat($src, 'ASK') > $ask0 && cmdstat($dst, 'asking') > $asking0);
cli($_, 'CLUSTER', 'SETSLOT', $slot, 'NODE', $dst_id) for $dst, $src, grep { $_ != $src && $_ != $dst } @PORTS[0 .. 2];
ok t_cmp($c->step('store_card', 'relay')->{status}, 200, 'step after the move (MOVED), sent again if it was refused');
ok(errorstat($src, 'MOVED') > $moved0);    # the old master answered MOVED
my $ev1 = events();
ok t_cmp(join(' ', map { ($ev1->{$_} // 0) > ($ev0->{$_} // 0) ? "$_+" : "$_=" } qw(ask moved)),
         'ask+ moved+', 'the gateway counted the redirections it followed');
ok t_cmp(cli($dst, 'HGET', $key, 'seq'), $c->seq, 'written on the new master');

# ---- kill the session's master, its replica takes over -------------------------
my ($replica) = grep {
    cli($_, 'ROLE') =~ /^slave/ && cli($_, 'INFO', 'replication') =~ /master_port:$dst\b/
} @PORTS;
ok(defined $replica);    # the master has a replica
# the replica has every write (a lost write would end the story with a
# documented IDGW-SEQ-007 or IDGW-SES-001, checked below all the same)
wait_for(sub { (cli($dst, 'INFO', 'replication') =~ /master_repl_offset:(\d+)/)[0]
               == (cli($replica, 'INFO', 'replication') =~ /slave_repl_offset:(\d+)/)[0] }, 5);
kill 'KILL', $nodes->pid_of($dst);
my $end = time + 15;
while (time < $end) {
    $res = $c->step('store_card', 'relay');
    push @seen, $res->{status} . ':' . code($res);
    last if $res->{status} != 503;
    sleep 0.2;
}
ok t_cmp($res->{status}, 200, 'the story goes on on the promoted replica');
ok !grep({ !/^(200:|503:IDGW-SRV-001)$/ } @seen) or print STDERR "# seen: @seen\n";
ok t_cmp(cli($replica, 'HGET', $key, 'seq'), $c->seq, 'written on the promoted replica');
ok t_cmp($c->step('store_card', 'complete')->{status}, 200, 'the operation completes');
ok t_cmp($c->close_session->{status}, 200, 'close');
ok t_cmp((events()->{map_refreshed} // 0) > ($ev1->{map_refreshed} // 0) ? 'refreshed' : 'not',
         'refreshed', 'the promotion was learnt from a new slot map (counted)');

# the operator's reconciliation tool on the Cluster (--cluster: redis-cli -c):
# a record, its time index and its chip's index lie on three slots
my $id = '00c1a57e0d00be11';
(my $tool = IdgwTest::Acl::admin_path()) =~ s/idgw-acl$/idgw-reconcile/;
my @conn = ('--cluster', '--host', '127.0.0.1', '--port', $replica, '--prefix', 'rc:');
sub reconcile { my $o = `$^X $tool @conn @_ 2>&1`; return ($? >> 8, $o) }
cli($replica, '-c', 'HSET', "rc:unsettled:{$id}", 'kind', 'chip-unconfirmed', 'op', 'add_card',
    'cid', 'idgw-cluster', 'idm', '0102030405060708', 'at', 1);
cli($replica, '-c', 'ZADD', 'rc:unsettled', 1, $id);
cli($replica, '-c', 'SADD', 'rc:unsettled:chip:{0102030405060708}', $id);
my ($rc, $out) = reconcile('list');
ok t_cmp($out, qr/\Q$id\E/, 'reconcile lists the record on the Cluster');
($rc, $out) = reconcile('settle', '--outcome', 'written', '--by', 'test', $id);
ok t_cmp($rc, 0, 'settled on the Cluster') or print STDERR "# $out";
ok t_cmp(cli($replica, '-c', 'HGET', "rc:unsettled:{$id}", 'outcome'), 'written', 'the outcome is on the record');
ok t_cmp(cli($replica, '-c', 'ZSCORE', 'rc:unsettled', $id) . '|'
         . cli($replica, '-c', 'SISMEMBER', 'rc:unsettled:chip:{0102030405060708}', $id), '|0',
         'the record left the unsettled index and its chip\'s');
ok t_cmp(cli($replica, '-c', 'HGET', 'rc:unsettled:count', 'written'), 1, 'counted');
($rc, $out) = reconcile('settle', '--outcome', 'not-written', '--by', 'test', $id);
ok t_cmp($rc, 3, 'a second settle is refused');

$gw->stop;
my $log = $gw->log_text;
undef $gw;
ok($log !~ /exit signal|Segmentation|AH00052/) or print STDERR "# a child crashed\n";
print STDERR "# session_cluster.t took ", int(time - $started), " s\n";
