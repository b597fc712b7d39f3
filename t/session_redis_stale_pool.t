# Redis restarts while the children's connection pools are full of idle
# connections (after a burst of concurrent terminals).  Every one of those
# connections is dead; the first requests after the restart must still be
# served: a child throws away every connection Redis closed (a cheap
# non-blocking check) and connects afresh, instead of answering 503 after
# a fixed number of stale connections.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use IdgwTest::Redis;
use POSIX ();
use Time::HiRes qw(sleep);

my $BURST = 48;     # concurrent clients: more than the threads of one child
plan tests => 5;

my $logfile = Apache::Test::vars('t_logs') . '/error_log';

# the burst: every child's pool grows to as many connections as it had
# threads talking to Redis at once
my @kids;
for my $i (1 .. $BURST) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        my $c = IdgwTest::Client->new;
        my $bad = $c->open_session->{status} != 200;
        for (1 .. 4) { $bad ||= $c->status->{status} != 200 }
        POSIX::_exit($bad ? 1 : 0);
    }
    push @kids, $pid;
}
my $burst_failed = 0;
for (@kids) { waitpid $_, 0; $burst_failed++ if $? }
ok t_cmp($burst_failed, 0, 'the burst itself is served');

# sessions that outlive the restart (SHUTDOWN SAVE keeps them)
my @clients = map { IdgwTest::Client->new } 1 .. 8;
$_->open_session for @clients;

# Redis restarts while nobody is asking: no request sees the outage, so no
# child's breaker opens; every pooled connection is simply dead
ok IdgwTest::Redis::stop(save => 1) && IdgwTest::Redis::start();
sleep 0.2;
my $log_from = -s $logfile;

# sequential requests spread over the children: every one is served.  A
# restarted Redis is a new replication history (a new master_replid), so
# the sessions opened before it are answered IDGW-SEQ-007 (rolled back:
# t/session_rollback.t); that answer comes from Redis, so it counts as
# served here: this test is about the pool, not the sessions
my @failed;
for my $round (1 .. 5) {
    for my $c (@clients) {
        # round 1: the old sessions; round 2: new ones; then their status
        my $res = $round == 2 ? $c->open_session : $c->status;
        next if $round == 1 && $res->{status} == 409
            && IdgwTest::Client::error_code($res) eq 'IDGW-SEQ-007';
        push @failed, "$res->{status}:" . IdgwTest::Client::error_code($res)
            if $res->{status} != 200;
    }
}
ok t_cmp(scalar @failed, 0, '40 requests after the restart, none refused')
    or print STDERR "# refused: @failed\n";

open my $lf, '<', $logfile or die "$logfile: $!";
seek $lf, $log_from, 0;
my $log = do { local $/; <$lf> } // '';
ok $log !~ /IDGW011[01]/
    or print STDERR map { "# $_\n" } grep { /IDGW011/ } split /\n/, $log;
ok $log !~ /exit signal|Segmentation fault|AH00051|AH00052/;
