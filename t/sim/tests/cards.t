# CREMO and the card information download center over HTTP: every card
# telegram, every business error, Shift_JIS both ways.
use strict;
use warnings;
use utf8;
use FindBin;
use lib $FindBin::Bin;
use Test::More;
use SimTest;

binmode(Test::More->builder->$_, ':utf8') for qw(output failure_output todo_output);

sub call {
    my ($svc, $type, @f) = @_;
    my $c = corr($type);
    my $r = post($svc, telegram($type, $c, \@f));
    my $t = parse_telegram($r->{content});
    ok($t, "$svc $type answered with a telegram (HTTP $r->{status})") or diag $r->{content};
    is($t->{correlationId}, $c, "$type: correlation id echoed") if $t;
    return ($r, $t);
}

sub auth {
    my ($svc, $member, $pw, $issuer) = @_;
    return call($svc, 'CARD_AUTH_REQ', memberId => $member, password => $pw, issuerCode => $issuer);
}

# --- CREMO: authentication ---
my ($r, $t) = auth('cremo', 'DCM0001', 'docomo01', 'DCM');
is($r->{status}, 200, 'auth: HTTP 200');
like($r->{headers}{'content-type'}, qr/charset=Shift_JIS/i, 'auth: Shift_JIS content type');
is($t->{encoding}, 'Shift_JIS', 'auth: Shift_JIS declared');
is($t->{type}, 'CARD_AUTH_RES', 'auth: response type');
is($t->{result}, '0000', 'auth: success');
is($t->{terminalType}, 'FP', 'auth: terminal type FP');
is($t->{get}->('memberName'), 'ヤマダ タロウ', 'auth: Japanese member name survives Shift_JIS');
is_deeply([ $t->{all}->('cardId') ], [qw(C101 C102)], 'auth: both cards listed');
my $ticket = $t->{get}->('authTicket');
like($ticket, qr/^[A-Za-z0-9_-]{16,128}$/, 'auth: ticket shape');

(undef, $t) = auth('cremo', 'DCM0001', 'wrong-pass', 'DCM');
is($t->{result}, '2001', 'wrong password: 2001');
ok(!defined $t->{get}->('authTicket'), 'wrong password: no ticket');
(undef, $t) = auth('cremo', 'NOBODY01', 'docomo01', 'DCM');
is($t->{result}, '2001', 'unknown member: 2001 (indistinguishable)');
(undef, $t) = auth('cremo', 'DCM0002', 'docomo02', 'DCM');
is($t->{result}, '2002', 'suspended member: 2002');
(undef, $t) = auth('cardinfo', 'DCM0001', 'docomo01', 'DCM');
is($t->{result}, '2001', 'a CREMO member is unknown to the card info center');

# --- CREMO: download, update, expired ---
(undef, $t) = call('cremo', 'CARD_DOWNLOAD_REQ', authTicket => $ticket, cardId => 'C101');
is($t->{result}, '0000', 'download: success');
is($t->{get}->('pan'), '4999990000001013', 'download: PAN');
is($t->{get}->('expiry'), '2911', 'download: expiry');
is($t->{get}->('holderName'), 'TARO YAMADA', 'download: holder name');
is($t->{get}->('issuerCode'), 'DCM', 'download: issuer');
is($t->{get}->('brandVersion'), '4', 'download: display data version');
(undef, $t) = call('cremo', 'CARD_UPDATE_REQ', authTicket => $ticket, cardId => 'C101');
is($t->{get}->('expiry'), '3111', 'update: renewed expiry');
(undef, $t) = call('cremo', 'CARD_DOWNLOAD_REQ', authTicket => $ticket, cardId => 'C999');
is($t->{result}, '2005', 'unknown card: 2005');
(my $bad = $ticket) =~ s/.$/$& eq '0' ? '1' : '0'/e;
(undef, $t) = call('cremo', 'CARD_DOWNLOAD_REQ', authTicket => $bad, cardId => 'C101');
is($t->{result}, '2004', 'tampered ticket: 2004');
(undef, $t) = call('cardinfo', 'CARD_DOWNLOAD_REQ', authTicket => $ticket, cardId => 'C101');
is($t->{result}, '2004', 'a CREMO ticket is no good at the card info center');

(undef, $t) = auth('cremo', 'DCM0003', 'docomo03', 'DCM');
my $t3 = $t->{get}->('authTicket');
(undef, $t) = call('cremo', 'CARD_DOWNLOAD_REQ', authTicket => $t3, cardId => 'C301');
is($t->{result}, '2003', 'expired card: 2003');
ok(!defined $t->{get}->('pan'), 'expired card: no PAN');

# --- notifications ---
(undef, $t) = call('cremo', 'CARD_WRITTEN_REQ', authTicket => $ticket, cardId => 'C101',
                   idm => '012E4CD8A9B1C2D3', slot => '1', writeResult => 'OK');
is($t->{result}, '0000', 'written notification acknowledged');
(undef, $t) = call('cremo', 'CARD_DELETED_REQ', authTicket => $ticket, cardId => 'C101',
                   idm => '012E4CD8A9B1C2D3');
is($t->{result}, '0000', 'deletion notification acknowledged');
open(my $log, '<', run_dir() . '/notifications.log') or die $!;
my @lines = <$log>;
ok((grep { /^cremo WRITTEN \S+ DCM0001 C101 1 OK$/ } @lines), 'written notification recorded');
ok((grep { /^cremo DELETED \S+ DCM0001 C101 - -$/ } @lines), 'deletion notification recorded');
ok(!(grep { /4999990000001013/ } @lines), 'no PAN in the notification log');

# --- store / restore at the card info center ---
($r, $t) = auth('cardinfo', 'SKR0001', 'sakura01', 'SKR');
my $ts = $t->{get}->('authTicket');
(undef, $t) = call('cardinfo', 'CARD_RESTORE_REQ', authTicket => $ts, cardId => 'C401');
is($t->{result}, '2006', 'restore before store: 2006');
(undef, $t) = call('cardinfo', 'CARD_STORE_REQ', authTicket => $ts, cardId => 'C401',
                   idm => '012E4CD8A9B1C2D3');
is($t->{result}, '0000', 'store: success');
like($t->{get}->('storeId'), qr/^[A-Za-z0-9_-]{8,40}$/, 'store: store id');
(undef, $t) = call('cardinfo', 'CARD_STORE_REQ', authTicket => $ts, cardId => 'C401',
                   idm => '012E4CD8A9B1C2D3');
is($t->{result}, '2007', 'second store: 2007');
(undef, $t) = call('cardinfo', 'CARD_RESTORE_REQ', authTicket => $ts, cardId => 'C401');
is($t->{result}, '0000', 'restore: success');
is($t->{get}->('pan'), '3569990000004019', 'restore: the card comes back');
is($t->{get}->('expiry'), '3007', 'restore: with its renewed expiry');
(undef, $t) = call('cardinfo', 'CARD_RESTORE_REQ', authTicket => $ts, cardId => 'C401');
is($t->{result}, '2006', 'second restore: 2006');

# --- a member with cards of two issuers; suspended and expired at the center ---
(undef, $t) = auth('cardinfo', 'MDR0001', 'midori01', 'KZE');
is_deeply([ $t->{all}->('cardId') ], ['C502'], 'issuer filter: only the KZE card');
my $tk = $t->{get}->('authTicket');
(undef, $t) = call('cardinfo', 'CARD_DOWNLOAD_REQ', authTicket => $tk, cardId => 'C502');
is(length($t->{get}->('pan')), 19, '19-digit PAN');
(undef, $t) = call('cardinfo', 'CARD_DOWNLOAD_REQ', authTicket => $tk, cardId => 'C501');
is($t->{result}, '2005', "another issuer's card is not reachable with this ticket");
(undef, $t) = auth('cardinfo', 'MDR0002', 'midori02', 'MDR');
is($t->{result}, '2002', 'suspended at the card info center: 2002');
(undef, $t) = auth('cardinfo', 'KZE0001', 'kaze0001', 'KZE');
(undef, $t) = call('cardinfo', 'CARD_DOWNLOAD_REQ', authTicket => $t->{get}->('authTicket'),
                   cardId => 'C701');
is($t->{result}, '2003', 'expired card at the card info center: 2003');

# --- derived members (the fault campaign's phones: cards of their own) ---
(undef, $t) = auth('cremo', 'DCM0001-010001', 'docomo01', 'DCM');
is($t->{result}, '0000', 'derived member: auth');
is_deeply([ $t->{all}->('cardId') ], [qw(C101010001 C102010001)], 'derived member: its cards');
my $td = $t->{get}->('authTicket');
(undef, $t) = call('cremo', 'CARD_DOWNLOAD_REQ', authTicket => $td, cardId => 'C101010001');
is($t->{get}->('pan'), '4999990100011011', 'derived member: derived, Luhn-valid PAN');
(undef, $t) = call('cremo', 'CARD_DOWNLOAD_REQ', authTicket => $td, cardId => 'C101');
is($t->{result}, '2005', "derived member: the base member's card is not its own");
(undef, $t) = auth('cremo', 'DCM0001-0100011', 'docomo01', 'DCM');
is($t->{result}, '2001', 'derived member: a suffix of seven digits is no member');
(undef, $t) = auth('cremo', 'DCM0002-010001', 'docomo02', 'DCM');
is($t->{result}, '2002', 'derived member of a suspended one: suspended');
(undef, $t) = auth('cardinfo', 'SKR0001-010001', 'sakura01', 'SKR');
my $tl = $t->{get}->('authTicket');
(undef, $t) = call('cardinfo', 'CARD_STORE_REQ', authTicket => $tl, cardId => 'C401010001',
                   idm => '0101000000010100');
is($t->{result}, '0000', 'derived member: store');
(undef, $t) = call('cardinfo', 'CARD_RESTORE_REQ', authTicket => $tl, cardId => 'C401010001');
is($t->{get}->('pan'), '3569990100014017', 'derived member: restore');
open(my $ledger, '<', run_dir() . '/ledger.log') or die $!;
my @led = <$ledger>;
ok((grep { /^cremo ISSUED \S+ DCM0001-010001 C101010001 -$/ } @led), 'ledger: issued');
ok((grep { /^cardinfo STORED \S+ SKR0001-010001 C401010001 0101000000010100$/ } @led),
   'ledger: stored, with the chip');
ok((grep { /^cardinfo RESTORED \S+ SKR0001-010001 C401010001 -$/ } @led), 'ledger: restored');
ok(!(grep { /4999990100011011|3569990100014017/ } @led), 'ledger: no PAN');

done_testing();
