# SimTest.pm: helpers for the simulators' HTTP-level tests: build telegrams
# (Shift_JIS or UTF-8, as docs/feature-phone-interface.md says), post them over
# TLS with the gateway's client certificate, parse the answers.
package SimTest;
use strict;
use warnings;
use Encode qw(encode decode);
use HTTP::Tiny;
use Exporter 'import';

our @EXPORT = qw(telegram post parse_telegram sim_url pki corr client control_fault
                 run_dir xml_escape);

my $run  = $ENV{IDGW_SIM_RUN} or die "IDGW_SIM_RUN not set (run through t/sim/run-tests)\n";
my $base = $ENV{IDGW_SIM_PORT_BASE} || 8441;
my %port = (cremo => $base, cardinfo => $base + 1, brand => $base + 2, felica => $base + 3,
            control => $base + 5);
my $seq = 0;

sub run_dir { $run }
sub pki { "$run/pki/$_[0]" }
sub sim_url { "https://127.0.0.1:$port{$_[0]}/fp/$_[0]" }

# A fresh correlation id per call.
sub corr { sprintf("t%d-%06d-%s", $$, ++$seq, $_[0] // "x") }

sub xml_escape {
    my $s = shift;
    $s =~ s/&/&amp;/g; $s =~ s/</&lt;/g; $s =~ s/>/&gt;/g;
    return $s;
}

# telegram(TYPE, CORR, [name => value, ...], encoding) -> bytes
sub telegram {
    my ($type, $corr, $fields, $enc) = @_;
    $enc ||= $type =~ /^FELICA_/ ? 'UTF-8' : 'Shift_JIS';
    my $body = '';
    for (my $i = 0; $i < @$fields; $i += 2) {
        $body .= "<$fields->[$i]>" . xml_escape($fields->[$i + 1]) . "</$fields->[$i]>";
    }
    my $xml = qq{<?xml version="1.0" encoding="$enc"?>\n<fpTelegram version="1.0"><header>}
        . "<type>$type</type><correlationId>$corr</correlationId><terminalType>FP</terminalType>"
        . "<timestamp>2026-11-22T10:00:00Z</timestamp></header><body>$body</body></fpTelegram>\n";
    return encode($enc eq 'Shift_JIS' ? 'shiftjis' : 'UTF-8', $xml);
}

sub client {
    my (%o) = @_;
    my %ssl = (SSL_ca_file => pki('ca.crt'));
    unless ($o{no_cert}) {
        $ssl{SSL_cert_file} = $o{cert} || pki('gateway-client.crt');
        $ssl{SSL_key_file}  = $o{key}  || pki('gateway-client.key');
    }
    return HTTP::Tiny->new(verify_SSL => 1, SSL_options => \%ssl, timeout => $o{timeout} || 10,
                           keep_alive => 0);
}

# post(SERVICE, BYTES, headers => {...}, client => ...) -> HTTP::Tiny response
sub post {
    my ($svc, $bytes, %o) = @_;
    my $enc = $bytes =~ /encoding="([^"]+)"/ ? $1 : 'UTF-8';
    my %h = ('Content-Type' => "application/xml; charset=$enc", %{ $o{headers} || {} });
    my $http = $o{client} || client();
    return $http->request($o{method} || 'POST', $o{url} || sim_url($svc),
                          { headers => \%h, content => $bytes });
}

# parse_telegram(BYTES) -> { type, correlationId, result, resultMessage, encoding,
#                            fields => [[name, value], ...], get => sub, all => sub }
sub parse_telegram {
    my ($bytes) = @_;
    return undef unless defined $bytes && $bytes =~ /^<\?xml[^>]*encoding="([^"]+)"/;
    my $enc = $1;
    my $xml = decode($enc =~ /shift_jis/i ? 'shiftjis' : 'UTF-8', $bytes);
    return undef unless $xml =~ m{<fpTelegram version="1\.0">\s*<header>(.*?)</header>\s*(?:<body>(.*?)</body>|<body/>)\s*</fpTelegram>}s;
    my ($head, $body) = ($1, $2 // '');
    my %t = (encoding => $enc, fields => []);
    while ($head =~ m{<(\w+)>([^<]*)</\1>}g) { $t{$1} = unent($2) }
    while ($body =~ m{<(\w+)>([^<]*)</\1>|<(\w+)/>}g) {
        push @{ $t{fields} }, defined $1 ? [$1, unent($2)] : [$3, ''];
    }
    $t{get} = sub { my $n = shift; for (@{ $t{fields} }) { return $_->[1] if $_->[0] eq $n } undef };
    $t{all} = sub { my $n = shift; map { $_->[1] } grep { $_->[0] eq $n } @{ $t{fields} } };
    return \%t;
}

sub unent {
    my $s = shift;
    $s =~ s/&lt;/</g; $s =~ s/&gt;/>/g; $s =~ s/&quot;/"/g; $s =~ s/&apos;/'/g;
    $s =~ s/&#x([0-9a-fA-F]+);/chr(hex $1)/ge; $s =~ s/&#(\d+);/chr($1)/ge;
    $s =~ s/&amp;/&/g;
    return $s;
}

# control_fault(SERVICE, SPEC, COUNT) -> HTTP status of the switch request
sub control_fault {
    my ($svc, $spec, $count) = @_;
    my $url = "http://127.0.0.1:$port{control}/control?service=$svc&fault=$spec"
        . (defined $count ? "&count=$count" : '');
    return HTTP::Tiny->new->request('POST', $url)->{status};
}

1;
