# Methods: the API is POST (session/status also GET).  Every other method,
# TRACE included, gets the XML 405 with an Allow header, and TRACE never
# echoes the request (the session token) back: with `TraceEnable off` as
# shipped, and on a server that left TraceEnable on, where httpd's core would
# answer TRACE before any handler or fixup runs.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use HTTP::Tiny;
use IdgwTest::Client;
use IdgwTest::Httpd;

plan tests => 38;

my $PORT2 = 8566;

sub check { ok t_cmp($_[0] ? 'yes' : 'no', 'yes', $_[1]) }

sub request {
    my ($c, $method, $path) = @_;
    return HTTP::Tiny->new(timeout => 10, keep_alive => 0)->request($method, $c->{base} . $path,
        { headers => { %{ $c->headers }, 'X-Idgw-Seq' => $c->seq + 1 } });
}

sub refused405 {
    my ($c, $method, $path, $allow, $what) = @_;
    my $res = request($c, $method, $path);
    my $token = $c->token;
    ok t_cmp($res->{status}, 405, "$what: status");
    ok t_cmp($res->{headers}{allow} // '', $allow, "$what: Allow");
    if ($method eq 'HEAD') {
        ok t_cmp($res->{headers}{'content-type'} // '', qr{^application/xml}, "$what: XML");
    } else {
        ok t_cmp(IdgwTest::Client::error_code($res), 'IDGW-REQ-006', "$what: code");
    }
    check(!(($res->{content} // "") =~ /\Q$token\E/), "$what: the token is not echoed");
}

my $c = IdgwTest::Client->new;
ok t_cmp($c->open_session->{status}, 200, 'session opened');

for my $m (qw(TRACE PUT DELETE OPTIONS HEAD GET)) {
    refused405($c, $m, '/idgw/add_card/request', 'POST', "$m on a step");
}
refused405($c, 'TRACE', '/idgw/session/status', 'GET, POST', 'TRACE on status');
ok t_cmp($c->status->{status}, 200, 'GET on status is allowed');
ok t_cmp($c->step('add_card', 'request')->{status}, 200, 'the session is untouched');

# a server that leaves TraceEnable on: the module's own refusal holds
my $second = IdgwTest::Httpd::start(name => 'trace-httpd', port => $PORT2, edit => sub {
    $_[0] =~ s/^\s*TraceEnable\s+\w+\s*$//mg;
    $_[0] .= "\nTraceEnable on\n";
}) or die "cannot start the httpd with TraceEnable on";
my $t = IdgwTest::Client->new(base => "http://127.0.0.1:$PORT2");
ok t_cmp($t->open_session->{status}, 200, 'TraceEnable on: session opened');
refused405($t, 'TRACE', '/idgw/add_card/request', 'POST', 'TraceEnable on: TRACE');
ok t_cmp($second->log_text, qr/IDGW0145: .*TraceEnable/, 'TraceEnable on: start-up warning');
check($second->stop, 'TraceEnable on: stopped');
