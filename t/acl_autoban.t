# Automatic temporary bans: after repeated sequence errors (strikes counted
# by the session check: against the terminal only when the request proved a
# proven session, otherwise against the address only) and after repeated
# rate-limit refusals.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;

sub diag { print STDERR map { "# $_\n" } split /\n/, join('', @_) }

plan tests => 21;

IdgwTest::Acl::reset_keys();
my $log_from = IdgwTest::Acl::log_size();

# A forged token proves nothing: a flood of them naming a victim terminal
# strikes (and bans) only the address it comes from, never the victim.
my $t = IdgwTest::Acl::terminal();
my @codes;
for (1 .. 4) {
    my $res = IdgwTest::Acl::request(path => '/acl/strikes/session/status', xff => '10.9.0.1',
                                     terminal => $t, token => '0' x 32);
    push @codes, IdgwTest::Acl::code($res);
}
ok t_cmp($codes[0], 'IDGW-SES-001', 'first error is the session module\'s');
ok t_cmp($codes[2], 'IDGW-SES-001', 'third error too');
ok t_cmp($codes[3], 'IDGW-ACL-002', 'then the attacker\'s address is banned');
my $res = IdgwTest::Acl::open_session('/acl/net', xff => '10.9.0.99', terminal => $t);
ok t_cmp($res->{status}, 200, 'the victim terminal it named is not banned');
my ($rc, $out) = IdgwTest::Acl::admin('explain', '--terminal', $t, '--addr', '10.9.0.1');
ok $out !~ /terminal \Q$t\E: blacklist entry/ or diag $out;
ok $out =~ m{addr 10\.9\.0\.1/32: blacklist entry 10\.9\.0\.1/32: temporary.* by auto-strikes}
    or diag $out;
ok scalar IdgwTest::Acl::log_lines(qr{IDGW0330: auto-ban for 3600 s: address 10\.9\.0\.1/32 },
                                   $log_from);
ok !IdgwTest::Acl::log_lines(qr/IDGW0330: .*terminal \Q$t\E/, $log_from);

# Sequence errors in sessions nobody has proven (session/open takes any
# terminal id) strike the addresses only: three of them, from three
# addresses, ban no terminal.  A proven terminal's own errors do ban it
# (t/acl_proven.t, which proves sessions through the test handler).
my $v = IdgwTest::Acl::terminal();
my $m = IdgwTest::Acl::idm();
for my $i (1 .. 3) {
    my ($open, $token) = IdgwTest::Acl::open_session('/acl/strikes', xff => "10.9.2.$i",
                                                     terminal => $v, idm => $m);
    my $bad = IdgwTest::Acl::request(path => '/acl/strikes/add_card/relay', xff => "10.9.2.$i",
                                     terminal => $v, idm => $m, token => $token // '', seq => 5);
    push @codes, IdgwTest::Acl::code($bad);
}
ok t_cmp("@codes[4..6]", 'IDGW-SEQ-001 IDGW-SEQ-001 IDGW-SEQ-001', 'sequence errors in unproven sessions');
ok t_cmp(IdgwTest::Acl::open_session('/acl/net', xff => '10.9.2.99', terminal => $v)->{status},
         200, 'the terminal they named is not banned');
($rc, $out) = IdgwTest::Acl::admin('explain', '--terminal', $v);
ok $out !~ /blacklist entry/ or diag $out;
ok !IdgwTest::Acl::log_lines(qr/IDGW0330: .*terminal \Q$v\E/, $log_from);

# breaches: 2 per hour; 3 refusals would earn a ban, but an id only named in
# session/open is counted where it comes from and bans nobody
my $b = IdgwTest::Acl::terminal();
my @status;
for (1 .. 5) {
    push @status, IdgwTest::Acl::open_session('/acl/breaches', xff => '10.9.1.1', terminal => $b)->{status};
}
ok t_cmp("@status[0..1]", '200 200', 'within the limit');
ok t_cmp("@status[2..4]", '429 429 429', 'three refusals');
ok t_cmp(IdgwTest::Acl::open_session('/acl/net', xff => '10.9.1.2', terminal => $b)->{status},
         200, 'no ban for a terminal id nothing proved');
($rc, $out) = IdgwTest::Acl::admin('explain', '--terminal', $b);
ok $out !~ /blacklist entry/ or diag $out;
ok t_cmp(IdgwTest::Acl::open_session('/acl/breaches', xff => '10.9.1.1', terminal => $b)->{status},
         429, 'still limited where the flood came from');

# an IPv6 client is banned by its /64: the phone could pick any address in it
my $t6 = IdgwTest::Acl::terminal();
for (1 .. 3) {
    IdgwTest::Acl::request(path => '/acl/strikes/session/status', xff => '2001:db8:10:5::1',
                           terminal => $t6, token => '0' x 32);
}
ok t_cmp(IdgwTest::Acl::code(IdgwTest::Acl::eventually(
        sub { IdgwTest::Acl::open_session('/acl/strikes', xff => '2001:db8:10:5::abcd') },
        sub { IdgwTest::Acl::code($_[0]) eq 'IDGW-ACL-002' })),
         'IDGW-ACL-002', 'another address of the same /64 is banned');
ok t_cmp(IdgwTest::Acl::open_session('/acl/strikes', xff => '2001:db8:10:6::1')->{status},
         200, 'the next /64 is not');
($rc, $out) = IdgwTest::Acl::admin('list', 'addr');
ok $out =~ m{black addr\s+2001:db8:10:5::/64\s+temporary};
($rc, $out) = IdgwTest::Acl::admin('explain', '--addr', '2001:db8:10:5::77');
ok $out =~ m{blacklist entry 2001:db8:10:5::/64: temporary.*auto-strikes.*REFUSED};
