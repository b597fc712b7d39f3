# The fleet-wide blacklist: every kind, permanent and temporary entries, the
# admin command's list / explain, and its input checks.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;
use Time::HiRes qw(sleep);

plan tests => 27;

IdgwTest::Acl::reset_keys();
my $log_from = IdgwTest::Acl::log_size();

sub opens {
    my (%o) = @_;
    return IdgwTest::Acl::open_session('/acl/net', xff => '10.4.0.1', %o);
}

# each kind: refused while listed, served again once removed
my %who = (
    terminal => [ terminal => IdgwTest::Acl::terminal() ],
    idm      => [ idm => IdgwTest::Acl::idm() ],
    addr     => [ xff => '10.4.9.9' ],
);
for my $kind (qw(terminal idm addr)) {
    my ($field, $value) = @{ $who{$kind} };
    my ($rc) = IdgwTest::Acl::admin('add', $kind, $value, '--reason', "test $kind");
    ok t_cmp($rc, 0, "admin add $kind");
    my $res = IdgwTest::Acl::eventually(sub { opens($field => $value) },
                                        sub { IdgwTest::Acl::code($_[0]) eq 'IDGW-ACL-002' });
    ok t_cmp(IdgwTest::Acl::code($res), 'IDGW-ACL-002', "blacklisted $kind refused");
    IdgwTest::Acl::admin('remove', $kind, $value);
    $res = IdgwTest::Acl::eventually(sub { opens($field => $value) }, sub { $_[0]{status} == 200 });
    ok t_cmp($res->{status}, 200, "$kind served after removal");
}

# a user is who a backend authenticated (t/convert_identity.t): one the app
# names in X-Idgw-User is no reason to refuse, nor to let in
{
    my $user = 'mallory.' . $$;
    my ($rc) = IdgwTest::Acl::admin('add', 'user', $user, '--reason', 'test user');
    ok t_cmp($rc, 0, 'admin add user');
    ok t_cmp(opens(user => $user)->{status}, 200, 'a banned user in X-Idgw-User decides nothing');
    IdgwTest::Acl::admin('remove', 'user', $user);
}

# a whole network
IdgwTest::Acl::admin('add', 'addr', '10.5.0.0/16');
ok t_cmp(IdgwTest::Acl::code(IdgwTest::Acl::eventually(sub { opens(xff => '10.5.200.7') },
                                  sub { IdgwTest::Acl::code($_[0]) eq 'IDGW-ACL-002' })),
         'IDGW-ACL-002', 'address inside a listed network');
ok t_cmp(opens(xff => '10.6.0.1')->{status}, 200, 'address outside it');

my @lines = IdgwTest::Acl::log_lines(qr/IDGW0312: refused: terminal ACL-\S+ is blacklisted \(admin, permanent: test terminal\)/,
                                     $log_from);
ok t_cmp(scalar @lines, 1, 'blacklist refusal logged with kind, source and reason');

# a temporary ban ends on time, without anyone touching the lists
my $t = IdgwTest::Acl::terminal();
IdgwTest::Acl::admin('add', '--ttl', '2', 'terminal', $t, '--reason', 'cool down');
ok t_cmp(IdgwTest::Acl::eventually(sub { opens(terminal => $t) }, sub { $_[0]{status} == 403 })->{status}, 403,
         'temporary ban in force');
my ($rc, $out) = IdgwTest::Acl::admin('explain', '--terminal', $t, '--addr', '10.5.1.1');
ok $out =~ /terminal \Q$t\E: blacklist entry: temporary, \d s left .* by admin: cool down  => REFUSED/;
ok $out =~ /addr 10\.5\.1\.1\/32: blacklist entry 10\.5\.0\.0\/16: permanent/;
ok $out =~ /verdict: refused by the blacklist/;
sleep 2.3;
ok t_cmp(opens(terminal => $t)->{status}, 200, 'ban expired: served again');
($rc, $out) = IdgwTest::Acl::admin('explain', '--terminal', $t);
ok $out =~ /verdict: not refused by the lists/;

# listing, the version every change bumps, and the input checks
($rc, $out) = IdgwTest::Acl::admin('list');
ok $out =~ m{black addr\s+10\.5\.0\.0/16\s+permanent};
my ($rc2, $v1) = IdgwTest::Acl::admin('version');
IdgwTest::Acl::admin('add', 'user', 'someone');
my ($rc3, $v2) = IdgwTest::Acl::admin('version');
ok $v2 =~ /^\d+$/ && $v1 =~ /^\d+$/ && $v2 > $v1;   # every change moves the version on
# ... to a number from Redis's clock at least (microseconds): never a small
# count that could repeat after a data loss
ok $v2 >= 1_000_000_000_000_000;
($rc, $out) = IdgwTest::Acl::admin('add', 'addr', '10.5.0.1/16');
ok t_cmp($rc, 2, 'host bits set: refused');
ok $out =~ /host bits set/;
($rc, $out) = IdgwTest::Acl::admin('add', 'idm', 'xyz');
ok t_cmp($rc, 2, 'malformed IDm refused');
($rc, $out) = IdgwTest::Acl::admin('add', '--ttl', '0', 'terminal', 'T');
ok t_cmp($rc, 2, 'zero ttl refused');
