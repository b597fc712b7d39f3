# Detected rollback (issue 14): a session whose Redis state lacks a write the
# gateway acknowledged is ended with IDGW-SEQ-007 (start over), never run
# again; retransmissions and in-order steps are untouched when nothing was lost.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use IdgwTest::Redis;

plan tests => 14;

# a lost write, as a failover to a replica that had not received it leaves
# it: the session hash goes back to a copy taken before the write
sub keep    { IdgwTest::Redis::cli('COPY', $_[0]->session_key, $_[0]->session_key . ':kept') }
sub restore { IdgwTest::Redis::cli('COPY', $_[0]->session_key . ':kept', $_[0]->session_key,
                                   'REPLACE') }
sub code { IdgwTest::Client::error_code($_[0]) }

# the master's history is recorded in the session
my $info = IdgwTest::Redis::cli('INFO', 'replication');
my ($replid) = $info =~ /^master_replid:([0-9a-f]+)/m;
my $c = IdgwTest::Client->new;
$c->open_session;
ok t_cmp(IdgwTest::Redis::cli('HGET', $c->session_key, 'rid'), $replid,
         'session records the master replid it was written under');

# (2) sequence behind the answered one: the write of seq 2 is lost (the hash
# goes back to its state after seq 1), the phone sends seq 3
ok t_cmp($c->step('add_card', 'request')->{status}, 200, 'seq 1');
keep($c);
my $r2 = $c->step('add_card', 'relay');
ok t_cmp($r2->{status}, 200, 'seq 2 answered');
ok t_cmp($c->step('add_card', 'relay', seq => 2)->{content}, $r2->{content},
         'retransmission still answered when nothing was lost');
restore($c);
my $lost = $c->step('add_card', 'relay', seq => 3);
ok t_cmp($lost->{status}, 409, 'rolled back: 409');
ok t_cmp(code($lost), 'IDGW-SEQ-007', 'rolled back: start over');
ok t_cmp(IdgwTest::Redis::cli('HGET', $c->session_key, 'why'), 'IDGW-SEQ-007',
         'session ended as rolled back');
ok t_cmp(code($c->step('add_card', 'relay', seq => 2)), 'IDGW-SES-002',
         'the lost step is not run again');

# a gap of two in the same history stays a sequence error (a strike)
my $g = IdgwTest::Client->new;
$g->open_session;
$g->step('add_card', 'request');
ok t_cmp(code($g->step('add_card', 'relay', seq => 4)), 'IDGW-SEQ-001', 'other gaps: order');

# (1) written under another history: the recorded replid is neither the
# master's replid nor its replid2 (a restart from an older snapshot)
my $h = IdgwTest::Client->new;
$h->open_session;
my $req = $h->step('add_card', 'request');
ok t_cmp($req->{status}, 200);
IdgwTest::Redis::cli('HSET', $h->session_key, 'rid', 'f' x 40);
my $old = $h->step('add_card', 'relay');
ok t_cmp(code($old), 'IDGW-SEQ-007', 'other history: start over');
ok t_cmp(code($h->step('add_card', 'request', seq => 1)), 'IDGW-SES-002',
         'not even a retransmission is answered from a rolled-back session');

# logged with a stable id
my $log = do { local (@ARGV, $/) = (Apache::Test::vars('t_logs') . '/error_log'); <> };
ok $log =~ /IDGW0165: session rolled back/;
ok $log !~ /IDGW0165[^\n]*\Q$c->{token}\E/;   # no token in the log line
