package IdgwTest::Stack;
# The whole gateway for the convert tests: scripts/idgw-demo's stack (PKI,
# redis-server, the backend simulators, httpd with mod_idgw_session,
# mod_idgw_acl and mod_idgw_convert over TLS, configured from the operator
# sample conf.d/idgw.conf) on the ports of these tests: gateway 8600,
# simulators 8610-8615, Redis 8628; run directory $IDGW_BUILD/t/convert-stack.
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

my %ENV_STACK = (
    IDGW_DEMO_PORT       => 8600,
    IDGW_SIM_PORT_BASE   => 8610,
    IDGW_DEMO_REDIS_PORT => 8628,
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

sub log_files {
    my ($self) = @_;
    my $r = $self->run_dir;
    return grep { -f } ("$r/error.log", "$r/access.log", "$r/sim/error.log");
}

1;
