# Request bodies are bounded however they arrive: IdgwSessionMaxBody (65536
# in the test configuration) bounds chunked bodies as well as announced
# ones, and the server stops reading at the limit; a body that stops coming
# gets the XML timeout error within RequestReadTimeout (body=2 in the test
# configuration).  A hostile app's raw sockets play every case.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);
use IdgwTest::Client;

plan tests => 26;

$SIG{PIPE} = 'IGNORE';
my ($HOST, $PORT) = IdgwTest::Client::base_url() =~ m{^http://([^:]+):(\d+)};

sub connect_raw {
    my ($c, $path, %hdr) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => $HOST, PeerPort => $PORT, Timeout => 5)
        or die "connect: $!";
    my %h = (%{ $c->headers }, Host => "$HOST:$PORT", 'Content-Type' => 'application/xml', %hdr);
    my $head = "POST $path HTTP/1.1\r\n"
        . join('', map { "$_: $h{$_}\r\n" } grep { defined $h{$_} } sort keys %h) . "\r\n";
    syswrite($s, $head) == length($head) or die "write: $!";
    $s->blocking(0);
    return $s;
}

# Write $feed->() (until it returns undef) while watching for the answer;
# returns (status, body, seconds taken, bytes written).
sub exchange {
    my ($s, $feed, $limit) = @_;
    my $sel = IO::Select->new($s);
    my ($in, $out, $sent, $start) = ('', '', 0, time);
    while (time - $start < $limit) {
        my ($r, $w) = IO::Select->select($sel, $out ne '' || $feed ? $sel : undef, undef, 0.2);
        if ($r && @$r) {
            my $n = sysread($s, $in, 65536, length $in);
            last if !$n;    # EOF or reset
            if ($in =~ /\r\n\r\n/ && $in =~ /^Content-Length:\s*(\d+)/mi) {
                my $need = index($in, "\r\n\r\n") + 4 + $1;
                last if length($in) >= $need;
            }
        }
        if ($w && @$w) {
            if ($out eq '' && $feed) {
                my $next = $feed->();
                if (defined $next) { $out = $next } else { $feed = undef }
            }
            if ($out ne '') {
                my $n = syswrite($s, $out);
                if (!defined $n) { $feed = undef; $out = ''; next }
                $sent += $n;
                substr($out, 0, $n, '');
            }
        }
    }
    my ($status) = $in =~ m{^HTTP/1\.\d (\d{3})};
    my ($head, $body) = $in =~ /\A(.*?)\r\n\r\n(.*)\z/s;
    return ($status // 0, $body // '', time - $start, $sent, $head // '');
}

sub check { ok t_cmp($_[0] ? 'yes' : 'no', 'yes', $_[1]) }

sub code { $_[0] =~ m{<error><code>([A-Z0-9-]+)</code>} ? $1 : '' }

my $c = IdgwTest::Client->new;
ok t_cmp($c->open_session->{status}, 200, 'session opened');

# 1. a chunked body that never ends: the XML 413 quickly, and the server
#    stops reading (the client could stream 1 GiB otherwise)
{
    my $s = connect_raw($c, '/idgw/add_card/request', 'Transfer-Encoding' => 'chunked',
                        'X-Idgw-Seq' => 1);
    my $chunk = sprintf("%x\r\n%s\r\n", 8192, 'A' x 8192);
    my ($st, $body, $took, $sent) = exchange($s, sub { $chunk }, 15);
    ok t_cmp($st, 413, 'endless chunked body: 413');
    ok t_cmp(code($body), 'IDGW-REQ-004', 'endless chunked body: IDGW-REQ-004');
    check($took < 5, "endless chunked body: answered in ${took}s");
    check($sent < 32 * 1024 * 1024, "endless chunked body: the server stopped reading ($sent bytes)");
}

# 2. a chunked body just over the limit, finished: the XML 413 as well
{
    my $s = connect_raw($c, '/idgw/add_card/request', 'Transfer-Encoding' => 'chunked',
                        'X-Idgw-Seq' => 1);
    my @parts = (sprintf("%x\r\n%s\r\n", 65537, 'B' x 65537), "0\r\n\r\n");
    my ($st, $body) = exchange($s, sub { shift @parts }, 10);
    ok t_cmp($st, 413, 'chunked body one byte over: 413');
    ok t_cmp(code($body), 'IDGW-REQ-004', 'chunked body one byte over: IDGW-REQ-004');
}

# 3. an announced body over the limit is refused before a byte of it is read
{
    my $s = connect_raw($c, '/idgw/add_card/request', 'Content-Length' => 100 * 1024 * 1024,
                        'X-Idgw-Seq' => 1);
    my ($st, $body, $took) = exchange($s, undef, 10);
    ok t_cmp($st, 413, 'Content-Length 100 MiB: 413');
    ok t_cmp(code($body), 'IDGW-REQ-004', 'Content-Length 100 MiB: IDGW-REQ-004');
    check($took < 1.5, "Content-Length 100 MiB: answered at once (${took}s), nothing waited for");
}

# 4. a body that stops half way, announced or chunked: the XML timeout
#    error within the timeout
for my $case (['unfinished body', 'Content-Length' => 100 * 1024 / 2, 'C' x 1000],
              ['unfinished chunked body', 'Transfer-Encoding' => 'chunked',
               "10\r\n0123456789abcdef\r\n20\r\n0123"]) {
    my ($what, $hdr, $value, @parts) = @$case;
    my $s = connect_raw($c, '/idgw/add_card/request', $hdr => $value, 'X-Idgw-Seq' => 1);
    my ($st, $body, $took) = exchange($s, sub { shift @parts }, 15);
    ok t_cmp($st, 408, "$what: 408");
    ok t_cmp(code($body), 'IDGW-REQ-007', "$what: IDGW-REQ-007");
    check($took < 8, "$what: answered in ${took}s");
}

# 5. broken chunk framing: the XML 400
{
    my $s = connect_raw($c, '/idgw/add_card/request', 'Transfer-Encoding' => 'chunked',
                        'X-Idgw-Seq' => 1);
    my @parts = ("zz\r\nhello\r\n0\r\n\r\n");
    my ($st, $body, undef, undef, $head) = exchange($s, sub { shift @parts }, 10);
    ok t_cmp($st, 400, 'bad chunk size: 400');
    ok t_cmp(code($body), 'IDGW-REQ-008', 'bad chunk size: IDGW-REQ-008');
    ok t_cmp($head, qr{^Content-Type: application/xml}mi, 'bad chunk size: XML');
}

# none of that used a sequence number: a chunked body within the limit works
{
    my $s = connect_raw($c, '/idgw/add_card/request', 'Transfer-Encoding' => 'chunked',
                        'X-Idgw-Seq' => 1);
    my @parts = ("5\r\ncard=\r\n", "10\r\n4980111122223333\r\n", "0\r\n\r\n");
    my ($st, $body) = exchange($s, sub { shift @parts }, 10);
    ok t_cmp($st, 200, 'chunked body within the limit: 200');
    ok t_cmp($body, qr{<seq>1</seq>}, 'chunked body within the limit: step 1');
    $c->{seq} = 1;
    $c->step('add_card', 'relay');
    my $done = $c->step('add_card', 'complete');
    ok t_cmp($done->{status}, 200, 'complete');
    ok t_cmp($done->{content}, qr{<last4>3333</last4>}, 'the chunked body arrived whole');
}

# the log says why, with stable ids
my $log = do { local (@ARGV, $/) = (Apache::Test::vars('t_logs') . '/error_log'); <> };
ok t_cmp($log, qr/IDGW0127: IDGW-REQ-004/, 'too large: logged');
ok t_cmp($log, qr/IDGW0127: IDGW-REQ-007/, 'timeout: logged');
check($log !~ /4980111122223333/, 'the card number is not logged');
