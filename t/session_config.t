# Bad directive values stop httpd with a message naming the directive; a
# key file others may read, or a Sentinel list without a master name, fail
# the config test too (httpd -t: directives and check_config, no post_config),
# so "apache2ctl configtest && graceful" never takes the server down.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Httpd;

my @syntax = (
    ['IdgwSessionAddressPolicy strict', qr/IdgwSessionAddressPolicy 'strict': expected off, log or enforce/],
    ['IdgwRedisTimeout 10x',            qr/IdgwRedisTimeout '10x': expected a duration/],
    ['IdgwRedisTimeout 2h',             qr/IdgwRedisTimeout '2h': duration out of range/],
    ['IdgwRedisServer host:99999',      qr/IdgwRedisServer 'host:99999'/],
    ['IdgwRedisServer 127.0.0.1;16390', qr/IdgwRedisServer '127\.0\.0\.1;16390': expected host/],
    ["IdgwRedisSentinels 127.0.0.1:26379 127.0.0.1;26380\nIdgwRedisMasterName m",
     qr/IdgwRedisSentinels '127\.0\.0\.1;26380': expected host/],
    ['IdgwRedisKeyPrefix {x}',          qr/IdgwRedisKeyPrefix '\{x\}': 1 to 64 printable/],
    ['IdgwSessionMaxBody 10',           qr/IdgwSessionMaxBody '10': number out of range/],
    ['IdgwRedisDatabase -1',            qr/IdgwRedisDatabase '-1'/],
    ["<VirtualHost 127.0.0.1:8569>\nIdgwRedisServer 127.0.0.1\n</VirtualHost>",
     qr/IdgwRedisServer cannot occur within <VirtualHost> section/],
    # load shedding (t/session_shed.t)
    ["<Location /x>\nIdgwShedLocalLimit terminal 10/s\n</Location>", qr/IdgwShedLocalLimit: key must be session or addr/],
    ["<Location /x>\nIdgwShedLocalLimit session 10/x\n</Location>", qr/IdgwShedLocalLimit: rate UNIT must be/],
    ["<Location /x>\nIdgwShedLocalLimit addr 10/s 0\n</Location>", qr/IdgwShedLocalLimit: BURST must be an integer/],
    ["<Location /x>\nIdgwShedLocalLimit addr off 5\n</Location>", qr/IdgwShedLocalLimit: 'off' takes no burst/],
    ["<Location /x>\nIdgwShedLatency 0\n</Location>",        qr/IdgwShedLatency: .*\(1ms\.\.10s or off\)/],
    # replica confirmation (t/session_wait.t)
    ['IdgwSessionWaitReplicas 17',      qr/IdgwSessionWaitReplicas '17': replicas: number out of range/],
    ['IdgwSessionWaitReplicas one',     qr/IdgwSessionWaitReplicas 'one': replicas:/],
    ['IdgwRedisCluster 127.0.0.1;17110', qr/IdgwRedisCluster '127\.0\.0\.1;17110': expected host/],
    ['IdgwSessionWaitReplicas 1 0ms',   qr/IdgwSessionWaitReplicas '0ms': timeout: .*\(1ms\.\.10s\)/],
);
my @startup = (
    ['sentinels without a master name',
     sub { $_[0] =~ s/^IdgwRedisServer .*$/IdgwRedisSentinels 127.0.0.1:6392/m },
     qr/IDGW0101: .*IdgwRedisSentinels needs IdgwRedisMasterName/],
    ['idle longer than the lifetime', sub { $_[0] .= "\nIdgwSessionIdleTimeout 2h\n" },
     qr/IDGW0101: .*IdgwSessionIdleTimeout must not exceed IdgwSessionMaxLifetime/],
    # Redis Cluster (t/session_cluster.t): one Redis mode, what a Cluster cannot do
    # (IdgwSessionWaitReplicas works with it: t/session_cluster_wait.t)
    ['Cluster beside a server', sub { $_[0] .= "\nIdgwRedisCluster 127.0.0.1:17110\n" },
     qr/IDGW0101: .*IdgwRedisCluster excludes IdgwRedisServer, IdgwRedisSentinels and IdgwRedisMasterName/],
    ['Cluster with a database', sub { $_[0] =~ s/^IdgwRedisServer .*$/IdgwRedisCluster 127.0.0.1:17110\nIdgwRedisDatabase 2/m },
     qr/IDGW0101: .*IdgwRedisDatabase: a Redis Cluster has database 0 only/],
    ['key file readable by others', sub { $_[0] =~ s{^IdgwVaultKeyFile .*$}{IdgwVaultKeyFile KEYFILE}m },
     qr/IdgwVaultKeyFile: .* must not be readable by others .*openssl rand/],
);

plan tests => 2 * @syntax + 2 * @startup;

my $httpd = Apache::Test::vars('httpd');
sub run_httpd {
    my (@args) = @_;
    my $out = `$httpd @args 2>&1`;
    return ($? >> 8, $out);
}

for my $case (@syntax) {
    my ($line, $expect) = @$case;
    my $h = IdgwTest::Httpd::start(name => 'config-httpd', port => 8569, config_only => 1,
                                   edit => sub { $_[0] .= "\n$line\n" });
    my ($rc, $out) = run_httpd('-t', '-f', $h->conf);
    ok $rc != 0;
    ok t_cmp($out, $expect, $line);
}

my $keyfile = Apache::Test::vars('t_dir') . '/config-httpd/open.keys';
for my $case (@startup) {
    my ($what, $edit, $expect) = @$case;
    open my $fh, '>', $keyfile or die $!;
    print {$fh} 'ab' x 32, "\n";
    close $fh;
    chmod 0644, $keyfile;
    my $h = IdgwTest::Httpd::start(name => 'config-httpd', port => 8569, config_only => 1,
                                   edit => sub { $edit->($_[0]); $_[0] =~ s/KEYFILE/$keyfile/ });
    # the config test refuses it (what would stop the start)
    my ($rc, $out) = run_httpd('-t', '-f', $h->conf);
    ok $rc != 0;
    ok t_cmp($out, $expect, $what);
}
