# The refusals the README tells an operator to look for - IDGW0310 (not on
# a carrier network), IDGW0312 (blacklisted) - are logged at Debian's
# default LogLevel warn, and a client repeating them cannot flood the error
# log: at most one warn line a second per process and id, which says how
# many refusals came since the previous one (those went to info).
# /acl/warn runs with "LogLevel warn" (t/conf/acl.conf.in).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;
use Time::HiRes qw(sleep time);
use Test::More ();
sub diag { Test::More::diag(@_) }
# Apache::Test's ok(A, B) compares A with B: a condition and its name
sub check { my ($cond, $name) = @_; return ok t_cmp($cond ? 1 : 0, 1, $name) }

plan tests => 9;

IdgwTest::Acl::reset_keys();

# start just after a second begins, so the burst below fits in one second
# on an unloaded machine (the checks allow it to straddle two)
sub next_second { sleep(1.05 - (time - int(time))) }

my $from = IdgwTest::Acl::log_size();
next_second();
my $t0 = time;
my $burst = 12;
for my $i (1 .. $burst) {
    IdgwTest::Acl::open_session('/acl/warn', xff => "192.0.2.$i");
}
my $spent = time - $t0;
sleep(1.2);
# a refusal is answered on a closed connection, so the requests spread over
# the server's processes: several after the pause reach each one that held
# lines back (one a second per process)
my $res;
$res = IdgwTest::Acl::open_session('/acl/warn', xff => "192.0.2.9$_") for 1 .. 8;
ok t_cmp($res->{status}, 403, 'a client off the carrier networks is refused');
sleep(0.3);

my @all = IdgwTest::Acl::log_lines(qr/IDGW0310: refused: 192\.0\.2\.\d+ /, $from);
my @warn = grep { /:warn\]/ } @all;
my @burst_warn = grep { !/192\.0\.2\.9\d / } @warn;
ok t_cmp(scalar(@all), scalar(@warn), 'every IDGW0310 line written at LogLevel warn is a warn line');
my $procs = keys %{ { map { /\[pid (\d+)/ ? ($1 => 1) : () } @warn } };
my $bound = $procs * (int($spent) + 2);
check(@burst_warn >= 1 && @burst_warn <= $bound,
   "a burst of $burst refusals in ${spent}s: " . scalar(@burst_warn)
   . " warn lines (at least one, at most $bound: one a second per process)")
    or diag join '', @all;
check(@burst_warn < $burst, 'the burst is not logged line by line at warn');
my @after = grep { /192\.0\.2\.9\d / } @warn;
check(@after >= 1, 'refusals a second later are logged at warn again') or diag join '', @all;
my $more = 0;
$more += $_ for map { /; (\d+) more since the last warning \(logged at info\)/ ? $1 : 0 } @after;
check($more >= 1, "and say how many refusals were held back since the previous line ($more)")
    or diag join '', @after;
if ($procs == 1) {
    # one process: every refusal up to the last warn line is counted once
    # (those held back after it are reported by the next one, which does not
    # come in this test: the 8 later requests fit in one second)
    my $counted = @warn;
    $counted += $_ for map { /; (\d+) more since/ ? $1 : 0 } @warn;
    check($counted >= $burst + 1, "the warn lines account for every refusal of the burst "
       . "($counted >= " . ($burst + 1) . ')') or diag join '', @warn;
} else {
    check(1, "the requests went to $procs processes: per-process counts not summed");
}

# a blacklisted client: IDGW0312 at warn
my ($rc) = IdgwTest::Acl::admin('add', 'addr', '10.4.77.7', '--reason', 'log level test');
ok t_cmp($rc, 0, 'admin add addr');
# in force (within IdgwAclListsMaxAge) before the measured second
IdgwTest::Acl::eventually(sub { IdgwTest::Acl::open_session('/acl/net', xff => '10.4.77.7') },
                          sub { IdgwTest::Acl::code($_[0]) eq 'IDGW-ACL-002' });
$from = IdgwTest::Acl::log_size();
next_second();
IdgwTest::Acl::open_session('/acl/warn', xff => '10.4.77.7');
sleep(0.3);
my @bl = IdgwTest::Acl::log_lines(qr/:warn\].*IDGW0312: refused: addr 10\.4\.77\.7(?:\/32)? is blacklisted/, $from);
ok t_cmp(scalar(@bl), 1, 'a blacklisted client is logged at warn (IDGW0312)');
IdgwTest::Acl::admin('remove', 'addr', '10.4.77.7');
