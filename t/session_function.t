# The per-request script runs as a Redis 7 function (FCALL): its library is
# loaded once per Redis, not on every connection, and a Redis that lost it
# (FUNCTION FLUSH, a restart without persistence) gets it again on the
# next request, which is answered as if nothing happened (one retry, like
# NOSCRIPT for EVALSHA).  A library named after another build's SHA is left
# alone: fleet nodes with different builds do not clobber each other.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use IdgwTest::Redis;

plan tests => 9;

sub libraries {
    my @names = IdgwTest::Redis::cli('FUNCTION', 'LIST') =~ /^(idgw_[0-9a-f]{40})$/mg;
    my %seen;
    return grep { !$seen{$_}++ } @names;
}

# the test Redis outlives a rebuild: earlier builds' libraries go first
IdgwTest::Redis::cli('FUNCTION', 'DELETE', $_) for libraries();
my $c = IdgwTest::Client->new;
$c->open_session;
$c->status for 1 .. 5;
my @libs = libraries();
ok t_cmp(scalar(@libs), 1, 'one idgw library loaded: ' . join(',', @libs));

# (steps: a status may be answered by a plain read, idgw_status_read.h)
$c->step('list_cards', 'request');
my $before = IdgwTest::Redis::command_calls();
my $ok = 0;
for (1 .. 10) { $ok++ if $c->step('list_cards', 'relay')->{status} == 200 }
my $after = IdgwTest::Redis::command_calls();
ok t_cmp($ok, 10, 'ten steps');
ok t_cmp(($after->{fcall} // 0) - ($before->{fcall} // 0), 10, 'each one FCALL');

# another build's library (another SHA) stays where it is
my $other = 'idgw_' . ('0' x 40);
IdgwTest::Redis::cli('FUNCTION', 'LOAD', 'REPLACE',
                     "#!lua name=$other\nredis.register_function('$other', function(k, a) return 1 end)");

# the library lost: the next request loads it again and is answered
IdgwTest::Redis::cli('FUNCTION', 'DELETE', $libs[0]);
ok t_cmp(scalar(grep { $_ eq $libs[0] } libraries()), 0, 'library deleted');
my $res = $c->step('list_cards', 'relay');
ok t_cmp($res->{status}, 200, 'the request after the loss is answered');
ok t_cmp(scalar(grep { $_ eq $libs[0] } libraries()), 1, 'the library is back');
$ok = 0;
for (1 .. 5) { $ok++ if $c->status->{status} == 200 }
ok t_cmp($ok, 5, 'and serves the requests after it');
ok t_cmp(scalar(grep { $_ eq $other } libraries()), 1, "another build's library left alone");
# a step (sequence check and transition) runs through the function too
ok t_cmp($c->step('list_cards', 'complete')->{status}, 200, 'a step after the reload');
IdgwTest::Redis::cli('FUNCTION', 'DELETE', $other);
