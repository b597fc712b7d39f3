# The user is who a backend authenticated, never who the app says it is:
# the user blacklist and whitelist apply to the member a card source has just
# logged in (CARD_AUTH_REQ answered 0000, the map's identity line), before any
# card data moves; an X-Idgw-User header decides nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $c101 = $stack->card('C101');      # DCM0001 at CREMO
my $c401 = $stack->card('C401');      # SKR0001 at the download center
my $redis_port = { IdgwTest::Stack::env() }->{IDGW_DEMO_REDIS_PORT};
my @cremo = ('source=cremo', "member=$c101->{member}", "password=$c101->{password}",
             'cardId=C101', 'slot=any');
my @dlc = ('source=dlc', 'issuer=SKR', "member=$c401->{member}",
           "password=$c401->{password}", 'cardId=C401', 'slot=any');

# --force: this file may ban before the stack served its first request, and
# until then no gateway has written under the prefix (idgw-acl refuses an
# unknown prefix; t/acl_admin_cli.t tests that).
sub acl {
    my @cmd = (IdgwTest::Stack::src() . '/scripts/idgw-acl', '--port', $redis_port,
               '--prefix', 'demo:', '--force', @_);
    my $out = `@cmd 2>&1`;
    return $? >> 8;
}

my @mine;   # entries this file added, removed at the end whatever happens
sub ban { push @mine, [ @_ ]; return acl('add', '--reason', 'convert_identity.t', @_) }
END { acl('remove', @$_) for @mine }

# What the simulators were asked from here on: "TYPE result" per telegram.
sub sim_mark { return -s ($stack->run_dir . '/sim/error.log') // 0 }
sub sim_since {
    my ($mark) = @_;
    open my $fh, '<', $stack->run_dir . '/sim/error.log' or die $!;
    seek $fh, $mark, 0;
    return map { / IDGWSIM0004: \S+ (\S+) corr=\S+ result=(\d+)/ ? "$1 $2" : () } <$fh>;
}
sub gw_mark { return -s ($stack->run_dir . '/error.log') // 0 }
sub gw_since {
    my ($mark) = @_;
    open my $fh, '<', $stack->run_dir . '/error.log' or die $!;
    seek $fh, $mark, 0;
    local $/;
    return scalar <$fh>;
}

acl('remove', 'user', $c101->{member});
acl('remove', 'user', $c401->{member});

# (a) a blacklisted member is refused once CREMO has authenticated them,
#     whatever the app names, and the chip never sees a packet
{
    is(ban('user', $c101->{member}), 0, "ban user $c101->{member}");
    my $ph = IdgwTest::Terminal->new($stack, 'idban');
    is($ph->run('run', 'open', ',', 'issue-area')->{rc}, 0, 'open and issue the area');
    my $empty = $stack->chip_hex($ph->chip);

    for my $case ([ 'names someone else', [ '--header', "X-Idgw-User: $c401->{member}" ] ],
                  [ 'names nobody', [] ]) {
        my ($name, $opts) = @$case;
        my ($sim, $gw) = (sim_mark(), gw_mark());
        my $r = $ph->run({ opts => $opts }, 'add-card', @cremo);
        is($r->{rc}, 1, "app $name: refused") or diag $r->{out};
        is(IdgwTest::Terminal::error_code($r), 'IDGW-ACL-002', "app $name: IDGW-ACL-002");
        is(IdgwTest::Terminal::status_of($r), 403, "app $name: HTTP 403");
        my @asked = sim_since($sim);
        is_deeply([ grep { /^CARD_AUTH_REQ/ } @asked ], [ 'CARD_AUTH_REQ 0000' ],
                  "app $name: refused after the login succeeded");
        is_deeply([ grep { /DOWNLOAD|FELICA/ } @asked ], [],
                  "app $name: no card download, no display data, no chip work")
            or diag join "\n", @asked;
        is($stack->chip_hex($ph->chip), $empty, "app $name: the chip is untouched");
        my $log = gw_since($gw);
        like($log, qr/IDGW0312: refused: user \Q$c101->{member}\E is blacklisted/,
             "app $name: the ACL logged the ban");
        like($log, qr/IDGW0410: IDGW-ACL-002 add_card\/request refused: .*authenticated user/,
             "app $name: the handler logged the refusal");
    }
    unlike(gw_since(0), qr/\Q$c101->{password}\E/, 'no password in the log');

    # the operation was aborted, the session goes on: another member may add a card
    my $r = $ph->run('status');
    like($r->{out}, qr/ready/, 'the session is back to ready') or diag $r->{out};
    $r = $ph->run('add-card', @dlc);
    is($r->{rc}, 0, 'the same session adds another member\'s card') or diag $r->{out};
    like($stack->chip_hex($ph->chip), qr/\Q$c401->{pan}\E/, 'which is on the chip');
    is($ph->run('close')->{rc}, 0, 'close');
}

# (b) the header decides nothing: naming a banned member neither refuses the
#     session nor a login of someone who is not banned
{
    my $ph = IdgwTest::Terminal->new($stack, 'idhdr');
    my @hdr = ({ opts => [ '--header', "X-Idgw-User: $c101->{member}" ] });
    my $r = $ph->run(@hdr, 'run', 'open', ',', 'issue-area');
    is($r->{rc}, 0, 'a banned user in X-Idgw-User: the session opens') or diag $r->{out};
    $r = $ph->run(@hdr, 'add-card', @dlc);
    is($r->{rc}, 0, 'and a member who is not banned adds a card') or diag $r->{out};
    like($stack->chip_hex($ph->chip), qr/\Q$c401->{pan}\E/, 'the card is on the chip');
    $r = $ph->run({ opts => [ '--header', 'X-Idgw-User: not a valid user!' ] }, 'status');
    is($r->{rc}, 0, 'a malformed X-Idgw-User is not even read') or diag $r->{out};
    $ph->run('close');
}

acl('remove', 'user', $c101->{member});

# (c) whitelist mode: the phone is a pilot handset, but the member it logs in
#     must be listed too
{
    my $url = $stack->extra_gateway('idwl', 1, '    IdgwAcl On' =>
        "    IdgwAcl On\n    IdgwAclWhitelistMode On\n    IdgwAclWhitelist terminal T-idwl");
    my $ph = IdgwTest::Terminal->new($stack, 'idwl', url => $url);
    my $r = $ph->run('run', 'open', ',', 'issue-area');
    is($r->{rc}, 0, 'whitelisted terminal: open and issue the area') or diag $r->{out};
    my $empty = $stack->chip_hex($ph->chip);
    my $sim = sim_mark();
    $r = $ph->run('add-card', @cremo);
    is(IdgwTest::Terminal::error_code($r), 'IDGW-ACL-003',
       'a member not on the whitelist is refused after the login') or diag $r->{out};
    is(IdgwTest::Terminal::status_of($r), 403, 'HTTP 403');
    is_deeply([ grep { /DOWNLOAD|FELICA/ } sim_since($sim) ], [], 'no card data moved');
    is($stack->chip_hex($ph->chip), $empty, 'the chip is untouched');

    is(ban('--list', 'white', 'user', $c101->{member}), 0, 'whitelist the member');
    $r = $ph->run('add-card', @cremo);
    is($r->{rc}, 0, 'a listed member on a listed handset adds the card') or diag $r->{out};
    $ph->run('close');

    my $other = IdgwTest::Terminal->new($stack, 'idwl-other', url => $url);
    $r = $other->run({ opts => [ '--header', "X-Idgw-User: $c101->{member}" ] }, 'open');
    is(IdgwTest::Terminal::error_code($r), 'IDGW-ACL-003',
       'a listed member named in X-Idgw-User does not let an unlisted handset in')
        or diag $r->{out};
    IdgwTest::Stack::stop_extra_gateways();
}

done_testing();
