# Issuer display data of every size the brand download center's schema
# allows flows end to end: a 64 KiB logo and the schema's largest (98304
# base64 characters) reach the app intact (same SHA-256) through add_card,
# update_card, restore_card, list_cards and display_data.  The display data
# is kept apart from the sealed card context (docs/smartphone-api.md), and
# the terminal checks every answer against the secrets list (no PAN, no
# expiry).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::SHA qw(sha256_hex);
use MIME::Base64 qw(encode_base64);
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $c101 = $stack->card('C101');
my $c401 = $stack->card('C401');
my $cremo = "source=cremo member=$c101->{member} password=$c101->{password}";
my $dlc = "source=dlc issuer=SKR member=$c401->{member} password=$c401->{password}";
sub f { split ' ', join ' ', @_ }

# what the simulator's logo=BYTES fault serves: byte i is (131 i + 7) mod 256
sub logo_of { my ($n) = @_; return encode_base64(pack('C*', map { (131 * $_ + 7) & 0xff } 0 .. $n - 1), '') }

# [ name, bytes ]: 64 KiB, and the schema's largest logo (98304 base64 characters)
for my $case ([ '64 KiB', 65536 ], [ 'schema maximum', 98304 / 4 * 3 ]) {
    my ($name, $bytes) = @$case;
    my $logo = logo_of($bytes);
    my $want = sprintf 'logo %d chars sha256 %s', length $logo, sha256_hex($logo);
    my $tag = $bytes;
    ok($stack->fault('brand', "logo=$bytes"), "$name: the brand center serves a $bytes-byte logo");
    my $logos = sub { my ($out) = @_; my @l = $out =~ /(logo \d+ chars sha256 [0-9a-f]+)/g; return @l };

    my $ph = IdgwTest::Terminal->new($stack, "display-$tag");
    my $r = $ph->run('run', 'open', ',', 'issue-area');
    is($r->{rc}, 0, "$name: open, issue the area") or diag $r->{out};
    $r = $ph->run('add-card', f($cremo, 'cardId=C101 slot=any'));
    is($r->{rc}, 0, "$name: add_card completes") or diag $r->{out};
    is_deeply([ $logos->($r->{out}) ], [ $want ], "$name: add_card's answer holds the logo intact") or diag $r->{out};
    $r = $ph->run('add-card', f($dlc, 'cardId=C401 slot=any'));
    is($r->{rc}, 0, "$name: a second card") or diag $r->{out};
    $r = $ph->run('list');
    is($r->{rc}, 0, "$name: list_cards completes") or diag $r->{out};
    is_deeply([ $logos->($r->{out}) ], [ $want, $want ], "$name: list_cards: both cards' logos intact");
    $r = $ph->run('update-card', f($cremo, 'cardId=C101 slot=0'));
    is($r->{rc}, 0, "$name: update_card completes") or diag $r->{out};
    is_deeply([ $logos->($r->{out}) ], [ $want ], "$name: update_card's answer holds the logo intact");
    $r = $ph->run('display', 'issuer=DCM');
    is($r->{rc}, 0, "$name: display_data") or diag $r->{out};
    is_deeply([ $logos->($r->{out}) ], [ $want ], "$name: display_data's answer holds the logo intact");
    $r = $ph->run('run', 'store', f($dlc, 'cardId=C401 slot=1'), ',',
                  'delete-card', f($dlc, 'cardId=C401 slot=1'), ',', 'close');
    is($r->{rc}, 0, "$name: deposit the second card, delete it, close") or diag $r->{out};

    my $new = IdgwTest::Terminal->new($stack, "display-new-$tag");
    $r = $new->run('run', 'open', ',', 'issue-area', ',', 'restore', f($dlc, 'cardId=C401 slot=any'));
    is($r->{rc}, 0, "$name: restore_card onto a fresh chip") or diag $r->{out};
    is_deeply([ $logos->($r->{out}) ], [ $want ], "$name: restore_card's answer holds the logo intact");
    like($stack->chip_hex($new->chip), qr/$c401->{pan}/, "$name: and the card is on the chip");
    is($new->run('close')->{rc}, 0, "$name: close");
    $stack->fault('brand', 'none');
}

done_testing();
