# Two httpd instances sharing one Redis, a session alternating between them
# (a retransmission may land on the other instance, too).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use IdgwTest::Httpd;

plan tests => 11;

my $PORT2 = 8560;
my $second = IdgwTest::Httpd::start(name => 'second-httpd', port => $PORT2)
    or die "cannot start the second httpd";

my $a = IdgwTest::Client->new;
my $b = IdgwTest::Client->new(base => "http://127.0.0.1:$PORT2",
                              terminal => $a->terminal, idm => $a->{idm});
ok t_cmp($a->open_session->{status}, 200, 'opened on instance 1');
$b->{token} = $a->token;

my @order = ($b, $a, $b, $a, $b);
my @steps = (['add_card', 'request', 'card=4980111122223333'], ['add_card', 'relay'],
             ['add_card', 'relay'], ['add_card', 'complete'], ['display_data', 'request']);
my $seq = 0;
for my $i (0 .. $#steps) {
    my ($op, $step, $body) = @{ $steps[$i] };
    my $res = $order[$i]->step($op, $step, seq => ++$seq, (defined $body ? (body => $body) : ()));
    ok t_cmp($res->{status}, 200, "step $seq on instance " . ($order[$i] == $a ? 1 : 2));
    if ($step eq 'complete') {
        ok t_cmp($res->{content}, qr{<last4>3333</last4>}, 'vault shared');
    }
}
# a retransmission on the other instance gets the stored answer
my $last = $b->step('display_data', 'request', seq => $seq, body => 'x');
ok t_cmp($last->{status}, 409, 'other body on the other instance: sequence error');
my $c = IdgwTest::Client->new;
$c->open_session;
my $r1 = $c->step('display_data', 'request');
my $c2 = IdgwTest::Client->new(base => "http://127.0.0.1:$PORT2", terminal => $c->terminal,
                               idm => $c->{idm});
$c2->{token} = $c->token;
my $r2 = $c2->step('display_data', 'request', seq => 1);
ok t_cmp($r2->{content}, $r1->{content}, 'retransmission answered by the other instance');
ok t_cmp($r2->{headers}{'x-idgw-replay'}, '1');

ok $second->stop;    # second instance stopped
