# Session open / status / close and every legal sequence of every operation,
# the vault (sealed card data, dropped at completion), strikes.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok have_module);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use IdgwTest::Redis;

my @write_ops = qw(issue_area delete_area add_card update_card delete_card set_main
                   list_cards store_card restore_card);

plan tests => 20 + 3 * @write_ops;

my $c = IdgwTest::Client->new;
my $res = $c->open_session;
ok t_cmp($res->{status}, 200, 'open answers 200');
ok $c->token && $c->token =~ /^[0-9a-f]{32}$/;
ok t_cmp($res->{headers}{'content-type'}, qr{^application/xml}, 'XML answer');
ok t_cmp($res->{headers}{'cache-control'}, 'no-store', 'never cached');
ok $res->{content} =~ m{<state>ready</state><seq>0</seq>};

# the token is never stored: Redis knows only its hash
my $dump = IdgwTest::Redis::cli('HGETALL', $c->session_key);
ok $dump =~ /\bready\b/ && index($dump, $c->token) < 0;
ok t_cmp(IdgwTest::Redis::cli('EXISTS', 'itest:s:{' . $c->token . '}'), '0', 'no key by token');

$res = $c->status;
ok t_cmp($res->{status}, 200, 'status');
ok $res->{content} =~ m{<state>ready</state>} && $res->{content} !~ /<token>/;

# every write operation: request -> relays -> complete
for my $op (@write_ops) {
    my @r = $c->operation($op, 2);
    ok !grep { $_->{status} != 200 } @r;
    ok $r[1]{content} =~ m{<op>$op</op><step>relay</step>.*<relays>1</relays>};
    ok $r[-1]{content} =~ m{<step>complete</step>};
}

# issuer display data: one step
$res = $c->step('display_data', 'request');
ok t_cmp($res->{status}, 200, 'display_data');

# card data sealed in the vault during the operation, gone after it
$res = $c->step('add_card', 'request', body => 'card=4980123412345678;password=s3cret');
ok t_cmp($res->{status}, 200, 'add_card request with card data');
my $vault = IdgwTest::Redis::cli('HGET', $c->session_key('vo'), 'card');
ok length($vault) > 16 && index($vault, '4980123412345678') < 0 && index($vault, '5678') < 0;
ok IdgwTest::Redis::cli('PTTL', $c->session_key('vo')) > 0;
$c->step('add_card', 'relay');
$res = $c->step('add_card', 'complete');
ok $res->{content} =~ m{<last4>5678</last4>};
# the completion's commit dropped the operation's vault; the session's stays
select undef, undef, undef, 0.1;
ok t_cmp(IdgwTest::Redis::cli('EXISTS', $c->session_key('vo')), '0', 'operation vault gone');
ok t_cmp(IdgwTest::Redis::cli('EXISTS', $c->session_key('vs')), '1', 'session vault kept');

# close mid-operation ends it
$c->step('delete_card', 'request');
$res = $c->close_session;
ok t_cmp($res->{status}, 200, 'close');
ok $res->{content} =~ m{<state>closed</state>};
ok t_cmp(IdgwTest::Redis::cli('EXISTS', $c->session_key('vs')), '0', 'vault gone with close');

# nothing secret in the error log
my $log = do { local (@ARGV, $/) = (Apache::Test::vars('t_logs') . '/error_log'); <> };
ok index($log, $c->token) < 0 && index($log, '4980123412345678') < 0 && index($log, 's3cret') < 0;
