# Shadow mode for the checks on the user a card source authenticates
# (idgw_acl_identity_check): with the user blacklist and the whitelist in
# shadow mode, a banned, unlisted member's login is logged (IDGW0370) and
# counted but the card is added; the same gateway enforcing refuses it
# (t/convert_identity.t).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $c101 = $stack->card('C101');      # DCM0001 at CREMO
my $redis_port = { IdgwTest::Stack::env() }->{IDGW_DEMO_REDIS_PORT};
my @cremo = ('source=cremo', "member=$c101->{member}", "password=$c101->{password}",
             'cardId=C101', 'slot=any');

sub acl {
    my @cmd = (IdgwTest::Stack::src() . '/scripts/idgw-acl', '--port', $redis_port,
               '--prefix', 'demo:', '--force', @_);
    my $out = `@cmd 2>&1`;
    return $? >> 8;
}
END { acl('remove', 'user', $c101->{member}) }

my $url = $stack->extra_gateway('idshadow', 2, '    IdgwAcl On' =>
    "    IdgwAcl On\n    IdgwAclWhitelistMode On\n    IdgwAclWhitelist terminal T-idshadow\n"
    . "    IdgwAclShadow whitelist blacklist:user");
my $log = $stack->run_dir . '/idshadow.error.log';
my $from = -s $log // 0;
is(acl('add', '--reason', 'convert_shadow_user.t', 'user', $c101->{member}), 0,
   "ban user $c101->{member}");

my $ph = IdgwTest::Terminal->new($stack, 'idshadow', url => $url);
my $r = $ph->run('run', 'open', ',', 'issue-area');
is($r->{rc}, 0, 'open and issue the area') or diag $r->{out};
$r = $ph->run('add-card', @cremo);
is($r->{rc}, 0, 'a banned, unlisted member adds the card: both rules are in shadow mode')
    or diag $r->{out};
like($stack->chip_hex($ph->chip), qr/\Q$c101->{pan}\E/, 'the card is on the chip');
$ph->run('close');

open my $fh, '<', $log or die "$log: $!";
seek $fh, $from, 0;
my $text = do { local $/; <$fh> };
like($text, qr/IDGW0370: shadow blacklist:user would refuse: user \Q$c101->{member}\E is blacklisted \(admin, permanent: convert_shadow_user\.t\); let through/,
     'the ban that would have refused is logged');
like($text, qr/IDGW0370: shadow whitelist:mode would refuse: whitelist mode, authenticated user \Q$c101->{member}\E not listed; let through/,
     'and the whitelist');
unlike($text, qr/IDGW0312|IDGW0313/, 'nothing refused');
unlike($text, qr/\Q$c101->{password}\E/, 'no password in the log');
IdgwTest::Stack::stop_extra_gateways();

done_testing();
