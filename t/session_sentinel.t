# Redis Sentinel: the master is found through the Sentinels; after a
# failover (the old master now a replica answering READONLY, or gone) the
# session goes on on the new master without restarting httpd.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;
use IdgwTest::Client;
use IdgwTest::Httpd;
use IdgwTest::RedisNodes;
use Time::HiRes qw(sleep time);

plan tests => 11;

my ($MASTER, $SENTINEL, $REPLICA) = (6391, 6392, 6393);
my $nodes = IdgwTest::RedisNodes->new('redis-sentinel');
sub cli { $nodes->cli(@_) }
sub wait_for { IdgwTest::RedisNodes::wait_for(@_) }

$nodes->stop($SENTINEL, $MASTER, $REPLICA);    # leftovers of an interrupted run
END { $nodes->stop($SENTINEL, $MASTER, $REPLICA) }

$nodes->server($MASTER);
$nodes->server($REPLICA, '--replicaof', '127.0.0.1', $MASTER);
$nodes->sentinel($SENTINEL, 'idgwtest', $MASTER, 1000);
ok wait_for(sub { cli($SENTINEL, 'SENTINEL', 'replicas', 'idgwtest') =~ /$REPLICA/ }, 30);

my $gw = IdgwTest::Httpd::start(name => 'sentinel-httpd', port => 8561, edit => sub {
    $_[0] =~ s/^IdgwRedisServer .*$/IdgwRedisSentinels 127.0.0.1:$SENTINEL 127.0.0.1:6399\nIdgwRedisMasterName idgwtest/m;
    # access control too: its lists must follow the failover
    $_[0] .= qq{\nInclude "} . Apache::Test::vars('t_dir') . qq{/conf/acl.conf"\n};
}) or die "cannot start the httpd using Sentinel";

my $c = IdgwTest::Client->new(base => $gw->base_url);
ok t_cmp($c->open_session->{status}, 200, 'session through the Sentinel-resolved master');
$c->step('store_card', 'request');
ok t_cmp($c->step('store_card', 'relay')->{status}, 200);
ok t_cmp(cli($MASTER, 'EXISTS', $c->session_key), '1', 'stored on the master');
ok wait_for(sub { cli($REPLICA, 'EXISTS', $c->session_key) eq '1' }, 5);

# fail over: the replica becomes master, the old master a replica
cli($SENTINEL, 'SENTINEL', 'FAILOVER', 'idgwtest');
ok wait_for(sub { cli($SENTINEL, 'SENTINEL', 'get-master-addr-by-name', 'idgwtest') =~ /$REPLICA/
                  && cli($MASTER, 'ROLE') =~ /^slave/ }, 20);

my ($res, @seen);
my $end = time + 10;
while (time < $end) {
    $res = $c->step('store_card', 'relay', seq => 3);
    push @seen, $res->{status} . ':' . IdgwTest::Client::error_code($res);
    last if $res->{status} == 200;
    sleep 0.3;
}
ok t_cmp($res->{status}, 200, 'session goes on after the failover');
ok !grep { !/^(200|503):(|IDGW-SRV-001|IDGW-SEQ-004)$/ } @seen or print STDERR "# seen: @seen\n";
ok t_cmp(cli($REPLICA, 'HGET', $c->session_key, 'seq'), '3', 'written to the new master');

# The access-control lists follow the new master: a ban written there is
# in force on every child within IdgwAclListsMaxAge (2 s; the listeners
# subscribed to the old master, now its replica, or resubscribe).
my $t = IdgwTest::Acl::terminal();
my %who = (xff => '10.0.0.1', terminal => $t, base => $gw->base_url);
# (a child whose pool saw the old master fail waits IdgwRedisRetryInterval)
ok t_cmp(IdgwTest::Acl::eventually(sub { IdgwTest::Acl::open_session('/acl/net', %who) },
                                   sub { $_[0]{status} == 200 }, 5)->{status}, 200,
         'the terminal passes');
IdgwTest::Acl::admin('--port', $REPLICA, 'add', 'terminal', $t);
my $t0 = time;
my $status = 0;
while (time - $t0 < 3 && ($status = IdgwTest::Acl::open_session('/acl/net', %who)->{status}) != 403) {
    sleep 0.05;
}
printf STDERR "# ban on the new master applied after %.0f ms\n", (time - $t0) * 1000;
ok t_cmp($status == 403 && time - $t0 < 2.5 ? 'banned' : "status $status", 'banned',
         'a ban on the new master applies within IdgwAclListsMaxAge');

$gw->stop;
