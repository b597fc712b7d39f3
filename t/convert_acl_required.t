# The conversion handler never serves without access control by accident:
# "a2dismod idgw_acl" (whose <IfModule> hid "IdgwAcl On") or a location that
# hands requests to idgw-convert without "IdgwAcl On" fails the config test
# (and so the start), with the location and what to write; "IdgwAcl Off"
# written on purpose passes, with a warning at every start (IDGW0443).  What
# the start-up walk cannot see (a handler set inside <If>) fails closed per
# request: 500 IDGW-CNV-040, IDGW0441, before the session check issues a
# token.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;

my $stack = IdgwTest::Stack->up;
my $run = $stack->run_dir;
my $httpd = -x '/usr/sbin/apache2' ? '/usr/sbin/apache2' : 'httpd';
sub slurp { open my $fh, '<', $_[0] or die "$_[0]: $!"; local $/; return <$fh> }
sub spill { open my $fh, '>', $_[0] or die "$_[0]: $!"; print {$fh} $_[1]; close $fh }

my $name = 'aclreq';
my $url = $stack->extra_gateway($name, 4,
    '' => "<Location /idgw-open-door>\n    IdgwAcl Off\n    IdgwSession On\n"
        . "    SetHandler idgw-convert\n</Location>",
    '' => "<Location /idgw-sneak>\n    IdgwSession On\n    <If \"true\">\n"
        . "        SetHandler idgw-convert\n    </If>\n</Location>");
END { IdgwTest::Stack::stop_extra_gateways() }
my $conf = "$run/$name.gateway.conf";
my $idgw_path = "$run/$name.idgw.conf";
my $good = slurp($idgw_path);
(my $base = $url) =~ s{/idgw/v1$}{};

# an explicit Off: a warning at every start, in the error log
like(slurp("$run/$name.error.log"),
     qr{IDGW0443: <Location /idgw-open-door> \(SetHandler at \S+:\d+\) serves the gateway WITHOUT access control},
     'IdgwAcl Off written on purpose: the start warns (IDGW0443)');

# a handler the start-up walk cannot see (inside <If>): refused per request,
# before the session check (no token, no session opened)
my $before = () = slurp("$run/$name.error.log") =~ /IDGW0123: session opened/g;
my $out = `curl -sk --max-time 5 -w '\\n%{http_code}' -X POST -H 'X-Idgw-Terminal: T-ACLREQ' -H 'X-Idgw-IDm: 0123456789ABCDEF' $base/idgw-sneak/session/open`;
my ($body, $code) = $out =~ /^(.*)\n(\d+)$/s;
is($code, 500, 'a convert request without access control: 500');
like($body // '', qr{<code>IDGW-CNV-040</code>}, 'with the XML error IDGW-CNV-040');
unlike($body // '', qr{<token>}, 'and no session token');
select undef, undef, undef, 0.3;
my $log = slurp("$run/$name.error.log");
like($log, qr{IDGW0441: idgw-convert refused: IdgwAcl is neither On nor Off for this request},
     'logged IDGW0441');
my $after = () = $log =~ /IDGW0123: session opened/g;
is($after, $before, 'no session was opened');
# the API location (IdgwAcl On) still serves: an idgw error for a status without token
like(`curl -sk --max-time 5 -X POST $url/session/status`, qr{<code>IDGW-REQ-00\d</code>},
     'the location with IdgwAcl On serves');

# the config test: [what, edit of idgw.conf, expected: undef passes, else the message]
my $set = sub { my ($re, $with) = @_; return sub { $_[0] =~ s/$re/$with/mg or die "no $re" } };
my @cases = (
    [ 'mod_idgw_acl not loaded (a2dismod idgw_acl)',
      sub { $_[0] =~ s/^LoadModule idgw_acl_module .*$//m or die; $_[0] =~ s/^\s*IdgwAcl\S* .*$//mg or die },
      qr{IDGW0440: mod_idgw_convert: mod_idgw_acl is not loaded, so nothing controls who uses <Location /idgw/v1> \(SetHandler at \S+:\d+\): enable it \(Debian: a2enmod idgw_acl} ],
    [ 'the API location without IdgwAcl On', $set->(qr/^    IdgwAcl On$/m, ''),
      qr{IDGW0442: mod_idgw_convert: <Location /idgw/v1> \(SetHandler at \S+:\d+\) in server \S+ hands requests to idgw-convert but access control is not on there: write IdgwAcl On} ],
    [ 'another location handing requests to idgw-convert without IdgwAcl',
      sub { $_[0] .= "<Location /idgw/v2>\n    IdgwSession On\n    SetHandler idgw-convert\n</Location>\n" },
      qr{IDGW0442: .*<Location /idgw/v2>} ],
    [ 'a <LocationMatch> without IdgwAcl',
      sub { $_[0] .= "<LocationMatch \"^/idgw/v3\">\n    IdgwSession On\n    SetHandler idgw-convert\n</LocationMatch>\n" },
      qr{IDGW0442: .*<Location \^/idgw/v3>} ],
    [ 'a virtual host with its own API location without IdgwAcl',
      sub { $_[0] .= "<VirtualHost 127.0.0.1:1>\n    ServerName other.example\n    <Location /api>\n"
                   . "        IdgwSession On\n        SetHandler idgw-convert\n    </Location>\n</VirtualHost>\n" },
      qr{IDGW0442: .*<Location /api> .*in server other\.example} ],
    [ 'IdgwAcl Off written on purpose', $set->(qr/^    IdgwAcl On$/m, '    IdgwAcl Off'), undef,
      qr{IDGW0443: <Location /idgw/v1> .*WITHOUT access control} ],
    [ 'a second <Location /idgw/v1> with IdgwAcl Off',
      sub { $_[0] .= "<Location /idgw/v1>\n    IdgwAcl Off\n</Location>\n" }, undef,
      qr{IDGW0443: <Location /idgw/v1> .*WITHOUT access control} ],
);
for my $c (@cases) {
    my ($what, $edit, $refusal, $warning) = @$c;
    my $text = $good;
    $edit->($text);
    spill($idgw_path, $text);
    my $out = `$httpd -t -f $conf 2>&1`;
    my $rc = $? >> 8;
    if ($refusal) {
        isnt($rc, 0, "$what: configtest fails");
        like($out, $refusal, "$what: it names the location and what to write") or diag $out;
    } else {
        is($rc, 0, "$what: configtest passes") or diag $out;
        like($out, $warning, "$what: with a warning") or diag $out;
    }
}
spill($idgw_path, $good);
my $ok = `$httpd -t -f $conf 2>&1`;
is($? >> 8, 0, 'the shipped configuration (IdgwAcl On) passes') or diag $ok;
unlike($ok, qr{IDGW0443: <Location /idgw/v1>}, 'without a warning for the API location');

done_testing();
