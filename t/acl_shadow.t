# Shadow mode: every access-control layer set to shadow decides as usual,
# logs (IDGW0370) and counts (idgw_acl_shadow_refusals_total{layer,rule})
# what it would refuse, records it against the terminal and address in
# Redis for `idgw-acl explain`, and lets the request through; the same
# layer enforced (the twin locations of t/conf/acl.conf.in) refuses.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;
use IdgwTest::Redis;
use JSON::PP ();

plan tests => 46;
my @status;

IdgwTest::Acl::reset_keys();
my $log_from = IdgwTest::Acl::log_size();

sub metrics {
    my %m;
    for (split /\n/, GET('/idgw-status?format=prometheus')->content) {
        $m{"$1:$2"} = $3 if /^idgw_acl_shadow_refusals_total\{layer="(\w+)",rule="(\w+)"\} (\d+)$/;
    }
    return \%m;
}
my $m0 = metrics();
sub counted {
    my ($rule) = @_;
    return (metrics()->{$rule} // 0) - ($m0->{$rule} // 0);
}
sub logged {
    my ($re) = @_;
    return scalar IdgwTest::Acl::log_lines($re, $log_from);
}
sub explain {
    my ($rc, $out) = IdgwTest::Acl::admin('explain', @_);
    return $out;
}

# ---- carrier networks -------------------------------------------------------------
my $res = IdgwTest::Acl::open_session('/acl/shadow-net', xff => '192.0.2.50');
ok t_cmp($res->{status}, 200, 'carrier in shadow: an address off the carrier networks passes');
ok logged(qr/IDGW0370: shadow carrier:networks would refuse: 192\.0\.2\.50 is not on a carrier network; let through/);
ok t_cmp(counted('carrier:networks'), 1, 'counted once');
ok t_cmp(IdgwTest::Acl::open_session('/acl/shadow-net', xff => '10.1.0.50')->{status}, 200,
         'a carrier address passes');
ok t_cmp(counted('carrier:networks'), 1, 'and is not counted');
$res = IdgwTest::Acl::open_session('/acl/net', xff => '192.0.2.50');
ok t_cmp(IdgwTest::Acl::code($res), 'IDGW-ACL-001', 'enforced: the same address is refused');
my $out = explain('192.0.2.50');
ok $out =~ m{addr 192\.0\.2\.50/32: shadow carrier:networks would have refused it 1 time\(s\), last \d{4}-}
    or diag $out;
ok $out =~ /shadow: 1 shadow refusal\(s\) recorded against the above, let through/ or diag $out;

# ---- whitelist ----------------------------------------------------------------------
my $t = IdgwTest::Acl::terminal();
$res = IdgwTest::Acl::open_session('/acl/shadow-wl', xff => '10.6.0.1', terminal => $t);
ok t_cmp($res->{status}, 200, 'whitelist in shadow: an unlisted terminal passes');
ok logged(qr/IDGW0370: shadow whitelist:mode would refuse: whitelist mode, terminal \Q$t\E /);
ok t_cmp(counted('whitelist:mode'), 1);
ok t_cmp(IdgwTest::Acl::open_session('/acl/shadow-wl', xff => '10.6.0.1',
                                     terminal => 'PILOT-STATIC')->{status}, 200);
ok t_cmp(counted('whitelist:mode'), 1, 'a listed terminal is not counted');
$res = IdgwTest::Acl::open_session('/acl/wl', xff => '10.6.0.1', terminal => $t);
ok t_cmp(IdgwTest::Acl::code($res), 'IDGW-ACL-003', 'enforced: refused');
$out = explain('--json', $t);
my $doc = eval { JSON::PP::decode_json($out) } // {};
my ($sub) = @{ $doc->{subjects} // [] };
ok t_cmp(join(',', map { "$_->{layer}:$_->{rule}=$_->{count}" } @{ $sub->{shadow_refusals} // [] }),
         'whitelist:mode=1', 'explain --json: the terminal\'s shadow refusals') or diag $out;

# ---- blacklist (per kind: addresses in shadow, terminals enforced) -----------------
IdgwTest::Acl::admin('add', 'addr', '10.7.0.0/24', '--reason', 'shadow trial');
my $bt = IdgwTest::Acl::terminal();
IdgwTest::Acl::admin('add', 'terminal', $bt);
# in force within IdgwAclListsMaxAge (a refusal where the network is enforced)
IdgwTest::Acl::eventually(sub { IdgwTest::Acl::open_session('/acl/net', xff => '10.7.0.6', terminal => $bt) },
                          sub { IdgwTest::Acl::code($_[0]) eq 'IDGW-ACL-002' });
@status = map { IdgwTest::Acl::open_session('/acl/shadow-bl', xff => '10.7.0.5')->{status} } 1 .. 3;
ok t_cmp("@status", '200 200 200', 'blacklist:addr in shadow: a listed network passes');
ok logged(qr{IDGW0370: shadow blacklist:addr would refuse: addr 10\.7\.0\.0/24 is blacklisted \(admin, permanent: shadow trial\)});
ok t_cmp(counted('blacklist:addr'), 3);
$res = IdgwTest::Acl::open_session('/acl/shadow-bl', xff => '10.7.1.5', terminal => $bt);
ok t_cmp(IdgwTest::Acl::code($res), 'IDGW-ACL-002', 'blacklist:terminal is still enforced there');
$res = IdgwTest::Acl::open_session('/acl/net', xff => '10.7.0.5');
ok t_cmp(IdgwTest::Acl::code($res), 'IDGW-ACL-002', 'enforced elsewhere: the network is refused');
# each of them recorded against the address in Redis by the fleet-wide check
ok explain('10.7.0.5') =~ m{addr 10\.7\.0\.5/32: shadow blacklist:addr would have refused it 3 time};

# ---- rate limits, and the auto-ban their breaches earn ------------------------------
my $rt = IdgwTest::Acl::terminal();
@status = map { IdgwTest::Acl::open_session('/acl/shadow-rate', xff => '10.5.0.1',
                                            terminal => $rt)->{status} } 1 .. 4;
ok t_cmp("@status", '200 200 200 200', 'limits of 2/h in shadow refuse none of 4');
ok t_cmp(counted('ratelimit:terminal'), 2, 'the terminal limit would have refused two');
ok t_cmp(counted('ratelimit:addr'), 2, 'the address limit too');
ok logged(qr{IDGW0370: shadow ratelimit:terminal would refuse: fleet-wide rate limit terminal 2/3600s burst 2 reached by \Q$rt\E});
# the address's two breaches reached the (enforced) breach threshold: the ban
# is a shadow ban (an unproven terminal's breaches ban nobody, t/acl_proven.t)
ok logged(qr{IDGW0372: shadow auto-ban \(refuses nobody\): addr 10\.5\.0\.1 after repeated});
my ($rc, $list) = IdgwTest::Acl::admin('list', '--list', 'shadow', 'addr');
ok $list =~ m{^shadow addr\s+10\.5\.0\.1/32\s+temporary, \d+ s left .* by auto-breaches}m or diag $list;
($rc, $list) = IdgwTest::Acl::admin('list', 'addr');
ok $list !~ /10\.5\.0\.1/;                   # nothing in the blacklist
my $breaches0 = counted('autoban:breaches');
ok t_cmp(IdgwTest::Acl::open_session('/acl/net', xff => '10.5.0.1')->{status},
         200, 'the shadow-banned address is served');
ok t_cmp(counted('autoban:breaches') - $breaches0, 1, 'and counted as what the ban would refuse');
$out = explain('10.5.0.1', $rt);
ok $out =~ m{addr 10\.5\.0\.1/32: shadow ban 10\.5\.0\.1/32: temporary.*auto-breaches.*refuses nobody} or diag $out;
ok $out =~ /terminal \Q$rt\E: shadow ratelimit:terminal would have refused it 2 time/ or diag $out;
my $et = IdgwTest::Acl::terminal();
@status = map { IdgwTest::Acl::open_session('/acl/breaches', xff => '10.5.1.1',
                                            terminal => $et)->{status} } 1 .. 3;
ok t_cmp("@status", '200 200 429', 'enforced: the same limit refuses the third');

# ---- auto-ban after sequence errors ---------------------------------------------------
for (1 .. 3) {
    IdgwTest::Acl::request(path => '/acl/shadow-strikes/session/status', xff => '10.8.0.1',
                           token => '0' x 32);
}
ok logged(qr{IDGW0371: shadow auto-ban \(refuses nobody\) for 3600 s: address 10\.8\.0\.1/32 after 2 sequence errors});
($rc, $list) = IdgwTest::Acl::admin('list', '--list', 'shadow', 'addr');
ok $list =~ m{^shadow addr\s+10\.8\.0\.1/32\s+temporary.*auto-strikes}m or diag $list;
my $strikes0 = counted('autoban:strikes');
@status = map { IdgwTest::Acl::open_session('/acl/net', xff => '10.8.0.1')->{status} } 1 .. 4;
ok t_cmp("@status", '200 200 200 200', 'the shadow-banned address is served');
# each request counted as what the ban would refuse
ok counted('autoban:strikes') - $strikes0 >= 4;
ok logged(qr{IDGW0370: shadow autoban:strikes would refuse: addr 10\.8\.0\.1/32 has a shadow ban \(auto-strikes, for another \d+ s});
$out = explain('10.8.0.1');
ok $out =~ m{addr 10\.8\.0\.1/32: shadow ban 10\.8\.0\.1/32: temporary.*auto-strikes} or diag $out;
ok $out =~ m{shadow autoban:strikes would have refused it [1-9]\d* time} or diag $out;
ok $out =~ /verdict: not refused by the lists/ or diag $out;     # a shadow ban is no ban
for (1 .. 3) {
    IdgwTest::Acl::request(path => '/acl/strikes/session/status', xff => '10.8.1.1',
                           token => '0' x 32);
}
ok t_cmp(IdgwTest::Acl::code(IdgwTest::Acl::eventually(sub { IdgwTest::Acl::open_session('/acl/net',
                                                                            xff => '10.8.1.1') },
                                   sub { IdgwTest::Acl::code($_[0]) eq 'IDGW-ACL-002' })),
         'IDGW-ACL-002', 'enforced: the address is banned');
($rc, $out) = IdgwTest::Acl::admin('remove', '--list', 'shadow', 'addr', '10.8.0.1/32');
ok $out =~ m{removed shadow addr 10\.8\.0\.1/32} or diag $out;

# ---- the page, and no cost for requests no shadow rule would refuse --------------------
my $page = GET('/idgw-status')->content;
ok $page =~ /idgw_acl_shadow_refusals_total/;     # the status page shows the family
my $before = IdgwTest::Redis::command_calls();
for (1 .. 5) { IdgwTest::Acl::open_session('/acl/shadow-rate', xff => "10.5.9.$_") }
my $after = IdgwTest::Redis::command_calls();
ok t_cmp(($after->{hincrby} // 0) - ($before->{hincrby} // 0), 0,
         'requests no shadow rule refuses write no record');
ok t_cmp(IdgwTest::Redis::cli('EXISTS', IdgwTest::Acl::PREFIX . 'acl:sr:addr:10.5.9.1/32'), '0');
