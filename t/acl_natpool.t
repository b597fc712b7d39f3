# Carrier NAT pools (issue 12, item 3): many honest phones share one carrier
# NAT address (IdgwAclNatPool 30 10.20.0.0/16 in t/conf/acl.conf.in) with an
# attacker who forges tokens, makes sequence errors and floods.  The address
# is never banned and its limit is sized for the 30 subscribers behind it,
# so the honest phones are all served; the attacker is banned once it has
# proven a terminal of its own.  The same misbehaviour from an ordinary
# carrier address (10.21.0.0/16) bans that address, as before.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;

sub diag { print STDERR map { "# $_\n" } split /\n/, join('', @_) }

plan tests => 14;

IdgwTest::Acl::reset_keys();
my $log_from = IdgwTest::Acl::log_size();
my $nat = '10.20.0.1';

# Misbehaviour from one address: forged tokens, sequence errors in sessions
# it never proved, an open flood under one terminal id.
sub misbehave {
    my ($addr) = @_;
    my @got;
    for (1 .. 4) {
        push @got, IdgwTest::Acl::code(IdgwTest::Acl::request(
            path => '/acl/nat/session/status', xff => $addr, token => '0' x 32));
    }
    for (1 .. 3) {
        my ($t, $m) = (IdgwTest::Acl::terminal(), IdgwTest::Acl::idm());
        my (undef, $token) = IdgwTest::Acl::open_session('/acl/nat', xff => $addr,
                                                         terminal => $t, idm => $m);
        push @got, IdgwTest::Acl::code(IdgwTest::Acl::request(
            path => '/acl/nat/add_card/relay', xff => $addr, terminal => $t, idm => $m,
            token => $token // '', seq => 5));
    }
    my $flood = IdgwTest::Acl::terminal();
    for (1 .. 10) {
        push @got, IdgwTest::Acl::open_session('/acl/nat', xff => $addr,
                                               terminal => $flood)->{status};
    }
    return "@got";
}

# An honest phone's visit: open, a step, a relay, a status.
sub honest {
    my ($addr) = @_;
    my ($t, $m) = (IdgwTest::Acl::terminal(), IdgwTest::Acl::idm());
    my ($open, $token) = IdgwTest::Acl::open_session('/acl/nat', xff => $addr,
                                                     terminal => $t, idm => $m);
    my @st = ($open->{status});
    my %o = (xff => $addr, terminal => $t, idm => $m, token => $token // '');
    push @st, IdgwTest::Acl::request(path => '/acl/nat/add_card/request', seq => 1, %o)->{status};
    push @st, IdgwTest::Acl::request(path => '/acl/nat/add_card/relay', seq => 2, %o)->{status};
    push @st, IdgwTest::Acl::request(path => '/acl/nat/session/status', %o)->{status};
    return "@st";
}

my $seen = misbehave($nat);
ok t_cmp($seen, join(' ', ('IDGW-SES-001') x 4, ('IDGW-SEQ-001') x 3, ('200') x 6,
                     ('429') x 4),
         'behind the NAT address: forged tokens, sequence errors, a flood; never a ban');
my @phones = map { honest($nat) } 1 .. 10;
ok t_cmp(scalar(grep { $_ eq '200 200 200 200' } @phones), 10,
         'ten honest phones behind the same address are all served')
    or diag join("\n", @phones);
my ($rc, $out) = IdgwTest::Acl::admin('explain', '--addr', $nat);
ok $out !~ /blacklist entry/ or diag $out;
ok !IdgwTest::Acl::log_lines(qr{IDGW0330: .*address \Q$nat\E/32}, $log_from);

# the attacker proves a terminal of its own and errs: that terminal is banned,
# the NAT address is not, and the other phones go on
my ($t, $m) = (IdgwTest::Acl::terminal(), IdgwTest::Acl::idm());
my @codes;
for (1 .. 3) {
    my (undef, $token) = IdgwTest::Acl::open_session('/acl/nat', xff => $nat,
                                                     terminal => $t, idm => $m);
    my %o = (xff => $nat, terminal => $t, idm => $m, token => $token // '');
    push @codes, IdgwTest::Acl::request(path => '/acl/nat/add_card/request?prove=chip',
                                        seq => 1, %o)->{status};
    push @codes, IdgwTest::Acl::code(IdgwTest::Acl::request(path => '/acl/nat/add_card/relay',
                                                            seq => 5, %o));
}
ok t_cmp("@codes", '200 IDGW-SEQ-001 200 IDGW-SEQ-001 200 IDGW-SEQ-001',
         'the attacker proves its chip, then errs');
ok t_cmp(IdgwTest::Acl::code(IdgwTest::Acl::eventually(
        sub { IdgwTest::Acl::open_session('/acl/nat', xff => '10.20.0.2',
                                                         terminal => $t, idm => $m) },
        sub { IdgwTest::Acl::code($_[0]) eq 'IDGW-ACL-002' })),
         'IDGW-ACL-002', 'its proven terminal is banned, from any address');
ok scalar IdgwTest::Acl::log_lines(
    qr{IDGW0330: auto-ban for 3600 s: terminal \Q$t\E after 3 sequence errors \(address \Q$nat\E is a carrier NAT address: not banned\)},
    $log_from);
ok t_cmp(honest($nat), '200 200 200 200', 'the others behind the address still are served');
($rc, $out) = IdgwTest::Acl::admin('explain', '--addr', $nat);
ok $out !~ /blacklist entry/ or diag $out;

# the address budget is the subscribers': 3 per hour times 30 there, 3 elsewhere
my @plain = map {
    IdgwTest::Acl::open_session('/acl/nat', xff => '10.21.0.2')->{status}
} 1 .. 4;
ok t_cmp("@plain", '200 200 200 429', 'an ordinary address gets 3 per hour');
my $used = 4 + 3 * 2 + 6 + 10 * 4 + 3 * 2 + 4;   # what passed at the NAT address
ok t_cmp($used > 3 * 3, 1, "the NAT address passed $used requests within the hour");

# control: the same misbehaviour from an ordinary carrier address bans it
$seen = misbehave('10.21.0.1');
ok scalar IdgwTest::Acl::log_lines(qr{IDGW03(22|30): auto-ban.*(addr|address) 10\.21\.0\.1},
                                   $log_from) or diag $seen;
($rc, $out) = IdgwTest::Acl::admin('explain', '--addr', '10.21.0.1');
ok $out =~ m{blacklist entry 10\.21\.0\.1/32: temporary.*auto-(strikes|breaches)} or diag $out;
ok t_cmp(IdgwTest::Acl::code(IdgwTest::Acl::open_session('/acl/nat', xff => '10.21.0.1')) =~
         /^IDGW-ACL-00[24]$/ ? 'refused' : 'served', 'refused', 'and everyone behind it is refused');
