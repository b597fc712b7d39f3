# The invariants over everything the suite did: no answer carried a PAN or an
# expiry (each test's terminal checked every answer and header; here we prove
# that check bites), card data held during an operation is only sealed in
# Redis, and no log file holds a card number, expiry, password or token.
# Named zz so that it runs after the other convert tests.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $c101 = $stack->card('C101');
my @cards = IdgwTest::Stack::cardholders();

# the terminal's leak check bites: a string every open answer carries
{
    my $ph = IdgwTest::Terminal->new($stack, 'leakcheck');
    my $fake = $stack->phones_dir . "/fake-secrets-$$";
    open my $fh, '>', $fake or die $!;
    print {$fh} "<token>\n";
    close $fh;
    my @args = map { $_ eq $stack->secrets ? $fake : $_ } $ph->args;
    my $line = join ' ', map { IdgwTest::Terminal::quote($_) } $stack->terminal, @args, 'open';
    my $out = `$line 2>&1`;
    is($? >> 8, 3, 'an answer holding a listed string makes the terminal fail (exit 3)')
        or diag $out;
    unlink $fake;
}

# during an operation the card is in Redis only sealed
{
    my $ph = IdgwTest::Terminal->new($stack, 'sealed');
    my $r = $ph->run('run', 'open', ',', 'issue-area');
    is($r->{rc}, 0, 'open and issue the area');
    $r = $ph->run({ opts => [ '--vanish-after', 1 ] }, 'add-card', 'source=cremo',
                  "member=$c101->{member}", "password=$c101->{password}", 'cardId=C101',
                  'slot=any');
    like($r->{out}, qr/vanishes/, 'an add_card stopped in the middle of its relay');
    my $port = { IdgwTest::Stack::env() }->{IDGW_DEMO_REDIS_PORT};
    my $dump = '';
    for my $key (split /\n/, `redis-cli -p $port --scan`) {
        my $type = `redis-cli -p $port type '$key'`;
        chomp $type;
        $dump .= $type eq 'hash' ? `redis-cli -p $port --no-raw hgetall '$key'`
               : $type eq 'string' ? `redis-cli -p $port --no-raw get '$key'` : '';
    }
    ok(length $dump > 0, 'Redis holds the session');
    unlike($dump, qr/$c101->{pan}/, 'but not the PAN in clear');
    unlike($dump, qr/$c101->{password}/, 'nor the password');
    unlike($dump, qr/TARO YAMADA/, 'nor the holder name');
}

# no log holds card data, passwords or session tokens
{
    my @tokens;
    for my $state (glob($stack->phones_dir . '/*.state')) {
        open my $fh, '<', $state or next;
        my ($tok) = <$fh> =~ /^([0-9a-f]{32})/;
        push @tokens, $tok if $tok;
    }
    my @secrets = ((map { $_->{pan} } @cards), (map { $_->{password} } @cards), @tokens);
    my @logs = $stack->log_files;
    ok(@logs >= 3, 'the gateway error and access logs and the simulators\' log are there');
    my $found = 0;
    for my $log (@logs) {
        open my $fh, '<', $log or next;
        my $text = do { local $/; <$fh> };
        for my $s (@secrets) {
            if (index($text, $s) >= 0) {
                $found++;
                diag "$log holds a secret (" . length($s) . ' characters)';
            }
        }
        for my $c (@cards) {
            $found++ if $text =~ /\b$c->{expiry}\b/ && $text =~ /expir\w*\W+$c->{expiry}/;
        }
    }
    is($found, 0, 'no PAN, password, expiry or session token in any log');
    ok(@tokens > 0, 'session tokens were collected to look for (' . scalar(@tokens) . ')');
}

done_testing();
