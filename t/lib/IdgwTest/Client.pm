package IdgwTest::Client;
# A terminal as the idgw integration tests play it: session token, sequence
# numbers, binding headers.  HTTP::Tiny keeps it light and fork-friendly.
use strict;
use warnings;

use HTTP::Tiny;
use Apache::Test ();
use Apache::TestRequest ();

my $terminal_counter = 0;

sub base_url {
    my $hp = Apache::TestRequest::hostport(Apache::Test::config());
    $hp =~ s/^localhost:/127.0.0.1:/;
    return "http://$hp";
}

sub new {
    my ($class, %opt) = @_;
    $terminal_counter++;
    my $self = {
        base     => $opt{base} || base_url(),
        terminal => $opt{terminal} || sprintf('T-%d-%d-%d', $$, time, $terminal_counter),
        idm      => $opt{idm} || sprintf('%016X', int(rand(2**32)) * 65536 + $terminal_counter),
        xff      => $opt{xff},
        token    => undef,
        seq      => 0,
        http     => HTTP::Tiny->new(timeout => 10, keep_alive => 0),
    };
    return bless $self, $class;
}

sub token    { $_[0]{token} }
sub seq      { $_[0]{seq} }
sub terminal { $_[0]{terminal} }

sub headers {
    my ($self, %over) = @_;
    my %h = (
        'X-Idgw-Terminal' => $self->{terminal},
        'X-Idgw-IDm'      => $self->{idm},
    );
    $h{'X-Idgw-Token'} = $self->{token} if defined $self->{token};
    $h{'X-Forwarded-For'} = $self->{xff} if defined $self->{xff};
    while (my ($k, $v) = each %over) {
        if (defined $v) { $h{$k} = $v } else { delete $h{$k} }
    }
    return \%h;
}

sub post {
    my ($self, $path, $body, %hdr) = @_;
    return $self->{http}->request('POST', $self->{base} . $path,
        { headers => $self->headers(%hdr), content => $body // '' });
}

sub open_session {
    my ($self) = @_;
    my $res = $self->post('/idgw/session/open', '');
    if ($res->{status} == 200 && $res->{content} =~ m{<token>([0-9a-f]{32})</token>}) {
        $self->{token} = $1;
        $self->{seq} = 0;
    }
    return $res;
}

# one step: op/step path; the next sequence number unless seq => n is given
sub step {
    my ($self, $op, $step, %opt) = @_;
    my $seq = exists $opt{seq} ? $opt{seq} : $self->{seq} + 1;
    my $path = "/idgw/$op/$step" . (defined $opt{query} ? "?$opt{query}" : '');
    my $res = $self->post($path, $opt{body} // "op=$op;step=$step;seq=$seq",
                          'X-Idgw-Seq' => $seq, %{ $opt{headers} || {} });
    # the gateway took the number unless the session layer refused the message
    $self->{seq} = $seq if !exists $opt{seq} && error_code($res) !~ /^IDGW-(REQ|SES|SEQ|SRV)-/;
    return $res;
}

sub status {
    my ($self) = @_;
    return $self->{http}->request('GET', $self->{base} . '/idgw/session/status',
        { headers => $self->headers() });
}

sub close_session {
    my ($self, %opt) = @_;
    return $self->step('session', 'close', body => '', %opt);
}

# a whole write operation: request, n relays, complete
sub operation {
    my ($self, $op, $relays, %opt) = @_;
    my @res = ($self->step($op, 'request', body => $opt{body}));
    push @res, $self->step($op, 'relay') for 1 .. $relays;
    push @res, $self->step($op, 'complete');
    return @res;
}

sub error_code {
    my ($res) = @_;
    return $res->{content} =~ m{<error><code>([A-Z0-9-]+)</code>} ? $1 : '';
}

sub session_key {
    my ($self, $kind) = @_;
    require Digest::SHA;
    my $sid = substr(Digest::SHA::sha256_hex($self->{token}), 0, 32);
    return "itest:" . ($kind || 's') . ":{$sid}";
}

1;
