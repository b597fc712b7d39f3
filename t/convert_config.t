# The telegram mapping is checked when httpd starts: a broken mapping stops
# the start with the file, the line and what is wrong; a missing backend or
# an unknown directive option likewise.  The working configuration starts.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;

my $stack = IdgwTest::Stack->up;
my $run = $stack->run_dir;
my $httpd = $ENV{HTTPD} || (-x '/usr/sbin/apache2' ? '/usr/sbin/apache2' : 'httpd');
my $src = IdgwTest::Stack::src();
sub slurp { local (@ARGV, $/) = @_; return <> }

# the demo's configuration on another port, with an edit; run in the
# foreground: it either fails at start-up (exit, message) or runs (killed)
sub try_start {
    my ($name, $edit) = @_;
    my $dir = "$run/config-$name";
    mkdir $dir;
    my $conf = slurp("$run/gateway.conf");
    my $idgw = slurp("$run/idgw.conf");
    $edit->($idgw);
    open my $fh, '>', "$dir/idgw.conf" or die $!;
    print {$fh} $idgw;
    close $fh;
    $conf =~ s/^Listen .*/Listen 127.0.0.1:8605/m;
    $conf =~ s/^ServerName (\S+):\d+/ServerName $1:8605/m;
    $conf =~ s/^PidFile .*/PidFile "$dir\/httpd.pid"/m;
    $conf =~ s/^ErrorLog .*/ErrorLog "$dir\/error.log"/m;
    $conf =~ s/^CustomLog .*/CustomLog "$dir\/access.log" idgw/m;
    $conf =~ s/^Include .*/Include "$dir\/idgw.conf"/m;
    $conf =~ s/^Mutex .*/Mutex file:$dir default/m;
    $conf =~ s/^SSLSessionCache .*/SSLSessionCache "shmcb:$dir\/scache(512000)"/m;
    $conf =~ s/^DefaultRuntimeDir .*/DefaultRuntimeDir "$dir"/m;
    open $fh, '>', "$dir/httpd.conf" or die $!;
    print {$fh} $conf;
    close $fh;
    my $out = `timeout 4 $httpd -f $dir/httpd.conf -DFOREGROUND 2>&1`;
    my $rc = $? >> 8;
    $out .= -f "$dir/error.log" ? slurp("$dir/error.log") : '';
    return ($rc, $out);
}

my $map = slurp("$src/conf.d/idgw-map.conf");
my @broken = (
    [ 'unknown telegram', sub { $_[0] =~ s/CARD_DOWNLOAD_REQ/CARD_DOWNLOAD_REQUEST/ },
      qr/idgw-map-broken\.conf:\d+: CARD_DOWNLOAD_REQUEST is not a request telegram/ ],
    [ 'value never captured', sub { $_[0] =~ s/authTicket=ctx\.ticket/authTicket=ctx.tickett/ },
      qr/idgw-map-broken\.conf:\d+: ctx\.tickett is not captured/ ],
    [ 'no version line', sub { $_[0] =~ s/^version 1$//m },
      qr/idgw-map-broken\.conf:\d+: .*'version 1'/ ],
);
for my $b (@broken) {
    my ($name, $edit, $expect) = @$b;
    my $text = $map;
    $edit->($text);
    my $path = "$run/idgw-map-broken.conf";
    open my $fh, '>', $path or die $!;
    print {$fh} $text;
    close $fh;
    my ($rc, $out) = try_start('map', sub { $_[0] =~ s/^IdgwConvertMap .*/IdgwConvertMap $path/m });
    isnt($rc, 124, "$name: httpd does not start");
    like($out, $expect, "$name: the message names the file, the line and the fault") or diag $out;
}

my ($rc, $out) = try_start('backend', sub { $_[0] =~ s/^IdgwConvertBackend brand .*(\n\s+.*)*//m });
like($out, qr/IdgwConvertBackend brand is missing/, 'a missing backend stops the start');
($rc, $out) = try_start('option', sub { $_[0] =~ s/connect-timeout=2s/connect-timeuot=2s/ });
like($out, qr/IdgwConvertBackend cremo: .*connect-timeuot/, 'an unknown backend option is named');
# Backends only over TLS: a plain http:// URL would carry PAN, expiry and
# passwords in the clear; refused unless marked insecure, which is logged at
# every start.
my $plain = 'IdgwConvertBackend brand http://127.0.0.1:8612/fp/brand';
($rc, $out) = try_start('plain', sub { $_[0] =~ s/^IdgwConvertBackend brand .*(\n\s+.*)*/$plain/m });
isnt($rc, 124, 'a plain http:// backend stops the start');
like($out, qr{IdgwConvertBackend brand: brand: http://127\.0\.0\.1:8612/fp/brand is plain http: card data and passwords would cross in the clear; use https://}, 'the message says why and what to do') or diag $out;
($rc, $out) = try_start('insecure', sub { $_[0] =~ s/^IdgwConvertBackend brand .*(\n\s+.*)*/$plain insecure/m });
is($rc, 124, 'a plain http:// backend marked insecure starts') or diag $out;
like($out, qr/IDGW0405: backend brand at http:\/\/127\.0\.0\.1:8612\/fp\/brand is plain http, marked insecure/,
     'and the start says so in the log');
($rc, $out) = try_start('ok', sub { });
is($rc, 124, 'the working configuration starts (and runs until stopped)') or diag $out;

done_testing();
