# idgw's backend client (through t/sim/idgw-fpcall) against the simulators:
# httpd + mod_ssl as the peer, keep-alive, TLS resumption, client
# certificates, host names, and every fault mapped to its error category.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(time);
use SimTest;

my $fpcall = "$ENV{IDGW_BUILD}/t/sim/idgw-fpcall";
-x $fpcall or plan skip_all => "no $fpcall";
my $dir = tempdir(CLEANUP => 1);

sub body_file {
    my ($name, $bytes) = @_;
    open(my $f, '>:raw', "$dir/$name") or die $!;
    print $f $bytes;
    close $f;
    return "$dir/$name";
}

my $corr = 'client-t-00000001';
my $auth = body_file('auth.xml', telegram('CARD_AUTH_REQ', $corr,
    [memberId => 'DCM0001', password => 'docomo01', issuerCode => 'DCM']));
my $brand = body_file('brand.xml', telegram('BRAND_DOWNLOAD_REQ', $corr, [issuerCode => 'DCM']));

# fpcall(SERVICE, BODY, extra KEY=VALUE...) -> (exit code, [call lines], stats line)
sub fpcall {
    my ($svc, $body, @extra) = @_;
    my %kv = (url => sim_url($svc), ca => pki('ca.crt'), cert => pki('gateway-client.crt'),
              key => pki('gateway-client.key'), body => $body, corr => $corr,
              'io-timeout' => '3s', 'connect-timeout' => '1s');
    while (my ($k, $v) = splice(@extra, 0, 2)) {
        if (defined $v) { $kv{$k} = $v } else { delete $kv{$k} }
    }
    my @cmd = ($fpcall, map { "$_=$kv{$_}" } sort keys %kv);
    open(my $out, '-|', @cmd) or die "$fpcall: $!";
    my @lines = <$out>;
    close $out;
    my $rc = $? >> 8;
    my @calls = grep { /^call / } @lines;
    my ($stats) = grep { /^stats: / } @lines;
    return ($rc, \@calls, $stats // '');
}

sub category { $_[0] =~ /category=(\S+)/ ? $1 : '?' }
sub stat_of { $_[0] =~ /\b$_[1]=(\d+)/ ? $1 : -1 }

my ($rc, $calls, $stats) = fpcall('cremo', $auth, repeat => 10);
is($rc, 0, 'ten calls to CREMO succeed');
is(scalar(grep { /category=ok status=200/ } @$calls), 10, 'all answered 200');
is(stat_of($stats, 'connects'), 1, 'keep-alive: one connection');
is(stat_of($stats, 'reuses'), 9, 'keep-alive: nine reuses');

# httpd closes the idle connection (KeepAliveTimeout 2 s in the tests): the
# client notices before reuse and opens a new one; the call does not fail.
($rc, $calls, $stats) = fpcall('cremo', $auth, repeat => 2, pause => 3000);
is($rc, 0, 'both calls succeed across the idle close');
is(stat_of($stats, 'stale'), 1, 'the closed idle connection was detected');
is(stat_of($stats, 'connects'), 2, 'and replaced');
is(stat_of($stats, 'retries'), 0, 'without any retry');

for my $svc (qw(cardinfo brand felica)) {
    ($rc, $calls) = fpcall($svc, $svc eq 'brand' ? $brand : $auth);
    like($calls->[0], qr/category=(ok|http-status)/, "$svc reachable over TLS with the client certificate");
}

# An error answer drops the connection; the next one is new and resumes the
# TLS session (the error was HTTP, TLS stayed intact).
control_fault('cremo', 'status=500', 1);
($rc, $calls, $stats) = fpcall('cremo', $auth, repeat => 3);
is(category($calls->[0]), 'http-status', 'injected 500: http-status');
like($calls->[0], qr/status=500/, 'injected 500: status kept');
is(category($calls->[1]), 'ok', 'next call succeeds on a new connection');
is(stat_of($stats, 'connects'), 2, 'the failed connection was replaced');
is(stat_of($stats, 'resumed'), 1, 'the new TLS connection resumed the session');

# Retries: only when idempotent.
control_fault('brand', 'status=503', 1);
($rc, $calls) = fpcall('brand', $brand, idempotent => 1);
like($calls->[0], qr/category=ok status=200 attempts=2/, 'idempotent: retried after 503');
control_fault('cremo', 'status=503', 1);
($rc, $calls) = fpcall('cremo', $auth);
like($calls->[0], qr/category=http-status status=503 attempts=1/, 'not idempotent: no retry');

# Faults mapped to categories.
# unframed: a close-delimited answer cannot be told from a cut one
my %expect = (reset => 'protocol', truncated => 'protocol', refuse => 'protocol',
              unframed => 'protocol');
for my $f (sort keys %expect) {
    control_fault('cremo', $f, 1);
    ($rc, $calls) = fpcall('cremo', $auth);
    is(category($calls->[0]), $expect{$f}, "fault $f: $expect{$f}");
    isnt($rc, 0, "fault $f: failure exit");
}
control_fault('cremo', 'malformed', 1);
($rc, $calls) = fpcall('cremo', $auth);
is(category($calls->[0]), 'ok', 'malformed telegram: fine at the HTTP level (the codec refuses it)');

control_fault('cremo', 'delay=2000', 1);
my $t0 = time;
($rc, $calls) = fpcall('cremo', $auth, 'io-timeout' => '300ms');
my $took = time - $t0;
is(category($calls->[0]), 'timeout', 'delay 2 s with a 300 ms I/O timeout: timeout');
ok($took < 1.5, "timeout returned in ${took}s");
control_fault('cremo', 'none');

control_fault('cremo', 'slow=20', 1);
($rc, $calls) = fpcall('cremo', $auth, 'io-timeout' => '1s');
is(category($calls->[0]), 'ok', 'slow body within the I/O timeout: ok');

($rc, $calls) = fpcall('cremo', $auth, 'max-response' => '100');
is(category($calls->[0]), 'oversize', 'response over max-response: oversize');

# TLS failures.
($rc, $calls) = fpcall('cremo', $auth, cert => undef, key => undef);
is(category($calls->[0]), 'tls', 'no client certificate: tls');
($rc, $calls) = fpcall('cremo', $auth, cert => pki('rogue-client.crt'), key => pki('rogue-client.key'));
is(category($calls->[0]), 'tls', 'client certificate of another CA: tls');
($rc, $calls) = fpcall('cremo', $auth, 'tls-name' => 'felica.idgw.test');
is(category($calls->[0]), 'tls', "another backend's name: tls");
($rc, $calls) = fpcall('cremo', $auth, 'tls-name' => 'cremo.idgw.test');
is(category($calls->[0]), 'ok', 'the right name: ok');
($rc, $calls) = fpcall('cremo', $auth, ca => pki('rogue-ca.crt'));
is(category($calls->[0]), 'tls', 'server not signed by the configured CA: tls');

# Refused: the one port of the simulators' six that nothing listens on.
my $closed = ($ENV{IDGW_SIM_PORT_BASE} || 8441) + 4;
($rc, $calls) = fpcall('cremo', $auth, url => "https://127.0.0.1:$closed/fp/cremo");
is(category($calls->[0]), 'connect', 'closed port: connect');

done_testing();
