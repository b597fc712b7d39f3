# The lists reach every child without any request reading them
# (docs/directives.md, mod_idgw_acl, "The lists' version"):
#  - a change is announced and each child's listener reloads at once: a ban
#    and its removal apply within a few hundred milliseconds, counted as
#    idgw_acl_lists_syncs_total{trigger="announcement"};
#  - a steady request carries neither the version nor a list key to Redis;
#  - with the announcements lost (the Redis user may not use the channel: the
#    listeners cannot subscribe, the scripts' PUBLISH is refused), a change
#    still applies within IdgwAclListsMaxAge (2 s here, the default), by the
#    listeners' polls; the listeners subscribe again once they may.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;
use IdgwTest::Redis;
use Time::HiRes qw(sleep time);

sub diag { print STDERR map { "# $_\n" } split /\n/, join('', @_) }

plan tests => 14;

IdgwTest::Acl::reset_keys();
my $log_from = IdgwTest::Acl::log_size();
my $MAX_AGE = 2.0;

# idgw_acl_lists_syncs_total by "trigger:result"
sub syncs {
    my %m;
    for (split /\n/, GET('/idgw-status?format=prometheus')->content) {
        $m{"$1:$2"} = $3 if /^idgw_acl_lists_syncs_total\{trigger="([\w-]+)",result="(\w+)"\} (\d+)$/;
    }
    return \%m;
}

sub delta {
    my ($m0, $key) = @_;
    return (syncs()->{$key} // 0) - ($m0->{$key} // 0);
}

# Seconds until open_session for terminal t answers `want` (undef: never,
# within `limit` seconds).  Each try opens a fresh connection, so the tries
# spread over the children.
sub until_status {
    my ($t, $want, $limit) = @_;
    my $t0 = time;
    while (time - $t0 < $limit) {
        my $res = IdgwTest::Acl::open_session('/acl/net', xff => '10.0.0.1', terminal => $t);
        return time - $t0 if $res->{status} == $want;
        sleep 0.01;
    }
    return undef;
}

# ---- announcements ----------------------------------------------------------------
my $m0 = syncs();
my (@ban, @unban);
for my $i (1 .. 5) {
    my $t = IdgwTest::Acl::terminal();
    until_status($t, 200, 1) // die "terminal $t refused before its ban";
    IdgwTest::Acl::admin('add', 'terminal', $t, '--reason', 'push test');
    push @ban, until_status($t, 403, 3 * $MAX_AGE);
    IdgwTest::Acl::admin('remove', 'terminal', $t);
    push @unban, until_status($t, 200, 3 * $MAX_AGE);
}
my $fmt = sub { join ' ', map { defined $_ ? sprintf('%.0f ms', $_ * 1000) : 'never' } @_ };
diag 'ban applied after ', $fmt->(@ban), '; lifted after ', $fmt->(@unban);
ok t_cmp(scalar(grep { defined && $_ < $MAX_AGE } @ban, @unban), 10,
         'every ban and removal applied within IdgwAclListsMaxAge');
# A listener polls every half IdgwAclListsMaxAge (1 s): polls alone would
# make about a third of these faster than 300 ms, not nearly all of them.
ok t_cmp(scalar(grep { defined && $_ < 0.3 } @ban, @unban) >= 9 ? 'pushed' : 'slow', 'pushed',
         'at least 9 of 10 applied within 300 ms');
my $announced = delta($m0, 'announcement:reloaded');
diag "reloads on an announcement: $announced";
ok t_cmp($announced >= 10 ? 'counted' : $announced, 'counted',
         'reloads counted: idgw_acl_lists_syncs_total{trigger="announcement",result="reloaded"}');
ok t_cmp(delta($m0, 'request:reloaded') + delta($m0, 'request:current'), 0,
         'no request had to read the lists itself');

# ---- what a steady request carries ----------------------------------------------------
my %who = (xff => '10.0.0.7', terminal => IdgwTest::Acl::terminal());
my ($res, $token) = IdgwTest::Acl::open_session('/acl/steady', %who);
ok t_cmp($res->{status}, 200, 'a session to poll');
my $mon = IdgwTest::Acl::monitor_start();
IdgwTest::Acl::request(path => '/acl/steady/session/status', token => $token, %who) for 1 .. 5;
my @calls = grep { /"FCALL"/ } IdgwTest::Acl::monitor_stop($mon);
ok t_cmp(scalar(@calls), 5, 'one FCALL per status request');
ok t_cmp(scalar(grep { /acl:(ver|bl|wl|sb):/ || /acl:ver"/ } @calls), 0,
         'none carries the version or a list key');

# ---- announcements lost ------------------------------------------------------------------
# The default user (the gateway's and idgw-acl's) may no longer use any
# channel: subscriptions are refused, PUBLISH in the scripts fails (pcall:
# the change itself is written).
IdgwTest::Redis::cli('ACL', 'SETUSER', 'default', 'resetchannels');
IdgwTest::Redis::cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
my $deadline = time + 3;
sleep 0.1 until IdgwTest::Acl::log_lines(qr/IDGW0336: lists listener has no subscription/,
                                         $log_from) || time > $deadline;
ok scalar IdgwTest::Acl::log_lines(qr/IDGW0336: lists listener has no subscription.*NOPERM/,
                                   $log_from);
$m0 = syncs();
my @lost;
for my $i (1 .. 3) {
    my $t = IdgwTest::Acl::terminal();
    until_status($t, 200, 1) // die "terminal $t refused before its ban";
    my ($rc, $out) = IdgwTest::Acl::admin('add', 'terminal', $t);
    $rc == 0 or diag $out;
    push @lost, until_status($t, 403, 3 * $MAX_AGE);
}
diag 'without announcements, ban applied after ', $fmt->(@lost);
ok t_cmp(scalar(grep { defined && $_ <= $MAX_AGE + 0.3 } @lost), 3,
         'without announcements: every ban applied within IdgwAclListsMaxAge');
ok t_cmp(delta($m0, 'poll:reloaded') >= 3 ? 'polled' : 'not polled', 'polled',
         'by the listeners\' polls');

IdgwTest::Redis::cli('ACL', 'SETUSER', 'default', 'allchannels');
$m0 = syncs();
$deadline = time + 2 * $MAX_AGE;
sleep 0.1 until delta($m0, 'start:current') + delta($m0, 'start:reloaded') > 0
    || time > $deadline;
ok t_cmp(delta($m0, 'start:current') + delta($m0, 'start:reloaded') > 0 ? 'subscribed' : 'not',
         'subscribed', 'the listeners subscribe again once they may');
my $t = IdgwTest::Acl::terminal();
IdgwTest::Acl::admin('add', 'terminal', $t);
my $after = until_status($t, 403, 3 * $MAX_AGE);
diag 'after resubscribing, ban applied after ', $fmt->($after);
ok t_cmp(defined $after && $after < $MAX_AGE ? 'applied' : 'not', 'applied',
         'and announcements apply again');

ok t_cmp(IdgwTest::Acl::settle() ? 1 : 0, 1, 'sessions served');
ok !IdgwTest::Acl::log_lines(qr/AH00052|segfault|IDGW0338|IDGW0339/, $log_from);
