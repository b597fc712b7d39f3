# "apache2ctl configtest && apache2ctl graceful" is safe: every file the
# configuration names (vault keys, the conversion map and its contents, the
# backends' CA, certificate and key) and every Redis address is loaded and
# checked by "httpd -t", so a configuration that would stop the graceful
# restart (AH00020: Configuration Failed, exiting) fails the config test
# first, with the directive, the file and what to do; the operator's
# "configtest && graceful" then never reloads and the running gateway keeps
# serving.  Each breakage in turn against a running gateway of the demo stack.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;

my $stack = IdgwTest::Stack->up;
my $run = $stack->run_dir;
my $src = IdgwTest::Stack::src();
my $httpd = -x '/usr/sbin/apache2' ? '/usr/sbin/apache2' : 'httpd';
sub slurp { open my $fh, '<', $_[0] or die "$_[0]: $!"; local $/; return <$fh> }
sub spill { open my $fh, '>', $_[0] or die "$_[0]: $!"; print {$fh} $_[1]; close $fh }

my $name = 'configtest';
my $url = $stack->extra_gateway($name, 3);
END { IdgwTest::Stack::stop_extra_gateways() }
my $conf = "$run/$name.gateway.conf";
my $idgw_path = "$run/$name.idgw.conf";
my $good = slurp($idgw_path);

sub gateway_pid { my $p = eval { slurp("$run/$name.pid") } // ''; chomp $p; return $p }

# the gateway's own answer: an idgw XML error for a session/status without a token
sub serving {
    my $body = `curl -sk --max-time 3 -X POST $url/session/status`;
    return $? == 0 && $body =~ /<code>IDGW-/;
}

my $pid = gateway_pid();
ok($pid && kill(0, $pid), "the gateway runs (pid $pid)");
ok(serving(), 'and answers');

# the breakages: [name, edit of idgw.conf, expected configtest message]
my $map = slurp("$src/conf.d/idgw-map.conf");
(my $typo = $map) =~ s/^(call add_card request CARD_AUTH_)REQ/${1}REW/m or die;
(my $field = $map) =~ s/^(call add_card request CARD_AUTH_REQ card) memberId=/$1 memberID=/m or die;
spill("$run/$name.map-typo.conf", $typo);
spill("$run/$name.map-field.conf", $field);
spill("$run/$name.vault-bad.keys", "not-a-key\n");
chmod 0600, "$run/$name.vault-bad.keys";
spill("$run/$name.vault-open.keys", slurp("$run/vault.keys"));
chmod 0644, "$run/$name.vault-open.keys";
system("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
       . "-out $run/$name.other.key 2>/dev/null") == 0 or die 'openssl genpkey';

my $set = sub { my ($re, $with) = @_; return sub { $_[0] =~ s/$re/$with/m or die "no $re" } };
my @broken = (
    [ 'vault key file missing', $set->(qr/^IdgwVaultKeyFile .*$/m, "IdgwVaultKeyFile $run/$name.nokeys"),
      qr/IdgwVaultKeyFile: cannot read \Q$run\E\/$name\.nokeys.*openssl rand -hex 32/s ],
    [ 'vault key file readable by others', $set->(qr/^IdgwVaultKeyFile .*$/m, "IdgwVaultKeyFile $run/$name.vault-open.keys"),
      qr/IdgwVaultKeyFile: \S+vault-open\.keys must not be readable by others/ ],
    [ 'vault key file malformed', $set->(qr/^IdgwVaultKeyFile .*$/m, "IdgwVaultKeyFile $run/$name.vault-bad.keys"),
      qr/IdgwVaultKeyFile: .*vault-bad\.keys/ ],
    [ 'a one-letter typo in the map', $set->(qr/^IdgwConvertMap .*$/m, "IdgwConvertMap $run/$name.map-typo.conf"),
      qr/IdgwConvertMap \S+map-typo\.conf:49: .*CARD_AUTH_REW/ ],
    [ 'the map names an unknown telegram field', $set->(qr/^IdgwConvertMap .*$/m, "IdgwConvertMap $run/$name.map-field.conf"),
      qr/IdgwConvertMap \S+map-field\.conf:49: .*memberID/ ],
    [ 'a backend CA file missing', sub { $_[0] =~ s/^(IdgwConvertBackend cremo .*\n\s+ca=)\S+/$1$run\/$name.no-ca.crt/m or die },
      qr/IdgwConvertBackend cremo: .*no-ca\.crt/ ],
    [ 'a client key not matching its certificate', sub { $_[0] =~ s/^(IdgwConvertBackend dlc .*\n.*\n\s+key=)\S+/$1$run\/$name.other.key/m or die },
      qr/IdgwConvertBackend dlc: .*(key|certificate)/i ],
    [ 'a Redis address 127.0.0.1;16390', $set->(qr/^IdgwRedisServer .*$/m, 'IdgwRedisServer 127.0.0.1;16390'),
      qr/IdgwRedisServer '127\.0\.0\.1;16390': expected host/ ],
);

for my $b (@broken) {
    my ($what, $edit, $expect) = @$b;
    my $text = $good;
    $edit->($text);
    spill($idgw_path, $text);
    my $out = `$httpd -t -f $conf 2>&1`;
    my $rc = $? >> 8;
    isnt($rc, 0, "$what: configtest fails");
    like($out, $expect, "$what: it says which directive, file and fault") or diag $out;
    # as the operator runs it
    my $op = `$httpd -t -f $conf >/dev/null 2>&1 && $httpd -f $conf -k graceful && echo RELOADED`;
    unlike($op, qr/RELOADED/, "$what: configtest && graceful does not reload");
    select undef, undef, undef, 0.3;
    is(gateway_pid(), $pid, "$what: the same gateway process");
    ok(kill(0, $pid) && serving(), "$what: the gateway still serves");
}

# the good configuration passes and reloads
spill($idgw_path, $good);
my $out = `$httpd -t -f $conf 2>&1`;
is($? >> 8, 0, 'the working configuration passes the config test') or diag $out;
system("$httpd -f $conf -k graceful") == 0 or diag 'graceful failed';
my $up = 0;
for (1 .. 30) { select undef, undef, undef, 0.2; last if ($up = serving()) }
ok($up && kill(0, $pid), 'a graceful restart with it keeps the gateway serving');

done_testing();
