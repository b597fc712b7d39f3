# The status read (modules/session/idgw_status_read.h): a status poll of a
# session its child refreshed a moment ago is answered from one pipelined
# read (HMGET + TIME, no script), shared with other requests' round trips
# (idgw_redis_batch.h).  What must not change:
#   1. most polls take the read (idgw_session_status_checks_total{path}), and
#      each is one round trip (INFO stats total_reads_processed);
#   2. the idle timer: a session polled all the time stays alive past its
#      idle timeout (the script still refreshes it), and one left alone
#      expires after it (reads do not extend it);
#   3. anything but a live, matching session goes to the script, which
#      refuses and strikes as before;
#   4. under concurrency every poll gets its own session's answer, through
#      the batcher (idgw_redis_batched_total).
# IdgwSessionIdleTimeout 2s: a read may skip the refresh for 125 ms.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use HTTP::Tiny;
use Time::HiRes qw(sleep time);
use IdgwTest::Client;
use IdgwTest::Httpd;
use IdgwTest::Redis;

plan tests => 14;

my $PORT = 8563;
my $top = Apache::Test::vars('top_dir');
my $h = IdgwTest::Httpd::start(name => 'status-read-httpd', port => $PORT, edit => sub {
    $_[0] =~ s/^IdgwSessionIdleTimeout .*$/IdgwSessionIdleTimeout 2s/m;
    $_[0] .= <<"EOC";
<IfModule !idgw_status_module>
    LoadModule idgw_status_module $top/modules/.libs/mod_idgw_status.so
</IfModule>
<Location /idgw-status>
    SetHandler idgw-status
    Require ip 127.0.0.1
</Location>
EOC
}) or die 'cannot start the status-read httpd';
my $base = "http://127.0.0.1:$PORT";

# idgw_session_status_checks_total by path, and idgw_redis_batched_total by
# count (round_trips, calls), from this instance's status page
sub checks {
    my %n = (read => 0, script => 0, round_trips => 0, calls => 0);
    my $res = HTTP::Tiny->new->get("$base/idgw-status?format=prometheus");
    for (split /\n/, $res->{content} // '') {
        $n{$1} = $2 if /^idgw_session_status_checks_total\{path="(\w+)"\} (\d+)$/
                    || /^idgw_redis_batched_total\{count="(\w+)"\} (\d+)$/;
    }
    return \%n;
}

sub reads_processed {
    return IdgwTest::Redis::cli('INFO', 'stats') =~ /total_reads_processed:(\d+)/ ? $1 : -1;
}

# 1. polls one after the other: most take the read, one round trip each
my $c = IdgwTest::Client->new(base => $base);
ok t_cmp($c->open_session->{status}, 200, 'open');
# warm-up: every child makes its pool's connections (each a few round
# trips of set-up: history, scripts) before anything is counted
$c->status for 1 .. 20;
my $N = 60;
my $k0 = checks();
my $r0 = reads_processed();
my $ok = 0;
for (1 .. $N) { $ok++ if $c->status->{status} == 200 }
my $r1 = reads_processed();
my $k1 = checks();
my ($reads, $scripts) = ($k1->{read} - $k0->{read}, $k1->{script} - $k0->{script});
print STDERR "# $N polls: $reads by the read, $scripts by the script, ",
    $r1 - $r0 - 1, " socket reads at Redis\n";
ok t_cmp($ok, $N, "$N polls answered");
ok t_cmp($reads >= $N / 2 ? 'most' : $reads, 'most', 'most of them by the read');
ok t_cmp($reads + $scripts, $N, 'every poll counted once');
# one read per poll; the access-control listener may poll beside them
ok t_cmp($r1 - $r0 - 1 <= $N + 5 ? 'one each' : $r1 - $r0 - 1, 'one each',
         'one round trip per poll (HMGET and TIME pipelined)');

# 2. the idle timer: polled every 20 ms for 3 s (1.5 idle timeouts), alive,
#    and its hash's TTL was refreshed within the last 125 ms (+ margin)
my $end = time + 3;
my $all_ok = 1;
while (time < $end) { $all_ok = 0 if $c->status->{status} != 200; sleep 0.02 }
my $pttl = IdgwTest::Redis::cli('PTTL', $c->session_key);
ok t_cmp($all_ok, 1, 'polled for 3 s with a 2 s idle timeout: alive throughout');
ok t_cmp($pttl > 1700 ? 'fresh' : $pttl, 'fresh', "idle timer refreshed (PTTL $pttl ms)");
sleep 2.3;
ok t_cmp(IdgwTest::Client::error_code($c->status), 'IDGW-SES-001',
         'left alone past the idle timeout: gone (reads never extended it)');

# 3. a binding mismatch ends the session; a matching poll then hears so
my $d = IdgwTest::Client->new(base => $base);
$d->open_session;
$d->status for 1 .. 5;
my $bad = $d->{http}->request('GET', "$base/idgw/session/status",
                              { headers => $d->headers('X-Idgw-IDm' => 'FFFFFFFFFFFFFFFF') });
ok t_cmp(IdgwTest::Client::error_code($bad), 'IDGW-SES-005', 'another chip: refused');
ok t_cmp(IdgwTest::Client::error_code($d->status), 'IDGW-SES-002',
         'then the owner\'s poll: session invalidated (the script answered)');

# 4. 8 sessions at different sequence numbers, 4 pollers each at once:
#    every answer is its own session's
my @s;
for my $i (0 .. 7) {
    my $x = IdgwTest::Client->new(base => $base);
    $x->open_session;
    $x->step('list_cards', 'request');
    $x->step('list_cards', 'relay') for 1 .. $i;
    push @s, $x;
}
my @pids;
for my $i (0 .. 7) {
    for (1 .. 4) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $x = $s[$i];
            $x->{http} = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
            my $want = $i + 1;
            for (1 .. 50) {
                my $res = $x->status;
                exit 1 unless $res->{status} == 200 && $res->{content} =~ m{<seq>$want</seq>};
            }
            exit 0;
        }
        push @pids, $pid;
    }
}
my $failed = 0;
for (@pids) { waitpid $_, 0; $failed++ if $? }
ok t_cmp($failed, 0, '32 pollers x 50 polls: every answer 200 with its own session\'s seq');
my $k2 = checks();
ok t_cmp($k2->{read} - $k1->{read} > 800 ? 'mostly reads' : $k2->{read} - $k1->{read},
         'mostly reads', 'the concurrent polls took the read');
my ($trips, $calls) = ($k2->{round_trips} - $k1->{round_trips}, $k2->{calls} - $k1->{calls});
print STDERR "# the concurrent polls: $calls batched calls in $trips round trips\n";
# (how many share one depends on how many arrive in one child at once: on
# two cores with 32 perl pollers, few; test_redis_batch shows the sharing)
ok t_cmp($calls >= 1600 && $trips > 0 && $trips <= $calls ? 'carried' : "$calls in $trips",
         'carried', 'the batcher carried the polls, in no more round trips than calls '
         . '(idgw_redis_batched_total)');
ok $h->stop;
