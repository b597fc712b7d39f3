# Whitelist mode for pre-launch checks: only listed terminals / chips pass;
# entries from the configuration and from Redis (the admin command).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;

plan tests => 13;

IdgwTest::Acl::reset_keys();
my $xff = '10.3.0.1';
my $t = IdgwTest::Acl::terminal();
my $idm = IdgwTest::Acl::idm();

my $res = IdgwTest::Acl::open_session('/acl/wl', xff => $xff, terminal => $t, idm => $idm);
ok t_cmp($res->{status}, 403, 'whitelist mode: an unlisted terminal is refused');
ok t_cmp(IdgwTest::Acl::code($res), 'IDGW-ACL-003', 'not-listed code');

$res = IdgwTest::Acl::open_session('/acl/wl', xff => $xff, terminal => 'PILOT-STATIC');
ok t_cmp($res->{status}, 200, 'IdgwAclWhitelist entry passes');

my ($rc, $out) = IdgwTest::Acl::admin('add', '--list', 'white', 'terminal', $t,
                                      '--reason', 'pilot handset');
ok t_cmp($rc, 0, 'admin add to the whitelist');
$res = IdgwTest::Acl::eventually(sub { IdgwTest::Acl::open_session('/acl/wl', xff => $xff, terminal => $t,
                                                                idm => $idm) },
                                  sub { $_[0]{status} == 200 });
ok t_cmp($res->{status}, 200, 'whitelisted in Redis: passes within IdgwAclListsMaxAge');

# listing the chip is enough for any terminal id carrying it
my $idm2 = IdgwTest::Acl::idm();
IdgwTest::Acl::admin('add', '--list', 'white', 'idm', lc $idm2);
$res = IdgwTest::Acl::eventually(sub { IdgwTest::Acl::open_session('/acl/wl', xff => $xff, idm => $idm2) },
                                  sub { $_[0]{status} == 200 });
ok t_cmp($res->{status}, 200, 'whitelisted IDm (listed in lower case) passes');

($rc, $out) = IdgwTest::Acl::admin('list', '--list', 'white');
ok $out =~ /white terminal\s+\Q$t\E\s+permanent.*pilot handset/;
ok $out =~ /white idm\s+\Q$idm2\E/;

($rc, $out) = IdgwTest::Acl::admin('remove', '--list', 'white', 'terminal', $t);
ok t_cmp($rc, 0, 'admin remove from the whitelist');
$res = IdgwTest::Acl::eventually(sub { IdgwTest::Acl::open_session('/acl/wl', xff => $xff, terminal => $t,
                                                                idm => $idm) },
                                  sub { $_[0]{status} == 403 });
ok t_cmp($res->{status}, 403, 'removed: refused again');

# whitelist mode off: the same terminal passes elsewhere
$res = IdgwTest::Acl::open_session('/acl/net', xff => $xff, terminal => $t, idm => $idm);
ok t_cmp($res->{status}, 200, 'whitelist mode off: unlisted terminal passes');

# the whitelist holds identities, not networks
($rc, $out) = IdgwTest::Acl::admin('add', '--list', 'white', 'addr', '10.0.0.0/8');
ok t_cmp($rc, 2, 'no addresses on the whitelist');
ok $out =~ /whitelist holds terminal, idm or user/;
