# Redis down: fail closed by default (503), or fail open only within the
# per-process limiter; every degraded decision counted and logged.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;
use IdgwTest::Redis;
use Time::HiRes qw(sleep);

plan tests => 10;

IdgwTest::Acl::reset_keys();
my $file = IdgwTest::Acl::static_file();
my $log_from = IdgwTest::Acl::log_size();
my %o = (method => 'GET', xff => '10.10.0.1');

ok t_cmp(IdgwTest::Acl::request(path => "/acl/static-closed/$file", %o)->{status}, 200,
         'served while Redis is up');

ok t_cmp(IdgwTest::Redis::stop(save => 1) ? 1 : 0, 1, 'Redis stopped');
my $res = IdgwTest::Acl::request(path => "/acl/static-closed/$file", %o);
ok t_cmp($res->{status}, 503, 'fail closed: 503');
ok t_cmp(IdgwTest::Acl::code($res), 'IDGW-ACL-006', 'with the access-control code');

# open: 3 per hour per process at most, however many requests come
my %status;
$status{ IdgwTest::Acl::request(path => "/acl/static-open/$file", %o)->{status} }++ for 1 .. 30;
my $served = $status{200} // 0;
ok t_cmp($served >= 1 && $served <= 3 * 4 ? 'bounded' : "$served served", 'bounded',
         'fail open serves at most 3 per process (4 children)');
ok t_cmp(($status{200} // 0) + ($status{429} // 0), 30, 'the rest is refused by the local limiter');

ok t_cmp(IdgwTest::Redis::start() ? 1 : 0, 1, 'Redis back');
sleep 0.4;    # the pool's fail-fast interval (IdgwRedisRetryInterval 300ms)
ok t_cmp(IdgwTest::Acl::request(path => "/acl/static-closed/$file", %o)->{status}, 200,
         'served again');

my @closed = IdgwTest::Acl::log_lines(qr/IDGW0340: Redis unavailable .* \(fail closed\); degraded decisions in this process: \d+/, $log_from);
my @open = IdgwTest::Acl::log_lines(qr/IDGW0341: Redis unavailable .* \(fail open\); degraded decisions in this process: \d+/, $log_from);
ok t_cmp(scalar(@closed) . ' closed, ' . scalar(@open) . ' open', "1 closed, $served open",
         'every degraded decision logged and counted');

ok t_cmp(IdgwTest::Acl::settle() ? 1 : 0, 1, 'sessions served again');
