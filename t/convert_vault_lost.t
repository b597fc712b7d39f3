# A session whose operation context vanished from Redis (a failover to a
# replica that lacked it, a restart, eviction at maxmemory) is rolled back:
# the next relay gets 409 IDGW-SEQ-007, nothing is sent to the FeliCa server
# on a guess, the operation is aborted (the reaper no longer watches it), the
# correlation id is logged for reconciliation (IDGW0423), a retransmission
# gets the same answer replayed, and the phone starts over in a new session.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(sha256_hex);
use File::Copy qw(copy);
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $c101 = $stack->card('C101');
my @card = ('source=cremo', "member=$c101->{member}", "password=$c101->{password}",
            'cardId=C101', 'slot=any');

sub slurp { open my $fh, '<', $_[0] or return ''; local $/; return scalar <$fh> }
# the gateway's error log
sub log_text { slurp($stack->run_dir . '/error.log') }
sub redis_cli {
    my %e = IdgwTest::Stack::env();
    my $out = `redis-cli -h 127.0.0.1 -p $e{IDGW_DEMO_REDIS_PORT} @_ 2>/dev/null`;
    chomp $out;
    return $out;
}
# the FeliCa server's requests, as the simulators log them
my $simlog = $stack->run_dir . '/sim/error.log';
sub felica_calls { my $n = () = slurp($simlog) =~ /FELICA_\w+_REQ/g; $n }

my $ph = IdgwTest::Terminal->new($stack, 'vault-lost');
my $r = $ph->run('run', 'open', ',', 'issue-area');
is($r->{rc}, 0, 'open and issue the area') or diag $r->{out};
my $before = $stack->chip_hex($ph->chip);

# the app stops after the first relay round trip: an operation under way
$r = $ph->run({ opts => [ '--vanish-after', 1 ] }, 'add-card', @card);
like($r->{out}, qr/vanishes/, 'add_card left in the middle of its relay');
my ($token) = slurp($ph->state) =~ /^([0-9a-f]{32}) /;
ok($token, 'the phone kept its session');
my $sid = substr(sha256_hex($token), 0, 32);
is(redis_cli('EXISTS', "demo:vo:{$sid}"), '1', 'the operation context is in Redis');
is(redis_cli('ZSCORE', 'demo:reap', $sid) ne '', 1, 'the reaper watches the operation');

# Redis loses the context (the session hash survives)
is(redis_cli('DEL', "demo:vo:{$sid}"), '1', 'the context is lost');
my $calls0 = felica_calls();
my $log0 = length log_text();
my $relay = '<?xml version="1.0" encoding="UTF-8"?><relay version="1"><response>'
    . ('0A' x 16) . '</response></relay>';
copy($ph->state, $ph->state . '.before') or die $!;
$r = $ph->run('raw', 'add_card', 'relay', $relay);
like($r->{out}, qr/^409 IDGW-SEQ-007 retry-after=-?\d+ replay=0 /m,
     'the next relay: 409 IDGW-SEQ-007 (rolled back)') or diag $r->{out};
is(felica_calls(), $calls0, 'nothing was sent to the FeliCa server');
my $log = substr(log_text(), $log0);
like($log, qr/IDGW0423: add_card\/relay: the operation's context is gone from Redis.*correlation id idgw-[0-9a-f]{32}/,
     'logged for reconciliation with the correlation id');
unlike($log, qr/\Q$token\E|\Q$c101->{password}\E/, 'no token or password in the log line');
is(redis_cli('ZSCORE', 'demo:reap', $sid), '', 'the operation is aborted: no longer watched');
my ($rec_id) = $log =~ /IDGW0450: unsettled context-lost recorded as ([0-9a-f]{16}): add_card\/relay/;
ok($rec_id, 'left for reconciliation (IDGW0450)') or diag $log;
is(redis_cli('HGET', "demo:unsettled:{$rec_id}", 'kind'), 'context-lost', 'the record in Redis');

# the same message again (same sequence number): the stored answer, not a second run
copy($ph->state . '.before', $ph->state) or die $!;
$r = $ph->run('raw', 'add_card', 'relay', $relay);
like($r->{out}, qr/^409 IDGW-SEQ-007 retry-after=-?\d+ replay=1 /m, 'retransmission: replayed')
    or diag $r->{out};
is(felica_calls(), $calls0, 'still nothing sent to the FeliCa server');
is($stack->chip_hex($ph->chip), $before, 'the chip is as before');

# start over in a new session
$r = $ph->run('run', 'open', ',', 'add-card', @card);
is($r->{rc}, 0, 'a new session adds the card') or diag $r->{out};
like($stack->chip_hex($ph->chip), qr/$c101->{pan}F*$c101->{expiry}/, 'the card is on the chip');
unlike(log_text(), qr/exit signal/, 'no child died');

done_testing;
