# Redis round trips on the steady path.  MONITOR shows what the gateway
# sends: per step one FCALL of the session script (check + transition; EVALSHA
# before Redis 7) and
# one EVALSHA of the commit script (confirmed: its reply is read before the
# answer goes out, so a step costs two round trips); per status request one
# round trip: the status read (HMGET and TIME pipelined, no script:
# modules/session/idgw_status_read.h) or, when it is not fresh, the session
# script.  Round trips are counted as Redis counts socket reads (INFO stats
# total_reads_processed).  No PING,
# no SCRIPT LOAD, no AUTH/SELECT, no plain GET/HGET.  INFO commandstats
# confirms the EVALSHA count.  A connection a child makes meanwhile sends
# its set-up once (counted apart as _CONNECT), and the access-control lists
# listener polls (_LISTS, IdgwTest::Redis::lists_listener): not per request.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use IdgwTest::Redis;

plan tests => 9;

sub reads_processed {
    return IdgwTest::Redis::cli('INFO', 'stats') =~ /total_reads_processed:(\d+)/ ? $1 : -1;
}

# script calls: EVALSHA (the fixed scripts) and FCALL (the per-request
# script, a function library on Redis 7)
sub scripts { my ($s) = @_; ($s->{EVALSHA} // 0) + ($s->{FCALL} // 0) }
sub stat_scripts { my ($s) = @_; ($s->{evalsha} // 0) + ($s->{fcall} // 0) }

my $N = 20;
my $mon = Apache::Test::vars('t_logs') . '/monitor.txt';
my $c = IdgwTest::Client->new;
$c->open_session;
$c->step('list_cards', 'request');
# warm up every child's pool so no connection is made (no script loaded) below
$c->status for 1 .. 10;

my $ok = 0;
my $stats_before = IdgwTest::Redis::command_calls();
my $sent = IdgwTest::Redis::client_commands($mon, sub {
    for (1 .. $N) { $ok++ if $c->step('list_cards', 'relay')->{status} == 200 }
});
my $stats_after = IdgwTest::Redis::command_calls();
ok t_cmp($ok, $N, "$N relay steps answered");
ok t_cmp(scripts($sent), 2 * $N, 'one session script + one confirmed commit per step');
ok t_cmp(join(',', sort grep { !/^(?:EVALSHA|FCALL|_CONNECT|_LISTS)$/ } keys %$sent), '', 'nothing else sent');
ok t_cmp(stat_scripts($stats_after) - stat_scripts($stats_before), 2 * $N, 'commandstats agree');

$ok = 0;
my ($reads_before, $reads_after);
$sent = IdgwTest::Redis::client_commands($mon, sub {
    $reads_before = reads_processed();
    for (1 .. $N) { $ok++ if $c->status->{status} == 200 }
    $reads_after = reads_processed();
});
# not the polls' reads: the INFO that read the count after, the
# access-control listener's polls and a connection's set-up (at most one
# read each: its commands may come in one)
my $others = 1 + ($sent->{_LISTS} // 0) + ($sent->{_CONNECT} // 0);
my $reads = $reads_after - $reads_before;
ok t_cmp($ok, $N, "$N status requests");
ok t_cmp(($sent->{HMGET} // 0) + scripts($sent), $N, 'each one read or one script');
ok t_cmp($sent->{TIME} // 0, $sent->{HMGET} // 0, 'each read is HMGET and TIME');
print STDERR "# $N polls: $reads socket reads at Redis (the polls, the INFO after, up to ", $others - 1, " for a listener poll or a new connection); commands: ", join(" ", map { "$_=$sent->{$_}" } sort keys %$sent), "\n";
ok t_cmp($reads <= $N + $others && $reads >= $N + 1 ? 'one' : $reads, 'one',
         'exactly one round trip each');
ok t_cmp(join(',', sort grep { !/^(?:EVALSHA|FCALL|HMGET|TIME|INFO|_CONNECT|_LISTS)$/ } keys %$sent), '',
         'nothing else sent (INFO: the test\'s own)');
