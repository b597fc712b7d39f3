# The terminal simulator's concurrent mode, as the benchmark uses it: N phones
# run the story at the same time against one gateway, every phone completes,
# and per-step latencies are reported.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $ph = IdgwTest::Terminal->new($stack, 'bench');
my $dir = $stack->phones_dir;
unlink glob("$dir/conc-*.img");
my @args = grep { $_ ne '--state' && $_ !~ /\.state$/ } $ph->args;
s/^\Q${\ $ph->chip}\E$/$dir\/conc-%d.img/ for @args;
my $line = join ' ', map { IdgwTest::Terminal::quote($_) } $stack->terminal, @args,
    '--idm', '012E4CFFFF000000', '--concurrent', 6, 'story';
my $out = `$line 2>&1`;
is($? >> 8, 0, 'six phones run the story at once') or diag $out;
like($out, qr/6 phones, 6 completed/, 'all complete');
like($out, qr/^relay\s+\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+$/m, 'relay latencies reported');
like($out, qr/^request\s+\d+/m, 'request latencies reported');
my @imgs = glob("$dir/conc-*.img");
is(scalar @imgs, 6, 'one chip image per phone');
my $s401 = $stack->card('C401');
is(scalar(grep { $stack->chip_hex($_) =~ /$s401->{pan}/ } @imgs), 6,
   'every chip ends holding the card its story left');

done_testing();
