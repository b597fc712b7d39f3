package IdgwTest::Redis;
# The redis-server of the integration suite: loopback, port 6390 (or
# $IDGW_TEST_REDIS_PORT, which t/conf/extra.conf.in reads too, so that
# developers sharing a machine can run the suite side by side), data in
# t/redis-data (SHUTDOWN SAVE keeps sessions across a stop/start, as a
# persistent production Redis would).
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Path qw(make_path);
use Time::HiRes qw(sleep time);

BEGIN { $ENV{IDGW_TEST_REDIS_PORT} ||= 6390 }
use constant PORT => $ENV{IDGW_TEST_REDIS_PORT};

my $t_dir = dirname(dirname(dirname(__FILE__)));   # .../t
my $data = "$t_dir/redis-data";

sub cli {
    my @cmd = @_;
    my $port = PORT;
    # stderr closed: "Could not connect" is an answer here, not noise
    my $pid = open my $fh, '-|';
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open STDERR, '>', '/dev/null';
        exec 'redis-cli', '-h', '127.0.0.1', '-p', $port, @cmd;
        exit 127;
    }
    my $out = do { local $/; <$fh> };
    close $fh;
    $out = '' unless defined $out;
    $out =~ s/\s+\z//;
    return $out;
}

sub alive {
    my $out = eval { cli('PING') } // '';
    return $out eq 'PONG';
}

sub pid {
    open my $fh, '<', "$data/redis.pid" or return;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid;
}

sub start {
    make_path($data);
    if (alive()) {
        # ours (a start earlier in this run) is reused; a foreign server on
        # the port would make every outage and key test lie
        my $pid = pid();
        return 1 if $pid && kill 0, $pid;
        die "IdgwTest::Redis: port " . PORT . " is served by a redis-server this run did"
          . " not start; stop it or set IDGW_TEST_REDIS_PORT\n";
    }
    system('redis-server', '--port', PORT, '--bind', '127.0.0.1', '--dir', $data,
           '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no',
           '--daemonize', 'yes', '--pidfile', "$data/redis.pid",
           '--logfile', "$data/redis.log") == 0 or return 0;
    for (1 .. 100) {
        return 1 if alive();
        sleep 0.05;
    }
    return 0;
}

# save: keep the data for the next start (a restart, not a loss)
sub stop {
    my (%opt) = @_;
    return 1 unless alive();
    my $pid = pid();
    cli('SHUTDOWN', $opt{save} ? 'SAVE' : 'NOSAVE');
    my $deadline = time + 5;
    while (time < $deadline) {
        last unless alive() || ($pid && kill 0, $pid);
        sleep 0.05;
    }
    return !alive();
}

sub pause  { my $pid = pid(); kill 'STOP', $pid if $pid; return $pid }
sub resume { my $pid = pid(); kill 'CONT', $pid if $pid; return $pid }

# MONITOR into a file while $code runs; returns { COMMAND => count } of the
# commands clients sent (those run inside scripts, "[0 lua]", are left out)
# What a connection sends once, when it is made (idgw_redis_connect: the
# replication history, AUTH, a function library loaded on first use).
my %SETUP = map { $_ => 1 } qw(INFO AUTH HELLO SELECT CLIENT FUNCTION SCRIPT PING);

# The commands sent while $code runs, as { COMMAND => count }, from MONITOR.
# A set-up command of a connection made meanwhile (one CLIENT LIST did not
# show before) counts as _CONNECT instead: a child may open a connection at
# any time (a new child, an idle one closed), and that is not per request.
# The connections open now, for new_connection_setup.
sub known_clients { return { map { /\baddr=(\S+)/ ? ($1 => 1) : () } split /\n/, cli('CLIENT', 'LIST') } }

# Is this MONITOR line the set-up of a connection not among $known?
sub new_connection_setup {
    my ($line, $known) = @_;
    return $line =~ /^\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/ && !$known->{$1} && $SETUP{uc $2};
}

# Is this MONITOR line mod_idgw_acl's lists listener (docs/directives.md,
# "The lists' version"): its poll (GET of the version), its reload (LISTS,
# the one script with 13 keys, the version first) or its SUBSCRIBE?  Not a
# request's work: counted apart as _LISTS.
sub lists_listener {
    my ($line) = @_;
    return $line =~ /\] "GET" "[^"]*acl:ver"$/
        || $line =~ /\] "(?:EVALSHA|FCALL)" "[^"]+" "13" "[^"]*acl:ver"/
        || $line =~ /\] "SUBSCRIBE" "[^"]*acl:ver"/;
}

sub client_commands {
    my ($file, $code) = @_;
    my $known = known_clients();
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open STDOUT, '>', $file or die "$file: $!";
        open STDERR, '>', '/dev/null';
        exec 'redis-cli', '-h', '127.0.0.1', '-p', PORT, 'MONITOR';
        exit 127;
    }
    sleep 0.3;
    $code->();
    sleep 0.3;
    kill 'TERM', $pid;
    waitpid $pid, 0;
    my %count;
    open my $fh, '<', $file or die "$file: $!";
    while (my $line = <$fh>) {
        next unless $line =~ /^\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/;
        my $cmd = uc $2;
        next if $1 eq 'lua';
        $count{new_connection_setup($line, $known) ? '_CONNECT'
               : lists_listener($line) ? '_LISTS' : $cmd}++;
    }
    close $fh;
    return \%count;
}

# INFO commandstats as { command => calls }
sub command_calls {
    my %calls;
    for my $line (split /\r?\n/, cli('INFO', 'commandstats')) {
        $calls{$1} = $2 if $line =~ /^cmdstat_(\w+):calls=(\d+)/;
    }
    return \%calls;
}

1;
