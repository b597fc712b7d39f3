# A step's answer is never 200 unless its state change reached Redis (issue
# 11, item 4).  The commit is read back before the answer goes out:
#   - Redis loses its script cache (SCRIPT FLUSH) while the step runs: the
#     commit (and a strike) still land (NOSCRIPT: load, run again);
#   - Redis refuses writes (maxmemory reached) or hangs while the step runs:
#     the app gets 503 IDGW-SRV-003, never 200.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use IdgwTest::Redis;
use Time::HiRes qw(sleep time);

plan tests => 12;

# run $during (in a child) while a step sleeps $ms in the handler
sub step_while {
    my ($c, $op, $step, $query, $after, $during) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) { sleep $after; $during->(); exit 0 }
    my $res = $c->step($op, $step, query => $query);
    waitpid $pid, 0;
    return $res;
}

# the script cache is flushed between the check and the commit
my $c = IdgwTest::Client->new;
$c->open_session;
my $res = step_while($c, 'list_cards', 'request', 'sleep=500', 0.2,
                     sub { IdgwTest::Redis::cli('SCRIPT', 'FLUSH') });
ok t_cmp($res->{status}, 200, 'SCRIPT FLUSH during the step: answered');
my $again = $c->step('list_cards', 'request', seq => 1);
ok t_cmp($again->{status}, 200, 'the retransmission finds the stored answer');
ok t_cmp($again->{headers}{'x-idgw-replay'} // '', '1', '  replayed: the commit landed');
ok t_cmp($again->{content}, $res->{content}, '  the same answer');

# a strike recorded after a SCRIPT FLUSH still counts
my $strike_key = 'itest:strike:t:' . $c->terminal;
step_while($c, 'list_cards', 'relay', 'sleep=500&prove=chip&strike=1', 0.2,
           sub { IdgwTest::Redis::cli('SCRIPT', 'FLUSH') });
ok t_cmp(IdgwTest::Redis::cli('GET', $strike_key), '1', 'the strike after SCRIPT FLUSH landed');

# Redis refuses writes between the check and the commit
my $d = IdgwTest::Client->new;
$d->open_session;
$res = step_while($d, 'list_cards', 'request', 'sleep=500', 0.2,
                  sub { IdgwTest::Redis::cli('CONFIG', 'SET', 'maxmemory', '1') });
IdgwTest::Redis::cli('CONFIG', 'SET', 'maxmemory', '0');
ok t_cmp($res->{status}, 503, 'writes refused at the commit: 503, not 200');
ok t_cmp(IdgwTest::Client::error_code($res), 'IDGW-SRV-003', '  IDGW-SRV-003');
ok t_cmp($res->{headers}{'retry-after'} // '', '1', '  with Retry-After');
# what the retransmission gets: in progress until the lease, never a 200 of
# a step nobody stored
my $r2 = $d->step('list_cards', 'request', seq => 1);
ok t_cmp("$r2->{status} " . IdgwTest::Client::error_code($r2), '503 IDGW-SEQ-004',
         'the retransmission: in progress (the state is unknown until the lease)');

# Redis hangs between the check and the commit
my $e = IdgwTest::Client->new;
$e->open_session;
$res = step_while($e, 'list_cards', 'request', 'sleep=400', 0.2, sub {
    IdgwTest::Redis::pause(); sleep 1.0; IdgwTest::Redis::resume() });
ok t_cmp($res->{status}, 503, 'Redis hanging at the commit: 503, not 200');
ok t_cmp(IdgwTest::Client::error_code($res), 'IDGW-SRV-003', '  IDGW-SRV-003');
my $log = do { local (@ARGV, $/) = (Apache::Test::vars('t_logs') . '/error_log'); <> };
ok $log =~ /IDGW0130: /;
