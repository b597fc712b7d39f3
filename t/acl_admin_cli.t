# The admin command for people (scripts/idgw-acl): help and usage errors,
# exit codes, never turning a temporary ban permanent unasked, --dry-run,
# the prefix check against what gateways wrote, --config, --json; and a ban
# it adds is one the gateway enforces.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempfile);
use FindBin;
use JSON::PP ();
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;
use IdgwTest::Redis;

plan tests => 75;

IdgwTest::Acl::reset_keys();   # leaves the gateway's own itest:acl:ver behind
my $P = IdgwTest::Acl::PREFIX;
my $BL = "${P}acl:bl:terminal";

# run(@args): (exit status, stdout, stderr) without connection options
sub run {
    my @cmd = (IdgwTest::Acl::admin_path(), @_);
    my ($ofh, $ofile) = tempfile(UNLINK => 1);
    my ($efh, $efile) = tempfile(UNLINK => 1);
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>&', $ofh or die;
        open STDERR, '>&', $efh or die;
        exec { $cmd[0] } @cmd or die "exec $cmd[0]: $!";
    }
    waitpid($pid, 0);
    my $rc = $? >> 8;
    local $/;
    open my $o, '<', $ofile or die;
    open my $e, '<', $efile or die;
    return ($rc, scalar(<$o>) // '', scalar(<$e>) // '');
}

# acl(@args): run() against the suite's Redis and the gateway's prefix
sub acl { return run('--host', '127.0.0.1', '--port', IdgwTest::Redis::PORT, '--prefix', $P, @_) }

sub one_line { return $_[0] =~ /\A[^\n]+\n\z/ ? 1 : 0 }
sub cli { return IdgwTest::Redis::cli(@_) }
sub expiry { my ($v) = split /\|/, cli('HGET', $BL, $_[0]); return $v // '' }
sub version { return cli('GET', "${P}acl:ver") }

# ---- help, usage errors, exit codes -------------------------------------------
for my $h (['--help'], ['-h'], ['help'], ['add', '--help']) {
    my ($rc, $out, $err) = run(@$h);
    ok t_cmp($rc, 0, "@$h exits 0");
    ok $out =~ /idgw-acl \[OPTIONS\] add/ && $out =~ /Exit status/ && $out =~ /^\s+3\s+refused/m
        && $err eq '';
}
for my $bad (['--bogus', 'list'], [], ['frobnicate'], ['add', 'terminal'],
             ['add', '--ttl', '5m', '--permanent', 'terminal', 'X'], ['list', '--ttl', '5m'],
             ['add', 'idm', 'xyz'], ['--prefix', 'a b', 'list'], ['list', '--port', '5']) {
    my ($rc, $out, $err) = acl(@$bad);
    ok t_cmp($rc, 2, "usage error (@$bad) exits 2");
    ok one_line($err) && $err =~ /^idgw-acl: .+ \(try --help\)$/ && $out eq '';
}

my (undef, undef, $misplaced) = acl('list', '--port', '5');
ok t_cmp($misplaced, "idgw-acl: --port goes before the command (try --help)\n");

# ---- a temporary ban is not made permanent unasked ----------------------------------
my $t = IdgwTest::Acl::terminal();
my ($rc, $out, $err) = acl('add', '--ttl', '10m', 'terminal', $t, '--reason', 'stolen');
ok t_cmp($rc, 0, 'temporary ban added');
ok one_line($out) && $out =~ /^added black terminal \Q$t\E: temporary ban ending .* \(in 10m00s\)/;
my $exp = expiry($t);
my $v = version();
($rc, $out, $err) = acl('add', 'terminal', $t, '--reason', 'again');
ok t_cmp($rc, 3, 're-adding without --ttl is refused with 3');
ok one_line($err) && $err =~ /is a temporary ban ending .*--permanent/ && $out eq '';
ok t_cmp(expiry($t), $exp, 'the entry is untouched');
ok t_cmp(version(), $v, 'and the version too');
($rc, $out) = acl('add', '--permanent', 'terminal', $t);
ok t_cmp($rc, 0, '--permanent');
ok one_line($out) && $out =~ /temporary ban \(was ending .*\) made permanent; lists' version \Q$v\E -> \d+/;
ok t_cmp(expiry($t), 0, 'now permanent in Redis');
ok version() > $v;

# a permanent one is not made to end unasked either
($rc, $out, $err) = acl('add', '--ttl', '1h', 'terminal', $t);
ok t_cmp($rc, 3, '--ttl over a permanent ban is refused');
ok one_line($err) && $err =~ /is a permanent ban; --ttl 1h would make it end on .*--replace/;
ok t_cmp(expiry($t), 0);
($rc, $out) = acl('add', '--ttl', '1h', '--replace', 'terminal', $t);
ok t_cmp($rc, 0, '--replace');
ok one_line($out) && $out =~ /permanent ban made temporary, now ending .*\(in 1h00m\)/;

# --ttl over a temporary ban replaces its end, and says both
($rc, $out) = acl('add', '--ttl', '2h', 'terminal', $t);
ok t_cmp($rc, 0, '--ttl over a temporary ban');
ok one_line($out) && $out =~ /temporary ban now ending .*\(in 2h00m\), was ending .*\(in (59m\d\ds|1h00m)\)/;

# ---- --dry-run changes nothing ------------------------------------------------------
my $before = join ',', sort split /\n/, cli('HGETALL', $BL);
$v = version();
my $t2 = IdgwTest::Acl::terminal();
($rc, $out) = acl('--dry-run', 'add', 'terminal', $t2);
ok t_cmp($rc, 0, 'dry-run add');
ok one_line($out) && $out =~ /^dry run, nothing changed: would do: added black terminal \Q$t2\E: permanent ban; lists' version would go \Q$v\E -> (\d+)/
    && $1 > $v;
($rc, $out) = acl('add', '--permanent', 'terminal', $t, '--dry-run');
ok one_line($out) && $out =~ /^dry run, nothing changed: would do: .* made permanent/;
($rc, $out) = acl('remove', 'terminal', $t, '--dry-run');
ok one_line($out) && $out =~ /^dry run, nothing changed: would do: removed black terminal \Q$t\E/;
ok t_cmp(join(',', sort split /\n/, cli('HGETALL', $BL)), $before, 'the list is untouched');
ok t_cmp(version(), $v, 'the version is untouched');
ok t_cmp(cli('HEXISTS', $BL, $t2), 0);
($rc, $out) = acl('remove', 'terminal', $t);
ok one_line($out) && $out =~ /^removed black terminal \Q$t\E \(was temporary/;

# ---- the prefix check ----------------------------------------------------------------
(my $bare = $P) =~ s/:$//;
($rc, $out, $err) = run('--port', IdgwTest::Redis::PORT, '--prefix', $bare, 'add', 'terminal', $t2);
ok t_cmp($rc, 3, 'prefix without its colon refused');
ok one_line($err) && $err =~ /did you mean --prefix \Q$P\E\?.*--force/;
ok t_cmp(cli('EXISTS', "${bare}acl:bl:terminal"), 0, 'nothing written under it');
my $nobody = "nobody$$:";
($rc, $out, $err) = run('--port', IdgwTest::Redis::PORT, '--prefix', $nobody, 'add', 'terminal', $t2);
ok t_cmp($rc, 3, 'prefix no gateway wrote under refused');
ok one_line($err) && $err =~ /no gateway has written under prefix '\Q$nobody\E'/;
ok t_cmp(cli('EXISTS', "${nobody}acl:ver"), 0);
($rc, $out, $err) = run('--port', IdgwTest::Redis::PORT, '--prefix', $nobody, 'list');
ok t_cmp($rc, 0, 'reading under it only warns');
ok $err =~ /^idgw-acl: warning: no gateway has written/;
($rc, $out) = run('--port', IdgwTest::Redis::PORT, '--prefix', $nobody, '--force', 'add', 'terminal', $t2);
ok t_cmp($rc, 0, '--force writes anyway');
ok t_cmp(cli('HEXISTS', "${nobody}acl:bl:terminal", $t2), 1);
cli('DEL', "${nobody}acl:bl:terminal", "${nobody}acl:ver");
# after a data loss the lists' version is gone, but the sessions tell.  The
# suite's gateway listens under $P and would give the version a new number
# within a second (docs/directives.md, "The lists' version"), so a prefix
# nobody listens to stands for the moment between the loss and that.
my $lost = "lost$$:";
cli('SET', "${lost}s:{0123456789abcdef}", 'a session');
ok t_cmp(cli('EXISTS', "${lost}acl:ver"), 0, 'the lists\' version is gone');
($rc, $out, $err) = run('--port', IdgwTest::Redis::PORT, '--prefix', $lost, 'add', 'terminal', $t2);
ok t_cmp($rc, 0, 'a prefix with live sessions passes without its version key');
cli('DEL', "${lost}s:{0123456789abcdef}", "${lost}acl:bl:terminal", "${lost}acl:ver");

# --config: connection and prefix from the gateway's own configuration
my ($cfh, $cfile) = tempfile(UNLINK => 1);
print $cfh "# the operator's idgw.conf\n<IfModule idgw_session_module>\n",
    "    IdgwRedisServer 127.0.0.1:", IdgwTest::Redis::PORT, "\n",
    "    IdgwRedisKeyPrefix \"$P\"\n    IdgwRedisDatabase 0\n</IfModule>\n";
close $cfh;
($rc, $out, $err) = run('--config', $cfile, 'version');
ok t_cmp($rc, 0, '--config');
ok t_cmp($out, version() . "\n", 'reads the gateway\'s prefix');
ok t_cmp($err, '');

# ---- --json -----------------------------------------------------------------------------
my $json = JSON::PP->new;
($rc, $out) = acl('add', '--json', '--ttl', '15m', 'terminal', $t2, '--reason', 'json');
my $d = eval { $json->decode($out) };
ok $d && $d->{command} eq 'add' && $d->{outcome} eq 'added' && $d->{changed}
    && !$d->{dry_run} && $d->{list} eq 'black' && $d->{kind} eq 'terminal' && $d->{value} eq $t2
    && !defined $d->{before} && $d->{after}{state} eq 'temporary' && $d->{after}{reason} eq 'json'
    && $d->{after}{source} eq 'admin' && $d->{after}{seconds_left} == 900
    && $d->{version} eq version() && $d->{version_before} =~ /^\d+$/;
($rc, $out) = acl('list', '--json', 'terminal');
$d = eval { $json->decode($out) };
my ($e) = $d ? grep { $_->{value} eq $t2 } @{ $d->{entries} } : ();
ok $d && $d->{list} eq 'black' && $d->{version} eq version() && $d->{now_ms} > 0
    && $e && $e->{kind} eq 'terminal' && $e->{state} eq 'temporary' && $e->{expires_ms} > $d->{now_ms}
    && $e->{added_ms} > 0 && exists $e->{expires} && exists $e->{added};
($rc, $out) = acl('explain', '--json', '--terminal', $t2, '--addr', '10.0.0.9');
$d = eval { $json->decode($out) };
ok $d && $d->{refused} && @{ $d->{subjects} } == 2
    && $d->{subjects}[0]{kind} eq 'terminal' && $d->{subjects}[0]{blacklist}[0]{refuses}
    && exists $d->{subjects}[0]{strikes}{count} && exists $d->{subjects}[0]{rate_limit}{in_use}
    && $d->{subjects}[1]{value} eq '10.0.0.9/32' && !defined $d->{subjects}[1]{whitelisted};
($rc, $out) = acl('--json', 'version');
$d = eval { $json->decode($out) };
ok $d && $d->{version} eq version();
($rc, $out) = acl('--json', '--dry-run', 'remove', 'terminal', $t2);
$d = eval { $json->decode($out) };
ok $d && $d->{command} eq 'remove' && $d->{dry_run} && $d->{outcome} eq 'removed'
    && $d->{before}{reason} eq 'json' && !defined $d->{after};
ok t_cmp(cli('HEXISTS', $BL, $t2), 1, 'json dry-run removed nothing');

# ---- and the gateway enforces what it adds ------------------------------------------------
($rc) = acl('add', 'terminal', $t2, '--ttl', '1h');
ok t_cmp(IdgwTest::Acl::code(IdgwTest::Acl::eventually(
        sub { IdgwTest::Acl::open_session('/acl/net', xff => '10.0.0.1', terminal => $t2) },
        sub { IdgwTest::Acl::code($_[0]) eq 'IDGW-ACL-002' })),
         'IDGW-ACL-002', 'the gateway refuses the terminal');
acl('remove', 'terminal', $t2);
ok t_cmp(IdgwTest::Acl::eventually(
             sub { IdgwTest::Acl::open_session('/acl/net', xff => '10.0.0.1', terminal => $t2) },
             sub { $_[0]{status} == 200 })->{status}, 200,
         'and serves it once removed');
