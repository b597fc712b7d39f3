# The brand download center: versioned display data with Japanese messages
# and a logo.
use strict;
use warnings;
use utf8;
use FindBin;
use lib $FindBin::Bin;
use MIME::Base64 qw(decode_base64);
use Test::More;
use SimTest;

binmode(Test::More->builder->$_, ':utf8') for qw(output failure_output todo_output);

sub brand {
    my @f = @_;
    my $r = post('brand', telegram('BRAND_DOWNLOAD_REQ', corr('brand'), \@f));
    return ($r, parse_telegram($r->{content}));
}

my ($r, $t) = brand(issuerCode => 'DCM');
is($r->{status}, 200, 'HTTP 200');
is($t->{encoding}, 'Shift_JIS', 'Shift_JIS telegram');
is($t->{result}, '0000', 'success');
is($t->{get}->('version'), '4', 'version');
is($t->{get}->('unchanged'), '0', 'not unchanged without knownVersion');
is($t->{get}->('issuerName'), 'ドコモ iD カード', 'issuer name in Japanese');
is_deeply([ $t->{all}->('message') ],
          ['いつもドコモ iD をご利用いただきありがとうございます。', 'お問い合わせ：ドコモ iD センター'],
          'messages in Japanese, in order');
is($t->{get}->('logoType'), 'image/png', 'logo type');
is(substr(decode_base64($t->{get}->('logo')), 0, 8), "\x89PNG\r\n\x1a\n", 'logo is a PNG');

($r, $t) = brand(issuerCode => 'MDR', knownVersion => '7');
is($t->{get}->('unchanged'), '1', 'current version: unchanged');
ok(!defined $t->{get}->('logo') && !defined $t->{get}->('message'), 'unchanged: no payload');
($r, $t) = brand(issuerCode => 'MDR', knownVersion => '6');
is($t->{get}->('unchanged'), '0', 'older version: new data');
is(scalar(() = $t->{all}->('message')), 2, 'older version: messages sent');
like(($t->{all}->('message'))[0], qr/２倍/, 'full-width digits survive Shift_JIS');

($r, $t) = brand(issuerCode => 'ZZZ');
is($t->{result}, '3001', 'unknown issuer: 3001');
is($r->{status}, 200, 'a business error is still HTTP 200');

done_testing();
