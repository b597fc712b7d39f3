# A step never runs twice (issue 11, item 1).  add_card's request step calls
# several backends; a retransmission that arrives while the first attempt is
# still running gets 503 IDGW-SEQ-004 with Retry-After (never a second run),
# the FeliCa server sees exactly one FELICA_START_REQ, the retransmission sent
# after the first attempt finished gets its answer replayed, and nobody is
# struck.  The retry lease follows from the backends' timeouts: a gateway
# configured with a lease below the worst case of a step refuses to start.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Copy qw(copy);
use Test::More;
use Time::HiRes qw(sleep time);
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $run = $stack->run_dir;

sub slurp { open my $fh, '<', $_[0] or return ''; local $/; return scalar <$fh> }

# every backend: io and total timeout 3 s (a step of add_card/request may
# take 4 calls + the abort call: 15 s at worst)
my @edits;
for my $line (split /\n/, slurp("$run/idgw.conf")) {
    next unless $line =~ /io-timeout=\S+/;
    (my $with = $line) =~ s/io-timeout=\S+/io-timeout=3s total-timeout=3s/;
    push @edits, $line => $with;
}
ok(scalar @edits >= 4, 'the four backends\' timeout lines found');

# a lease of 1 s is below what a step may take: the gateway must not start
my $short = eval { $stack->extra_gateway('lease1', 1, @edits, '' => 'IdgwSessionRetryLease 1s') };
ok(!$short, 'IdgwSessionRetryLease 1s below the backends\' worst case: httpd refuses to start');
like(slurp("$run/lease1.error.log"),
     qr/IdgwSessionRetryLease 1s? .*below.*worst case.*\d+s?/i,
     'and says why, naming both values');

# without the directive the lease is derived from the backends
my $url = $short // $stack->extra_gateway('lease', 2, @edits);
my $ph = IdgwTest::Terminal->new($stack, 'lease', url => $url);
is($ph->run('run', 'open', ',', 'issue-area')->{rc}, 0, 'open and issue the area');

my $c101 = $stack->card('C101');
my $body = '<?xml version="1.0" encoding="UTF-8"?><add_card version="1"><source>cremo</source>'
    . "<member>$c101->{member}</member><password>$c101->{password}</password>"
    . '<cardId>C101</cardId><slot>any</slot></add_card>';
my $state0 = $ph->state . '.before';
copy($ph->state, $state0) or die "copy state: $!";

# one invocation of the terminal with its own copy of the session state
# (same token, same sequence number: a retransmission)
my $n = 0;
sub raw_line {
    my $st = $ph->state . '.retx' . ++$n;
    copy($state0, $st) or die $!;
    my @args = $ph->args;
    for my $i (0 .. $#args - 1) { $args[$i + 1] = $st if $args[$i] eq '--state' }
    return join ' ', map { IdgwTest::Terminal::quote($_) } $stack->terminal, @args,
        'raw', 'add_card', 'request', $body;
}
sub parse { my ($out) = @_; return $out =~ /^(\d{3}) (\S+) retry-after=(-?\d+) replay=(\d) body=(\w+)$/m }

my $simlog = "$run/sim/error.log";
my $before = length slurp($simlog);
ok($stack->fault('felica', 'delay=2000', 1), 'the FeliCa server answers FELICA_START_REQ after 2 s');
my $t0 = time;
open my $first, '-|', raw_line() . ' 2>&1' or die $!;
my @early;
for my $at (0.4, 1.3, 1.7) {
    sleep($at - (time - $t0)) if time - $t0 < $at;
    my $out = `${\ raw_line()} 2>&1`;
    push @early, [ $at, $out ];
}
my $first_out = do { local $/; <$first> };
close $first;
for my $e (@early) {
    my ($st, $code, $ra) = parse($e->[1]);
    is("${\ ($st // '')} ${\ ($code // '')}", '503 IDGW-SEQ-004',
       "retransmission at $e->[0] s while the step runs: in progress") or diag $e->[1];
    ok(defined $ra && $ra >= 1, "  with Retry-After") or diag $e->[1];
}
my ($st1, $code1, undef, undef, $digest1) = parse($first_out);
is($st1, 200, 'the first attempt answers 200 (relay)') or diag $first_out;

my $late = `${\ raw_line()} 2>&1`;
my ($st2, $code2, undef, $replay2, $digest2) = parse($late);
is($st2, 200, 'a retransmission after the first attempt committed: 200') or diag $late;
is($replay2, 1, '  replayed from the session');
is($digest2, $digest1, '  the first attempt\'s answer');

sleep 0.3;
my @starts = grep { /FELICA_START_REQ/ } split /\n/, substr(slurp($simlog), $before);
is(scalar @starts, 1, 'the FeliCa server got exactly one FELICA_START_REQ') or diag join "\n", @starts;
my %e = IdgwTest::Stack::env();
my $struck = `redis-cli -h 127.0.0.1 -p $e{IDGW_DEMO_REDIS_PORT} --scan --pattern '*strike:t:T-lease' 2>/dev/null`;
is($struck, '', 'no strike against the honest terminal');
copy($ph->state . '.retx1', $ph->state) or die $!;   # the first attempt's sequence number
is($ph->run('close')->{rc}, 0, 'the session closes (cancelling the operation)');

$stack->fault('felica', 'none');
IdgwTest::Stack::stop_extra_gateways();
done_testing();
