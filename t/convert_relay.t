# The chip relay under attack and interruption: a tampered chip answer, an
# answer from another chip, a replayed answer, an app that vanishes in the
# middle of a write.  Every forged packet is refused with its XML error, the
# session ends (strike), the chip holds either its old or its intended state,
# never a mixture, and the card's source hears the truth.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $c101 = $stack->card('C101');
my @card = ('source=cremo', "member=$c101->{member}", "password=$c101->{password}",
            'cardId=C101', 'slot=any');
my $notes = $stack->run_dir . '/sim/notifications.log';
sub notes { open my $fh, '<', $notes or return ''; local $/; return <$fh> }
# every gateway's error log, as lines
sub log_text {
    my @lines;
    for my $f (glob($stack->run_dir . '/*error.log')) {
        open my $fh, '<', $f or next;
        push @lines, <$fh>;
    }
    return @lines;
}
sub redis_cli {
    my %e = IdgwTest::Stack::env();
    my $port = $e{IDGW_DEMO_REDIS_PORT};
    my $out = `redis-cli -h 127.0.0.1 -p $port @_ 2>/dev/null`;
    chomp $out;
    return $out;
}

# how often the source heard NG for C101, once it is more than $ng0 (or 10 s passed)
sub ng_after {
    my ($ng0) = @_;
    my $ng1 = $ng0;
    for (1 .. 100) {
        $ng1 = () = notes() =~ /C101 \S+ NG/g;
        last if $ng1 > $ng0;
        select undef, undef, undef, 0.1;
    }
    return $ng1;
}

# a phone with its area issued and an open session
sub ready_phone {
    my ($name) = @_;
    my $ph = IdgwTest::Terminal->new($stack, $name);
    my $r = $ph->run('run', 'open', ',', 'issue-area');
    is($r->{rc}, 0, "$name: open and issue the area") or diag $r->{out};
    return $ph;
}

my @attacks = (
    [ 'tampered chip answer', '--tamper', 3, 'IDGW-CNV-033', 422 ],
    [ 'answer from another chip', '--wrong-idm', 2, 'IDGW-CNV-031', 403 ],
    [ 'replayed chip answer', '--replay', 2, 'IDGW-CNV-032', 409 ],
);
for my $a (@attacks) {
    my ($name, $opt, $round, $code, $status) = @$a;
    my $ph = ready_phone($opt =~ s/^--//r);
    my $before = $stack->chip_hex($ph->chip);
    my $r = $ph->run({ opts => [ $opt, $round ] }, 'add-card', @card);
    is(IdgwTest::Terminal::error_code($r), $code, "$name: $code") or diag $r->{out};
    is(IdgwTest::Terminal::status_of($r), $status, "$name: HTTP $status");
    is($stack->chip_hex($ph->chip), $before, "$name: the chip is as before");
    $r = $ph->run('list');
    like(IdgwTest::Terminal::error_code($r), qr/^IDGW-SES-00[12]$/,
         "$name: the session is over (strike)") or diag $r->{out};
}

# a chip answer larger than any FeliCa frame: the documented chip packet
# error (IDGW-CNV-030, 400), not a generic field error; the operation ends,
# the chip is untouched, the session goes on (docs/smartphone-api.md 2.2)
{
    my $ph = ready_phone('oversize');
    my $before = $stack->chip_hex($ph->chip);
    my $r = $ph->run({ opts => [ '--oversize', 2 ] }, 'add-card', @card);
    like($r->{out}, qr/padded to 256 bytes/, 'oversize: the app sent a 256-byte chip answer');
    is(IdgwTest::Terminal::error_code($r), 'IDGW-CNV-030', 'oversize: IDGW-CNV-030') or diag $r->{out};
    is(IdgwTest::Terminal::status_of($r), 400, 'oversize: HTTP 400');
    is($stack->chip_hex($ph->chip), $before, 'oversize: the chip is as before');
    $r = $ph->run('list');
    is($r->{rc}, 0, 'oversize: the session goes on') or diag $r->{out};
}

# a tampered answer to the write itself: the chip applied the whole write
# (all-or-nothing), the FeliCa server cannot verify the answer, so the gateway
# refuses; the chip holds the whole card, never a part of it
{
    my $ph = ready_phone('tamper-write');
    my $ng0 = () = notes() =~ /C101 \S+ NG/g;
    my $w0 = () = join('', log_text()) =~ /IDGW0417: add_card aborted: [^\n]*chip written-unconfirmed/g;
    my $r = $ph->run({ opts => [ '--tamper', 4 ] }, 'add-card', @card);
    is(IdgwTest::Terminal::error_code($r), 'IDGW-CNV-033', 'tampered write answer refused');
    like($stack->chip_hex($ph->chip), qr/$c101->{pan}F*$c101->{expiry}/,
         'the chip holds the whole card (the write was applied atomically)');
    # the write went out, its verified answer never came: NG would be false
    my $ng1 = () = notes() =~ /C101 \S+ NG/g;
    is($ng1, $ng0, 'the source is not told NG for a write that may have happened');
    my $w1 = () = join('', log_text()) =~ /IDGW0417: add_card aborted: [^\n]*chip written-unconfirmed/g;
    is($w1, $w0 + 1, 'the gateway logs it for reconciliation (IDGW0417)');
}

# the app vanishes before the write reaches the chip: the chip stays as it was,
# the source never hears OK
{
    my $ph = ready_phone('vanish-early');
    my $before = $stack->chip_hex($ph->chip);
    my $n0 = () = notes() =~ /C101 \S+ OK/g;
    my $r = $ph->run({ opts => [ '--vanish-after', 2 ] }, 'add-card', @card);
    like($r->{out}, qr/vanishes/, 'the app vanished after the Secure Read went out');
    is($stack->chip_hex($ph->chip), $before, 'the chip is as before');
    my $n1 = () = notes() =~ /C101 \S+ OK/g;
    is($n1, $n0, 'the source was not told the card was written');
    # a new session on the same phone reads the truth from the chip
    unlink $ph->state;
    $r = $ph->run('run', 'open', ',', 'list', ',', 'close');
    is($r->{rc}, 0, 'a new session works') or diag $r->{out};
    unlike($r->{out}, qr/\*\*\*\* 1013/, 'and lists no card');
}

# the app vanishes after the chip applied the write (its answer lost): the
# chip holds the whole new card, never a part of it
{
    my $ph = ready_phone('vanish-late');
    my $r = $ph->run({ opts => [ '--vanish-after', 3 ] }, 'add-card', @card);
    like($r->{out}, qr/chip did Secure Write/, 'the app vanished after the chip wrote');
    like($stack->chip_hex($ph->chip), qr/$c101->{pan}F*$c101->{expiry}/,
         'the chip holds the whole card as CREMO sent it');
    unlink $ph->state;
    $r = $ph->run('run', 'open', ',', 'list', ',', 'close');
    like($r->{out}, qr/slot 0\s+\*\*\*\* 1013/, 'a new session lists what the chip holds');
}

# a lost answer: the app posts the same relay again and gets the same answer
# (from the session), the chip work goes on as if nothing happened
for my $round (1, 3, 4) {
    my $ph = ready_phone("retransmit-$round");
    my $r = $ph->run({ opts => [ '--retransmit', $round ] }, 'add-card', @card);
    is($r->{rc}, 0, "relay $round posted twice: the operation completes") or diag $r->{out};
    like($r->{out}, qr/same answer, replayed/, "relay $round: the second answer is the first");
    like($r->{out}, qr/answer replayed by the gateway/, "relay $round: marked X-Idgw-Replay");
    like($stack->chip_hex($ph->chip), qr/$c101->{pan}F*$c101->{expiry}/, "relay $round: card on the chip");
}

# closing in the middle of a relay cancels the operation, and the card's
# source hears it: NG, the write never reached the chip
{
    my $ph = ready_phone('close-mid');
    my $before = $stack->chip_hex($ph->chip);
    my $ng0 = () = notes() =~ /C101 \S+ NG/g;
    my $r = $ph->run({ opts => [ '--vanish-after', 1 ] }, 'add-card', @card);
    $r = $ph->run('close');
    is($r->{rc}, 0, 'close in the middle of an operation') or diag $r->{out};
    like($r->{out}, qr/operation cancelled/, 'the answer says the operation was cancelled');
    is($stack->chip_hex($ph->chip), $before, 'the chip is as before');
    my $ng1 = () = notes() =~ /C101 \S+ NG/g;
    is($ng1, $ng0 + 1, 'close told the source NG once') or diag notes();
    ok(!grep(/IDGW0414/, log_text()), 'the close handler found the operation\'s context');
}

# an app that vanishes for good in the middle of a write: no step and no
# close ever comes.  Two more gateways of the fleet with a short idle timeout
# and a quick reaper: after the idle timeout + grace one of the three nodes
# claims the operation and tells the source NG, exactly once.
{
    my @short = ('IdgwSessionIdleTimeout 120s' => 'IdgwSessionIdleTimeout 2s',
                 '' => 'IdgwSessionReaper 1s 200ms');
    my $url_a = $stack->extra_gateway('reaper-a', 1, @short);
    my $url_b = $stack->extra_gateway('reaper-b', 2, @short);
    my $ph = IdgwTest::Terminal->new($stack, 'vanish-reaped', url => $url_a);
    my $r = $ph->run('run', 'open', ',', 'issue-area');
    is($r->{rc}, 0, 'reaper: open and issue the area on another gateway') or diag $r->{out};
    my $before = $stack->chip_hex($ph->chip);
    my $ng0 = () = notes() =~ /C101 \S+ NG/g;
    my $reaped0 = () = join('', log_text()) =~ /IDGW0151: abandoned add_card/g;
    my $watched0 = redis_cli('ZCARD', 'demo:reap');
    $r = $ph->run({ opts => [ '--vanish-after', 2 ] }, 'add-card', @card);
    like($r->{out}, qr/vanishes/, 'reaper: the app vanished in the middle of the write');
    my $ng1 = ng_after($ng0);
    is($ng1, $ng0 + 1, 'reaper: after the idle timeout the source heard NG');
    sleep 2;    # several more claims by every node
    $ng1 = () = notes() =~ /C101 \S+ NG/g;
    is($ng1, $ng0 + 1, 'reaper: exactly once, though three gateways look');
    my $reaped = () = join('', log_text()) =~ /IDGW0151: abandoned add_card/g;
    is($reaped - $reaped0, 1, 'reaper: one node logged the reaping (IDGW0151)');
    unlike(join('', log_text()), qr/IDGW0151[^\n]*(?:$c101->{pan}|password)/,
           'reaper: its log line holds no card data');
    is($stack->chip_hex($ph->chip), $before, 'reaper: the chip is as before');
    is(redis_cli('ZCARD', 'demo:reap'), $watched0, 'reaper: the operation is no longer watched');
    $stack->stop_extra_gateways;
}

# the reaper honours the virtual host: the map and the backends configured
# only in a <VirtualHost>, the main server's backends unreachable; the
# reaper's notice of an abandoned operation must reach the vhost's backends.
# A key prefix of its own makes this gateway a fleet of one (no other node
# claims its operations).
{
    my $port = 8600 + 34 + 3;
    my $conf = do { open my $fh, '<', $stack->run_dir . '/idgw.conf' or die $!; local $/; <$fh> };
    my ($map) = $conf =~ /^(IdgwConvertMap .*\n)/m or die 'no IdgwConvertMap in idgw.conf';
    my $convert = join '', $map, $conf =~ /^(IdgwConvertBackend .*\n(?:[ \t]+.*\n)*)/mg;
    my @dead = map { my $l = $_; (my $d = $l) =~ s{https://127\.0\.0\.1:\d+}{https://127.0.0.1:1}; ($l => $d) }
               $conf =~ /^(IdgwConvertBackend \w+\s+https:\S+ \\)$/mg;
    is(scalar @dead, 8, 'vhost: the main server\'s four backends made unreachable');
    my $url = $stack->extra_gateway('reaper-vhost', 3,
        'IdgwSessionIdleTimeout 120s' => 'IdgwSessionIdleTimeout 2s',
        'IdgwRedisKeyPrefix demo:' => 'IdgwRedisKeyPrefix vhost:',
        @dead,
        '' => 'IdgwSessionReaper 1s 200ms',
        '' => "<VirtualHost 127.0.0.1:$port>\nServerName vhost.idgw.test:$port\n$convert</VirtualHost>");
    my $ph = IdgwTest::Terminal->new($stack, 'vanish-vhost', url => $url);
    my $r = $ph->run('run', 'open', ',', 'issue-area');
    is($r->{rc}, 0, 'vhost: open and issue the area through the vhost\'s backends') or diag $r->{out};
    my $ng0 = () = notes() =~ /C101 \S+ NG/g;
    my $unknown0 = grep /IDGW0156/, log_text();
    $r = $ph->run({ opts => [ '--vanish-after', 2 ] }, 'add-card', @card);
    like($r->{out}, qr/vanishes/, 'vhost: the app vanished in the middle of the write');
    my $ng1 = ng_after($ng0);
    is($ng1, $ng0 + 1, 'vhost: the reaper told the vhost\'s backend NG') or diag grep /IDGW04|IDGW015/, log_text();
    is(scalar(grep /IDGW0156/, log_text()), $unknown0, 'vhost: the reaper found the vhost by its name');
    $stack->stop_extra_gateways;
}

done_testing();
