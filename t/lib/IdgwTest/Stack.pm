package IdgwTest::Stack;
# The whole gateway for the convert tests: scripts/idgw-demo's stack (PKI,
# redis-server, the backend simulators, httpd with mod_idgw_session,
# mod_idgw_acl and mod_idgw_convert over TLS, configured from the operator
# sample conf.d/idgw.conf) on the ports of these tests: gateway 8600,
# simulators 8610-8615, Redis 8628 (see %ENV_STACK to move them); extra
# gateways (extra_gateway) on the gateway port + 35, + 36, ...; run
# directory $IDGW_BUILD/t/convert-stack.
#
#   my $stack = IdgwTest::Stack->up;      # starts what is not running
#   ... $stack->fault('cremo', 'delay=3000'); $stack->chip_hex($img) ...
#   (stopped when the test file that started it ends)
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);

my $SRC = abs_path(dirname(__FILE__) . '/../../..');

sub src   { $SRC }
sub build { $ENV{IDGW_BUILD} || $ENV{IDGW_BUILDDIR} || "$SRC/build" }

# The ports may be moved (several developers on one machine): set
# IDGW_DEMO_PORT, IDGW_SIM_PORT_BASE, IDGW_DEMO_REDIS_PORT in the environment.
my %ENV_STACK = (
    IDGW_DEMO_PORT       => $ENV{IDGW_DEMO_PORT} || 8600,
    IDGW_SIM_PORT_BASE   => $ENV{IDGW_SIM_PORT_BASE} || 8610,
    IDGW_DEMO_REDIS_PORT => $ENV{IDGW_DEMO_REDIS_PORT} || 8628,
    IDGW_DEMO_IO_TIMEOUT => '1s',
    IDGW_DEMO_LOGLEVEL   => 'info',
);

sub env {
    my $build = build();
    return (%ENV_STACK, IDGW_BUILD => $build, IDGW_DEMO_RUN => "$build/t/convert-stack");
}

sub demo {
    my ($self, @args) = @_;
    local %ENV = (%ENV, env());
    my $out = `"$SRC/scripts/idgw-demo" @args 2>&1`;
    return wantarray ? ($? >> 8, $out) : $out;
}

my $started_by_us;

sub up {
    my ($class) = @_;
    my $self = bless {}, $class;
    my ($rc, $out) = $self->demo('status');
    unless ($out =~ /gateway: running/) {
        ($rc, $out) = $self->demo('start');
        die "idgw-demo start failed:\n$out" if $rc;
        $started_by_us = $$;
    }
    my %e = map { /^(\w+)=(.*)$/ ? ($1, $2) : () } split /\n/, scalar $self->demo('env');
    $self->{env} = \%e;
    make_path($self->phones_dir);
    $self->write_secrets;
    return $self;
}

END {
    if ($started_by_us && $started_by_us == $$ && !$ENV{IDGW_KEEP_STACK}) {
        IdgwTest::Stack->demo('stop');
    }
}

sub run_dir    { $_[0]{env}{IDGW_DEMO_RUN} }
sub url        { $_[0]{env}{IDGW_DEMO_URL} }
sub pin        { $_[0]{env}{IDGW_DEMO_PIN} }
sub terminal   { $_[0]{env}{IDGW_DEMO_TERMINAL} }
sub felicactl  { $_[0]{env}{IDGW_DEMO_FELICACTL} }
sub keys_file  { $_[0]{env}{IDGW_DEMO_SYSTEM_KEYS} }
sub secrets    { $_[0]{env}{IDGW_DEMO_SECRETS} }
sub phones_dir { $_[0]->run_dir . '/phones' }

# The simulators' test cardholders: source|member|password|status|name|card|issuer|pan|expiry|renewed|holder
sub cardholders {
    my @cards;
    open my $fh, '<:encoding(UTF-8)', "$SRC/t/sim/data/cardholders.txt" or die $!;
    while (<$fh>) {
        next if /^#/ || !/\|/;
        chomp;
        my @f = split /\|/;
        push @cards, { source => $f[0], member => $f[1], password => $f[2], status => $f[3],
                       card => $f[5], issuer => $f[6], pan => $f[7], expiry => $f[8],
                       renewed => $f[9] };
    }
    return @cards;
}

sub card { my ($self, $id) = @_; return (grep { $_->{card} eq $id } cardholders())[0] }

# What no answer may carry: every PAN, and every expiry as element content.
sub write_secrets {
    my ($self) = @_;
    open my $fh, '>', $self->secrets or die $!;
    for my $c (cardholders()) {
        print {$fh} "$c->{pan}\n>$c->{expiry}<\n";
        print {$fh} ">$c->{renewed}<\n" if $c->{renewed} ne '-';
    }
    close $fh;
}

# A fault switch of a simulated backend (spec 'none' clears).
sub fault {
    my ($self, $service, $spec, $count) = @_;
    local %ENV = (%ENV, env(), IDGW_SIM_RUN => $self->run_dir . '/sim',
                  IDGW_SIM_PKI => $self->run_dir . '/pki');
    my $out = `"$SRC/scripts/idgw-sim" fault $service '$spec' ${\ ($count // -1)} 2>&1`;
    return $? == 0;
}

# The iD area's blocks of a chip image as one hex string ('' without an area).
sub chip_hex {
    my ($self, $img) = @_;
    my $dump = `"${\ $self->felicactl}" image dump "$img" --include-keyed 2>/dev/null`;
    my ($area) = $dump =~ /^area 1000 [^\n]*\n((?:\s+[0-9A-F]{4}: [0-9A-F]+\n)*)/m;
    return '' unless defined $area;
    return join '', map { /: ([0-9A-F]+)/ ? $1 : () } split /\n/, $area;
}

# Another httpd of the same fleet (same Redis, simulators, keys and
# certificate), its configuration edited: extra_gateway('b', 1,
# 'IdgwSessionIdleTimeout 120s' => 'IdgwSessionIdleTimeout 2s', ...) pairs of
# line => replacement in idgw.conf ('' as the line appends the replacement).
# Returns its URL; stopped with stop_extra_gateways or when the test ends.
my @extra_pids;

sub extra_gateway {
    my ($self, $name, $n, @edits) = @_;
    my $run = $self->run_dir;
    my $port = $ENV_STACK{IDGW_DEMO_PORT} + 34 + $n;
    my $base = $ENV_STACK{IDGW_DEMO_PORT};
    my $slurp = sub { open my $fh, '<', $_[0] or die "$_[0]: $!"; local $/; return <$fh> };
    my $spill = sub { open my $fh, '>', $_[0] or die "$_[0]: $!"; print $fh $_[1]; close $fh };
    my $idgw = $slurp->("$run/idgw.conf");
    while (my ($line, $with) = splice @edits, 0, 2) {
        if ($line eq '') { $idgw .= "$with\n"; next }
        $idgw =~ s/^\Q$line\E$/$with/m or die "extra_gateway: no line '$line' in idgw.conf";
    }
    $spill->("$run/$name.idgw.conf", $idgw);
    my $conf = $slurp->("$run/gateway.conf");
    $conf =~ s/^Listen 127\.0\.0\.1:$base$/Listen 127.0.0.1:$port/m or die 'no Listen';
    $conf =~ s/^ServerName localhost:$base$/ServerName localhost:$port/m;
    $conf =~ s/^PidFile .*$/PidFile "$run\/$name.pid"/m;
    $conf =~ s/^ErrorLog .*$/ErrorLog "$run\/$name.error.log"/m;
    $conf =~ s/^CustomLog "[^"]*"/CustomLog "$run\/$name.access.log"/m;
    $conf =~ s/^SSLSessionCache .*$/SSLSessionCache "shmcb:$run\/$name.ssl_scache(512000)"/m;
    $conf =~ s/^Include .*idgw\.conf"?$/Include "$run\/$name.idgw.conf"/m or die 'no Include';
    $spill->("$run/$name.gateway.conf", $conf);
    my $httpd = -x '/usr/sbin/apache2' ? '/usr/sbin/apache2' : 'httpd';
    # what httpd says before it opens its ErrorLog (a refusal found while it
    # checks the configuration) goes to stderr: keep it in the same log
    system('sh', '-c', '"$0" -f "$1" -k start 2>>"$2"', $httpd, "$run/$name.gateway.conf",
           "$run/$name.error.log") == 0
        or die "extra gateway $name did not start (see $run/$name.error.log)";
    for (1 .. 50) {
        last if -s "$run/$name.pid" && `curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:$port/` =~ /^\d{3}$/
            && $? == 0;
        select undef, undef, undef, 0.1;
    }
    push @extra_pids, "$run/$name.pid";
    return "https://127.0.0.1:$port/idgw/v1";
}

sub stop_extra_gateways {
    for my $pidfile (splice @extra_pids) {
        open my $fh, '<', $pidfile or next;
        my $pid = <$fh>;
        close $fh;
        chomp $pid;
        next unless $pid && $pid =~ /^\d+$/;
        kill 'TERM', $pid;
        for (1 .. 50) { last unless kill 0, $pid; select undef, undef, undef, 0.1 }
    }
}

END { stop_extra_gateways() }

# Every log of the stack: the gateway's, the extra gateways' (reaper, vhost,
# ...), the configuration tries' and the simulators'.
sub log_files {
    my ($self) = @_;
    my $r = $self->run_dir;
    return grep { -f } (glob("$r/*.log"), glob("$r/config-*/*.log"), glob("$r/sim/*.log"));
}

1;
