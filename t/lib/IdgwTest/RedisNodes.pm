# Extra redis-server processes for one test (a master, replicas, a
# Sentinel), in their own directory, on ports the test names:
#
#   my $n = IdgwTest::RedisNodes->new('redis-wait');      # under t_dir
#   my $n = IdgwTest::RedisNodes->new('x', dir => $path);  # outside Apache::Test
#   $n->server(6431);  $n->server(6432, '--replicaof', '127.0.0.1', 6431);
#   $n->sentinel(6433, 'name', 6431, 800);                 # down-after ms
#   $n->cli(6431, 'INFO', 'replication');  $n->linked(6432);  $n->pid_of(6432);
#   $n->stop(6433, 6431, 6432);                            # CONT, SHUTDOWN NOSAVE
#   $n->cluster([17110 .. 17115], 1);    # a Redis Cluster, 1 replica per master
#   $n->slot_owner(17110, $slot);         # the port of the master serving a slot
#   IdgwTest::RedisNodes::wait_for(sub { ... }, $seconds);
package IdgwTest::RedisNodes;
use strict;
use warnings;
use File::Path qw(make_path);
use Time::HiRes qw(sleep time);

sub new {
    my ($class, $name, %opt) = @_;
    # Apache::Test only when it names the directory: the convert tests have none
    my $dir = $opt{dir} // do { require Apache::Test; Apache::Test::vars('t_dir') . "/$name" };
    make_path($dir);
    return bless { dir => $dir }, $class;
}

sub dir { $_[0]{dir} }

sub cli {
    my ($self, $port, @args) = @_;
    my $o = `redis-cli -h 127.0.0.1 -p $port @args 2>/dev/null`;
    $o =~ s/\s+\z//;
    return $o;
}

# A redis-server without persistence (extra arguments appended).
sub server {
    my ($self, $port, @extra) = @_;
    my $dir = $self->{dir};
    system('redis-server', '--port', $port, '--bind', '127.0.0.1', '--save', '',
           '--appendonly', 'no', '--daemonize', 'yes', '--dir', $dir,
           '--pidfile', "$dir/redis-$port.pid", '--logfile', "$dir/redis-$port.log",
           '--dbfilename', "dump-$port.rdb", @extra) == 0 or die "redis $port";
}

# A Sentinel watching master (quorum 1).
sub sentinel {
    my ($self, $port, $name, $master, $down_after_ms) = @_;
    my $dir = $self->{dir};
    open my $fh, '>', "$dir/sentinel.conf" or die $!;
    print {$fh} <<"EOT";
port $port
bind 127.0.0.1
daemonize yes
pidfile $dir/redis-$port.pid
logfile $dir/sentinel.log
dir $dir
sentinel monitor $name 127.0.0.1 $master 1
sentinel down-after-milliseconds $name $down_after_ms
sentinel failover-timeout $name 10000
EOT
    close $fh;
    system('redis-server', "$dir/sentinel.conf", '--sentinel') == 0 or die "sentinel";
}

sub pid_of {
    my ($self, $port) = @_;
    open my $fh, '<', "$self->{dir}/redis-$port.pid" or return;
    my $p = <$fh>;
    chomp $p;
    return $p;
}

# A replica whose link to its master is up.
sub linked { $_[0]->cli($_[1], 'INFO', 'replication') =~ /master_link_status:up/ }

# Resume (a test may have stopped one), shut down, forget their files.
sub stop {
    my ($self, @ports) = @_;
    for my $p (@ports) { my $pid = $self->pid_of($p); kill 'CONT', $pid if $pid }
    $self->cli($_, 'SHUTDOWN', 'NOSAVE') for @ports;
    unlink glob "$self->{dir}/*";
}

# A Redis Cluster of these ports (masters first, then replicas), node
# timeout 1000 ms (a replica takes over a failed master within ~2 s);
# true once every node says cluster_state:ok and every replica is linked.
sub cluster {
    my ($self, $ports, $replicas) = @_;
    my $dir = $self->{dir};
    for my $p (@$ports) {
        unlink "$dir/nodes-$p.conf";
        $self->server($p, '--cluster-enabled', 'yes', '--cluster-config-file',
                      "$dir/nodes-$p.conf", '--cluster-node-timeout', 1000);
    }
    wait_for(sub { !grep { $self->cli($_, 'PING') ne 'PONG' } @$ports }, 10) or return;
    my $addrs = join ' ', map { "127.0.0.1:$_" } @$ports;
    system("redis-cli --cluster create $addrs --cluster-replicas $replicas --cluster-yes "
           . ">$dir/create.log 2>&1") == 0 or return;
    return wait_for(sub {
        !grep { $self->cli($_, 'CLUSTER', 'INFO') !~ /cluster_state:ok/ } @$ports
            and !grep { $self->cli($_, 'ROLE') =~ /^slave/ && !$self->linked($_) } @$ports
    }, 20);
}

# The node id of the node on port.
sub node_id { $_[0]->cli($_[1], 'CLUSTER', 'MYID') }

# The port of the master serving slot, as the node on port sees the map.
sub slot_owner {
    my ($self, $port, $slot) = @_;
    for (split /\n/, $self->cli($port, 'CLUSTER', 'NODES')) {
        my @f = split / /;
        next unless $f[2] =~ /master/ && $f[2] !~ /fail/;
        for my $range (@f[8 .. $#f]) {
            next if $range =~ /^\[/;
            my ($a, $b) = split /-/, $range;
            $b //= $a;
            return ($f[1] =~ /:(\d+)/)[0] if $slot >= $a && $slot <= $b;
        }
    }
    return;
}

sub wait_for {
    my ($cond, $secs) = @_;
    my $end = time + $secs;
    sleep 0.1 until $cond->() || time > $end;
    return $cond->();
}

1;
