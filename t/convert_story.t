# Every terminal operation end to end through the real stack (httpd + the
# three modules + Redis + the backend simulators), driven by the terminal
# simulator: open, issue the iD area, a card from CREMO and one from the card
# information download center, list, set main, update, delete, store and
# restore onto a fresh chip, display data, delete the area, close.  After
# each chip operation the chip image holds exactly what the backend's data
# says; no answer carries a PAN or an expiry (the terminal checks every one).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $c101 = $stack->card('C101');
my $c401 = $stack->card('C401');
my $cremo = "source=cremo member=$c101->{member} password=$c101->{password}";
# what the download center answers for a withdrawn deposit: the card's current expiry
my $c401_now = $c401->{renewed} ne '-' ? $c401->{renewed} : $c401->{expiry};
my $dlc = "source=dlc issuer=SKR member=$c401->{member} password=$c401->{password}";
sub f { split ' ', join ' ', @_ }

# the story the demo shows, as one run of the terminal simulator
{
    my $ph = IdgwTest::Terminal->new($stack, 'story');
    my $r = $ph->run('story');
    is($r->{rc}, 0, 'the whole story completes') or diag $r->{out};
    like($r->{out}, qr/add_card\/complete\s+-> 200 slot 0 \*\*\*\* 1013/, 'CREMO card added');
    like($r->{out}, qr/add_card\/complete\s+-> 200 slot 1 \*\*\*\* 4019/, 'download-center card added');
    like($r->{out}, qr/restore_card\/complete\s+-> 200 slot 0 \*\*\*\* 4019/, 'deposited card restored');
    like($r->{out}, qr/slot 1\s+\*\*\*\* 4019\s+issuer SKR\s+main/, 'set main shows in the list');
    like($r->{out}, qr/さくらカード/, 'issuer display data in UTF-8');
    unlike($r->{out}, qr/token [0-9a-f]{32}/, 'the transcript never shows a whole token');
    my $new = $ph->chip . '.new-handset';
    my $hex = $stack->chip_hex($new);
    like($hex, qr/$c401->{pan}F*$c401_now/, 'the new handset holds the deposited card');
    unlike($hex, qr/$c101->{pan}/, 'and nothing else');
}

# operation by operation, checking the chip after each
my $ph = IdgwTest::Terminal->new($stack, 'ops');
my $r = $ph->run('open');
is($r->{rc}, 0, 'open') or diag $r->{out};
is($stack->chip_hex($ph->chip), '', 'a fresh chip has no iD area');
$r = $ph->run('issue-area');
is($r->{rc}, 0, 'issue area') or diag $r->{out};
like($stack->chip_hex($ph->chip), qr/^0{32}/, 'the iD area exists, empty')
    or diag $stack->chip_hex($ph->chip);

$r = $ph->run('add-card', f($cremo, 'cardId=C101 slot=any'));
is($r->{rc}, 0, 'add a CREMO card') or diag $r->{out};
my $hex = $stack->chip_hex($ph->chip);
like($hex, qr/$c101->{pan}F*$c101->{expiry}/, 'chip holds the CREMO card: PAN and expiry as CREMO says');

$r = $ph->run('add-card', f($dlc, 'cardId=C401 slot=any'));
is($r->{rc}, 0, 'add a download-center card') or diag $r->{out};
$hex = $stack->chip_hex($ph->chip);
like($hex, qr/$c401->{pan}F*$c401->{expiry}/, 'chip holds the download-center card');
like($hex, qr/$c101->{pan}/, 'and still the first');

$r = $ph->run('list');
is($r->{rc}, 0, 'list the cards') or diag $r->{out};
like($r->{out}, qr/slot 0\s+\*\*\*\* 1013\s+issuer DCM\s+main/, 'first card, main');
like($r->{out}, qr/slot 1\s+\*\*\*\* 4019\s+issuer SKR\s/, 'second card');

$r = $ph->run('set-main', 'slot=1');
is($r->{rc}, 0, 'set main') or diag $r->{out};
$r = $ph->run('list');
like($r->{out}, qr/slot 1\s+\*\*\*\* 4019\s+issuer SKR\s+main/, 'the second card is main now');

$r = $ph->run('update-card', f($cremo, 'cardId=C101 slot=0'));
is($r->{rc}, 0, 'update the CREMO card') or diag $r->{out};
$hex = $stack->chip_hex($ph->chip);
like($hex, qr/$c101->{pan}F*$c101->{renewed}/, 'the chip holds the renewed expiry CREMO answers');

$r = $ph->run('display', 'issuer=DCM');
is($r->{rc}, 0, 'issuer display data') or diag $r->{out};
like($r->{out}, qr/ドコモ/, 'in UTF-8');

$r = $ph->run('delete-card', f($cremo, 'cardId=C101 slot=0'));
is($r->{rc}, 0, 'delete the CREMO card') or diag $r->{out};
$hex = $stack->chip_hex($ph->chip);
unlike($hex, qr/$c101->{pan}/, 'its PAN is gone from the chip');
like($hex, qr/$c401->{pan}/, 'the other card stays');

$r = $ph->run('store', f($dlc, 'cardId=C401 slot=1'));
is($r->{rc}, 0, 'store (deposit) the other card') or diag $r->{out};
like($r->{out}, qr/receipt S\w+/, 'with a receipt');

$r = $ph->run('delete-card', f($dlc, 'cardId=C401 slot=1'));
is($r->{rc}, 0, 'and delete it from the old handset') or diag $r->{out};
$r = $ph->run('delete-area');
is($r->{rc}, 0, 'delete the iD area') or diag $r->{out};
is($stack->chip_hex($ph->chip), '', 'the chip has no iD area any more');
$r = $ph->run('close');
is($r->{rc}, 0, 'close') or diag $r->{out};

# withdraw the deposit onto another phone
my $new = IdgwTest::Terminal->new($stack, 'withdraw');
$r = $new->run('run', 'open', ',', 'issue-area', ',', 'restore', f($dlc, 'cardId=C401 slot=any'),
               ',', 'close');
is($r->{rc}, 0, 'restore onto a fresh chip') or diag $r->{out};
like($stack->chip_hex($new->chip), qr/$c401->{pan}F*$c401_now/,
     'the fresh chip holds the card the download center kept');

done_testing();
