# The shipped TLS settings (conf.d/idgw.conf, which the demo stack runs):
# testssl.sh (scripts/idgw-tlscheck) finds nothing rated MEDIUM or worse but
# the development CA's chain (cert_chain_of_trust, cert_revocation), a
# server cipher order with ECDHE+AEAD suites only, no versions in the Server
# header, HSTS and nosniff; the error answers carry the headers too, and
# TRACE is off.  The same check fails on the TLS settings shipped before
# (no cipher order, Debian's HIGH:!aNULL with CBC suites, ServerTokens Full,
# no security headers): it can fail.  The Debian package's TLS site passes
# the same check in an httpd of its own.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;

my $stack = IdgwTest::Stack->up;
my $run = $stack->run_dir;
my $src = IdgwTest::Stack::src();
(my $hostport = $stack->url) =~ s{^https://([^/]+)/.*$}{$1};

my $check = "$src/scripts/idgw-tlscheck";
# testssl.sh is slow (minutes on a loaded 2-core machine) and mostly waits on
# its openssl children: the three checks below run at once.
# start_check(DIR, ARGS, TARGET): a pipe reading the check's output.
sub start_check {
    my ($dir, $args, $target) = @_;
    open my $fh, '-|', "IDGW_TLSCHECK_DIR='$dir' $check --allow-dev-ca $args $target 2>&1"
        or die "idgw-tlscheck: $!";
    return $fh;
}
# finish_check(PIPE): (exit code, output) once the check ends.
sub finish_check {
    my ($fh) = @_;
    my $out = do { local $/; <$fh> };
    close $fh;
    return ($? >> 8, $out);
}
my $shipped = start_check("$run/tlscheck", '', $hostport);

# the headers on error answers too (Header always set), and no versions
sub head_of {
    my ($method, $path) = @_;
    return scalar `curl -sk --max-time 5 -o /dev/null -D - -X $method https://$hostport$path`;
}
for my $r ([ 'POST', '/idgw/v1/session/status', qr/^HTTP\/\S+ 400/, 'an XML error (400)' ],
           [ 'GET', '/no-such-page', qr/^HTTP\/\S+ 404/, "httpd's own 404" ],
           [ 'TRACE', '/', qr/^HTTP\/\S+ 405/, 'TRACE (TraceEnable off: 405)' ]) {
    my ($method, $path, $status, $what) = @$r;
    my $h = head_of($method, $path);
    like($h, $status, "$what: status");
    like($h, qr/^Strict-Transport-Security: max-age=31536000\r?$/mi, "$what: HSTS");
    like($h, qr/^X-Content-Type-Options: nosniff\r?$/mi, "$what: nosniff");
    like($h, qr/^Server: Apache\r?$/mi, "$what: Server names no versions");
}

# the settings shipped before: the check fails, naming what is wrong
my $url = $stack->extra_gateway('oldtls', 5,
    'SSLHonorCipherOrder on' => 'SSLHonorCipherOrder off',
    'ServerTokens Prod' => 'ServerTokens Full',
    'Header always set Strict-Transport-Security "max-age=31536000"' => '',
    'Header always set X-Content-Type-Options "nosniff"' => '',
    (grep { /^SSLCipherSuite ECDHE/ } split /\n/, `cat $run/idgw.conf`)[0] => 'SSLCipherSuite HIGH:!aNULL');
END { IdgwTest::Stack::stop_extra_gateways() }
(my $old = $url) =~ s{^https://([^/]+)/.*$}{$1};
my $older = start_check("$run/tlscheck-old", '--checks "-s -P -h"', $old);

# the Debian package's TLS site (conf.d/debian/sites-available/idgw-ssl.conf)
# in an httpd of its own: the same check, its paths and port moved here
my $site = `cat $src/conf.d/debian/sites-available/idgw-ssl.conf`;
my $dport = 8641;   # beside the extra gateways (8635-8639)
$site =~ s{_default_:443}{127.0.0.1:$dport} or die 'no _default_:443';
$site =~ s{/etc/apache2/idgw/gateway\.(crt|key)}{$run/pki/gateway.$1}g;
$site =~ s{\$\{APACHE_LOG_DIR\}/idgw-(error|access)\.log}{$run/deb-site.$1.log}g;
my $user = $> == 0 ? "User nobody\nGroup nogroup\n" : '';
my $mods = '/usr/lib/apache2/modules';
open my $fh, '>', "$run/deb-site.conf" or die $!;
print {$fh} "ServerRoot \"$run\"\nPidFile \"$run/deb-site.pid\"\nDefaultRuntimeDir \"$run\"\n$user"
    . join('', map { "LoadModule ${_}_module $mods/mod_$_.so\n" }
                   qw(mpm_event authz_core socache_shmcb ssl headers))
    . "ServerName localhost\nErrorLog \"$run/deb-site.error.log\"\nMutex file:$run default\n"
    . "SSLSessionCache \"shmcb:$run/deb-site.scache(51200)\"\nListen 127.0.0.1:$dport\n$site";
close $fh;
my $httpd = -x '/usr/sbin/apache2' ? '/usr/sbin/apache2' : 'httpd';
is(system("$httpd -f $run/deb-site.conf -k start"), 0, 'the Debian TLS site starts');
for (1 .. 50) { last if `curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:$dport/` =~ /^\d{3}$/ && $? == 0; select undef, undef, undef, 0.1 }
my $debian = start_check("$run/tlscheck-deb", '--checks "-p -s -P -h"', "127.0.0.1:$dport");

my ($rc, $out) = finish_check($shipped);
is($rc, 0, "testssl.sh: no finding MEDIUM or worse on $hostport but the dev CA's") or diag $out;

($rc, $out) = finish_check($older);
is($rc, 1, 'the old TLS settings fail the check') or diag $out;
like($out, qr/^HIGH cipher_order: /m, 'no cipher order: HIGH');
like($out, qr/^FAIL cipherlist_AVERAGE: offered/m, 'CBC suites offered');
like($out, qr/^FAIL banner_server: Apache\/2/m, 'the Server header names the version');
like($out, qr/^MEDIUM security_headers: /m, 'no security headers: MEDIUM');
like($out, qr/^FAIL HSTS_time: /m, 'no HSTS');

($rc, $out) = finish_check($debian);
is($rc, 0, 'the Debian TLS site passes the check') or diag $out;
system("$httpd -f $run/deb-site.conf -k stop");
for (1 .. 50) { last unless -e "$run/deb-site.pid"; select undef, undef, undef, 0.1 }

done_testing();
