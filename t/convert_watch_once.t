# Backend notices are sent once, whoever sends them: a step that tells the
# backends itself takes the reaper's watch first (idgw_session_unwatch).
# Found by the fault campaign (net-loss on the Redis links): a completion
# told the source "written", its commit was then lost, the watch stayed,
# and once the app was gone the reaper told the source a second time.
# Here the completion's CARD_WRITTEN_REQ is answered late (the simulator's
# only=TYPE fault) and Redis refuses EVALSHA (the commit) meanwhile.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;
use POSIX ();
use Time::HiRes qw(sleep time);

my $stack = IdgwTest::Stack->up;
my %stack_env = IdgwTest::Stack::env();
my $c101 = $stack->card('C101');
my @card = ('source=cremo', "member=$c101->{member}", "password=$c101->{password}",
            'cardId=C101', 'slot=any');
my $notes = $stack->run_dir . '/sim/notifications.log';
sub notes { open my $fh, '<', $notes or return ''; local $/; return <$fh> }
sub redis_cli {
    my $out = `redis-cli -h 127.0.0.1 -p $stack_env{IDGW_DEMO_REDIS_PORT} @_ 2>/dev/null`;
    chomp $out;
    return $out;
}
sub wait_for {
    my ($cond, $secs) = @_;
    my $end = time + $secs;
    sleep 0.05 until $cond->() || time > $end;
    return $cond->();
}
END { redis_cli('ACL', 'SETUSER', 'default', '+evalsha') }

my $url = $stack->extra_gateway('watch-once', 5,
    'IdgwSessionIdleTimeout 120s' => 'IdgwSessionIdleTimeout 2s',
    '' => 'IdgwSessionReaper 1s 200ms');
my $ph = IdgwTest::Terminal->new($stack, 'watch-once', url => $url);
my $r = $ph->run('run', 'open', ',', 'issue-area');
is($r->{rc}, 0, 'open and issue the area') or diag $r->{out};

my $ok_lines = sub { my @l = notes() =~ /^cremo WRITTEN (\S+) \S+ C101 \S+ OK$/mg; @l };
my %before = map { $_ => 1 } $ok_lines->();
ok($stack->fault('cremo', 'only=CARD_WRITTEN_REQ;delay=3000', 1),
   'the completion\'s notice will be answered late');
my $pid = fork // die "fork: $!";
if (!$pid) {
    my $res = $ph->run('add-card', @card);
    POSIX::_exit($res->{rc} == 0 ? 0 : 1);
}
# the notice is in (the source wrote the card down); its answer is 3 s away
my $cid;
ok(wait_for(sub { ($cid) = grep { !$before{$_} } $ok_lines->(); $cid }, 20),
   'the completion told the source the card is written');
is(redis_cli('ACL', 'SETUSER', 'default', '-evalsha'), 'OK',
   'Redis refuses EVALSHA: the completion\'s commit will be lost');
waitpid $pid, 0;
isnt($? >> 8, 0, 'the app did not hear success');
is(redis_cli('ACL', 'SETUSER', 'default', '+evalsha'), 'OK', 'Redis takes scripts again');

# the app is gone; its session idles out (2 s) and the reaper looks (grace 1 s)
sleep 6;
my $told = () = notes() =~ /^cremo WRITTEN \Q$cid\E \S+ C101 /mg;
is($told, 1, 'the source heard about the card once, not again from the reaper')
    or diag join '', grep { /\Q$cid\E/ } split /^/, notes();
$stack->stop_extra_gateways;
done_testing;
