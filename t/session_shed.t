# Load shedding before Redis saturates (issue 12, item 5).
#
# A flood of cheap requests (session/status and sequence errors) from
# sessions an attacker opened, beside an honest story:
#  - on /idgw (no shedding) every flood request costs Redis an EVALSHA
#    (INFO commandstats delta >= requests sent): the old behaviour;
#  - IdgwShedLocalLimit session / addr (t/conf/shed.conf.in) cut what reaches
#    Redis to what the per-child limiters let through (bounded by ServerLimit
#    children x (burst + rate x elapsed)), the rest refused 429 IDGW-SRV-004
#    with Retry-After and no Redis command, while the honest story passes;
#  - with Redis slowed down (a client running a 100 ms busy Lua script in a
#    loop), IdgwShedLatency sheds session/status (503 IDGW-SRV-005) while
#    provisioning steps still pass; once Redis is fast again status passes.
# Counters: idgw_shed_total{class,reason} on /idgw-status.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_cmp t_debug);
use FindBin;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use IdgwTest::Redis;

plan tests => 33;

my $CHILDREN = 4;       # ServerLimit in t/conf/extra.conf.in
my $FLOODERS = 3;       # attacker processes
my $PER_FLOODER = 100;  # requests each, after its open

# script calls: EVALSHA, or FCALL for the per-request function (Redis 7)
# and status reads (HMGET + TIME, no script: idgw_status_read.h), counted by
# the gateway: what reached Redis
sub status_reads {
    my $body = GET('/idgw-status?format=prometheus')->content;
    return $body =~ /^idgw_session_status_checks_total\{path="read"\} (\d+)/m ? $1 : 0;
}
sub evalsha {
    my $c = IdgwTest::Redis::command_calls();
    return ($c->{evalsha} // 0) + ($c->{fcall} // 0) + status_reads();
}

sub shed_total {
    my ($class, $reason) = @_;
    my $body = GET('/idgw-status?format=prometheus')->content;
    return $body =~ /^idgw_shed_total\{class="\Q$class\E",reason="\Q$reason\E"\} (\d+)/m
         ? $1 : 0;
}

# One attacker, its session open ($c, at the prefix, from its address):
# alternates status requests and steps with a wrong sequence number.  Prints
# "sent ok refused_local other retry_after_missing" to $wfh.
sub flooder {
    my ($c, $wfh) = @_;
    my %n = (sent => 1, local => 0, other => 0, noretry => 0);
    for my $i (1 .. $PER_FLOODER) {
        my $res = $i % 2 ? $c->status : $c->step('list_cards', 'relay', seq => 7);
        $n{sent}++;
        if (IdgwTest::Client::error_code($res) eq 'IDGW-SRV-004' && $res->{status} == 429) {
            $n{local}++;
            $n{noretry}++ unless ($res->{headers}{'retry-after'} // '') =~ /^[1-9]\d*$/;
        } else {
            $n{other}++;
        }
    }
    print $wfh "$n{sent} $n{local} $n{other} $n{noretry}\n";
    close $wfh;
}

# Runs the flood ($addr_of->(i) for attacker i) and, meanwhile, $honest.
# Returns (total sent, refused locally, retry-after missing, seconds, evalsha delta).
sub flood {
    my ($prefix, $addr_of, $honest) = @_;
    my (@pids, @rfh);
    my $before = evalsha();
    my $t0 = time;
    # every attacker has its session before any floods: a flood that began
    # first would spend the address's burst on another attacker's open
    my @c = map {
        my $c = IdgwTest::Client->new(base => IdgwTest::Client::base_url() . $prefix,
                                      xff => $addr_of->($_));
        $c->open_session;
        $c;
    } 1 .. $FLOODERS;
    for my $i (1 .. $FLOODERS) {
        pipe(my $r, my $w) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $r;
            flooder($c[$i - 1], $w);
            exit 0;
        }
        close $w;
        push @pids, $pid;
        push @rfh, $r;
    }
    $honest->() if $honest;
    my ($sent, $local, $noretry) = (0, 0, 0);
    for my $r (@rfh) {
        my ($s, $l, $o, $nr) = split ' ', (<$r> // '0 0 0 0');
        $sent += $s; $local += $l; $noretry += $nr;
    }
    waitpid $_, 0 for @pids;
    my $secs = time - $t0;
    return ($sent, $local, $noretry, $secs, evalsha() - $before);
}

# The honest story: open, list cards (request, 2 relays, complete), status.
sub honest_story {
    my ($prefix, $addr) = @_;
    my $c = IdgwTest::Client->new(base => IdgwTest::Client::base_url() . $prefix, xff => $addr);
    my @res = ($c->open_session, $c->operation('list_cards', 2), $c->status);
    return scalar grep { $_->{status} == 200 } @res;
}

# what Redis can see at most: each child's limiter lets burst + rate x t
# through per key (the opens are not limited per session)
sub bound {
    my ($keys, $burst, $rate, $secs) = @_;
    return int($keys * $CHILDREN * ($burst + $rate * $secs) + 0.999);
}

# ---- 1. no shedding: the flood's full command rate reaches Redis ----------------
{
    my ($sent, $local, undef, $secs, $calls) = flood('', sub { '10.66.0.1' });
    ok t_cmp($local, 0, 'without shedding nothing is refused locally');
    ok $calls >= $sent
        or t_debug("without shedding Redis ran $calls scripts for $sent requests");
    t_debug(sprintf 'no shedding: %d requests in %.2f s, %d EVALSHA', $sent, $secs, $calls);
}

# ---- 2. per session -------------------------------------------------------------------
{
    my $honest_ok;
    my $shed_before = shed_total('step', 'session_limit') + shed_total('status', 'session_limit');
    my ($sent, $local, $noretry, $secs, $calls) =
        flood('/shed-s', sub { "10.67.0.$_[0]" },
              sub { $honest_ok = honest_story('/shed-s', '10.1.0.7') });
    my $max = bound($FLOODERS, 5, 2, $secs) + $FLOODERS + 2 * 6;    # + opens + honest story
    t_debug(sprintf 'per session: %d requests in %.2f s, %d refused locally, %d EVALSHA '
            . '(bound %d)', $sent, $secs, $local, $calls, $max);
    ok t_cmp($honest_ok, 6, 'honest story beside the flood: every request answered 200');
    ok $local > $sent / 2 or t_debug("only $local of $sent refused locally");
    ok $calls <= $max or t_debug("Redis ran $calls scripts, bound $max");
    ok $calls < $sent / 2 or t_debug("Redis ran $calls scripts for $sent requests");
    ok t_cmp($noretry, 0, 'every 429 says Retry-After');
    my $counted = shed_total('step', 'session_limit') + shed_total('status', 'session_limit')
                - $shed_before;
    ok t_cmp($counted, $local, 'idgw_shed_total{reason="session_limit"} counts them');
}

# ---- 3. per address --------------------------------------------------------------------
{
    my $honest_ok;
    my ($sent, $local, $noretry, $secs, $calls) =
        flood('/shed-a', sub { '10.68.0.1' },
              sub { $honest_ok = honest_story('/shed-a', '10.1.0.8') });
    my $max = bound(1, 10, 10, $secs) + 2 * 6;
    t_debug(sprintf 'per address: %d requests in %.2f s, %d refused locally, %d EVALSHA '
            . '(bound %d)', $sent, $secs, $local, $calls, $max);
    ok t_cmp($honest_ok, 6, 'honest story from another address: every request answered 200');
    ok $local > $sent / 2 or t_debug("only $local of $sent refused locally");
    ok $calls <= $max or t_debug("Redis ran $calls scripts, bound $max");
    ok t_cmp($noretry, 0, 'every 429 says Retry-After');
    ok shed_total('status', 'address_limit') > 0;
}

# ---- 3b. per address behind a carrier NAT pool ---------------------------------------
# 20 honest phones share the pool address 10.70.0.1 with one attacker (the
# same address, $FLOODERS sessions): the address limit is sized for the pool's
# 100 subscribers, so the phones pass and only the attackers' sessions are
# limited (per session).  Sized as one phone, the address limit (10/s burst 10
# per child) sheds the phones' 120 requests.
{
    my $honest_ok = 0;
    my $before_addr = shed_total('status', 'address_limit') + shed_total('step', 'address_limit')
                    + shed_total('open', 'address_limit');
    my ($sent, $local, $noretry, $secs, $calls) =
        flood('/shed-n', sub { '10.70.0.1' },
              sub { $honest_ok += honest_story('/shed-n', '10.70.0.1') for 1 .. 20 });
    my $addr_shed = shed_total('status', 'address_limit') + shed_total('step', 'address_limit')
                  + shed_total('open', 'address_limit') - $before_addr;
    t_debug(sprintf 'NAT pool: %d flood requests in %.2f s, %d refused locally, '
            . '%d address refusals, honest %d of 120', $sent, $secs, $local, $addr_shed,
            $honest_ok);
    ok t_cmp($honest_ok, 120, '20 honest phones behind the NAT address: every request 200');
    ok t_cmp($addr_shed, 0, 'no address_limit refusal for the pool address');
    ok $local > $sent / 2 or t_debug("only $local of $sent flood requests refused locally");
    ok t_cmp($noretry, 0, 'every 429 says Retry-After');
}

# ---- 3c. beside mod_idgw_acl: shedding is not an ACL denial -----------------------------
sub acl_rate_denials {
    my $body = GET('/idgw-status?format=prometheus')->content;
    return $body =~ /^idgw_acl_denials_total\{reason="rate_limit"\} (\d+)/m ? $1 : 0;
}
{
    my $acl_before = acl_rate_denials();
    my $shed_before = shed_total('step', 'session_limit') + shed_total('status', 'session_limit');
    my ($sent, $local) = flood('/shed-c', sub { "10.71.0.$_[0]" });
    my $shed = shed_total('step', 'session_limit') + shed_total('status', 'session_limit')
             - $shed_before;
    my $acl = acl_rate_denials() - $acl_before;
    t_debug("beside the ACL: $local of $sent shed, shed_total +$shed, acl rate_limit +$acl");
    ok $local > $sent / 2 or t_debug("only $local of $sent refused locally");
    ok t_cmp($acl, 0, 'idgw_acl_denials_total{reason="rate_limit"} does not count shedding');
}

# the error log says so, rate-limited
{
    my $log = Apache::Test::vars('t_logs') . '/error_log';
    open my $fh, '<', $log or die "$log: $!";
    my @lines = grep { /IDGW0170/ } <$fh>;
    close $fh;
    ok @lines > 0 or t_debug('no IDGW0170 line');
    ok @lines < 40 or t_debug(scalar(@lines) . ' IDGW0170 lines: not rate-limited');
}

# ---- 4. latency: status shed, steps go on -----------------------------------------------

# A client that keeps Redis busy: a Lua script spinning 100 ms, again and
# again, until killed (or 15 s at most, should the test die).
sub slow_redis {
    my $pid = fork // die "fork: $!";
    return $pid if $pid;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => IdgwTest::Redis::PORT,
                                  Proto => 'tcp') or exit 1;
    my $lua = "local t=redis.call('TIME') local s=t[1]*1000000+t[2] "
            . "while true do local n=redis.call('TIME') "
            . "if n[1]*1000000+n[2]-s>=100000 then break end end return 1";
    my $cmd = sprintf "*3\r\n\$4\r\nEVAL\r\n\$%d\r\n%s\r\n\$1\r\n0\r\n", length $lua, $lua;
    my $end = time + 15;
    while (time < $end) {
        print $s $cmd or last;
        defined(my $line = <$s>) or last;
    }
    exit 0;
}

{
    my $c = IdgwTest::Client->new(base => IdgwTest::Client::base_url() . '/shed-l',
                                  xff => '10.1.0.9');
    $c->open_session;
    ok t_cmp($c->step('list_cards', 'request')->{status}, 200, 'story started, Redis fast');
    my $before = shed_total('status', 'redis_latency');
    my $slow = slow_redis();
    sleep 0.2;
    my ($steps, $steps_ok, $status, $shed, $noretry) = (0, 0, 0, 0, 0);
    for (1 .. 12) {
        $steps++;
        $steps_ok++ if $c->step('list_cards', 'relay')->{status} == 200;
        for (1 .. 5) {
            my $res = $c->status;
            $status++;
            if ($res->{status} == 503 && IdgwTest::Client::error_code($res) eq 'IDGW-SRV-005') {
                $shed++;
                $noretry++ unless ($res->{headers}{'retry-after'} // '') =~ /^[1-9]\d*$/;
            }
        }
    }
    kill 'TERM', $slow;
    waitpid $slow, 0;
    t_debug("Redis slow: $steps_ok of $steps steps passed, $shed of $status status shed");
    ok t_cmp($steps_ok, $steps, 'every provisioning step passed while Redis was slow');
    ok $shed >= $status / 2 or t_debug("only $shed of $status status requests shed");
    ok t_cmp($noretry, 0, 'every shed answer says Retry-After');
    ok t_cmp(shed_total('status', 'redis_latency') - $before, $shed,
             'idgw_shed_total{class="status",reason="redis_latency"} counts them');
    ok t_cmp($c->step('list_cards', 'complete')->{status}, 200, 'the story completes');

    # Redis fast again: after a probe interval, each child lets one status
    # request through; its fast round trip ends the shedding
    sleep 1.3;
    my @late = map { $c->status->{status} } 1 .. 12;
    t_debug("after the slowness: @late");
    ok t_cmp(join(',', @late[6 .. 11]), join(',', (200) x 6), 'status passes again');
    ok t_cmp($c->close_session->{status}, 200, 'session closed');

    my $log = Apache::Test::vars('t_logs') . '/error_log';
    open my $fh, '<', $log or die "$log: $!";
    my @lines = grep { /IDGW0171/ } <$fh>;
    close $fh;
    ok @lines > 0 or t_debug('no IDGW0171 line');
    ok @lines <= $CHILDREN * 4 or t_debug(scalar(@lines) . ' IDGW0171 lines');
}

# the steady path is untouched where nothing is configured
{
    my $c = IdgwTest::Client->new;
    $c->open_session;
    my $before = evalsha();
    my $ok = grep { $_->{status} == 200 } map { $c->status } 1 .. 10;
    ok t_cmp($ok, 10, 'status without shedding');
    ok t_cmp(evalsha() - $before, 10, 'one script or status read each');
}
