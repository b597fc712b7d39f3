# What the backends and the chip refuse reaches the app as the documented XML
# error with a fitting HTTP status, the operation ends, the session stays
# usable, and the chip is untouched: wrong password, expired card, suspended
# member, a third card, a card the source does not know, issuing an area twice,
# deleting another card than the slot holds.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
sub creds { my $c = $stack->card($_[0]); return ("source=$c->{source}", "member=$c->{member}",
            "password=" . ($_[1] // $c->{password})) }

my $ph = IdgwTest::Terminal->new($stack, 'refusals');
is($ph->run('open')->{rc}, 0, 'open');
is($ph->run('issue-area')->{rc}, 0, 'issue the area');
my $empty = $stack->chip_hex($ph->chip);

my @cases = (
    [ 'wrong password', [ creds('C101', 'not-the-pw'), 'cardId=C101' ], 'IDGW-CNV-010', 403 ],
    [ 'expired card', [ creds('C301'), 'cardId=C301' ], 'IDGW-CNV-011', 403 ],
    [ 'suspended member', [ creds('C201'), 'cardId=C201' ], 'IDGW-CNV-012', 403 ],
    [ 'unknown card of the member', [ creds('C101'), 'cardId=C999' ], 'IDGW-CNV-014', 404 ],
);
for my $c (@cases) {
    my ($name, $fields, $code, $status) = @$c;
    my $r = $ph->run('add-card', @$fields, 'slot=any');
    is($r->{rc}, 1, "$name: refused");
    is(IdgwTest::Terminal::error_code($r), $code, "$name: $code") or diag $r->{out};
    is(IdgwTest::Terminal::status_of($r), $status, "$name: HTTP $status");
    is($stack->chip_hex($ph->chip), $empty, "$name: the chip is untouched");
}

# the download center's members are refused the same way
{
    my $r = $ph->run('add-card', 'source=dlc', 'issuer=MDR', 'member=MDR0002',
                     'password=midori02', 'slot=any');
    is(IdgwTest::Terminal::error_code($r), 'IDGW-CNV-012', 'suspended download-center member');
    $r = $ph->run('add-card', 'source=dlc', 'issuer=KZE', 'member=KZE0001',
                  'password=kaze0001', 'slot=any');
    is(IdgwTest::Terminal::error_code($r), 'IDGW-CNV-011', 'expired download-center card');
}

# two cards fit, a third is refused and the chip keeps the two
is($ph->run('add-card', creds('C101'), 'cardId=C101', 'slot=any')->{rc}, 0, 'first card');
is($ph->run('add-card', creds('C102'), 'cardId=C102', 'slot=any')->{rc}, 0, 'second card');
my $two = $stack->chip_hex($ph->chip);
my $r = $ph->run('add-card', 'source=dlc', 'issuer=SKR', 'member=SKR0001', 'password=sakura01',
                 'cardId=C401', 'slot=any');
is(IdgwTest::Terminal::error_code($r), 'IDGW-CNV-013', 'a third card is refused: no free slot')
    or diag $r->{out};
is(IdgwTest::Terminal::status_of($r), 409, 'HTTP 409');
is($stack->chip_hex($ph->chip), $two, 'the chip still holds exactly the two cards');

# one session, one correlation id: every notice the sources got for this
# phone's session carries the same one
{
    open my $fh, '<', $stack->run_dir . '/sim/notifications.log' or die $!;
    my @mine = grep { /DCM0001 C10[12] [12] OK|SKR0001 C401 \S+ NG/ } <$fh>;
    my %ids = map { (split ' ')[2] => 1 } @mine[-3 .. -1];
    is(scalar keys %ids, 1, 'the two OK notices and the NG of this session share one correlation id');
    like((keys %ids)[0], qr/^idgw-[0-9a-f]{32}$/, 'the gateway session\'s id');
    like($mine[-1], qr/SKR0001 C401 \S+ NG/, 'the download center heard NG for the refused third card');
}

# the chip refuses a second iD area
$r = $ph->run('issue-area');
is(IdgwTest::Terminal::error_code($r), 'IDGW-CNV-015', 'issuing the area twice is refused');

# after all that the session still works
$r = $ph->run('list');
is($r->{rc}, 0, 'the session is still usable') or diag $r->{out};
like($r->{out}, qr/\*\*\*\* 1013.*\n.*\*\*\*\* 1021/s, 'and lists the two cards');
is($ph->run('close')->{rc}, 0, 'close');

# delete_card deletes the card the app names, or nothing: the gateway asks
# the source which card cardId is (CARD_DOWNLOAD: PAN, issuer) and the FeliCa
# server deletes the slot only when the chip holds that very card there.  A
# wrong pairing is refused (404 IDGW-CNV-014) before any chip write: the chip
# keeps both cards and the source is not told CARD_DELETED.
{
    my $c101 = $stack->card('C101');
    my $c102 = $stack->card('C102');
    my $cremo = "source=cremo member=$c101->{member} password=$c101->{password}";
    my $notes = $stack->run_dir . '/sim/notifications.log';
    my $f = sub { split ' ', join ' ', @_ };

    # CARD_DELETED notices the source logged for this member's two cards
    my $deleted_notices = sub {
        open my $fh, '<', $notes or return 0;
        return scalar grep { / DELETED \S+ $c101->{member} C10[12] / } <$fh>;
    };

    my $ph = IdgwTest::Terminal->new($stack, 'delnamed');
    my $r = $ph->run('open');
    is($r->{rc}, 0, 'open') or diag $r->{out};
    $r = $ph->run('issue-area');
    is($r->{rc}, 0, 'issue area') or diag $r->{out};
    $r = $ph->run('add-card', $f->($cremo, 'cardId=C101 slot=0'));
    is($r->{rc}, 0, 'C101 into slot 0') or diag $r->{out};
    $r = $ph->run('add-card', $f->($cremo, 'cardId=C102 slot=1'));
    is($r->{rc}, 0, 'C102 into slot 1') or diag $r->{out};
    my $two = $stack->chip_hex($ph->chip);
    like($two, qr/$c101->{pan}.*$c102->{pan}/, 'the chip holds C101 and C102');

    # the app names C102 but slot 0 holds C101
    my $notices = $deleted_notices->();
    $r = $ph->run('delete-card', $f->($cremo, 'cardId=C102 slot=0'));
    is(IdgwTest::Terminal::error_code($r), 'IDGW-CNV-014', 'another card than the slot holds: refused')
        or diag $r->{out};
    is(IdgwTest::Terminal::status_of($r), 404, 'HTTP 404');
    is($stack->chip_hex($ph->chip), $two, 'the chip image is unchanged');
    is($deleted_notices->(), $notices, 'the source was not told CARD_DELETED');

    # the same the other way round
    $r = $ph->run('delete-card', $f->($cremo, 'cardId=C101 slot=1'));
    is(IdgwTest::Terminal::error_code($r), 'IDGW-CNV-014', 'C101 named for slot 1: refused')
        or diag $r->{out};
    is($stack->chip_hex($ph->chip), $two, 'the chip image is still unchanged');
    is($deleted_notices->(), $notices, 'still no CARD_DELETED');

    # the right pairing: C102 in slot 1 goes, C101 stays, the source hears it
    $r = $ph->run('delete-card', $f->($cremo, 'cardId=C102 slot=1'));
    is($r->{rc}, 0, 'C102 named for slot 1: deleted') or diag $r->{out};
    my $hex = $stack->chip_hex($ph->chip);
    unlike($hex, qr/$c102->{pan}/, 'C102 is gone from the chip');
    like($hex, qr/$c101->{pan}/, 'C101 stays');
    is($deleted_notices->(), $notices + 1, 'the source was told once');
    {
        open my $fh, '<', $notes or die $!;
        my @del = grep { / DELETED \S+ $c101->{member} C10[12] / } <$fh>;
        like($del[-1], qr/ C102 /, 'for C102');
    }

    # an empty slot holds no card at all
    $r = $ph->run('delete-card', $f->($cremo, 'cardId=C102 slot=1'));
    is(IdgwTest::Terminal::error_code($r), 'IDGW-CNV-014', 'deleting from an empty slot: refused')
        or diag $r->{out};

    $r = $ph->run('list');
    is($r->{rc}, 0, 'the session is still usable after the refusals') or diag $r->{out};
    like($r->{out}, qr/slot 0\s+\*\*\*\* 1013/, 'C101 listed in slot 0');
    $r = $ph->run('close');
    is($r->{rc}, 0, 'close') or diag $r->{out};
}

done_testing();
