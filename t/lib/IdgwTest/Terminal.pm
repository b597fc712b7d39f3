package IdgwTest::Terminal;
# One simulated phone for the convert tests: t/sim/idgw-terminal with its own
# chip image and session state file, pinned to the test stack's gateway,
# checking every answer against the stack's secrets list (exit code 3 when an
# answer carries a PAN or an expiry).
#
#   my $ph = IdgwTest::Terminal->new($stack, 'wrong-pw');
#   (url => ... talks to another gateway of the fleet, e.g. an extra_gateway)
#   my $r = $ph->run('open');                 # { rc, out }
#   $ph->run('add-card', 'source=cremo', ...);
use strict;
use warnings;

my $serial = 0;

sub new {
    my ($class, $stack, $name, %opt) = @_;
    $serial++;
    my $idm = $opt{idm} || sprintf('012E4C%06X%04X', $$ & 0xFFFFFF, $serial);
    my $self = bless { stack => $stack, name => $name, idm => $idm,
                       chip => $stack->phones_dir . "/$name-$$.img",
                       state => $stack->phones_dir . "/$name-$$.state",
                       terminal => $opt{terminal} || "T-$name",
                       url => $opt{url} }, $class;
    unlink $self->{chip}, $self->{state};
    return $self;
}

sub chip  { $_[0]{chip} }
sub idm   { $_[0]{idm} }
sub state { $_[0]{state} }

sub args {
    my ($self, @extra) = @_;
    my $s = $self->{stack};
    return ('--url', $self->{url} || $s->url, '--pin', $s->pin, '--chip', $self->{chip}, '--idm', $self->{idm},
            '--terminal', $self->{terminal}, '--state', $self->{state},
            '--system-master-keys', $s->keys_file, '--felicactl', $s->felicactl,
            '--secrets', $s->secrets, @extra);
}

sub quote { my $a = shift; $a =~ s/'/'\\''/g; return "'$a'" }

# run(cmd, args...) or run({ opts => [...] }, cmd, args...)
sub run {
    my ($self, @cmd) = @_;
    my @opts;
    @opts = @{ shift(@cmd)->{opts} } if ref $cmd[0];
    my $line = join ' ', map { quote($_) } $self->{stack}->terminal, $self->args(@opts), @cmd;
    my $out = `$line 2>&1`;
    return { rc => $? >> 8, out => $out };
}

# The XML error code the last refusal printed ("-> 403 IDGW-CNV-010: ...").
sub error_code { my ($r) = @_; return $r->{out} =~ /-> \d{3} (IDGW-[A-Z]+-\d{3})/ ? $1 : '' }
sub status_of  { my ($r) = @_; return $r->{out} =~ /-> (\d{3}) IDGW-/ ? $1 : '' }

1;
