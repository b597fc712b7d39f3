# The FeliCa server simulator over HTTP, driving libfelica's chip emulator
# (felicactl run) as the phone would relay: issue the iD area, write a card
# downloaded from CREMO, read it back masked; a tampered chip response is
# refused and leaves the chip as it was.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use File::Temp qw(tempdir);
use IPC::Open2;
use Test::More;
use SimTest;

my $ctl = $ENV{FELICACTL} or plan skip_all => 'FELICACTL not set';
-x $ctl or plan skip_all => "no $ctl";
my $src = $ENV{IDGW_SRC} || "$FindBin::Bin/../../..";
my $dir = tempdir(CLEANUP => 1);
my $idm = '012E4CD8A9B1C2D3';

is(system($ctl, 'image', 'create', "$dir/chip.img", '--idm', $idm, '--system-master-keys',
          "$src/t/sim/data/felica/system-master.keys"), 0, 'chip image created');
my $pid = open2(my $from_chip, my $to_chip, $ctl, 'run', "$dir/chip.img");
my @relayed;

sub chip {
    my ($hex) = @_;
    push @relayed, $hex;
    print $to_chip "$hex\n";
    $to_chip->flush;
    my $ans = <$from_chip>;
    chomp $ans;
    return $ans;
}

sub felica {
    my ($type, @f) = @_;
    my $r = post('felica', telegram($type, corr('felica'), \@f));
    like($r->{headers}{'content-type'} // '', qr/charset=UTF-8/i, "$type: UTF-8 telegram");
    return parse_telegram($r->{content});
}

# Runs one operation to its end; tamper => N flips a bit of the N-th chip answer.
sub run_op {
    my (%o) = @_;
    my $tamper = delete $o{tamper};
    my $t = felica('FELICA_START_REQ', idm => $idm, %o);
    return $t unless $t->{result} eq '0000';
    my $op = $t->{get}->('operationId');
    my $packet = $t->{get}->('packet');
    for (my $step = 0; $step < 20; $step++) {
        my $ans = chip($packet);
        if (defined $tamper && $tamper == $step) {
            my $last = hex(substr($ans, -2)) ^ 0x01;
            $ans = substr($ans, 0, -2) . sprintf('%02X', $last);
        }
        $t = felica('FELICA_EXCHANGE_REQ', operationId => $op, packet => $ans);
        $t->{operation} = $op;
        return $t if $t->{result} ne '0000' || $t->{get}->('state') eq 'DONE';
        $packet = $t->{get}->('packet');
    }
    fail('operation did not finish');
    return $t;
}

sub card_fields {
    my ($card_id) = @_;
    my $a = parse_telegram(post('cremo', telegram('CARD_AUTH_REQ', corr('a'),
        [memberId => 'DCM0001', password => 'docomo01', issuerCode => 'DCM']))->{content});
    my $d = parse_telegram(post('cremo', telegram('CARD_DOWNLOAD_REQ', corr('d'),
        [authTicket => $a->{get}->('authTicket'), cardId => $card_id]))->{content});
    is($d->{result}, '0000', "card $card_id downloaded from CREMO");
    return map { ($_ => $d->{get}->($_)) } qw(cardId issuerCode pan expiry holderName brandVersion);
}

my $t = run_op(operation => 'ISSUE_AREA');
is($t->{result}, '0000', 'issue area: success');
is($t->{get}->('state'), 'DONE', 'issue area: done');

my %c1 = card_fields('C101');
$t = run_op(operation => 'WRITE_CARD', slot => '1', %c1);
is($t->{result}, '0000', 'write card: success');
is_deeply([ $t->{all}->('cardSlot') ], ['1'], 'write card: slot 1');

$t = run_op(operation => 'READ_CARDS');
is($t->{result}, '0000', 'read cards: success');
is_deeply([ $t->{all}->('cardSlot') ], ['1'], 'read: one card, in slot 1');
is($t->{get}->('last4'), '1013', 'read: last four digits');
is($t->{get}->('issuerCode'), 'DCM', 'read: issuer');
is($t->{get}->('brandVersion'), '4', 'read: display data version');
is($t->{get}->('cardStatus'), 'ACTIVE', 'read: active');
is($t->{get}->('mainSlot'), '1', 'read: the first card is main');
ok(!defined $t->{get}->('pan') && !defined $t->{get}->('expiry'), 'read: no PAN or expiry');

# The card data crossed the relay encrypted: no PAN digits, no name in any packet.
my %c2 = card_fields('C102');
(my $name_hex = unpack('H*', $c1{holderName})) =~ tr/a-f/A-F/;
ok(!(grep { /$c1{pan}/ || /$name_hex/ } @relayed), 'no PAN or holder name in clear on the relay');

# A tampered response: refused, the operation is over, the chip unchanged.
$t = run_op(operation => 'WRITE_CARD', slot => '2', %c2, tamper => 2);
is($t->{result}, '4002', 'tampered chip response: 4002');
my $dead = $t->{operation};
$t = felica('FELICA_EXCHANGE_REQ', operationId => $dead, packet => '0A0B');
is($t->{result}, '4001', 'the failed operation cannot be continued');
$t = run_op(operation => 'READ_CARDS');
is_deeply([ $t->{all}->('cardSlot') ], ['1'], 'after tampering: still one card');

$t = run_op(operation => 'WRITE_CARD', slot => '1', %c2);
is($t->{result}, '4004', 'writing an occupied slot: 4004');

$t = run_op(operation => 'WRITE_CARD', slot => '2', %c2, makeMain => '1');
is($t->{result}, '0000', 'second card written');
$t = run_op(operation => 'READ_CARDS');
is_deeply([ $t->{all}->('cardSlot') ], ['1', '2'], 'two cards');
is_deeply([ $t->{all}->('last4') ], ['1013', '1021'], 'both last fours');
is($t->{get}->('mainSlot'), '2', 'makeMain moved the main card');

# A delete names the card it means (PAN, issuer): slot 2 holds C102, so a
# delete of slot 2 for C101 is refused before any Secure Write (A6) is relayed.
my $before = @relayed;
$t = run_op(operation => 'DELETE_CARD', slot => '2', issuerCode => $c1{issuerCode}, pan => $c1{pan});
is($t->{result}, '4004', 'delete of another card than the slot holds: 4004');
ok(!(grep { substr($_, 2, 2) eq 'A6' } @relayed[$before .. $#relayed]), 'no Secure Write relayed');
$t = run_op(operation => 'READ_CARDS');
is_deeply([ $t->{all}->('last4') ], ['1013', '1021'], 'both cards still on the chip');
is($t->{get}->('mainSlot'), '2', 'main card unchanged');
$t = run_op(operation => 'DELETE_CARD', slot => '2', issuerCode => 'SKR', pan => $c2{pan});
is($t->{result}, '4004', 'the right PAN under another issuer: 4004');
$t = run_op(operation => 'DELETE_CARD', slot => '2', issuerCode => 'DCM');
is($t->{result}, '1001', 'an issuer alone names no card: 1001');
$t = run_op(operation => 'DELETE_CARD', slot => '2', issuerCode => 'NOPE', pan => $c2{pan});
is($t->{result}, '1001', 'an unknown issuer: 1001');

$t = run_op(operation => 'SET_MAIN', slot => '1');
is($t->{result}, '0000', 'set main');
$t = run_op(operation => 'DELETE_CARD', slot => '2', issuerCode => $c2{issuerCode}, pan => $c2{pan});
is($t->{result}, '0000', 'delete of the card the slot holds');
$t = run_op(operation => 'READ_CARDS');
is_deeply([ $t->{all}->('cardSlot') ], ['1'], 'one card left');
is($t->{get}->('mainSlot'), '1', 'main card kept');

# Update: the renewed expiry from CARD_UPDATE goes onto the chip (same PAN).
$t = run_op(operation => 'UPDATE_CARD', slot => '1', %c1, expiry => '3111');
is($t->{result}, '0000', 'update card');

$t = felica('FELICA_EXCHANGE_REQ', operationId => 'ffffffffffffffffffffffffffffffff', packet => '0A0B');
is($t->{result}, '4001', 'unknown operation: 4001');
$t = run_op(operation => 'WRITE_CARD', slot => '2');
is($t->{result}, '1001', 'write without card data: 1001');
$t = run_op(operation => 'DELETE_CARD');
is($t->{result}, '1001', 'delete without a slot: 1001');

# WRITE_CARD without a slot takes the first free one.
$t = run_op(operation => 'WRITE_CARD', %c2);
is($t->{result}, '0000', 'write into any slot');
is_deeply([ $t->{all}->('cardSlot') ], ['2'], 'the free slot was 2');

close $to_chip;
waitpid($pid, 0);
is($? >> 8, 0, 'chip emulator exited cleanly');
ok(!glob(run_dir() . '/felica-ops/*'), 'no operation left behind');

done_testing();
