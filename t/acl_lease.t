# Leases of the fleet-wide rate limits (modules/acl/idgw_acl_lease.h): a
# child that keeps seeing the same client takes a few of its tokens at once
# and decides the next requests without asking Redis, and the limit still
# holds: nothing passes that the fleet-wide limit would have refused.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;
use IdgwTest::Redis;

plan tests => 7;

IdgwTest::Acl::reset_keys();

# idgw_acl_rate_decisions_total by where ('lease' or 'redis'), all dimensions
sub decisions {
    my %n = (lease => 0, redis => 0);
    for (split /\n/, GET('/idgw-status?format=prometheus')->content) {
        $n{$1} += $2 if /^idgw_acl_rate_decisions_total\{dimension="\w+",where="(\w+)"\} (\d+)$/;
    }
    return \%n;
}

sub delta {
    my ($before, $after, $cmd) = @_;
    return ($after->{$cmd} // 0) - ($before->{$cmd} // 0);
}

# 1. A client polling its session far below its limits (/acl/steady: the
#    bench's lifted limits, burst 10^6): most of its requests are decided on
#    a lease, so the limiter's MGET runs for a few of them only.
my $N = 120;
my %who = (xff => '10.8.60.1', terminal => IdgwTest::Acl::terminal(), idm => IdgwTest::Acl::idm());
my ($res, $token) = IdgwTest::Acl::open_session('/acl/steady', %who);
ok t_cmp($res->{status}, 200, 'session opened');
my $d0 = decisions();
my $c0 = IdgwTest::Redis::command_calls();
my $ok = 0;
for (1 .. $N) {
    $ok++ if IdgwTest::Acl::request(path => '/acl/steady/session/status', token => $token,
                                    %who)->{status} == 200;
}
my $c1 = IdgwTest::Redis::command_calls();
my $d1 = decisions();
my $mget = delta($c0, $c1, 'mget');
my $leased = $d1->{lease} - $d0->{lease};
printf STDERR "# %d status requests: %d MGET, %d decisions on a lease, %d in Redis\n",
    $N, $mget, $leased, $d1->{redis} - $d0->{redis};
ok t_cmp($ok, $N, "$N status requests served");
ok t_cmp($mget <= $N / 4 ? 'few' : "$mget MGET", 'few',
         'the fleet-wide limiter reads Redis for at most a quarter of them');
ok t_cmp($leased >= $N ? 'most' : "$leased", 'most',
         'most of the two dimensions\' decisions were taken on a lease');

# 2. The limit still holds: 40 a minute, burst 40, per address, and 70
#    requests at once from a fresh address.  Leases are granted only while
#    the bucket is at most half full, so at most 40 pass; tokens another
#    child holds unspent may refuse a few earlier (each lease holds at most
#    40 / 8 = 5, and at most 4 children).
my $addr = '10.8.61.' . (1 + $$ % 250);
my $d2 = decisions();
my %status;
for (1 .. 70) {
    my $r = IdgwTest::Acl::request(path => '/acl/lease-tight/session/open', xff => $addr);
    $status{ $r->{status} }++;
}
my $d3 = decisions();
my $passed = 70 - ($status{429} // 0);
printf STDERR "# tight limit: %d of 70 passed (%s), %d decisions on a lease\n", $passed,
    join(' ', map {"$_:$status{$_}"} sort keys %status), $d3->{lease} - $d2->{lease};
ok t_cmp($passed <= 40 ? 'held' : "$passed passed", 'held', 'never more than the burst');
ok t_cmp($passed >= 40 - 4 * 5 ? 'close' : "$passed passed", 'close',
         'at most the leases of the other children refused early');
ok t_cmp($d3->{lease} - $d2->{lease} > 0 ? 'leased' : 'none', 'leased',
         'some of them were decided on a lease');
