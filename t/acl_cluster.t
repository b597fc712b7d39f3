# Access control on a Redis Cluster (3 masters + 3 replicas the test starts,
# ports 17160-17165, httpd 8577): the carrier networks, the blacklist and the
# whitelist, kept by each child's listener through the session's router
# (docs/redis-cluster.md).  The lists and their version share one slot
# (PREFIXacl:{lists}:...), idgw-acl --cluster writes them there, and a
# change is in force within IdgwAclListsMaxAge, also after the lists'
# master is killed and its replica promoted.  The fleet-wide rate limits run
# one CHECK per dimension on its own slot (PREFIXacl:rl:{addr:V}), mostly
# spared by the children's leases; auto-bans from breaches and strikes.
# Shadow rules: what they would refuse is let through, recorded against the
# terminal and the address (one SHADOW_RECORD per subject, each its own
# slot) and explained by idgw-acl --cluster; their bans go to the shadow
# bans.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Basename qw(dirname);
use FindBin;
use HTTP::Tiny;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl ();
use IdgwTest::Httpd;
use IdgwTest::RedisNodes;
use Time::HiRes qw(sleep time);

sub diag { print STDERR map { "# $_\n" } split /\n/, join('', @_) }

plan tests => 40;

my @PORTS = (17160 .. 17165);
my $nodes = IdgwTest::RedisNodes->new('redis-acl-cluster');
sub cli { $nodes->cli(@_) }
sub wait_for { IdgwTest::RedisNodes::wait_for(@_) }

$nodes->stop(@PORTS);    # leftovers of an interrupted run
my $gw;
END { $gw->stop if $gw; $nodes->stop(@PORTS) if $nodes }

ok($nodes->cluster(\@PORTS, 1));    # 3 masters + 3 replicas

my $libs = dirname(Apache::Test::vars('t_dir')) . '/modules/.libs';
my $acl = <<"EOT";
<IfModule !idgw_acl_module>
    LoadModule idgw_acl_module $libs/mod_idgw_acl.so
</IfModule>
<IfModule !idgw_status_module>
    LoadModule idgw_status_module $libs/mod_idgw_status.so
</IfModule>
<Location /idgw-status>
    SetHandler idgw-status
</Location>
<Location /aclc>
    IdgwSession On
    SetHandler idgw-session
    IdgwAcl On
    IdgwAclCarrierNetworks 10.0.0.0/8
</Location>
<Location /aclc-rate>
    IdgwSession On
    SetHandler idgw-session
    IdgwAcl On
    IdgwAclCarrierNetworks 10.0.0.0/8
    IdgwAclRateLimit addr 20/m 5
    IdgwAclRateLimit terminal 600/m 200
</Location>
<Location /aclc-ban>
    IdgwSession On
    SetHandler idgw-session
    IdgwAcl On
    IdgwAclCarrierNetworks 10.0.0.0/8
    IdgwAclRateLimit addr 20/m 2
    IdgwAclAutoBan breaches 3 1m 1h
</Location>
<Location /aclc-strike>
    IdgwSession On
    SetHandler idgw-session
    IdgwAcl On
    IdgwAclCarrierNetworks 10.0.0.0/8
    IdgwAclAutoBan strikes 3 1m 1h
</Location>
<Location /aclc-lease>
    IdgwSession On
    SetHandler idgw-session
    IdgwAcl On
    IdgwAclCarrierNetworks 10.0.0.0/8
    IdgwAclRateLimit addr 100000/s
    IdgwAclRateLimit terminal 100000/s
</Location>
<Location /aclc-shadow>
    IdgwSession On
    SetHandler idgw-session
    IdgwAcl On
    IdgwAclCarrierNetworks 10.0.0.0/8
    IdgwAclShadow carrier blacklist:addr
    IdgwAclRateLimit terminal 2/h 2 shadow
    IdgwAclRateLimit addr 2/h 2 shadow
    IdgwAclAutoBan breaches 2 10m 1h
    IdgwAclAutoBan strikes 2 10m 1h shadow
</Location>
<Location /aclc-wl>
    IdgwSession On
    SetHandler idgw-session
    IdgwAcl On
    IdgwAclCarrierNetworks 10.0.0.0/8
    IdgwAclWhitelistMode On
</Location>
EOT
my $cluster = 'IdgwRedisCluster 127.0.0.1:17160 127.0.0.1:17161';

$gw = IdgwTest::Httpd::start(name => 'acl-cluster-httpd', port => 8577, edit => sub {
    $_[0] =~ s/^IdgwRedisServer .*$/$cluster/m;
    $_[0] .= $acl;
}) or die "cannot start the httpd using the Cluster with access control";
my %base = (base => $gw->base_url, xff => '10.0.0.1');
my $out = `@{[Apache::Test::vars('httpd')]} -t -f @{[$gw->conf]} 2>&1`;
ok t_cmp($? == 0 ? 'accepted' : $out, 'accepted',
         'configtest accepts shadow rules with a Cluster');

sub acl_admin {
    my @cmd = ($^X, IdgwTest::Acl::admin_path(), '--cluster', '--host', '127.0.0.1',
               '--port', $PORTS[0], '--prefix', IdgwTest::Acl::PREFIX, @_);
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT or die;
        exec @cmd or die "exec: $!";
    }
    my $o = do { local $/; <$fh> };
    close $fh;
    return ($? >> 8, $o);
}

# Seconds until open_session under path for terminal t answers `want`.
sub until_status {
    my ($path, $t, $want, $limit) = @_;
    my $t0 = time;
    while (time - $t0 < $limit) {
        my $res = IdgwTest::Acl::open_session($path, %base, terminal => $t);
        return time - $t0 if $res->{status} == $want;
        sleep 0.02;
    }
    return undef;
}
my $ms = sub { defined $_[0] ? sprintf('%.0f ms', $_[0] * 1000) : 'never' };

my $t = IdgwTest::Acl::terminal();
ok t_cmp(until_status('/aclc', $t, 200, 5) // 'never' ne 'never' ? 'served' : 'not',
         'served', 'a session opens through the Cluster with access control on');
ok t_cmp(IdgwTest::Acl::open_session('/aclc', base => $gw->base_url, xff => '192.0.2.9',
                                     terminal => $t)->{status}, 403,
         'a client off the carrier networks is refused');

# the lists and their version on one slot, named as the gateway names them
my $ver = IdgwTest::Acl::PREFIX . 'acl:{lists}:ver';
ok(wait_for(sub { cli($PORTS[0], '-c', 'EXISTS', $ver) eq '1' }, 5));    # the listeners wrote it
ok t_cmp(cli($PORTS[0], 'CLUSTER', 'KEYSLOT', $ver),
         cli($PORTS[0], 'CLUSTER', 'KEYSLOT', IdgwTest::Acl::PREFIX . 'acl:{lists}:bl:terminal'),
         'the version and a list share a slot');

my ($rc, $o) = acl_admin('add', 'terminal', $t, '--reason', 'cluster test');
ok t_cmp($rc, 0, 'idgw-acl --cluster adds a ban') or diag $o;
my $banned = until_status('/aclc', $t, 403, 5);
diag 'ban applied after ', $ms->($banned);
ok t_cmp(defined $banned && $banned < 2 ? 'in force' : $ms->($banned), 'in force',
         'the ban is in force within IdgwAclListsMaxAge');
($rc, $o) = acl_admin('remove', 'terminal', $t);
my $lifted = until_status('/aclc', $t, 200, 5);
ok t_cmp(defined $lifted && $lifted < 2 ? 'lifted' : $ms->($lifted), 'lifted', 'and lifted');

# whitelist mode: a terminal passes once listed
my $w = IdgwTest::Acl::terminal();
ok t_cmp(IdgwTest::Acl::open_session('/aclc-wl', %base, terminal => $w)->{status}, 403,
         'whitelist mode refuses a terminal not listed');
acl_admin('add', '--list', 'white', 'terminal', $w);
my $listed = until_status('/aclc-wl', $w, 200, 5);
ok t_cmp(defined $listed && $listed < 2 ? 'passes' : $ms->($listed), 'passes',
         'and lets it pass once listed');

# reloads came from the announcements
my $http = HTTP::Tiny->new(timeout => 10);
my $page = $http->get($gw->base_url . '/idgw-status?format=prometheus')->{content} // '';
my ($ann) = $page =~ /^idgw_acl_lists_syncs_total\{trigger="announcement",result="reloaded"\} (\d+)$/m;
ok t_cmp(($ann // 0) >= 3 ? 'announced' : 'not', 'announced',
         'the children reloaded on the announcements (counted)');

# a status request costs one round trip: the session's script, or its read
# (HMGET and TIME, idgw_status_read.h); either reads the session hash once
# (HMGET), so a read handed over to the script would show as two.  The
# lists add nothing (no EVALSHA).
sub ran {
    my @cmds = @_;
    my $n = 0;
    for my $p (@PORTS) {
        next unless cli($p, 'ROLE') =~ /^master/;
        for my $cmd (@cmds) {
            $n += $1 if cli($p, 'INFO', 'commandstats') =~ /cmdstat_$cmd:calls=(\d+)/;
        }
    }
    return $n;
}
sub scripts_run { ran('fcall', 'evalsha') }
my %who = (%base, terminal => $w, idm => IdgwTest::Acl::idm());
my ($open, $token) = IdgwTest::Acl::open_session('/aclc', %who);
my @before = map { ran($_) } qw(fcall evalsha hmget);
my $ok = grep { IdgwTest::Acl::request(path => '/aclc/session/status', %who,
                                       token => $token)->{status} == 200 } 1 .. 10;
my @ran = map { ran((qw(fcall evalsha hmget))[$_]) - $before[$_] } 0 .. 2;
ok t_cmp("$ran[2] HMGET, $ran[1] EVALSHA", '10 HMGET, 0 EVALSHA',
         "$ok status requests ($ran[0] by script), one round trip each");

# the fleet-wide limits: 5 at once per address here (burst 5: too small for
# a lease, so every request asks), each dimension on its own slot
my $addr = '10.0.0.' . (100 + $$ % 100);
my %rate = (0 => 0);
for (1 .. 8) {
    my $res = IdgwTest::Acl::open_session('/aclc-rate', base => $gw->base_url, xff => $addr,
                                          terminal => IdgwTest::Acl::terminal());
    $rate{ $res->{status} }++;
}
ok t_cmp(($rate{200} // 0) . '/' . ($rate{429} // 0), '5/3',
         'the address limit holds on a Cluster: 5 pass, 3 are refused');
my $rkey = IdgwTest::Acl::PREFIX . "acl:rl:{addr:$addr}";
ok t_cmp(cli($PORTS[0], '-c', 'EXISTS', $rkey), '1', 'its state is tagged by the address');
ok t_cmp(cli($PORTS[0], 'CLUSTER', 'KEYSLOT', $rkey),
         cli($PORTS[0], 'CLUSTER', 'KEYSLOT', IdgwTest::Acl::PREFIX . "acl:br:{addr:$addr}"),
         'and shares its slot with the breach counter');
my $res429 = IdgwTest::Acl::open_session('/aclc-rate', base => $gw->base_url, xff => $addr);
ok t_cmp(($res429->{headers}{'retry-after'} // '') =~ /^\d+$/ ? 'retry' : 'none', 'retry',
         'a refusal says when to retry');
# the checks of an open go in the round trip before the session's script: a
# refused open leaves no session behind
sub sessions {
    my $n = 0;
    for my $p (@PORTS) {
        next unless cli($p, 'ROLE') =~ /^master/;
        $n += () = cli($p, '--scan', '--pattern', IdgwTest::Acl::PREFIX . 's:{*') =~ /\n|\S$/g;
    }
    return $n;
}
my $sessions = sessions();
my $refused = grep { IdgwTest::Acl::open_session('/aclc-rate', base => $gw->base_url,
                                                 xff => $addr)->{status} == 429 } 1 .. 3;
ok t_cmp($sessions > 0 ? "$refused refused, " . (sessions() - $sessions) . ' new sessions'
                         : 'no session seen at all',
         '3 refused, 0 new sessions', 'a refused open writes no session');

# breaches of the address limit ban the address, on the lists' slot
my $baddr = '10.0.1.' . (100 + $$ % 100);
my @codes = map { IdgwTest::Acl::open_session('/aclc-ban', base => $gw->base_url,
                                              xff => $baddr)->{status} } 1 .. 5;
ok t_cmp("@codes", '200 200 429 429 429', 'two pass, three breaches');
my $hash = IdgwTest::Acl::PREFIX . 'acl:{lists}:bl:addr';
ok t_cmp((cli($PORTS[0], '-c', 'HGET', $hash, "$baddr/32") // '') =~ /\|auto-breaches\|/
         ? 'banned' : 'not', 'banned', 'the third breach wrote an automatic ban');
# (where it has no limit: under /aclc-ban the per-process limiter answers
# it first, 429)
my $res403 = IdgwTest::Acl::open_session('/aclc', base => $gw->base_url, xff => $baddr);
ok t_cmp($res403->{status} . ' ' . IdgwTest::Acl::code($res403), '403 IDGW-ACL-002',
         'and the address is refused as blacklisted');

# sequence errors: each counter on its own slot, the ban on the lists' slot
my $saddr = '10.0.2.' . (100 + $$ % 100);
my @sc = map { IdgwTest::Acl::request(path => '/aclc-strike/session/status', base => $gw->base_url,
                                      xff => $saddr, token => sprintf('%032x', $_))->{status} } 1 .. 3;
# in force on every child within IdgwAclListsMaxAge (the writer's at once)
my $struck_then = IdgwTest::Acl::eventually(
    sub { IdgwTest::Acl::request(path => '/aclc-strike/session/status', base => $gw->base_url,
                                 xff => $saddr, token => sprintf('%032x', 9)) },
    sub { IdgwTest::Acl::code($_[0]) eq 'IDGW-ACL-002' });
ok t_cmp(IdgwTest::Acl::code($struck_then) . ' after ' . join(' ', @sc), 'IDGW-ACL-002 after 403 403 403',
         'three unknown tokens from one address: struck three times, then banned');
ok t_cmp((cli($PORTS[0], '-c', 'HGET', $hash, "$saddr/32") // '') =~ /\|auto-strikes\|/
         ? 'banned' : 'not', 'banned', 'the ban is on the lists\' slot');

# shadow rules: let through, logged, recorded on each subject's own slot
my $P = IdgwTest::Acl::PREFIX;
sub record { cli($PORTS[0], '-c', 'HGET', "${P}acl:sr:$_[0]", $_[1]) // '' }
my $off = '192.0.2.' . (100 + $$ % 100);
ok t_cmp(IdgwTest::Acl::open_session('/aclc-shadow', base => $gw->base_url,
                                     xff => $off)->{status}, 200,
         'carrier in shadow: an address off the carrier networks passes');
ok t_cmp(record("addr:$off/32", 'carrier:networks'), '1',
         'and is recorded against the address');
my $sh_addr = '10.0.3.' . (100 + $$ % 100);
my $sh_t = IdgwTest::Acl::terminal();
my @sh = map { IdgwTest::Acl::open_session('/aclc-shadow', base => $gw->base_url,
                                           xff => $sh_addr, terminal => $sh_t)->{status} } 1 .. 4;
ok t_cmp("@sh", '200 200 200 200', 'limits of 2/h in shadow refuse none of 4');
ok t_cmp(record("addr:$sh_addr/32", 'ratelimit:addr') . ' ' . record("terminal:$sh_t",
                                                                     'ratelimit:terminal'),
         '2 2', 'each limit would have refused two, recorded against address and terminal');
# the address's two breaches reached the (enforced) breach threshold: the
# ban is a shadow ban, on the lists' slot, and refuses nobody
ok t_cmp((cli($PORTS[0], '-c', 'HGET', "${P}acl:{lists}:sb:addr", "$sh_addr/32") // '')
         =~ /\|auto-breaches\|/ ? 'shadow-banned' : 'not', 'shadow-banned',
         'the breaches earned a shadow ban');
ok t_cmp(cli($PORTS[0], '-c', 'HEXISTS', "${P}acl:{lists}:bl:addr", "$sh_addr/32"), '0',
         'and no ban');
ok t_cmp(IdgwTest::Acl::open_session('/aclc', %base, xff => $sh_addr)->{status}, 200,
         'the shadow-banned address is served');
my ($xrc, $xout) = acl_admin('explain', $sh_addr, '--terminal', $sh_t);
ok t_cmp($xout =~ m{addr \Q$sh_addr\E/32: shadow ratelimit:addr would have refused it 2 time}
         && $xout =~ m{terminal \Q$sh_t\E: shadow ratelimit:terminal would have refused it 2 time}
         && $xout =~ m{shadow ban \Q$sh_addr\E/32: temporary.*auto-breaches} ? 'explained' : $xout,
         'explained', 'idgw-acl --cluster explain shows them');
# sequence errors with strikes in shadow: a shadow ban, the address still served
my $ss_addr = '10.0.4.' . (100 + $$ % 100);
my @ss = map { IdgwTest::Acl::request(path => '/aclc-shadow/session/status', base => $gw->base_url,
                                      xff => $ss_addr, token => sprintf('%032x', $_))->{status} } 1 .. 3;
ok t_cmp("@ss", '403 403 403', 'unknown tokens refused by the session check, not banned');
ok t_cmp((cli($PORTS[0], '-c', 'HGET', "${P}acl:{lists}:sb:addr", "$ss_addr/32") // '')
         =~ /\|auto-strikes\|/ ? 'shadow-banned' : 'not', 'shadow-banned',
         'the strikes earned a shadow ban');
my $after_strikes = IdgwTest::Acl::open_session('/aclc', %base, xff => $ss_addr);
ok t_cmp($after_strikes->{status}, 200, 'and the address is served');
my $glog = $gw->log_text;
diag 'shadow lines: ', scalar(() = $glog =~ /IDGW0370/g), ' IDGW0370, ',
     scalar(() = $glog =~ /IDGW0372/g), ' IDGW0372, ', scalar(() = $glog =~ /IDGW0373/g), ' IDGW0373';

# a busy client's limits cost the Cluster little: its children hold leases
my %lw = (%base, terminal => IdgwTest::Acl::terminal(), idm => IdgwTest::Acl::idm());
my ($lopen, $ltoken) = IdgwTest::Acl::open_session('/aclc-lease', %lw);
my $lbefore = ran('evalsha', 'hmget');
my $lok = grep { IdgwTest::Acl::request(path => '/aclc-lease/session/status', %lw,
                                        token => $ltoken)->{status} == 200 } 1 .. 120;
my $lran = ran('evalsha', 'hmget') - $lbefore;
diag "120 status requests with two limits: $lran session reads and checks";
ok t_cmp($lok, 120, 'served');
ok t_cmp($lran <= 120 + 40 ? 'few' : $lran, 'few',
         'their limits took at most 40 checks besides the 120 session scripts or reads (240 without leases)');

# the lists' master killed, its replica promoted: a ban still gets through
my $slot = cli($PORTS[0], 'CLUSTER', 'KEYSLOT', $ver);
my $owner = $nodes->slot_owner($PORTS[0], $slot);
kill 'KILL', $nodes->pid_of($owner);
my @alive = grep { $_ != $owner } @PORTS;
ok(wait_for(sub { my $o = $nodes->slot_owner($alive[0], $slot); $o && $o != $owner }, 20));
my $t2 = IdgwTest::Acl::terminal();
my $added = 0;
for (1 .. 50) {       # the CLI's own redirections settle with the map
    ($rc, $o) = acl_admin('--port', $alive[0], 'add', 'terminal', $t2);
    last if ($added = $rc == 0);
    sleep 0.2;
}
ok($added) or diag $o;
my $after = until_status('/aclc', $t2, 403, 6);
diag 'after the promotion, ban applied after ', $ms->($after);
ok t_cmp(defined $after && $after < 4 ? 'in force' : $ms->($after), 'in force',
         'a ban written on the promoted replica is in force');

my $log = $gw->log_text;
ok $log !~ /AH00052|segfault|IDGW0338|IDGW0339|IDGW0373/;
