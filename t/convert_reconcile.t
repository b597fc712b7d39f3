# Reconciliation (docs/reconcile.md): an operation whose outcome the
# gateway cannot know (here the chip's answer to the final write is
# tampered with: the chip holds the card, the FeliCa server cannot verify
# it, the source is not told) is recorded in Redis with what is known and
# no secret; scripts/idgw-reconcile lists it, settles it once (a second
# settle is refused), and counts the settlements.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP qw(decode_json);
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my %env = IdgwTest::Stack::env();
my $c101 = $stack->card('C101');
my @card = ('source=cremo', "member=$c101->{member}", "password=$c101->{password}",
            'cardId=C101', 'slot=0');
my @tool = ("$FindBin::Bin/../scripts/idgw-reconcile", '--port', $env{IDGW_DEMO_REDIS_PORT},
            '--prefix', 'demo:');

sub slurp { open my $fh, '<', $_[0] or return ''; local $/; return scalar <$fh> }
my $stderr = $stack->run_dir . '/reconcile.stderr';
sub tool {
    my $out = `@{[ map { IdgwTest::Terminal::quote($_) } @tool, @_ ]} 2>$stderr`;
    return ($? >> 8, $out . slurp($stderr));
}
sub tool_json {
    my $out = `@{[ map { IdgwTest::Terminal::quote($_) } @tool, @_ ]} 2>$stderr`;
    is(slurp($stderr), '', "@_: nothing on stderr");
    return decode_json($out);
}
sub records { return tool_json('list', '--json', @_)->{records} }
sub redis_cli {
    my $out = `@{[ map { IdgwTest::Terminal::quote($_) } 'redis-cli', '-h', '127.0.0.1', '-p',
                   $env{IDGW_DEMO_REDIS_PORT}, @_ ]} 2>/dev/null`;
    chomp $out;
    return $out;
}

my %known = map { $_->{id} => 1 } @{ records() };
my ($rc, $stats0) = tool('stats', '--json');
is($rc, 0, 'stats') or diag $stats0;
$stats0 = decode_json($stats0);

my $ph = IdgwTest::Terminal->new($stack, 'reconcile');
my $r = $ph->run('run', 'open', ',', 'issue-area');
is($r->{rc}, 0, 'open and issue the area') or diag $r->{out};
my $log0 = length slurp($stack->run_dir . '/error.log');
$r = $ph->run({ opts => [ '--tamper', 4 ] }, 'add-card', @card);
is(IdgwTest::Terminal::error_code($r), 'IDGW-CNV-033', 'the write\'s answer is refused');
like($stack->chip_hex($ph->chip), qr/$c101->{pan}F*$c101->{expiry}/, 'the chip holds the card');

# the record
my @new = grep { !$known{$_->{id}} } @{ records() };
is(scalar @new, 1, 'one new unsettled record') or diag explain \@new;
my $rec = $new[0] // {};
is($rec->{kind}, 'chip-unconfirmed', 'kind: the final write is unconfirmed');
is($rec->{op}, 'add_card', 'its operation');
is($rec->{chip}, 'written-unconfirmed', 'what the chip was known to hold');
like($rec->{cid} // '', qr/^idgw-[0-9a-f]{32}$/, 'the correlation id the backends know');
is($rec->{idm}, uc $ph->idm, 'the chip\'s IDm');
is($rec->{card}, 'C101', 'the card as its source names it (the abort notice could not say)');
is($rec->{slot}, '1', 'the chip slot the write went to (the app counts from 0, backends from 1)');
like($rec->{terminal} // '', qr/\S/, 'the terminal');
like($rec->{at} // '', qr/^\d{13}$/, 'when (ms)');
my $json = JSON::PP->new->canonical->encode($rec);
my ($token) = slurp($ph->state) =~ /^([0-9a-f]{32}) /;
unlike($json, qr/\Q$c101->{pan}\E|\Q$c101->{expiry}\E|\Q$c101->{password}\E|\Q$token\E/,
       'no card number, expiry, password or token in it');
my $log = substr(slurp($stack->run_dir . '/error.log'), $log0);
like($log, qr/IDGW0450: unsettled chip-unconfirmed recorded as $rec->{id}: add_card/,
     'logged with its id (IDGW0450)');

# show, then settle once (an entry of the settled index older than the
# settled records are kept, whose record has expired, goes with it)
redis_cli('ZADD', 'demo:settled', 1000, 'fedcba9876543210');
($rc, my $out) = tool('show', $rec->{id});
is($rc, 0, 'show') or diag $out;
like($out, qr/\Q$rec->{cid}\E/, 'show names the correlation id');
like($out, qr/card C101 slot 1/, 'show names the card and its slot');
($rc, $out) = tool('settle', '--outcome', 'written', '--by', 'ops-test', '--note',
                   'chip read: card present', $rec->{id});
is($rc, 0, 'settle') or diag $out;
like($out, qr/^IDGW0460: settled $rec->{id} \(chip-unconfirmed of add_card, correlation id \Q$rec->{cid}\E\) as written by ops-test: chip read: card present$/m,
     'settle logs IDGW0460');
ok(!grep({ $_->{id} eq $rec->{id} } @{ records() }), 'no longer unsettled');
my ($settled) = grep { $_->{id} eq $rec->{id} } @{ records('--settled') };
is($settled->{outcome} // '', 'written', 'listed as settled with its outcome');
is($settled->{settled_by} // '', 'ops-test', 'and who settled it');
is(redis_cli('ZSCORE', 'demo:settled', 'fedcba9876543210'), '',
   'the settled index drops what has aged out');
($rc, $out) = tool('settle', '--outcome', 'written', $rec->{id});
is($rc, 3, 'a second settle is refused (exit 3)') or diag $out;
($rc, $out) = tool('stats', '--json');
is(decode_json($out)->{settled_by_outcome}{written}, $stats0->{settled_by_outcome}{written} + 1,
   'counted as written');

# usage errors change nothing
($rc, $out) = tool('settle', '--outcome', 'maybe', $rec->{id});
is($rc, 2, 'an unknown outcome is a usage error') or diag $out;
($rc, $out) = tool('show', 'not-an-id');
is($rc, 2, 'a malformed id is a usage error') or diag $out;
($rc, $out) = tool('show', '0123456789abcdef');
is($rc, 3, 'an unknown id is refused') or diag $out;

done_testing;
