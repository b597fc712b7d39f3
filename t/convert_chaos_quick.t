# The quick fault campaign (scripts/idgw-chaos --quick: fixed seed, every
# fault kind at least once, about 90 s) holds every invariant; and the
# checker can fail: each planted fault (a duplicate backend notification, a
# PAN in a log, a child dead of SIGSEGV, an unconfirmed write not recorded,
# a card put on a second chip, a deposit withdrawn twice) re-checked on a
# copy of the run is reported as a violation.
# Ports 8960-8971, 6490, 6491, 6590, 6591, 26490 (not the other tests'); take the shared
# lock around it like every test that starts daemons.  The script stops its
# own processes on exit, INT, TERM and HUP.
use strict;
use warnings;
use FindBin;
use File::Temp qw(tempdir);
use Test::More;

my $top = "$FindBin::Bin/..";
my $build = $ENV{IDGW_BUILD} // "$top/build";
my $run = "$build/run-chaos-test";
END { system('rm', '-rf', $run) if $run }

sub chaos {
    my ($env, @args) = @_;
    my $cmd = join ' ', map { "'$_'" } "$top/scripts/idgw-chaos", @args;
    my $out = `env IDGW_BUILD='$build' IDGW_CHAOS_RUN='$run' $env $cmd 2>&1`;
    my $rc = $? >> 8;
    my ($json) = $out =~ /^IDGW-CHAOS (\{.*\})$/m;
    my ($v) = ($json // '') =~ /"violations":(\d+)/;
    return ($rc, $v, $out, $json);
}

my ($rc, $v, $out, $json) = chaos('', '--quick', '--keep');
is($rc, 0, 'the quick campaign exits 0') or diag $out;
is($v, 0, 'with 0 violations') or diag $out;
note $json // '';
for my $kind (qw(redis-failover redis-wipe backend-refuse backend-timeout backend-reset
                 backend-5xx backend-malformed backend-slow httpd-graceful httpd-child-kill
                 net-delay net-loss)) {
    like($json // '', qr/"$kind":[1-9]/, "$kind injected");
}
my ($ops) = ($json // '') =~ /"completed":(\d+)/;
ok(($ops // 0) > 20, 'phones completed stories between the faults') or diag $out;

for my $plant (qw(telegram pan crash unsettled clone withdraw)) {
    my $copy = tempdir(CLEANUP => 1);
    system('cp', '-a', "$run/.", $copy) == 0 or die "cp: $?";
    my ($prc, $pv, $pout) = chaos("IDGW_CHAOS_PLANT=$plant", '--check', $copy);
    is($prc, 1, "planted $plant: exit 1") or diag $pout;
    ok(($pv // 0) >= 1, "planted $plant: reported as a violation") or diag $pout;
}
done_testing;
