# Bearer restriction: only the carrier networks reach the gateway, decided
# on the address mod_remoteip settled on; malformed identities; composition
# with httpd's own Require rules.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;

plan tests => 17;

IdgwTest::Acl::reset_keys();
my $log_from = IdgwTest::Acl::log_size();

# 127.0.0.1 (the test client itself) is no carrier network
my $res = IdgwTest::Acl::open_session('/acl/net');
ok t_cmp($res->{status}, 403, 'direct loopback client refused');
ok t_cmp(IdgwTest::Acl::code($res), 'IDGW-ACL-001', 'bearer error code');
ok t_cmp($res->{headers}{'content-type'}, qr{^application/xml}, 'XML error');

# behind the trusted proxy: the client address mod_remoteip derived decides
$res = IdgwTest::Acl::open_session('/acl/net', xff => '192.0.2.10');
ok t_cmp($res->{status}, 403, 'non-carrier IPv4 client refused');
$res = IdgwTest::Acl::open_session('/acl/net', xff => '10.20.30.40');
ok t_cmp($res->{status}, 200, 'carrier IPv4 client opens a session');
ok $res->{content} =~ m{<token>[0-9a-f]{32}</token>};
$res = IdgwTest::Acl::open_session('/acl/net', xff => '2001:db8:10:ffff::7');
ok t_cmp($res->{status}, 200, 'carrier IPv6 client passes');
$res = IdgwTest::Acl::open_session('/acl/net', xff => '2001:db8:11::7');
ok t_cmp($res->{status}, 403, 'IPv6 client outside the prefix refused');
# the last untrusted hop counts, never what the client wrote before it
$res = IdgwTest::Acl::open_session('/acl/net', xff => '10.1.1.1, 192.0.2.99');
ok t_cmp($res->{status}, 403, 'a forged carrier address in front does not help');

my @lines = IdgwTest::Acl::log_lines(qr/IDGW0310: refused: 192\.0\.2\.10 is not on a carrier network/,
                                     $log_from);
ok t_cmp(scalar @lines, 1, 'refusal logged once with a stable id');

# identities are checked before anything else uses them
$res = IdgwTest::Acl::open_session('/acl/net', xff => '10.1.1.1', terminal => 'bad id!');
ok t_cmp($res->{status}, 400, 'malformed terminal id');
ok t_cmp(IdgwTest::Acl::code($res), 'IDGW-ACL-005', 'identity error code');
$res = IdgwTest::Acl::open_session('/acl/net', xff => '10.1.1.1', idm => '0123');
ok t_cmp(IdgwTest::Acl::code($res), 'IDGW-ACL-005', 'malformed IDm');

# composed with Require: both the carrier list and "Require ip 10.1.0.0/16"
$res = IdgwTest::Acl::open_session('/acl/require', xff => '10.1.2.3');
ok t_cmp($res->{status}, 200, 'carrier network and Require agree');
$res = IdgwTest::Acl::open_session('/acl/require', xff => '10.2.2.3');
ok t_cmp($res->{status}, 403, 'carrier network but Require denies');
ok t_cmp(IdgwTest::Acl::code($res), '', 'refused by httpd, not by idgw');
$res = IdgwTest::Acl::open_session('/acl/require', xff => '192.0.2.3');
ok t_cmp(IdgwTest::Acl::code($res), 'IDGW-ACL-001', 'idgw refuses first');
