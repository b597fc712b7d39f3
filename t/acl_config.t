# Directives are validated when httpd reads its configuration: every bad
# value stops it with a message naming the directive, and the checks across
# sections stop it at start-up.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;

my @bad = (
    [ 'IdgwAclCarrierNetworks 10.0.0.1/8', qr/IdgwAclCarrierNetworks: '10\.0\.0\.1\/8' has host bits set/ ],
    [ 'IdgwAclCarrierNetworks 10.0.0.0/33', qr/IdgwAclCarrierNetworks: bad prefix length/ ],
    [ 'IdgwAclCarrierNetworks 10.0.0/8', qr/IdgwAclCarrierNetworks: '10\.0\.0' is not an IPv4 or IPv6 address/ ],
    [ 'IdgwAclCarrierNetworks any 10.0.0.0/8', qr/'any' cannot be combined/ ],
    [ 'IdgwAclRateLimit addr 20/x', qr/IdgwAclRateLimit: rate UNIT must be/ ],
    [ 'IdgwAclRateLimit user 20/s', qr/IdgwAclRateLimit: dimension must be addr, terminal or endpoint/ ],
    [ 'IdgwAclRateLimit addr 20/s 0', qr/IdgwAclRateLimit: BURST must be/ ],
    [ 'IdgwAclAutoBan strikes 3 10m', qr/IdgwAclAutoBan: usage/ ],
    [ 'IdgwAclAutoBan strikes 3 10x 1h', qr/IdgwAclAutoBan: WINDOW: duration unit/ ],
    [ 'IdgwAclAutoBan hits 3 10m 1h', qr/first argument must be strikes or breaches/ ],
    [ 'IdgwAclRedisDown maybe', qr/IdgwAclRedisDown: must be closed or open/ ],
    [ 'IdgwAclNatPool 10.64.0.0/10', qr/IdgwAclNatPool: usage/ ],
    [ 'IdgwAclNatPool 0 10.64.0.0/10', qr/IdgwAclNatPool: '0' is not a number of subscribers/ ],
    [ 'IdgwAclNatPool 64 10.64.0.1/10', qr/IdgwAclNatPool: '10\.64\.0\.1\/10' has host bits set/ ],
    [ 'IdgwAclWhitelist idm 12', qr/IdgwAclWhitelist: IDm must be exactly 16/ ],
    [ 'IdgwAclWhitelist addr 10.0.0.0/8', qr/IdgwAclWhitelist: kind must be terminal, idm or user/ ],
    [ "<Location /x>\nIdgwAclLocalTableSize 1000\n</Location>", qr/IdgwAclLocalTableSize.*not allowed|cannot occur within/ ],
    [ 'IdgwAclLocalTableSize 10', qr/IdgwAclLocalTableSize: must be an integer between 64/ ],
    [ 'IdgwAclLocalShare 1025', qr/IdgwAclLocalShare: must be an integer between 0 and 1024/ ],
    [ 'IdgwAclLocalShare -1', qr/IdgwAclLocalShare: must be an integer between 0 and 1024/ ],
    [ "<Location /x>\nIdgwAclLocalShare 4\n</Location>", qr/IdgwAclLocalShare.*not allowed|cannot occur within/ ],
    [ 'IdgwAclShadow ratelimits', qr/IdgwAclShadow: 'ratelimits' is not a layer/ ],
    [ 'IdgwAclShadow blacklist:network', qr/IdgwAclShadow: 'blacklist:network' is not a layer/ ],
    [ 'IdgwAclRateLimit terminal off shadow', qr/IdgwAclRateLimit: 'off' takes no burst and no shadow/ ],
    [ 'IdgwAclRateLimit terminal 20/s 5 shadow extra', qr/IdgwAclRateLimit: usage/ ],
    [ 'IdgwAclAutoBan strikes off shadow', qr/IdgwAclAutoBan: 'off' takes no shadow/ ],
);
my @startup = (
    [ "<Location /idgw>\nIdgwAcl On\n</Location>", qr/IDGW0300: .*no IdgwAclCarrierNetworks anywhere/, 0 ],
    [ "<Location /idgw>\nIdgwAcl On\nIdgwAclCarrierNetworks any\nIdgwAclRedisDown open\n</Location>",
      qr/IDGW0300: .*IdgwAclRedisDown open .* needs at least one IdgwAclRateLimit/, 0 ],
    [ "<Location /idgw>\nIdgwAcl On\nIdgwAclCarrierNetworks any\nIdgwAclRedisDown open\n"
      . "IdgwAclRateLimit terminal 10/m shadow\n</Location>",
      qr/IDGW0300: .*IdgwAclRedisDown open .* needs at least one IdgwAclRateLimit/, 0 ],
    [ "<Location /idgw>\nIdgwAcl On\nIdgwAclCarrierNetworks any\n</Location>",
      qr/IDGW0300: mod_idgw_acl: mod_idgw_session is not loaded/, 1 ],
);

plan tests => 2 * @bad + 2 * @startup + 1;

for my $case (@bad) {
    my ($rc, $out) = IdgwTest::Acl::check_config($case->[0]);
    ok t_cmp($rc != 0 ? 'refused' : 'accepted', 'refused', "httpd -t refuses: $case->[0]");
    ok t_cmp($out, $case->[1], 'with a message naming the directive');
}

my ($rc, $out) = IdgwTest::Acl::check_config(<<'CONF');
<Location /idgw>
    IdgwAcl On
    IdgwAclCarrierNetworks 10.0.0.0/8 2001:db8::/32 192.0.2.7
    IdgwAclWhitelistMode Off
    IdgwAclWhitelist terminal PILOT-1 PILOT-2
    IdgwAclWhitelist idm 01fe0102030405ab
    IdgwAclRateLimit addr 20/s 40
    IdgwAclRateLimit terminal 600/h
    IdgwAclRateLimit endpoint 5/30
    IdgwAclAutoBan strikes 3 10m 1h
    IdgwAclAutoBan breaches off
    IdgwAclRedisDown open
    IdgwAclShadow carrier blacklist:addr ratelimit:endpoint
    IdgwAclShadow autoban:strikes
</Location>
<Location /idgw/trial>
    IdgwAclRateLimit terminal 60/m 10 shadow
    IdgwAclAutoBan breaches 5 10m 1h shadow
    IdgwAclShadow off
</Location>
IdgwAclLocalTableSize 1024
CONF
ok t_cmp($rc, 0, "a valid configuration passes httpd -t: $out");

for my $case (@startup) {
    ($rc, $out) = IdgwTest::Acl::check_config($case->[0], start => 1, no_session => $case->[2]);
    ok t_cmp($rc != 0 || $out =~ /IDGW0300/ ? 'refused' : 'started', 'refused', 'start-up refused');
    ok t_cmp($out, $case->[1], 'and says why');
}
