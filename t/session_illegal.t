# Every kind of illegal request: malformed, wrong token, skip, repeat with
# another body, going back, wrong step, another address (enforce), another
# chip, expired, closed.  Sequence errors invalidate the session and strike
# the terminal.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use IdgwTest::Redis;

plan tests => 51;

sub strikes_t { IdgwTest::Redis::cli('GET', 'itest:strike:t:' . $_[0]->terminal) || 0 }

sub refused {
    my ($res, $status, $code, $what) = @_;
    ok t_cmp($res->{status}, $status, "$what: status");
    ok t_cmp(IdgwTest::Client::error_code($res), $code, "$what: code");
}

my $c = IdgwTest::Client->new;
$c->open_session;

# malformed requests never reach Redis
refused($c->step('add_card', 'request', headers => { 'X-Idgw-Token' => undef }),
        400, 'IDGW-REQ-001', 'no token');
refused($c->step('add_card', 'request', seq => '01'), 400, 'IDGW-REQ-002', 'seq 01');
refused($c->step('add_card', 'request', seq => 'x'), 400, 'IDGW-REQ-002', 'seq x');
refused($c->step('pay', 'request'), 404, 'IDGW-REQ-003', 'unknown operation');
refused($c->step('add_card', 'finish'), 404, 'IDGW-REQ-003', 'unknown step');
refused($c->step('add_card', 'request', headers => { 'X-Idgw-IDm' => 'zz' }),
        400, 'IDGW-REQ-005', 'bad IDm');
refused($c->step('add_card', 'request', body => 'x' x 70000), 413, 'IDGW-REQ-004', 'big body');
my $get = HTTP::Tiny->new->request('GET', IdgwTest::Client::base_url() . '/idgw/add_card/request',
                                   { headers => $c->headers });
ok t_cmp($get->{status}, 405, 'GET on a step');
ok t_cmp($get->{headers}{'content-type'}, qr{^application/xml}, 'errors are XML');
# none of that touched the session
ok t_cmp($c->step('add_card', 'request')->{status}, 200, 'session still usable');

# wrong token: unknown session, never created; the strike counts against
# the address it came from, never against the terminal id it only claims
my $before = strikes_t($c);
my $a_before = IdgwTest::Redis::cli('GET', 'itest:strike:a:198.51.100.20') || 0;
my $w = IdgwTest::Client->new(terminal => $c->terminal);
$w->{token} = '0' x 32;
refused($w->step('add_card', 'request', headers => { 'X-Forwarded-For' => '198.51.100.20' }),
        403, 'IDGW-SES-001', 'wrong token');
ok t_cmp(strikes_t($c), $before, 'no strike for the terminal a forged token names');
ok t_cmp(IdgwTest::Redis::cli('GET', 'itest:strike:a:198.51.100.20'), $a_before + 1,
         'the wrong token strikes its address');
ok t_cmp(IdgwTest::Redis::cli('EXISTS', $w->session_key), '0', 'unknown id creates nothing');

# skip a sequence number
# (in a session whose chip the handler reported proven: before any proof,
# only the address answers for a session's errors, t/acl_proven.t)
$c = IdgwTest::Client->new;
$c->open_session;
$c->step('add_card', 'request', query => 'prove=chip');
# (one ahead is a lost write, IDGW-SEQ-007 in session_rollback.t: no strike)
refused($c->step('add_card', 'relay', seq => 4), 409, 'IDGW-SEQ-001', 'skip');
ok t_cmp(strikes_t($c), 1, 'skip struck');
refused($c->step('add_card', 'relay', seq => 2), 403, 'IDGW-SES-002', 'after invalidation');

# repeat with another body
$c = IdgwTest::Client->new;
$c->open_session;
$c->step('add_card', 'request', body => 'card=1111222233334444');
refused($c->step('add_card', 'request', seq => 1, body => 'card=9999'), 409, 'IDGW-SEQ-003',
        'repeat with other body');
ok t_cmp(IdgwTest::Redis::cli('EXISTS', $c->session_key('vo')), '0', 'vault dropped');

# go back
$c = IdgwTest::Client->new;
$c->open_session;
$c->step('issue_area', 'request');
$c->step('issue_area', 'relay');
refused($c->step('issue_area', 'request', seq => 1, body => 'again'), 409, 'IDGW-SEQ-001',
        'go back to an earlier number');
$c = IdgwTest::Client->new;
$c->open_session;
$c->step('issue_area', 'request');
$c->step('issue_area', 'relay');
$c->step('issue_area', 'relay');
refused($c->step('issue_area', 'relay', seq => 2), 409, 'IDGW-SEQ-001', 'go back two');

# a step the state does not allow
$c = IdgwTest::Client->new;
$c->open_session;
refused($c->step('add_card', 'complete'), 409, 'IDGW-SEQ-002', 'complete without request');

# the token used from another address (IdgwSessionAddressPolicy enforce)
$c = IdgwTest::Client->new;
$c->open_session;
$c->step('add_card', 'request');
refused($c->step('add_card', 'relay', headers => { 'X-Forwarded-For' => '198.51.100.9' }),
        403, 'IDGW-SES-006', 'other address');
ok t_cmp(IdgwTest::Redis::cli('GET', 'itest:strike:a:198.51.100.9'), qr/^[1-9]/,
         'strike on the address');

# another chip on the same token
$c = IdgwTest::Client->new;
$c->open_session;
refused($c->step('add_card', 'request', headers => { 'X-Idgw-IDm' => 'FFFFFFFFFFFFFFFF' }),
        403, 'IDGW-SES-005', 'other IDm');
ok t_cmp(strikes_t($c), 0, 'a binding mismatch does not strike the terminal');

# expired: the absolute deadline, and the idle timeout (the key is gone)
$c = IdgwTest::Client->new;
$c->open_session;
IdgwTest::Redis::cli('HSET', $c->session_key, 'dl', '1');
refused($c->step('add_card', 'request'), 403, 'IDGW-SES-004', 'past the lifetime');
$c = IdgwTest::Client->new;
$c->open_session;
IdgwTest::Redis::cli('PEXPIRE', $c->session_key, '1');
select undef, undef, undef, 0.05;
refused($c->step('add_card', 'request'), 403, 'IDGW-SES-001', 'idle expired');

# closed
$c = IdgwTest::Client->new;
$c->open_session;
$c->close_session;
refused($c->step('add_card', 'request'), 403, 'IDGW-SES-003', 'after close');
ok t_cmp($c->status->{status}, 403, 'status after close');

# a strike recorded by the handler through the exported function
$c = IdgwTest::Client->new;
$c->open_session;
ok t_cmp($c->step('display_data', 'request', query => 'prove=chip&strike=1')->{status}, 200,
         'handler strike');
select undef, undef, undef, 0.1;
ok t_cmp(strikes_t($c), 1, 'handler strike recorded');
