# The API answers over TLS only.  Without "IdgwAllowPlainHttp On" a request
# over plain HTTP is refused before anything else looks at it: 403
# IDGW-REQ-009, no session token issued (the Debian configuration once put
# <Location /idgw/v1> at server level, and the plain default virtual host
# handed tokens out in clear), TRACE not echoed, log line IDGW0180.  Over TLS
# the same server serves; with the directive (Apache::Test's own server, or
# one location) plain HTTP is served.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use HTTP::Tiny;
use IdgwTest::Client;
use IdgwTest::Httpd;

plan tests => 17;

my ($PLAIN, $TLS) = (8567, 8568);
my $t_dir = Apache::Test::vars('t_dir');
my $mods = '/usr/lib/apache2/modules';

sub check { ok t_cmp($_[0] ? 'yes' : 'no', 'yes', $_[1]) }

# served with the directive: Apache::Test's server (t/conf/extra.conf)
my $c = IdgwTest::Client->new;
my $res = $c->open_session;
ok t_cmp($res->{status}, 200, 'IdgwAllowPlainHttp On: plain HTTP served');

# a throwaway certificate for the TLS listener
my $pki = "$t_dir/tls-httpd-pki";
mkdir $pki;
system("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
       . "-keyout $pki/key.pem -out $pki/cert.pem >/dev/null 2>&1") == 0 or die 'openssl req';

# its log from this run only
unlink "$t_dir/tls-httpd/error_log";

# the same settings without the directive, a TLS listener beside the plain one;
# plain HTTP allowed for one location only
my $second = IdgwTest::Httpd::start(name => 'tls-httpd', port => $PLAIN, edit => sub {
    $_[0] =~ s/^\s*IdgwAllowPlainHttp\s+On\s*$//mg or die 'no IdgwAllowPlainHttp in extra.conf';
    $_[0] .= <<"EOC";
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
LoadModule ssl_module $mods/mod_ssl.so
SSLSessionCache "shmcb:$t_dir/tls-httpd/ssl_scache(51200)"
Listen 127.0.0.1:$TLS
<VirtualHost 127.0.0.1:$TLS>
    SSLEngine on
    SSLCertificateFile "$pki/cert.pem"
    SSLCertificateKeyFile "$pki/key.pem"
</VirtualHost>
<Location /idgw/session/status>
    IdgwAllowPlainHttp On
</Location>
EOC
}) or die 'cannot start the httpd without IdgwAllowPlainHttp';

my $p = IdgwTest::Client->new(base => "http://127.0.0.1:$PLAIN");
$res = $p->open_session;
ok t_cmp($res->{status}, 403, 'plain HTTP: session/open refused with 403');
ok t_cmp(IdgwTest::Client::error_code($res), 'IDGW-REQ-009', 'plain HTTP: IDGW-REQ-009');
ok t_cmp($res->{headers}{'content-type'} // '', qr{^application/xml}, 'plain HTTP: an XML answer');
check(!defined $p->token && ($res->{content} // '') !~ /<token>/, 'plain HTTP: no session token issued');

$res = $p->post('/idgw/add_card/request', '<x/>', 'X-Idgw-Token' => 'A' x 64, 'X-Idgw-Seq' => 1);
ok t_cmp(IdgwTest::Client::error_code($res), 'IDGW-REQ-009', 'plain HTTP: a step refused alike');
$res = HTTP::Tiny->new(timeout => 10)->request('TRACE', "http://127.0.0.1:$PLAIN/idgw/session/open",
    { headers => { 'X-Idgw-Token' => 'SECRET' x 8 } });
ok t_cmp($res->{status}, 403, 'plain HTTP: TRACE refused too');
check(($res->{content} // '') !~ /SECRET/, 'plain HTTP: TRACE echoes nothing');

# the location that allows plain HTTP reaches the session check (no token: 400)
$res = $p->post('/idgw/session/status', '');
ok t_cmp(IdgwTest::Client::error_code($res), 'IDGW-REQ-001',
         'IdgwAllowPlainHttp On in one location: served there');

my $log = $second->log_text;
my @refusals = $log =~ /IDGW0180: \w+ over plain HTTP refused/g;
ok t_cmp(scalar @refusals, 3, 'each refusal logged IDGW0180');
check($log !~ /IDGW0123: session opened/, 'no session was opened over plain HTTP');

# the same server over TLS serves
my $s = IdgwTest::Client->new(base => "https://127.0.0.1:$TLS");
$s->{http} = HTTP::Tiny->new(timeout => 10, keep_alive => 0, verify_SSL => 0);
$res = $s->open_session;
ok t_cmp($res->{status}, 200, 'TLS: session opened');
check(defined $s->token && length $s->token, 'TLS: a token issued');
ok t_cmp($s->step('add_card', 'request')->{status}, 200, 'TLS: a step served');
check($second->log_text =~ /IDGW0123: session opened/, 'TLS: the session opened (IDGW0123)');
check($second->log_text !~ /\Q${\ $s->token}\E/, 'the token is not logged');
check($second->stop, 'stopped');
