# IdgwRedisCli: what the operator tools (idgw-acl, idgw-reconcile) share:
# the program's name in its messages, its exit codes and usage line, the
# gateway's Redis found from the same options (or its Apache config), and
# Redis commands through redis-cli (Debian: redis-tools).
#
#   use IdgwRedisCli qw(:all);
#   IdgwRedisCli::init('idgw-reconcile');
#   my @rest = connect_from_args(\@ARGV, @extra_getopt_spec);  # sets %conn
#   my @lines = redis('HGETALL', key);
#
# Connection options (before the command):
#   --host H (127.0.0.1)  --port P (6379)  --db N (0)  --prefix P (idgw:)
#   --config FILE   IdgwRedisServer, IdgwRedisDatabase, IdgwRedisKeyPrefix,
#                   IdgwRedisPassword (and IdgwRedisSentinels with
#                   IdgwRedisMasterName) from the gateway's Apache config file
#                   (Include lines are not followed); --host/--port/--db/--prefix
#                   given as well win
#   --password-file FILE  the Redis password (or REDISCLI_AUTH in the
#                   environment); it reaches redis-cli through its environment
#   --cluster       --host/--port name a node of a Redis Cluster: redis-cli
#                   follows its redirections (-c); so does IdgwRedisCluster in
#                   --config (its first seed node)
package IdgwRedisCli;
use strict;
use warnings;
use Exporter qw(import);
use Getopt::Long qw(GetOptionsFromArray :config require_order no_ignore_case);

use constant { EXIT_OK => 0, EXIT_REDIS => 1, EXIT_USAGE => 2, EXIT_REFUSED => 3 };

our %conn = (host => '127.0.0.1', port => 6379, prefix => 'idgw:', db => 0);
our @EXPORT_OK = qw(%conn EXIT_OK EXIT_REDIS EXIT_USAGE EXIT_REFUSED help usage fail
                    refuse warn_line getopts redis_at redis connect_from_args);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

my $NAME = 'idgw';

sub init { $NAME = $_[0]; }

# --help: the program's leading comment, on stdout.
sub help {
    open(my $self, '<', $0) or die "$NAME: cannot read $0: $!\n";
    while (<$self>) {
        last if $. > 1 && !/^#/;
        next if $. == 1;
        s/^# ?//;
        print;
    }
    exit EXIT_OK;
}

# A usage error: one line on stderr, exit 2.
sub usage {
    my ($msg) = @_;
    $msg =~ s/\s+\z//;
    $msg =~ s/\n/; /g;
    print STDERR "$NAME: $msg (try --help)\n";
    exit EXIT_USAGE;
}

sub fail { print STDERR "$NAME: $_[0]\n"; exit EXIT_REDIS; }
sub refuse { print STDERR "$NAME: $_[0]\n"; exit EXIT_REFUSED; }
sub warn_line { print STDERR "$NAME: warning: $_[0]\n"; }

# Getopt::Long with its complaints turned into one usage line.
sub getopts {
    my ($args, @spec) = @_;
    my @warned;
    local $SIG{__WARN__} = sub { push @warned, $_[0] };
    GetOptionsFromArray($args, @spec) and return;
    my $msg = $warned[0] // 'bad option';
    $msg =~ s/\s+\z//;
    $msg = "--$1 goes before the command"
        if $msg =~ /^Unknown option: (host|port|db|prefix|config|password-file|cluster)$/;
    usage(lcfirst $msg);
}

# ---- Redis through redis-cli ------------------------------------------------

sub redis_at {
    my ($host, $port, $db, @args) = @_;
    my @cmd = ('redis-cli', '-h', $host, '-p', $port, $conn{cluster} ? '-c' : (),
               defined $db && !$conn{cluster} ? ('-n', $db) : (), '--raw', @args);
    open(my $out, '-|', @cmd) or fail("cannot run redis-cli: $!");
    my @lines = <$out>;
    close($out);
    fail("redis-cli failed (is Redis at $host:$port?)") if $? != 0;
    chomp @lines;
    if (@lines && $lines[0] =~ /^(ERR|WRONGTYPE|NOSCRIPT|NOAUTH|WRONGPASS|LOADING|READONLY|MASTERDOWN|BUSY|NOPERM)\b/) {
        fail("Redis said: $lines[0]");
    }
    return @lines;
}

sub redis { return redis_at($conn{host}, $conn{port}, $conn{db}, @_); }

# ---- the gateway's own configuration ---------------------------------------------

# host[:port] or [address]:port, as IdgwRedisServer takes it.
sub host_port {
    my ($text, $default) = @_;
    return ($1, $2 // $default) if $text =~ /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/;
    return ($text, $default) if $text =~ /^[0-9A-Fa-f]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$/; # bare IPv6
    return ($1, $2 // $default) if $text =~ /^([^:\s]+)(?::(\d{1,5}))?$/;
    return;
}

# The IdgwRedis* directives of an Apache config file (Include not followed;
# the last occurrence wins, as in httpd).
sub read_config {
    my ($file) = @_;
    open(my $fh, '<', $file) or usage("--config: cannot read $file: $!");
    my (%c, $line);
    while (my $l = <$fh>) {
        $l =~ s/\r?\n\z//;
        if ($l =~ s/\\\z//) { $line .= $l; next; }
        $l = ($line // '') . $l;
        $line = undef;
        next if $l =~ /^\s*(#|\z)/;
        my ($dir, $rest) = $l =~ /^\s*(\S+)\s*(.*)$/ or next;
        my @args;
        push @args, $1 // $2 // $3 while $rest =~ /\G\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+))/gc;
        $dir = lc $dir;
        if ($dir eq 'idgwrediskeyprefix' && @args) { $c{prefix} = $args[0]; }
        elsif ($dir eq 'idgwredisdatabase' && @args) { $c{db} = $args[0]; }
        elsif ($dir eq 'idgwredispassword' && @args) { $c{password} = $args[0]; }
        elsif ($dir eq 'idgwredismastername' && @args) { $c{master} = $args[0]; }
        elsif ($dir eq 'idgwredissentinels' && @args) { push @{ $c{sentinels} }, @args; }
        elsif ($dir eq 'idgwrediscluster' && @args) {
            my ($h, $p) = host_port($args[0], 6379)
                or usage("--config: $file: IdgwRedisCluster '$args[0]' is not host[:port]");
            @c{qw(host port cluster)} = ($h, $p, 1);
        }
        elsif ($dir eq 'idgwredisserver' && @args) {
            my ($h, $p) = host_port($args[0], 6379)
                or usage("--config: $file: IdgwRedisServer '$args[0]' is not host[:port]");
            @c{qw(host port)} = ($h, $p);
        }
    }
    if ($c{sentinels}) {
        usage("--config: $file: IdgwRedisSentinels without IdgwRedisMasterName") unless defined $c{master};
    }
    return \%c;
}

# The master the Sentinels name (the first that answers).
sub sentinel_master {
    my ($c) = @_;
    for my $s (@{ $c->{sentinels} }) {
        my ($h, $p) = host_port($s, 26379) or usage("--config: IdgwRedisSentinels '$s' is not host[:port]");
        my @cmd = ('redis-cli', '-h', $h, '-p', $p, '--raw', 'SENTINEL', 'get-master-addr-by-name', $c->{master});
        # a Sentinel that does not answer is no error while another may: quiet
        my $pid = open(my $out, '-|') // fail("cannot fork: $!");
        if (!$pid) {
            delete $ENV{REDISCLI_AUTH};
            open(STDERR, '>', '/dev/null');
            exec { $cmd[0] } @cmd or exit 127;
        }
        my @l = <$out>;
        close $out;
        chomp @l;
        return @l[0, 1] if $? == 0 && @l >= 2 && $l[1] =~ /^\d+$/;
    }
    fail("no Sentinel of " . join(' ', @{ $c->{sentinels} }) . " named a master '$c->{master}'");
}

# The connection options at the front of @$args (and the caller's own, in
# @spec), checked; %conn set; REDISCLI_AUTH set from a password file or the
# config.  Leaves the command and its arguments in @$args.
sub connect_from_args {
    my ($args, @spec) = @_;
    my ($password_file, $config_file, %cli);
    getopts($args, 'host=s' => \$cli{host}, 'port=i' => \$cli{port},
            'prefix=s' => \$cli{prefix}, 'db=i' => \$cli{db}, 'config=s' => \$config_file,
            'password-file=s' => \$password_file, 'cluster' => \$cli{cluster}, @spec);
    if (defined $config_file) {
        my $c = read_config($config_file);
        if ($c->{sentinels} && !defined $cli{host} && !defined $cli{port}) {
            @conn{qw(host port)} = sentinel_master($c);
        }
        defined $c->{$_} and $conn{$_} = $c->{$_} for qw(host port prefix db cluster);
        $ENV{REDISCLI_AUTH} = $c->{password} if defined $c->{password};
    }
    defined $cli{$_} and $conn{$_} = $cli{$_} for qw(host port prefix db cluster);
    usage("--db must be 0 on a Redis Cluster") if $conn{cluster} && $conn{db} != 0;
    usage("--prefix must be 1..64 printable characters without spaces or braces "
          . "(as IdgwRedisKeyPrefix), not '$conn{prefix}'")
        unless $conn{prefix} =~ /^[\x21-\x7a\x7c\x7e]{1,64}$/;
    usage("--port must be 1..65535") unless $conn{port} =~ /^\d+$/ && $conn{port} >= 1 && $conn{port} <= 65535;
    usage("--db must be 0..1023") unless $conn{db} =~ /^\d+$/ && $conn{db} <= 1023;
    if (defined $password_file) {
        open(my $fh, '<', $password_file) or fail("cannot read $password_file: $!");
        my $pw = <$fh> // '';
        chomp $pw;
        # redis-cli reads the password from the environment: never on a command line.
        $ENV{REDISCLI_AUTH} = $pw;
    }
}

1;
