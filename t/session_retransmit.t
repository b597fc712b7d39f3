# Retransmission of the last accepted message gets the stored answer; a
# failed or unanswered step; concurrent requests on one session: exactly one
# transition wins.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use IdgwTest::Redis;
use POSIX ();

plan tests => 24;

my $c = IdgwTest::Client->new;
$c->open_session;
my $first = $c->step('add_card', 'request', body => 'card=4980000011112222');
my $again = $c->step('add_card', 'request', seq => 1, body => 'card=4980000011112222');
ok t_cmp($again->{status}, 200, 'retransmission answered');
ok t_cmp($again->{content}, $first->{content}, 'the very same answer (same nonce)');
ok t_cmp($again->{headers}{'x-idgw-replay'}, '1', 'marked as replay');
ok !defined $first->{headers}{'x-idgw-replay'};
my $relay = $c->step('add_card', 'relay');
ok t_cmp($c->step('add_card', 'relay', seq => 2)->{content}, $relay->{content}, 'relay replayed');
ok t_cmp($c->step('add_card', 'relay')->{status}, 200, 'the sequence goes on');

# a failing step: the operation ends, the failure is the stored answer
my $fail = $c->step('add_card', 'complete', query => 'fail=1');
ok t_cmp($fail->{status}, 502, 'handler failure');
ok t_cmp($c->step('add_card', 'complete', seq => 4, query => 'fail=1')->{content},
         $fail->{content}, 'failure replayed');
ok $c->status->{content} =~ m{<state>ready</state>};

# a handler that never commits: aborted for it after the response
ok t_cmp($c->step('delete_card', 'request', query => 'nocommit=1')->{status}, 200);
select undef, undef, undef, 0.2;
ok $c->status->{content} =~ m{<state>ready</state>};

# an unanswered claim blocks its retry for the lease, then the step runs again
$c->step('set_main', 'request');
my $seq = $c->seq;
IdgwTest::Redis::cli('HSET', $c->session_key, 'ans', '', 'pt', int(time * 1000));
my $pending = $c->step('set_main', 'request', seq => $seq);
ok t_cmp($pending->{status}, 503, 'pending');
ok t_cmp(IdgwTest::Client::error_code($pending), 'IDGW-SEQ-004');
ok t_cmp($pending->{headers}{'retry-after'}, '1');
IdgwTest::Redis::cli('HSET', $c->session_key, 'pt', '0');
my $reclaimed = $c->step('set_main', 'request', seq => $seq);
ok t_cmp($reclaimed->{status}, 200, 'reclaimed after the lease');
ok !defined $reclaimed->{headers}{'x-idgw-replay'};

# concurrent identical requests: one runs, the others wait or get its answer
sub concurrently {
    my ($n, $make) = @_;
    my @kids;
    for my $i (1 .. $n) {
        pipe my $r, my $w or die $!;
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            close $r;
            my $res = $make->($i);
            print {$w} join("\t", $res->{status}, $res->{headers}{'x-idgw-replay'} // 0,
                            IdgwTest::Client::error_code($res), $res->{content} =~ s/\s+/ /gr);
            close $w;
            POSIX::_exit(0);
        }
        close $w;
        push @kids, [$pid, $r];
    }
    my @out;
    for my $k (@kids) {
        my $fh = $k->[1];
        my $line = do { local $/; <$fh> };
        waitpid $k->[0], 0;
        push @out, [split /\t/, $line // '', 4];
    }
    return @out;
}

$c = IdgwTest::Client->new;
$c->open_session;
$c->step('list_cards', 'request');
my @out = concurrently(8, sub {
    $c->step('list_cards', 'relay', seq => 2, body => 'same', query => 'sleep=300') });
my @fresh = grep { $_->[0] == 200 && !$_->[1] } @out;
my @replay = grep { $_->[0] == 200 && $_->[1] } @out;
my @busy = grep { $_->[0] == 503 && $_->[2] eq 'IDGW-SEQ-004' } @out;
ok t_cmp(scalar @fresh, 1, 'exactly one request ran the step');
ok t_cmp(@replay + @busy, 7, 'the others waited or got its answer');
ok !grep { $_->[3] ne $fresh[0][3] } @replay;
ok $c->status->{content} =~ m{<seq>2</seq>};
ok t_cmp($c->step('list_cards', 'relay', seq => 3)->{status}, 200, 'and it goes on');

# concurrent different requests with one sequence number: one claims the
# step, the others are sequence errors that end the session, and the session
# ends under the claimant too: its commit is refused and it answers the same
# sequence error (never a 200 that no state backs)
$c = IdgwTest::Client->new;
$c->open_session;
@out = concurrently(6, sub {
    my $i = shift;
    $c->step('display_data', 'request', seq => 1, body => "issuer=$i", query => 'sleep=100') });
@fresh = grep { $_->[0] == 200 } @out;
ok t_cmp(scalar @fresh, 0, 'no 200: the step lost its session while it ran');
ok t_cmp(scalar(grep { $_->[2] eq 'IDGW-SEQ-003' || $_->[2] eq 'IDGW-SES-002' } @out), 6,
         'all were refused as sequence errors');
ok t_cmp(IdgwTest::Redis::cli('HGET', $c->session_key, 'st'), 'dead', 'session invalidated');
