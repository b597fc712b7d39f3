# mod_idgw_status's directives: bad values stop httpd -t with a message that
# names the directive; good ones pass.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil;
use File::Temp qw(tempdir);

my @bad = (
    ['IdgwStatusSeries 8',                  qr/IdgwStatusSeries: a number from 16 to 65536/],
    ['IdgwStatusSeries 100000',             qr/IdgwStatusSeries: a number from 16 to 65536/],
    ['IdgwStatusSeries 12x',                qr/IdgwStatusSeries: a number/],
    ["<VirtualHost 127.0.0.1:8749>\nIdgwStatusSeries 64\n</VirtualHost>",
     qr/IdgwStatusSeries cannot occur within <VirtualHost> section/],
    ['IdgwStatusRedis [::1',                qr/IdgwStatusRedis '\[::1': expected host/],
    ['IdgwStatusRedis 127.0.0.1;16390',     qr/IdgwStatusRedis '127\.0\.0\.1;16390': expected host/],
    ['IdgwStatusRedisTimeout 0',            qr/IdgwStatusRedisTimeout: milliseconds from 1 to 10000/],
    ['IdgwStatusRedisTimeout 20000',        qr/IdgwStatusRedisTimeout: milliseconds from 1 to 10000/],
    ['IdgwStatusFleetKey bad-name some:key', qr/IdgwStatusFleetKey: the name is 1-31 characters/],
    ['IdgwStatusFleetKey ' . ('n' x 32) . ' k', qr/IdgwStatusFleetKey: the name is 1-31 characters/],
    ["<Location /x>\nIdgwStatusCount Bad-Label\n</Location>",
     qr/IdgwStatusCount: Off, or an operation label/],
);
my @good = (
    "IdgwStatusSeries 4096\nIdgwStatusRedis 127.0.0.1:6379\nIdgwStatusRedisTimeout 150\n"
        . "IdgwStatusFleetKey blacklist_terminals idgw:acl:bl:terminal",
    "<Location /idgw>\nIdgwStatusCount gateway\n</Location>\n<Location /idgw/x>\nIdgwStatusCount Off\n</Location>",
);

plan tests => 2 * @bad + @good;

my $httpd = Apache::Test::vars('httpd');
my $top = Apache::Test::vars('top_dir');
my $module = "$top/modules/.libs/mod_idgw_status.so";
# the MPM and authz lines Apache::Test itself inherited
my $base = Apache::Test::vars('httpd_conf');
my @load = do {
    open my $fh, '<', $base or die "$base: $!";
    grep { /^\s*LoadModule\s+(mpm_event|authz_core)_module/ } <$fh>;
};
my $dir = tempdir(CLEANUP => 1);

sub check {
    my ($extra) = @_;
    my $conf = "$dir/httpd.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print {$fh} "ServerRoot $dir\nServerName 127.0.0.1\nListen 127.0.0.1:8749\n"
        . "PidFile $dir/httpd.pid\nErrorLog $dir/error.log\n", @load,
        "LoadModule idgw_status_module $module\n$extra\n";
    close $fh;
    my $out = `$httpd -t -f $conf 2>&1`;
    return ($? >> 8, $out);
}

for my $case (@bad) {
    my ($lines, $expect) = @$case;
    my ($rc, $out) = check($lines);
    ok t_cmp($rc != 0, 1, "refused: $lines");
    ok t_cmp($out, $expect, "message: $lines");
}
for my $lines (@good) {
    my ($rc, $out) = check($lines);
    ok t_cmp($rc, 0, "accepted: $lines") or t_debug($out);
}
