# mod_idgw_status: fleet-wide figures read from Redis keys, and a Redis that
# does not answer (figures marked down, the failure counted).
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestRequest qw(GET);
use Apache::TestUtil;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);

my $redis_server = `command -v redis-server 2>/dev/null`;
my $redis_cli = `command -v redis-cli 2>/dev/null`;
chomp($redis_server, $redis_cli);

plan tests => 15, need { 'redis-server and redis-cli' => ($redis_server && $redis_cli) ? 1 : 0 };

my $port = 6411;           # as in t/conf/status.conf.in
my $dir = tempdir(CLEANUP => 1);

sub cli { system($redis_cli, '-h', '127.0.0.1', '-p', $port, @_) == 0 }

sub fleet_metrics {
    my ($vhost) = @_;
    Apache::TestRequest::module($vhost // 'idgw_status_fleet');
    my $body = GET('/idgw-status?format=prometheus')->content;
    Apache::TestRequest::module('default');
    my %m;
    for (split /\n/, $body) {
        $m{$1} = $2 if !/^#/ && /^(\S+) (\S+)$/;
    }
    return (\%m, $body);
}

system($redis_server, '--port', $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
       '--daemonize', 'yes', '--pidfile', "$dir/redis.pid", '--logfile', "$dir/redis.log",
       '--dir', $dir) == 0 or die "redis-server did not start";
my $up = 0;
for (1 .. 50) {
    last if $up = (system("$redis_cli -p $port ping >/dev/null 2>&1") == 0);
    sleep 0.1;
}
die "redis-server on $port does not answer" unless $up;

system("$redis_cli -p $port sadd idgw-status-test:set t1 t2 t3 >/dev/null");
system("$redis_cli -p $port set idgw-status-test:counter 12345 >/dev/null");
system("$redis_cli -p $port hset idgw-status-test:hash a 1 b 2 >/dev/null");

my ($m) = fleet_metrics();
ok t_cmp($m->{idgw_fleet_up}, 1, 'Redis answered');
ok t_cmp($m->{'idgw_fleet_value{name="banned_terminals"}'}, 3, 'set: its size');
ok t_cmp($m->{'idgw_fleet_value{name="sessions_opened"}'}, 12345, 'string: its value');
ok t_cmp($m->{'idgw_fleet_value{name="limits"}'}, 2, 'hash: its size');
ok t_cmp($m->{'idgw_fleet_value{name="absent"}'}, 0, 'missing key: 0');

# the human page shows them too
Apache::TestRequest::module('idgw_status_fleet');
my $html = GET('/idgw-status')->content;
Apache::TestRequest::module('default');
ok t_cmp($html, qr{<tr><td>sessions_opened</td><td>12345</td></tr>}, 'HTML fleet table');

# Redis requires a password: without IdgwStatusRedisPassword the page says
# Redis is down (not zeros) and counts an auth failure; with it, figures
my $password = 'fleet-status-pw-7c41';    # as in t/conf/status.conf.in
cli('CONFIG', 'SET', 'requirepass', $password) or die 'CONFIG SET requirepass';
my ($noauth, $noauth_body) = fleet_metrics();
ok t_cmp($noauth->{idgw_fleet_up}, 0, 'NOAUTH: marked down');
ok t_cmp(scalar(grep { /^idgw_fleet_value/ } split /\n/, $noauth_body), 0, 'NOAUTH: no zeros shown');
ok t_cmp(($noauth->{'idgw_redis_errors_total{component="status_fleet",kind="auth"}'} // 0) >= 1,
         1, 'NOAUTH: counted as an auth failure');
my ($authed) = fleet_metrics('idgw_status_fleet_auth');
ok t_cmp($authed->{idgw_fleet_up}, 1, 'IdgwStatusRedisPassword: Redis answered');
ok t_cmp($authed->{'idgw_fleet_value{name="sessions_opened"}'}, 12345, 'IdgwStatusRedisPassword: figure');
my $log = do { local (@ARGV, $/) = (Apache::Test::vars('t_logs') . '/error_log'); <> };
ok $log =~ /IDGW-STATUS-012: fleet figures: Redis 127\.0\.0\.1:6411 refused TYPE: NOAUTH/
   && index($log, $password) < 0;

# Redis gone: the page still answers, says so, and counts the failure
my $pid = do { open my $fh, '<', "$dir/redis.pid" or die $!; local $/; <$fh> };
chomp $pid;
kill 'TERM', $pid;
for (1 .. 50) { last unless kill 0, $pid; sleep 0.1; }

my ($down, $body) = fleet_metrics();
ok t_cmp($down->{idgw_fleet_up}, 0, 'Redis down: marked');
ok t_cmp(scalar(grep { /^idgw_fleet_value/ } split /\n/, $body), 0, 'no stale figures');
ok t_cmp(($down->{'idgw_redis_errors_total{component="status_fleet",kind="connect"}'} // 0) >= 1,
         1, 'connection failure counted');
