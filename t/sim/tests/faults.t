# Fault injection, per request (X-Idgw-Sim-Fault) and per run (the control
# switch shared by all child processes).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use Test::More;
use Time::HiRes qw(time);
use SimTest;

my $auth = sub {
    telegram('CARD_AUTH_REQ', corr('fault'),
             [memberId => 'DCM0001', password => 'docomo01', issuerCode => 'DCM']);
};
sub with_fault { post('cremo', $auth->(), headers => { 'X-Idgw-Sim-Fault' => $_[0] }) }

my $t0 = time;
my $r = with_fault('delay=400');
my $took = time - $t0;
ok($took >= 0.4 && $took < 3, "delay=400 took ${took}s");
is(parse_telegram($r->{content})->{result}, '0000', 'delayed answer is complete');

$r = with_fault('status=503');
is($r->{status}, 503, 'status=503');
my $t = parse_telegram($r->{content});
is($t->{type}, 'ERROR_RES', 'status=503: ERROR_RES');
is($t->{result}, '9001', 'status=503: result 9001');

$r = with_fault('malformed');
is($r->{status}, 200, 'malformed: HTTP 200');
ok(!parse_telegram($r->{content}), 'malformed: the body is no telegram');

$r = with_fault('truncated');
is($r->{status}, 599, 'truncated: the client sees a short body');
$r = with_fault('unframed');
is($r->{status}, 200, 'unframed: HTTP 200');
ok(!defined $r->{headers}{'content-length'} && !defined $r->{headers}{'transfer-encoding'},
   'unframed: neither Content-Length nor chunked');
is(parse_telegram($r->{content})->{result}, '0000', 'unframed: the whole telegram, then the close');
$r = with_fault('reset');
is($r->{status}, 599, 'reset: the client sees a reset');
$r = with_fault('refuse');
is($r->{status}, 599, 'refuse: no answer');

$t0 = time;
$r = with_fault('slow=30');
$took = time - $t0;
ok($took >= 0.2, "slow=30 dribbled the body (${took}s)");
is(parse_telegram($r->{content})->{result}, '0000', 'slow answer is complete');

$r = with_fault('teleport');
is($r->{status}, 200, 'an unknown per-request fault is ignored');

# per run: two 503s, then normal
is(control_fault('cremo', 'status=503', 2), 200, 'switch set');
is(post('cremo', $auth->())->{status}, 503, 'switch: first request 503');
is(post('cremo', $auth->())->{status}, 503, 'switch: second request 503');
is(post('cremo', $auth->())->{status}, 200, 'switch: used up');
# per run, one telegram type only: others pass it by, its count untouched;
# the telegram is served, its answer withheld (here: the status replaces it)
is(control_fault('cremo', 'only=CARD_DOWNLOAD_REQ;status=503', 1), 200, 'typed switch set');
is(post('cremo', $auth->())->{status}, 200, 'typed switch: another type passes');
is(post('cremo', $auth->())->{status}, 200, 'typed switch: its count untouched');
my $ticket = parse_telegram(post('cremo', $auth->())->{content})->{get}->('authTicket') // '';
my $download = sub {
    post('cremo', telegram('CARD_DOWNLOAD_REQ', corr('fault'),
                           [authTicket => $ticket, cardId => 'C101']));
};
is($download->()->{status}, 503, 'typed switch: its type gets the fault');
is($download->()->{status}, 200, 'typed switch: used up');
is(control_fault('brand', 'delay=10', -1), 200, 'unbounded switch set');
is(control_fault('brand', 'none'), 200, 'switch cleared');
ok(!-e run_dir() . '/faults/brand', 'switch file removed');
is(control_fault('cremo', 'bogus', 1), 400, 'bad spec refused');
is(control_fault('nowhere', 'delay=1', 1), 400, 'bad service refused');
is(post('cremo', $auth->())->{status}, 200, 'cremo normal again');

done_testing();
