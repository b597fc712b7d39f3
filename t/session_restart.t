# httpd graceful restart in the middle of a session: the session goes on.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use Time::HiRes qw(sleep time);

plan tests => 6;

my $logs = Apache::Test::vars('t_logs');
sub count_reloads {
    my $log = do { local (@ARGV, $/) = ("$logs/error_log"); <> };
    return scalar(() = $log =~ /resuming normal operations/g);
}

my $c = IdgwTest::Client->new;
my $opened = $c->open_session;
print STDERR "# open: $opened->{status} ", IdgwTest::Client::error_code($opened), "\n" if $opened->{status} != 200;
my $res = $c->step('restore_card', 'request', body => 'card=4980555566667777');
print STDERR "# request: $res->{status} ", IdgwTest::Client::error_code($res), "\n" if $res->{status} != 200;
$res = $c->step('restore_card', 'relay');
ok t_cmp($res->{status}, 200, 'before the restart')
    or print STDERR "# relay: $res->{status} ", IdgwTest::Client::error_code($res), "\n";

my $reloads = count_reloads();
open my $fh, '<', "$logs/httpd.pid" or die "httpd.pid: $!";
chomp(my $pid = <$fh>);
ok kill 'USR1', $pid;
my $deadline = time + 15;
sleep 0.2 while count_reloads() == $reloads && time < $deadline;
ok count_reloads() > $reloads;    # graceful restart done
sleep 0.3;

ok t_cmp($c->step('restore_card', 'relay')->{status}, 200, 'after the restart');
$res = $c->step('restore_card', 'complete');
ok t_cmp($res->{content}, qr{<last4>7777</last4>}, 'vault survived the restart');
ok t_cmp($c->close_session->{status}, 200);
