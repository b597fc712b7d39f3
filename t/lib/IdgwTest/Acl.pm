package IdgwTest::Acl;
# Helpers of the access-control tests (t/acl_*.t): requests posing as a
# client address through X-Forwarded-For (mod_remoteip trusts 127.0.0.1),
# the admin command against the suite's Redis, a second httpd sharing that
# Redis, and the error log.
use strict;
use warnings;

use Apache::Test ();
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use HTTP::Tiny;
use Time::HiRes qw(sleep time);

use IdgwTest::Client ();
use IdgwTest::Redis ();

use constant PREFIX => 'itest:';
# The second node's port: $IDGW_TEST_ACL_SECOND_PORT, so that parallel runs
# can keep apart (default 8581).
use constant SECOND_PORT =>
    0 + (($ENV{IDGW_TEST_ACL_SECOND_PORT} // '') =~ /^([1-9][0-9]{0,4})$/ ? $1 : 8581);

my $t_dir = dirname(dirname(dirname(abs_path(__FILE__))));   # .../t
my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 0);
my $counter = 0;

sub base { return IdgwTest::Client::base_url() }
sub second_base { return 'http://127.0.0.1:' . SECOND_PORT }

# A fresh terminal id and IDm, so tests never share rate-limit state.
sub terminal { $counter++; return sprintf('ACL-%d-%d-%d', $$, time, $counter) }
sub idm { $counter++; return sprintf('%08X%08X', $$ & 0xffffffff, $counter + int(rand(65536)) * 65536) }

# request(path => ..., xff => ..., terminal => ..., idm => ..., user => ...,
#         token => ..., seq => ..., method => ..., base => ...)
sub request {
    my (%o) = @_;
    my %h;
    $h{'X-Forwarded-For'} = $o{xff} if defined $o{xff};
    $h{'X-Idgw-Terminal'} = $o{terminal} // terminal();
    $h{'X-Idgw-IDm'} = $o{idm} // idm();
    $h{'X-Idgw-User'} = $o{user} if defined $o{user};
    $h{'X-Idgw-Token'} = $o{token} if defined $o{token};
    $h{'X-Idgw-Seq'} = $o{seq} if defined $o{seq};
    delete $h{'X-Idgw-Terminal'} if exists $o{terminal} && !defined $o{terminal};
    return $http->request($o{method} // 'POST', ($o{base} // base()) . $o{path},
                          { headers => \%h, content => '' });
}

# Opens a session under prefix (e.g. /acl/net); the response, and the token.
sub open_session {
    my ($prefix, %o) = @_;
    my $res = request(path => "$prefix/session/open", %o);
    my ($token) = ($res->{content} // '') =~ m{<token>([0-9a-f]{32})</token>};
    return wantarray ? ($res, $token) : $res;
}

# The stable code of an XML error ('' for anything else).
sub code {
    my ($res) = @_;
    my ($c) = ($res->{content} // '') =~ m{<code>([A-Z0-9-]+)</code>};
    return $c // '';
}

# Deletes every access-control key of the suite (lists, limits, counters
# and the lists' version) as a Redis data loss would; the number deleted.
# A data loss announces nothing: the children would keep their copies for up
# to IdgwAclListsMaxAge (docs/directives.md, "The lists' version"; measured
# by t/acl_lists_push.t), so for the tests that follow the drop is announced
# on the lists' channel, and every child reloads at once.
sub drop_keys {
    my @keys = grep { length } split /\n/,
        IdgwTest::Redis::cli('--scan', '--pattern', PREFIX . 'acl:*');
    IdgwTest::Redis::cli('DEL', @keys) if @keys;
    IdgwTest::Redis::cli('PUBLISH', PREFIX . 'acl:ver', 'dropped');
    return scalar @keys;
}

# Forget every access-control key of the suite, and make sure the gateway's
# Redis connections are healthy (an earlier test may have restarted Redis).
# The version goes too, exactly as after a flush: the product must cope
# (children still hold copies numbered from before; mod_idgw_acl never
# hands out a number twice, see docs/directives.md (mod_idgw_acl)), so no test seeds it.
sub reset_keys {
    my $n = drop_keys();
    settle();
    return $n;
}

# A change of the lists reaches every child within IdgwAclListsMaxAge (2 s
# here; by the announcement usually within a millisecond or two, longer on
# a loaded machine: docs/directives.md, "The lists' version").  The first
# result of $send->() that $ok->(result) accepts, tried again for up to
# $secs (default 2.5); the last result otherwise.
sub eventually {
    my ($send, $ok, $secs) = @_;
    my $t0 = time;
    my $res;
    while (1) {
        $res = $send->();
        return $res if $ok->($res) || time - $t0 > ($secs // 2.5);
        sleep 0.02;
    }
}

# ---- the admin command --------------------------------------------------------

# scripts/idgw-acl from the source tree (the build tree's Makefile names it).
sub admin_path {
    my $build = $ENV{IDGW_BUILDDIR} // dirname($t_dir);
    if (open my $mk, '<', "$build/Makefile") {
        while (<$mk>) {
            return "$1/scripts/idgw-acl" if /^abs_top_srcdir = (\S+)/;
        }
    }
    return dirname($t_dir) . '/scripts/idgw-acl';
}

# admin(@args): (exit status, combined output)
sub admin {
    my @cmd = (admin_path(), '--host', '127.0.0.1', '--port', IdgwTest::Redis::PORT,
               '--prefix', PREFIX, @_);
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT or die;
        exec { $cmd[0] } @cmd or die "exec $cmd[0]: $!";
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, $out);
}

# After a Redis restart every pooled connection fails once (and the pool then
# fails fast for a moment): drive requests until a run of them succeeds, so
# the next test starts on a healthy fleet.
sub settle {
    my $deadline = time + 10;
    my $streak = 0;
    while (time < $deadline && $streak < 20) {
        my $res = open_session('/acl/net', xff => '10.0.0.1');
        $streak = $res->{status} == 200 ? $streak + 1 : 0;
        sleep 0.05 unless $streak;
    }
    return $streak >= 20;
}

# ---- what clients send Redis ---------------------------------------------------

# Starts `redis-cli MONITOR` into a file; returns a handle for monitor_stop.
sub monitor_start {
    my $file = "$t_dir/logs/acl-monitor.txt";
    my $known = IdgwTest::Redis::known_clients();
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', $file or die "$file: $!";
        exec 'redis-cli', '-h', '127.0.0.1', '-p', IdgwTest::Redis::PORT, 'MONITOR';
        die "exec redis-cli: $!";
    }
    sleep 0.3;
    return { pid => $pid, file => $file, known => $known };
}

# Stops it; returns the commands clients sent (not those scripts ran, nor
# the set-up of a connection a child made meanwhile: that is not per request).
sub monitor_stop {
    my ($m) = @_;
    sleep 0.3;
    kill 'TERM', $m->{pid};
    waitpid $m->{pid}, 0;
    open my $fh, '<', $m->{file} or return ();
    return grep { /^\d+\.\d+ \[\d+ (?!lua\])/
                  && !IdgwTest::Redis::new_connection_setup($_, $m->{known})
                  && !IdgwTest::Redis::lists_listener($_) } <$fh>;
}

# ---- the error log ---------------------------------------------------------------

sub error_log { return Apache::Test::vars('t_logs') . '/error_log' }

# Lines of the log matching re, written after byte offset `from`.
sub log_lines {
    my ($re, $from, $file) = @_;
    open my $fh, '<', $file // error_log() or return ();
    seek $fh, $from // 0, 0;
    return grep { /$re/ } <$fh>;
}

sub log_size { return -s ($_[0] // error_log()) // 0 }

# ---- a second httpd sharing the suite's Redis -----------------------------------

my $second_conf = "$t_dir/conf/acl-second.conf";
my $second_pid = "$t_dir/logs/acl-second.pid";
sub second_error_log { return "$t_dir/logs/acl-second_error_log" }

sub main_conf_lines {
    my ($re) = @_;
    open my $fh, '<', "$t_dir/conf/httpd.conf" or die "t/conf/httpd.conf: $!";
    return grep { /$re/ } <$fh>;
}

sub second_start {
    make_path("$t_dir/logs/acl-second");
    open my $out, '>', $second_conf or die "$second_conf: $!";
    print {$out} "# generated by t/lib/IdgwTest/Acl.pm: the second node of the fleet\n",
        qq{ServerRoot "$t_dir"\n},
        "ServerName localhost:", SECOND_PORT, "\n",
        "Listen 127.0.0.1:", SECOND_PORT, "\n",
        main_conf_lines(qr/^(User|Group)\s/),
        "PidFile $second_pid\n",
        "ErrorLog ", second_error_log(), "\n",
        "LogLevel info\n",
        qq{DefaultRuntimeDir "$t_dir/logs/acl-second"\n},
        qq{DocumentRoot "$t_dir/htdocs"\n},
        qq{Include "$t_dir/conf/httpd-base.conf"\n},
        "TypesConfig /etc/mime.types\n",
        qq{Include "$t_dir/conf/extra.conf"\n},
        qq{Include "$t_dir/conf/acl.conf"\n};
    close $out;
    my $httpd = Apache::Test::vars('httpd');
    system($httpd, '-f', $second_conf, '-k', 'start') == 0 or return 0;
    my $deadline = time + 10;
    while (time < $deadline) {
        my $res = $http->request('GET', second_base() . '/acl-second-alive');
        return 1 if $res->{status} != 599;
        sleep 0.1;
    }
    return 0;
}

sub second_stop {
    return 1 unless -e $second_pid;
    open my $fh, '<', $second_pid or return 1;
    my $pid = <$fh>;
    close $fh;
    chomp $pid if defined $pid;
    system(Apache::Test::vars('httpd'), '-f', $second_conf, '-k', 'stop');
    my $deadline = time + 10;
    while ($pid && time < $deadline) {
        return 1 unless kill 0, $pid;
        sleep 0.1;
    }
    return !($pid && kill 0, $pid);
}

# ---- start-up checks ---------------------------------------------------------------

# check_config($directives, %opt): writes a small configuration loading the
# session module (unless opt{no_session}) and mod_idgw_acl, then runs
# `httpd -t` (opt{start}: starts httpd for real, so post_config runs, and
# stops it again if it came up).  Returns (exit status, stderr + error log).
sub check_config {
    my ($body, %opt) = @_;
    my $conf = "$t_dir/conf/acl-check.conf";
    my $log = "$t_dir/logs/acl-check_error_log";
    my ($session) = main_conf_lines(qr/^\s*LoadModule idgw_session_module/);
    unless ($session) {
        open my $x, '<', "$t_dir/conf/extra.conf" or die "extra.conf: $!";
        ($session) = grep { /^\s*LoadModule idgw_session_module/ } <$x>;
    }
    my ($acl) = do {
        open my $a, '<', "$t_dir/conf/acl.conf" or die "acl.conf: $!";
        grep { /^\s*LoadModule idgw_acl_module/ } <$a>;
    };
    unlink $log;
    make_path("$t_dir/logs/acl-check");
    open my $out, '>', $conf or die "$conf: $!";
    print {$out} qq{ServerRoot "$t_dir"\n}, "ServerName localhost:8582\n",
        "Listen 127.0.0.1:8582\n", main_conf_lines(qr/^(User|Group)\s/),
        "PidFile $t_dir/logs/acl-check.pid\n", "ErrorLog $log\n",
        qq{DefaultRuntimeDir "$t_dir/logs/acl-check"\n},
        qq{Include "$t_dir/conf/httpd-base.conf"\n}, "TypesConfig /etc/mime.types\n",
        ($opt{no_session} ? () : ($session, "IdgwRedisServer 127.0.0.1:", IdgwTest::Redis::PORT, "\n")),
        $acl, $body, "\n";
    close $out;
    my $httpd = Apache::Test::vars('httpd');
    my @cmd = ($httpd, '-f', $conf, $opt{start} ? ('-k', 'start') : ('-t'));
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT or die;
        exec { $cmd[0] } @cmd or die "exec: $!";
    }
    local $/;
    my $text = <$fh> // '';
    close $fh;
    my $rc = $? >> 8;
    if ($opt{start}) {
        sleep 0.5;
        system($httpd, '-f', $conf, '-k', 'stop') if -e "$t_dir/logs/acl-check.pid";
        if (open my $l, '<', $log) { $text .= <$l> // '' }
    }
    return ($rc, $text);
}

# ---- static files for the locations without a session check ----------------------

sub static_file {
    my $dir = Apache::Test::vars('documentroot') . '/acl';
    make_path($dir);
    open my $fh, '>', "$dir/ok.txt" or die "$dir/ok.txt: $!";
    print {$fh} "ok\n";
    close $fh;
    chmod 0755, $dir;
    chmod 0644, "$dir/ok.txt";
    return 'ok.txt';
}

1;
