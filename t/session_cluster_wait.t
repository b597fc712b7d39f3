# IdgwSessionWaitReplicas on a Redis Cluster (IdgwRedisCluster): every write
# that advances a session (open, a step's claim and commit) is confirmed by
# WAIT behind its script on the connection to the master of the session's
# slot, in the same round trip, so it counts that master's replicas; status
# is not.  With that master's replica stopped (SIGSTOP) the gateway answers
# IDGW-SRV-006 (IDGW0166 in the log) as in single mode (t/session_wait.t): a
# claimed step is aborted before its handler runs and its retransmission
# gets that abort replayed; a step whose commit is unconfirmed keeps its
# state and its retransmission is answered from it once the replica caught
# up.  Nothing runs twice.  3 masters + 3 replicas on 17140-17145 (bus
# ports 27140-27145), httpd on 8591.  Bounded: about 15 s.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Digest::SHA qw(sha256_hex);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use IdgwTest::Httpd;
use IdgwTest::RedisNodes;
use POSIX ();
use Time::HiRes qw(sleep time);

plan tests => 26;

my @PORTS = (17140 .. 17145);
my $nodes = IdgwTest::RedisNodes->new('redis-cluster-wait');
sub cli { $nodes->cli(@_) }
sub wait_for { IdgwTest::RedisNodes::wait_for(@_) }
sub code { IdgwTest::Client::error_code($_[0]) }
sub replay { ($_[0]{headers}{'x-idgw-replay'} // '') eq '1' }
sub waits { cli($_[0], 'INFO', 'commandstats') =~ /cmdstat_wait:calls=(\d+)/ ? $1 : 0 }

$nodes->stop(@PORTS);    # leftovers of an interrupted run
my $gw;
END { $gw->stop if $gw; $nodes->stop(@PORTS) if $nodes }

my $started = time;
ok($nodes->cluster(\@PORTS, 1));    # 3 masters + 3 replicas
# every node with the shipped replication settings (docs/redis-cluster.md:
# a Cluster node includes conf.d/redis/idgw-replicated.conf as a master of
# the other modes does; a replica may become a master)
my $shipped = Apache::Test::vars('top_dir') . '/conf.d/redis/idgw-replicated.conf';
open my $sfh, '<', $shipped or die "$shipped: $!";
my %set = map { /^\s*([a-z-]+)\s+(\S+)\s*$/ ? ($1 => $2) : () } <$sfh>;
close $sfh;
ok t_cmp(join(' ', map { "$_=" . ($set{$_} // '') } sort qw(min-replicas-to-write repl-diskless-load repl-diskless-sync)),
         'min-replicas-to-write=1 repl-diskless-load=swapdb repl-diskless-sync=yes', 'shipped settings');
for my $p (@PORTS) {
    cli($p, 'CONFIG', 'SET', $_, $set{$_}) eq 'OK' or die "CONFIG SET $_ on $p" for sort keys %set;
}

$gw = IdgwTest::Httpd::start(name => 'cluster-wait-httpd', port => 8591, edit => sub {
    $_[0] =~ s/^IdgwRedisServer .*$/IdgwRedisCluster 127.0.0.1:17140 127.0.0.1:17141\nIdgwSessionWaitReplicas 1 200ms/m;
}) or die "cannot start the httpd with IdgwRedisCluster and IdgwSessionWaitReplicas";
ok 1;    # the pair is accepted (it was refused before)
my $log_at = length($gw->log_text);

# a session's hash in the Cluster layout (the tag of its reaper shard)
sub skey {
    my ($c) = @_;
    my $sid = substr(sha256_hex($c->token), 0, 32);
    return sprintf('itest:s:{%d}:%s', hex(substr($sid, 0, 4)) % 256, $sid);
}
sub masters { grep { cli($_, 'ROLE') =~ /^master/ } @PORTS }
sub linked_to {
    my ($master) = @_;
    my ($r) = grep { cli($_, 'ROLE') =~ /^slave/
                     && cli($_, 'INFO', 'replication') =~ /master_port:$master\b/ } @PORTS;
    return $r;
}

# ---- 1. replicas answer: the session's master WAITs after each advancing write
# a fresh cluster's replicas ack within the timeout once synced: a first
# story (it also loads the scripts) retried until confirmed, on a busy machine
ok wait_for(sub {
    my $warm = IdgwTest::Client->new(base => $gw->base_url);
    $warm->open_session->{status} == 200 && $warm->step('store_card', 'request')->{status} == 200
}, 10);
my $c = IdgwTest::Client->new(base => $gw->base_url);
ok t_cmp($c->open_session->{status}, 200, 'open confirmed');
my $key = skey($c);
my $m = $nodes->slot_owner(17140, cli(17140, 'CLUSTER', 'KEYSLOT', $key));
my @others = grep { $_ != $m } masters();
my %w0 = map { $_ => waits($_) } masters();
ok t_cmp($c->step('store_card', 'request')->{status}, 200, 'step confirmed');
ok t_cmp(waits($m) - $w0{$m}, 2, "WAIT on the session's master $m after the claim and the commit");
ok t_cmp(join(',', map { waits($_) - $w0{$_} } @others), '0,0', 'none on the other masters');
ok t_cmp($c->status->{status}, 200, 'status');
ok t_cmp(waits($m) - $w0{$m}, 2, 'status sends no WAIT');
my $replica = linked_to($m);
ok(defined $replica);
sub offset { (cli($_[0], 'INFO', 'replication') =~ /$_[1]_repl_offset:(\d+)/)[0] }
ok wait_for(sub { offset($replica, 'slave') == offset($m, 'master') }, 3);   # reads refused there

# A child whose call to a master failed answers 503 IDGW-SRV-001 without
# trying for IdgwRedisRetryInterval (300 ms here): on a loaded machine a
# WAIT's answer (200 ms) read by another of its threads (the reaper's shard
# claims are confirmed too) may outlast IdgwRedisTimeout (300 ms) and trip
# it.  A terminal retransmits; so does this test, for up to 2 s.
sub retrying {
    my ($send) = @_;
    my $res = $send->();
    for (1 .. 10) {
        last unless code($res) eq 'IDGW-SRV-001';
        sleep 0.2;
        $res = $send->();
    }
    return $res;
}

# ---- 2. the session master's replica stopped: the claim is not confirmed
my $rpid = $nodes->pid_of($replica);
kill 'STOP', $rpid;
my $res = retrying(sub { $c->step('store_card', 'relay') });
ok t_cmp($res->{status} . ' ' . code($res), '503 IDGW-SRV-006', 'unconfirmed claim: 503 IDGW-SRV-006');
my $seq_unconfirmed = $c->seq + 1;
kill 'CONT', $rpid;
ok wait_for(sub { $nodes->linked($replica) }, 10);
# the retransmission: the abort stored before anything ran, replayed
$res = retrying(sub { $c->step('store_card', 'relay', seq => $seq_unconfirmed) });
ok t_cmp(code($res), 'IDGW-SRV-006', 'retransmission answered from the session');
ok replay($res);
$c->{seq} = $seq_unconfirmed;
ok t_cmp(retrying(sub { $c->step('store_card', 'request') })->{status}, 200, 'operation started over');

# ---- 3. the claim confirmed, then the replica stops while the handler runs:
# the commit stands on the master only, unconfirmed
my $pid = fork // die;
if (!$pid) { sleep 0.25; kill 'STOP', $rpid; POSIX::_exit(0) }   # no END blocks in the child
$res = $c->step('store_card', 'relay', query => 'sleep=600');
waitpid $pid, 0;
ok t_cmp(code($res), 'IDGW-SRV-006', 'unconfirmed commit: IDGW-SRV-006');
my $committed_seq = $c->seq + 1;
ok t_cmp(cli($m, 'HGET', $key, 'seq'), "$committed_seq", 'the step stands on the master');
$res = retrying(sub { $c->step('store_card', 'relay', seq => $committed_seq) });
ok t_cmp(code($res), 'IDGW-SRV-006', 'no replay while unconfirmed');
kill 'CONT', $rpid;
ok wait_for(sub { $nodes->linked($replica) }, 10);
$res = retrying(sub { $c->step('store_card', 'relay', seq => $committed_seq) });
ok t_cmp($res->{status}, 200, 'once confirmed, the retransmission gets the stored answer');
ok replay($res);   # replayed, not run again
$c->{seq} = $committed_seq;
ok t_cmp(retrying(sub { $c->step('store_card', 'complete') })->{status}, 200, 'the story goes on');

my $log = substr($gw->log_text, $log_at);
ok $log =~ /IDGW0166: script \S+ not confirmed: 0 of 1 replica\(s\)/ or print STDERR "# log: $log\n";
$gw->stop;
$log = $gw->log_text;
undef $gw;
ok($log !~ /exit signal|Segmentation|AH00052/) or print STDERR "# a child crashed\n";
print STDERR "# session_cluster_wait.t took ", int(time - $started), " s\n";
