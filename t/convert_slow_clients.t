# Slow and idle clients cannot starve the gateway (issue 12, item 1): while
# slowhttptest holds hundreds of connections open from one address, first
# trickling request headers (slow headers, "Slowloris"), then a request body
# (slow body, "R-U-Dead-Yet"), an honest phone on another address goes
# through open, list_cards and close again and again, and each step stays
# within 2 s of its latency before the attack.
#
# What defends: the per-address connection cap (IdgwAclMaxConnPerAddr), so
# one address holds a bounded share of the workers; mod_reqtimeout, so a
# held worker is released after a bounded time; and the event MPM sized for
# more workers than one address may hold (conf.d/idgw.conf).
#
# A shorter attack than the full one (scripts/idgw-slowtest: 1000
# connections for 60 s per mode): IDGW_SLOW_CONNS [600] connections at
# IDGW_SLOW_RATE [300]/s for IDGW_SLOW_SECONDS [15] s per mode, more than the
# test gateway's MaxRequestWorkers, all on loopback.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX qw(WNOHANG);
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $slow = `command -v slowhttptest 2>/dev/null`;
chomp $slow;
plan skip_all => 'slowhttptest is not installed (apt-get install slowhttptest)' unless $slow;

my $CONNS   = $ENV{IDGW_SLOW_CONNS}   || 600;
my $RATE    = $ENV{IDGW_SLOW_RATE}    || 300;
my $SECONDS = $ENV{IDGW_SLOW_SECONDS} || 15;
my $SLACK   = 2.0;      # the target: within 2 s of the latency before the attack

my $stack = IdgwTest::Stack->up;
my $target = $stack->url . '/session/open';

# The honest phone connects from 127.0.0.2: another address than the
# attacker's (127.0.0.1), as two subscribers behind different NAT addresses.
# Its chip gets the iD area once; each cycle then lists its cards.
my $ph = IdgwTest::Terminal->new($stack, 'honest');
for my $cmd ('open', 'issue-area', 'close') {
    my $r = $ph->run({ opts => ['--source', '127.0.0.2'] }, $cmd);
    BAIL_OUT("the honest phone's $cmd failed without an attack: $r->{out}") if $r->{rc};
}

# One timed step; a starved gateway makes it wait, so it is bounded.
sub step {
    my (@cmd) = @_;
    my $t0 = time;
    my $line = join ' ', 'timeout', 30, map { IdgwTest::Terminal::quote($_) } $stack->terminal,
        $ph->args('--source', '127.0.0.2'), @cmd;
    my $out = `$line 2>&1`;
    return ({ rc => $? >> 8, out => $out }, time - $t0);
}

my @STEPS = (['open'], ['list'], ['close']);
my @NAMES = qw(open list_cards close);

# One cycle: open, list_cards, close; latencies by step
# name, or the failing step's output.
sub cycle {
    my %lat;
    for my $i (0 .. $#STEPS) {
        my ($r, $dt) = step(@{ $STEPS[$i] });
        return (undef, "$NAMES[$i] failed (rc $r->{rc}, ${\ sprintf '%.2f', $dt} s): $r->{out}")
            if $r->{rc} != 0;
        $lat{ $NAMES[$i] } = $dt;
    }
    return (\%lat, undef);
}

# Before the attack: the normal latency of each step (the slowest of three).
my %base = map { $_ => 0 } @NAMES;
for (1 .. 3) {
    my ($lat, $err) = cycle();
    ok($lat, "before the attack: open, list_cards, close ($_)") or diag $err;
    BAIL_OUT('the honest phone fails without an attack') unless $lat;
    $base{$_} = $lat->{$_} > $base{$_} ? $lat->{$_} : $base{$_} for @NAMES;
}
diag(sprintf 'normal latency: %s', join ', ', map { sprintf '%s %.3f s', $_, $base{$_} } @NAMES);

sub attack {
    my ($mode, @extra) = @_;
    my $log = $stack->run_dir . "/slowhttptest-$mode.log";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', $log or die $!;
        open STDERR, '>&', \*STDOUT or die $!;
        # slowhttptest stops once none of its connections is left open: an
        # attacker reconnects, so it starts again until the time is up
        my $end = time + $SECONDS;
        while (time < $end - 1) {
            system $slow, @extra, '-c', $CONNS, '-r', $RATE, '-l', int($end - time + 0.5),
                '-i', 5, '-x', 16, '-p', 3, '-u', $target;
            print "=== relaunch\n";
        }
        POSIX::_exit(0);
    }
    return ($pid, $log);
}

for my $mode (['slow headers', '-H'], ['slow body', '-B', '-s', 8192]) {
    my ($name, @args) = @$mode;
    my ($pid, $log) = attack($name =~ s/ /-/r, @args);
    sleep 2 + $CONNS / $RATE;      # every attacking connection is open (or refused)
    my ($cycles, $worst, @fail) = (0, 0);
    my $t_end = time + $SECONDS;
    while (time < $t_end - 1 && waitpid($pid, WNOHANG) == 0) {
        # a phone's pace: the fleet-wide terminal rate limit (300/m) is not the
        # subject here
        sleep 1.5 if $cycles;
        my ($lat, $err) = cycle();
        $cycles++;
        if (!$lat) { push @fail, $err; next }
        for my $n (@NAMES) {
            my $over = $lat->{$n} - $base{$n};
            $worst = $over if $over > $worst;
            push @fail, sprintf('%s took %.2f s (normal %.2f s)', $n, $lat->{$n}, $base{$n})
                if $over > $SLACK;
        }
    }
    waitpid($pid, 0);
    my $summary = do { open my $fh, '<', $log; local $/; <$fh> // '' };
    $summary =~ s/\e\[[0-9;]*[A-Za-z]//g;
    ok($cycles >= 2, "$name: the honest phone ran $cycles cycles during the attack");
    is(scalar @fail, 0, sprintf('%s (%d connections): every open, list_cards, close completed '
                                . 'within %.0f s of normal (worst %+.2f s)', $name, $CONNS,
                                $SLACK, $worst))
        or diag join "\n", @fail[0 .. ($#fail < 4 ? $#fail : 4)];
    my %last = $summary =~ /^(pending|connected|error|closed|service available):\s*(\S+)/mg;
    diag("slowhttptest $name at the end: "
         . join ', ', map { "$_ $last{$_}" } grep { exists $last{$_} }
           'pending', 'connected', 'error', 'closed', 'service available');
}

done_testing();
