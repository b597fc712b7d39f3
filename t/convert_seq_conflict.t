# Two requests of one session with one sequence number and different bodies,
# sent at once (issue 11, item 5): both get the sequence error IDGW-SEQ-003,
# never a 500; the operation ends cleanly (the session is ended, the backends
# were told to abort what the first request had started, the chip is
# untouched), 20 times in a row.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Copy qw(copy);
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $run = $stack->run_dir;
sub slurp { open my $fh, '<', $_[0] or return ''; local $/; return scalar <$fh> }

my $c101 = $stack->card('C101');
my $c102 = $stack->card('C102') || $c101;
sub body {
    my ($c, $id) = @_;
    return '<?xml version="1.0" encoding="UTF-8"?><add_card version="1"><source>cremo</source>'
        . "<member>$c->{member}</member><password>$c->{password}</password>"
        . "<cardId>$id</cardId><slot>any</slot></add_card>";
}
my @bodies = (body($c101, 'C101'), body($c101, 'C101') =~ s/<slot>any</<slot>1</r);

my $ph = IdgwTest::Terminal->new($stack, 'conflict');
is($ph->run('run', 'open', ',', 'issue-area', ',', 'close')->{rc}, 0, 'a phone with its area');
my $empty = $stack->chip_hex($ph->chip);

sub line_with_state {
    my ($st, $b) = @_;
    my @args = $ph->args;
    for my $i (0 .. $#args - 1) { $args[$i + 1] = $st if $args[$i] eq '--state' }
    return join ' ', map { IdgwTest::Terminal::quote($_) } $stack->terminal, @args,
        'raw', 'add_card', 'request', $b;
}

my $simlog = "$run/sim/error.log";
my %seen;
my $tries = 20;
for my $try (1 .. $tries) {
    is($ph->run('open')->{rc}, 0, "try $try: open") or next;
    my $before = length slurp($simlog);
    # the second request must arrive while the first runs its backends
    $stack->fault('felica', 'delay=300', 1);
    my @fh;
    for my $k (0, 1) {
        my $st = $ph->state . ".c$k";
        copy($ph->state, $st) or die $!;
        open $fh[$k], '-|', line_with_state($st, $bodies[$k]) . ' 2>&1' or die $!;
    }
    my @res = map { local $/; my $o = readline($_); close $_; $o } @fh;
    $stack->fault('felica', 'none');
    my @codes = map { /^(\d{3}) (\S+) retry-after=/m ? "$1 $2" : "none" } @res;
    $seen{$_}++ for @codes;
    is_deeply([ sort @codes ], [ '409 IDGW-SEQ-003', '409 IDGW-SEQ-003' ],
              "try $try: both get the sequence error") or diag join "\n", @res;
    select undef, undef, undef, 0.2;
    my $new = substr(slurp($simlog), $before);
    my $starts = () = $new =~ /FELICA_START_REQ/g;
    my $aborts = () = $new =~ /CARD_WRITTEN_REQ/g;
    ok($starts <= 1 && $aborts == $starts, "try $try: what was started was aborted "
       . "($starts started, $aborts abort notices)") or diag $new;
    like($ph->run('status')->{out}, qr/-> 403 IDGW-SES-002/, "try $try: the session is ended");
}
ok(!grep({ /^5/ } keys %seen), 'never a 5xx') or diag explain \%seen;
is($stack->chip_hex($ph->chip), $empty, 'the chip is untouched');

done_testing();
