# mod_idgw_status with mod_idgw_session: gateway requests are named from the
# session (operation, step, session log handle), refused ones from the URL
# with the XML error's code as their result, sequence errors are counted by
# code, replays are told apart, and the log notes never carry the token.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestRequest qw(GET);
use Apache::TestUtil;
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use Time::HiRes qw(sleep);

plan tests => 14;

sub metrics {
    my %m;
    for (split /\n/, GET('/idgw-status?format=prometheus')->content) {
        $m{$1} = $2 if !/^#/ && /^(\S+) (\S+)$/;
    }
    return \%m;
}

sub req_key { sprintf 'idgw_requests_total{op="%s",step="%s",result="%s"}', @_ }

# counting happens when the request is logged: poll until the last one is in
sub settle {
    my ($key, $want) = @_;
    my $m;
    for (1 .. 40) {
        $m = metrics();
        return $m if ($m->{$key} // 0) >= $want;
        sleep 0.05;
    }
    return $m;
}

my $log = Apache::Test::vars('serverroot') . '/logs/idgw_status_notes.log';
my $log_start = -s $log // 0;

my $m0 = metrics();
my $v0 = sub { $m0->{ req_key(@_) } // 0 };
my @keys = (['open', 'request', 'ok'], ['status', 'none', 'ok'], ['add_card', 'request', 'ok'],
            ['add_card', 'relay', 'ok'], ['add_card', 'relay', 'replay'],
            ['add_card', 'complete', 'IDGW-SEQ-001'], ['gateway', 'none', 'IDGW-REQ-003']);
my %before = map { req_key(@$_) => $v0->(@$_) } @keys;
my $seq_key = 'idgw_sequence_errors_total{reason="IDGW-SEQ-001"}';
my $seq0 = $m0->{$seq_key} // 0;

my $c = IdgwTest::Client->new;
ok t_cmp($c->open_session->{status}, 200, 'session opened');
$c->status for 1 .. 3;
ok t_cmp($c->step('add_card', 'request')->{status}, 200, 'add_card request');
ok t_cmp($c->step('add_card', 'relay')->{status}, 200, 'add_card relay');
# the same relay again (same number, same body): a retransmission
my $again = $c->step('add_card', 'relay', seq => $c->seq);
ok t_cmp($again->{headers}{'x-idgw-replay'} // '', '1', 'retransmission replayed');
# skip a number: a sequence error (409), which also ends the session
ok t_cmp($c->step('add_card', 'complete', seq => $c->seq + 5)->{status}, 409, 'out of order');
# a path that names no operation: refused before any session is read
ok t_cmp($c->post('/idgw/nothing/here', '')->{status}, 404, 'unknown path');

my $m = settle(req_key('gateway', 'none', 'IDGW-REQ-003'), $before{ req_key('gateway', 'none', 'IDGW-REQ-003') } + 1);
my $d = sub { ($m->{ req_key(@_) } // 0) - $before{ req_key(@_) } };
ok t_cmp($d->('open', 'request', 'ok'), 1, 'open counted');
ok t_cmp($d->('status', 'none', 'ok'), 3, 'status counted three times');
ok t_cmp($d->('add_card', 'request', 'ok') + $d->('add_card', 'relay', 'ok'), 2, 'steps counted');
ok t_cmp($d->('add_card', 'relay', 'replay'), 1, 'replay counted as such');
ok t_cmp($d->('add_card', 'complete', 'IDGW-SEQ-001'), 1, 'sequence error named from the URL, its code as result');
ok t_cmp(($m->{$seq_key} // 0) - $seq0, 1, 'sequence error counted by code');
ok t_cmp($d->('gateway', 'none', 'IDGW-REQ-003'), 1, 'unnamed path under the location label');

# the access log notes: the session handle (8 hex digits), never the token
open my $fh, '<', $log or die "$log: $!";
seek $fh, $log_start, 0;
my @lines = grep { m{ /idgw/} } <$fh>;
close $fh;
my $token = $c->token;
my $handles = grep { m{^200 [0-9a-f]{8} status none ok /idgw/session/status$} } @lines;
ok t_cmp(($handles == 3) && !grep({ index($_, $token) >= 0 } @lines), 1,
         'session handle logged, token never') or t_debug(join '', @lines);
