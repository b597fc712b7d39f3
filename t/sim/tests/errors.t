# Telegrams that cannot be served are answered with the documented ERROR_RES,
# never a crash; TLS refuses clients without the gateway's certificate.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use Test::More;
use SimTest;

sub expect_error {
    my ($name, $status, $result, $bytes, %o) = @_;
    my $r = post($o{svc} || 'cremo', $bytes, %o);
    is($r->{status}, $status, "$name: HTTP $status");
    my $t = parse_telegram($r->{content});
    ok($t && $t->{type} eq 'ERROR_RES', "$name: ERROR_RES telegram") or diag $r->{content};
    is($t->{result}, $result, "$name: result $result") if $t;
    return $t;
}

my $c = corr('err');
my $auth = telegram('CARD_AUTH_REQ', $c, [memberId => 'DCM0001', password => 'docomo01', issuerCode => 'DCM']);

my $t = expect_error('not XML', 400, '1001', "this is not a telegram");
is($t->{correlationId}, 'UNKNOWN-CORRELATION', 'unreadable telegram: placeholder correlation id');
$t = expect_error('truncated', 400, '1001', substr($auth, 0, length($auth) - 30));
expect_error('empty body', 400, '1001', '');
$t = expect_error('unknown field', 400, '1001',
                  telegram('CARD_AUTH_REQ', $c, [memberId => 'DCM0001', password => 'x1234',
                                                 issuerCode => 'DCM', cvv => '123']));
is($t->{correlationId}, $c, 'schema error: correlation id echoed');
expect_error('missing field', 400, '1001',
             telegram('CARD_AUTH_REQ', $c, [memberId => 'DCM0001', issuerCode => 'DCM']));
expect_error('bad PAN (Luhn) in a FeliCa start', 400, '1001',
             telegram('FELICA_START_REQ', $c, [idm => '012E4CD8A9B1C2D3', operation => 'WRITE_CARD',
                                               pan => '4999990000001014']), svc => 'felica');
expect_error('brand telegram at CREMO', 400, '1002',
             telegram('BRAND_DOWNLOAD_REQ', $c, [issuerCode => 'DCM']));
expect_error('a response type as request', 400, '1001',
             telegram('CARD_WRITTEN_RES', $c, []));
expect_error('unknown type', 400, '1002', telegram('CARD_STEAL_REQ', $c, []));
(my $v2 = $auth) =~ s/version="1\.0">/version="2.0">/;
expect_error('interface version 2.0', 400, '1003', $v2);
(my $nocorr = $auth) =~ s{<correlationId>[^<]*</correlationId>}{<correlationId>no</correlationId>};
expect_error('bad correlation id', 400, '1004', $nocorr);
expect_error('correlation id header disagrees', 400, '1004', $auth,
             headers => { 'X-Idgw-Correlation-Id' => 'another-correlation-id' });
my $lol = qq{<?xml version="1.0"?><!DOCTYPE fpTelegram [<!ENTITY a "aaaaaaaaaa">}
    . qq{<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>}
    . qq{<fpTelegram version="1.0"><header><type>CARD_AUTH_REQ</type><correlationId>$c</correlationId>}
    . qq{<terminalType>FP</terminalType><timestamp>2026-11-22T10:00:00Z</timestamp></header>}
    . qq{<body><memberId>&c;</memberId></body></fpTelegram>};
expect_error('entity expansion', 400, '1001', $lol);
(my $xxe = $lol) =~ s{<!ENTITY a "aaaaaaaaaa">}{<!ENTITY a SYSTEM "file:///etc/passwd">};
expect_error('external entity', 400, '1001', $xxe);
expect_error('oversize body', 413, '1001', 'x' x (300 * 1024));

my $r = post('cremo', '', method => 'GET');
is($r->{status}, 405, 'GET: 405');

# The gateway's answer still works after all that.
$r = post('cremo', $auth);
is(parse_telegram($r->{content})->{result}, '0000', 'server still healthy');

# TLS: no client certificate, a certificate from another CA.
$r = post('cremo', $auth, client => client(no_cert => 1));
is($r->{status}, 599, 'no client certificate: refused at the TLS level');
$r = post('cremo', $auth, client => client(cert => pki('rogue-client.crt'), key => pki('rogue-client.key')));
is($r->{status}, 599, 'client certificate from another CA: refused');

done_testing();
