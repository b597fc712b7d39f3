# mod_idgw_status: the human page as a browser shows it.  Headless Chromium
# loads /idgw-status from the suite's httpd; the rendered DOM must open with
# the health summary (states written as words and as data-state), and the
# screenshot (1280 px wide) must show the summary in colour in its top part.
# The screenshot stays in t/logs/status_page.png for a person to look at.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestRequest qw(GET POST);
use Apache::TestUtil;
use Compress::Zlib qw(uncompress);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Time::HiRes qw(sleep);

my ($chromium) = grep { $_ } map { my $p = `command -v $_ 2>/dev/null`; chomp $p; $p }
                 qw(chromium chromium-browser);
my $redis_server = `command -v redis-server 2>/dev/null`;
my $redis_cli = `command -v redis-cli 2>/dev/null`;
chomp($redis_server, $redis_cli);

plan tests => 26, need {
    'chromium (Debian package chromium; scripts/idgw-dev deps installs it)' => $chromium ? 1 : 0,
    'redis-server and redis-cli' => ($redis_server && $redis_cli) ? 1 : 0,
};

my $port = 6411;                # the fleet Redis of t/conf/status.conf.in
my $dir = tempdir(CLEANUP => 1);
my $shot = Apache::Test::vars('t_logs') . '/status_page.png';
unlink $shot;

sub redis_up {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1);
    return $s ? 1 : 0;
}

# Chromium as a person would open the page; returns the rendered DOM (or
# takes a screenshot when $png is given).
sub chromium {
    my ($url, $png) = @_;
    my @cmd = ('timeout', '90', $chromium, '--headless', '--no-sandbox', '--disable-gpu',
               '--disable-dev-shm-usage', '--hide-scrollbars', '--no-first-run',
               "--user-data-dir=$dir/profile", '--window-size=1280,900',
               $png ? "--screenshot=$png" : '--dump-dom', $url);
    open my $fh, '-|', join(' ', map { quotemeta } @cmd) . " 2>>$dir/chromium.log" or die $!;
    my $out = do { local $/; <$fh> };
    close $fh;
    return $out // '';
}

# ---- traffic for the summary: ok and failed requests in the window -------
GET '/idgw-status-probe' for 1 .. 20;                            # op=probe, ok
POST '/idgw-status-probe', content => 'x' for 1 .. 30;           # 405: client_error

# ---- the fleet's Redis up: the summary says reachable ---------------------
redis_up() and die "something already listens on 127.0.0.1:$port";
system($redis_server, '--port', $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
       '--daemonize', 'yes', '--pidfile', "$dir/redis.pid", '--logfile', "$dir/redis.log",
       '--dir', $dir) == 0 or die "redis-server did not start";
for (1 .. 50) { last if redis_up(); sleep 0.1; }
system($redis_cli, '-p', $port, 'SET', 'idgw-status-test:counter', '4242') == 0 or die;
system($redis_cli, '-p', $port, 'SADD', 'idgw-status-test:set', 'T-1', 'T-2') == 0 or die;
system($redis_cli, '-p', $port, 'SET', 'idgw-status-test:hash', 'not-a-number') == 0 or die;

my $url = Apache::TestRequest::module2url('idgw_status_fleet', { path => '/idgw-status' });
Apache::TestRequest::module('default');

# the raw answer: one self-contained page
Apache::TestRequest::module('idgw_status_fleet');
my $raw = GET('/idgw-status')->content;
Apache::TestRequest::module('default');
ok t_cmp($raw, qr{<style>.+</style>}s, 'inline CSS');
ok t_cmp(scalar(() = $raw =~ /<(?:link|script|img|iframe)\b|\bsrc=|url\(/gi), 0,
         'no external assets, no scripts: a single response');

my $dom = chromium($url);
t_write_file(Apache::Test::vars('t_logs') . '/status_page.html', $dom);
t_debug(do { local (@ARGV, $/) = ("$dir/chromium.log"); <> } // '') unless $dom;
ok t_cmp($dom, qr{<section id="summary"}, 'Chromium rendered the summary');
ok t_cmp(index($dom, '<section id="summary"') >= 0
         && index($dom, '<section id="summary"') < index($dom, 'id="idgw_requests_total"') ? 1 : 0,
         1, 'the page opens with the summary, tables after it');
ok t_cmp($dom, qr{id="sum-overall" data-state="(ok|warn|bad)"><span class="badge">(OK|WARN|BAD)</span>},
         'overall state as a word');
# (warn, "reachable, with errors", when earlier tests of the suite made
# Redis errors in the last minutes)
ok t_cmp($dom, qr{id="sum-redis" data-state="(ok|warn)"><h3>Redis</h3><p class="figure">reachable},
         'Redis reachable');
ok t_cmp($dom, qr{id="sum-errors" data-state="(ok|warn|bad)"><h3>Error ratio</h3><p class="figure">\d+\.\d %</p>},
         'error ratio as a percentage');
my ($errs) = $dom =~ m{id="sum-errors".*?<span class="badge">[A-Z]+</span>(\d+) of \d+ requests}s;
ok t_cmp(($errs // 0) >= 30, 1, 'the failed probes are among the errors of the last minutes');
ok t_cmp($dom, qr{id="sum-backend" data-state="(ok|warn|bad)"><h3>Backend failures</h3>},
         'backend failures tile');
ok t_cmp($dom, qr{id="sum-degraded" data-state="(ok|warn)"}, 'degraded decisions tile');
ok t_cmp($dom, qr{id="sum-fleet" data-state="warn"><h3>Fleet figures</h3><p class="figure">4 keys</p>.*banned_terminals <b>2</b>.*sessions_opened <b>4242</b>.*limits <b>not a number</b>}s,
         'fleet figures, a key without a number is a warning');
ok t_cmp($dom, qr{<span class="badge">WARN</span>}, 'states are written, not only coloured');

# tables sorted by label values: probe's client_error row before its ok row
my $ce = index($dom, '<tr><td>probe</td><td>none</td><td>client_error</td>');
my $okrow = index($dom, '<tr><td>probe</td><td>none</td><td>ok</td>');
ok t_cmp($ce >= 0 && $okrow > $ce ? 1 : 0, 1, 'request rows sorted by op, step, result');

# ---- the screenshot ------------------------------------------------------
chromium($url, $shot);
ok t_cmp(-e $shot ? 1 : 0, 1, "screenshot written: $shot");
ok t_cmp((-s $shot // 0) > 20_000, 1, 'screenshot is not trivial (' . (-s $shot // 0) . ' bytes)');

my $png = read_png($shot, 420);
ok t_cmp($png->{width}, 1280, 'screenshot is 1280 px wide');
# the top 420 rows hold the header, the band and the tiles
my $pix = $png->{rows};
my (%hist, $total);
for my $row (@$pix) {
    for (my $x = 0; $x < length($row); $x += 3) {
        $hist{substr($row, $x, 3)}++;
        $total++;
    }
}
my ($bg) = sort { $hist{$b} <=> $hist{$a} } keys %hist;
my $other = $total - $hist{$bg};
ok t_cmp($other / $total > 0.10, 1,
         sprintf('top of the screenshot is not blank (%.1f %% not background)', 100 * $other / $total));
ok t_cmp(scalar(keys %hist) > 50, 1, 'top of the screenshot has text and colour (' . scalar(keys %hist) . ' colours)');
my %colour = (ok => [0x1e, 0x7b, 0x34], warn => [0xb7, 0x79, 0x1f], bad => [0xb4, 0x23, 0x18]);
# the state colours of the CSS are on screen for the states the DOM has
my %in_dom = map { $_ => 1 } $dom =~ /class="tile (ok|warn|bad)"/g;
my @not_shown = grep { !has_colour(\%hist, $colour{$_}) } sort keys %in_dom;
ok t_cmp("@not_shown", '', 'the colour of every state in the summary (' . join(', ', sort keys %in_dom)
                           . ') is on screen');

# ---- the fleet's Redis gone: the summary says so, in red ------------------
my $pid = do { open my $fh, '<', "$dir/redis.pid" or die $!; local $/; <$fh> };
chomp $pid;
kill 'TERM', $pid;
for (1 .. 50) { last unless kill 0, $pid; sleep 0.1; }
ok t_cmp(redis_up(), 0, 'fleet Redis stopped');
my $shot_down = Apache::Test::vars('t_logs') . '/status_page_redis_down.png';
$dom = chromium($url);
ok t_cmp($dom, qr{id="sum-redis" data-state="bad"><h3>Redis</h3><p class="figure">unreachable</p>},
         'Redis unreachable is bad');
ok t_cmp($dom, qr{id="sum-fleet" data-state="bad"><h3>Fleet figures</h3><p class="figure">unknown</p>},
         'no fleet figures when Redis is down');
ok t_cmp($dom, qr{id="sum-overall" data-state="bad"><span class="badge">BAD</span>needs a look: [^<]*Redis},
         'the band names the problem');
ok t_cmp($dom, qr{<h2>fleet-wide \(Redis unreachable\)</h2>}, 'fleet table says unreachable');
chromium($url, $shot_down);
$png = read_png($shot_down, 420);
%hist = ();
for my $row (@{ $png->{rows} }) {
    $hist{substr($row, $_ * 3, 3)}++ for 0 .. length($row) / 3 - 1;
}
ok t_cmp(has_colour(\%hist, $colour{bad}), 1, 'the bad colour is on screen');

# the default server has no fleet read: "not checked", never a made-up state
$dom = chromium(Apache::TestRequest::module2url('default', { path => '/idgw-status' }));
Apache::TestRequest::module('default');
ok t_cmp($dom, qr{id="sum-redis" data-state="(info|warn)"><h3>Redis</h3><p class="figure">(not checked|errors)</p>},
         'no IdgwStatusRedis: not checked');

# ---- helpers ---------------------------------------------------------------

# Whether a colour (within a small tolerance: anti-aliasing) is on screen.
sub has_colour {
    my ($hist, $rgb) = @_;
    for my $px (keys %$hist) {
        my @c = unpack 'C3', $px;
        return 1 if abs($c[0] - $rgb->[0]) <= 6 && abs($c[1] - $rgb->[1]) <= 6
                    && abs($c[2] - $rgb->[2]) <= 6 && $hist->{$px} >= 20;
    }
    return 0;
}

# The first $want rows of an 8-bit RGB or RGBA PNG as RGB strings (core
# Perl: Compress::Zlib; no image library needed).
sub read_png {
    my ($file, $want) = @_;
    open my $fh, '<:raw', $file or return { width => 0, rows => [] };
    my $data = do { local $/; <$fh> };
    close $fh;
    substr($data, 0, 8) eq "\x89PNG\r\n\x1a\n" or return { width => 0, rows => [] };
    my ($pos, $idat, %h) = (8, '');
    while ($pos + 8 <= length $data) {
        my ($len, $type) = unpack 'N a4', substr($data, $pos, 8);
        my $body = substr($data, $pos + 8, $len);
        @h{qw(w h depth ctype interlace)} = unpack 'N N C C x x C', $body if $type eq 'IHDR';
        $idat .= $body if $type eq 'IDAT';
        last if $type eq 'IEND';
        $pos += 12 + $len;
    }
    return { width => 0, rows => [] }
        unless $h{depth} == 8 && ($h{ctype} == 2 || $h{ctype} == 6) && !$h{interlace};
    my $bpp = $h{ctype} == 6 ? 4 : 3;
    my $raw = uncompress($idat) // return { width => 0, rows => [] };
    my $stride = $h{w} * $bpp;
    my @prev = (0) x $stride;
    my @rows;
    $want = $h{h} if $want > $h{h};
    for my $y (0 .. $want - 1) {
        my $filter = ord substr($raw, $y * ($stride + 1), 1);
        my @cur = unpack 'C*', substr($raw, $y * ($stride + 1) + 1, $stride);
        for my $i (0 .. $stride - 1) {
            my $a = $i >= $bpp ? $cur[$i - $bpp] : 0;
            my $b = $prev[$i];
            my $c = $i >= $bpp ? $prev[$i - $bpp] : 0;
            if    ($filter == 1) { $cur[$i] = ($cur[$i] + $a) & 255 }
            elsif ($filter == 2) { $cur[$i] = ($cur[$i] + $b) & 255 }
            elsif ($filter == 3) { $cur[$i] = ($cur[$i] + (($a + $b) >> 1)) & 255 }
            elsif ($filter == 4) {
                my $p = $a + $b - $c;
                my ($pa, $pb, $pc) = (abs($p - $a), abs($p - $b), abs($p - $c));
                $cur[$i] = ($cur[$i] + ($pa <= $pb && $pa <= $pc ? $a : $pb <= $pc ? $b : $c)) & 255;
            }
        }
        my $rgb = $bpp == 4
            ? join('', map { pack 'C3', @cur[$_ * 4 .. $_ * 4 + 2] } 0 .. $h{w} - 1)
            : pack('C*', @cur);
        push @rows, $rgb;
        @prev = @cur;
    }
    return { width => $h{w}, rows => \@rows };
}
