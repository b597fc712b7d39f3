# The correlation id the backends see is not the session id (issue 11, item
# 9): every telegram of one gateway session carries the same id, it neither
# equals nor contains the session id (SHA-256 of the token, which names the
# Redis keys), its logged prefix or the token, and another session gets
# another id.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(sha256_hex);
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $simlog = $stack->run_dir . '/sim/error.log';
sub slurp { open my $fh, '<', $_[0] or return ''; local $/; return scalar <$fh> }

my $c101 = $stack->card('C101');
my @cremo = ('source=cremo', "member=$c101->{member}", "password=$c101->{password}",
             'cardId=C101', 'slot=any');

# one session: open, issue the area, add a card, list; the ids the simulators
# recorded for it, and the session's token (from the terminal's state file)
sub one_session {
    my ($name) = @_;
    my $ph = IdgwTest::Terminal->new($stack, $name);
    my $before = length slurp($simlog);
    is($ph->run('run', 'open', ',', 'issue-area', ',', 'add-card', @cremo, ',', 'list')->{rc}, 0,
       "$name: a story of several operations");
    my ($token) = slurp($ph->state) =~ /^(\S+)/;
    is($ph->run('close')->{rc}, 0, "$name: close");
    select undef, undef, undef, 0.3;
    my @ids = map { /corr=(\S+)/ ? $1 : () } grep { /IDGWSIM0004/ }
        split /\n/, substr(slurp($simlog), $before);
    return ($token, @ids);
}

my ($token, @ids) = one_session('corr-a');
ok(@ids >= 6, 'the backends got several telegrams') or diag scalar @ids;
my %distinct = map { $_ => 1 } @ids;
is(scalar keys %distinct, 1, 'all of them carry one correlation id') or diag join ' ', keys %distinct;
my ($cid) = keys %distinct;
my $sid = substr(sha256_hex($token), 0, 32);
ok(length $token == 32 && length $sid == 32, 'token and session id known');
unlike(lc $cid, qr/\Q$sid\E/, 'the id does not contain the session id');
unlike(lc $cid, qr/\Q${\ substr($sid, 0, 8)}\E/, 'nor the session id\'s logged prefix');
unlike(lc $cid, qr/\Q${\ lc $token}\E/, 'nor the token');
like($cid, qr/^[A-Za-z0-9_-]{8,64}$/, 'a valid correlation id');

my ($token2, @ids2) = one_session('corr-b');
my %d2 = map { $_ => 1 } @ids2;
is(scalar keys %d2, 1, 'the second session: one id too');
isnt((keys %d2)[0], $cid, 'another session, another correlation id');

done_testing();
