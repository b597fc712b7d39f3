# Only proven identities earn strikes and bans, end to end (issue 12, item 2):
# real gateway, simulators and chips, auto-ban on.  A session is proven once
# the FeliCa server verified its chip's answer (mod_idgw_convert reports it).
# Attack 1: an attacker opens sessions with a chip of its own under the
# victim's terminal id and ends each with a sequence error.  Attack 2: it
# floods session/open naming the victim's terminal id past the terminal limit.
# On the old code both banned the victim; now the victim, from its own
# address and chip, is served.  An honest terminal that misbehaves after its
# chip proved itself is banned.  Phones connect from their own loopback
# addresses (--source), as subscribers on different carrier addresses do;
# at the end several share one carrier NAT address (issue 12, item 3) with
# an attacker, and that address is never banned.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $redis_port = { IdgwTest::Stack::env() }->{IDGW_DEMO_REDIS_PORT};
my $tag = sprintf '%d-%d', $$, time;
my ($victim, $victim2, $honest) = ("T-victim-$tag", "T-victim2-$tag", "T-honest-$tag");
my @addrs = map { "127.0.0.$_" } 31 .. 36;
my $nat = '127.0.0.40';       # a carrier NAT address (IdgwAclNatPool below)
my @nat_terminals;

sub acl {
    my @cmd = (IdgwTest::Stack::src() . '/scripts/idgw-acl', '--port', $redis_port,
               '--prefix', 'demo:', '--force', @_);
    return scalar `@cmd 2>&1`;
}
# whatever this file's bans were, they go at the end
END {
    acl('remove', 'terminal', $_) for $victim, $victim2, $honest, @nat_terminals;
    acl('remove', 'addr', "$_/32") for @addrs, $nat;
}

my $limit = '    IdgwAclRateLimit terminal 300/m 100';
my $url = $stack->extra_gateway('proven', 3, $limit =>
    "    IdgwAclRateLimit terminal 12/m 12\n    IdgwAclAutoBan strikes 3 10m 1h\n"
    . "    IdgwAclAutoBan breaches 3 10m 1h\n    IdgwAclNatPool 16 $nat/32");

my $n = 0;
sub phone {
    my ($terminal, $source) = @_;
    return IdgwTest::Terminal->new($stack, 'proven' . ++$n, url => $url, terminal => $terminal),
           $source;
}
sub run_from {
    my ($ph, $source, @cmd) = @_;
    return $ph->run({ opts => [ '--source', $source ] }, @cmd);
}
# a sequence error: completion asked for in a session with no operation
my @seq_error = ('raw', 'add_card', 'complete', '<add_card version="1"/>');

# ---- attack 1: sequence errors in sessions opened under the victim's id ----
my @codes;
for my $i (1 .. 3) {
    my ($ph, $src) = phone($victim, $addrs[0]);
    my $r = run_from($ph, $src, 'run', 'open', ',', @seq_error);
    push @codes, $r->{out} =~ /^(\d{3}) (IDGW-\S+)/m ? "$1 $2" : "rc=$r->{rc}";
}
is("@codes", '409 IDGW-SEQ-002 409 IDGW-SEQ-002 409 IDGW-SEQ-002',
   'three sequence errors under the victim\'s terminal id');
my ($v, $vsrc) = phone($victim, $addrs[1]);
my $r = run_from($v, $vsrc, 'run', 'open', ',', 'issue-area', ',', 'close');
is($r->{rc}, 0, 'the victim, from its own address and chip, is served') or diag $r->{out};
unlike(acl('explain', '--terminal', $victim), qr/blacklist entry/, 'no ban names the victim');
like(acl('explain', '--addr', $addrs[0]), qr/blacklist entry .*auto-strikes/,
     'the attacker\'s own address answers for its sessions');

# ---- attack 2: an open flood naming the victim's id past the terminal limit ----
my %status;
for (1 .. 16) {
    my ($ph, $src) = phone($victim2, $addrs[2]);
    my $o = run_from($ph, $src, 'open');
    $status{ $o->{rc} == 0 ? 200 : IdgwTest::Terminal::status_of($o) || "rc$o->{rc}" }++;
}
ok(($status{429} // 0) >= 3, 'the flood is refused past the limit: '
   . join(' ', map { "$_ x$status{$_}" } sort keys %status));
($v, $vsrc) = phone($victim2, $addrs[3]);
$r = run_from($v, $vsrc, 'run', 'open', ',', 'issue-area', ',', 'close');
is($r->{rc}, 0, 'the victim of the flood is neither banned nor limited') or diag $r->{out};
unlike(acl('explain', '--terminal', $victim2), qr/blacklist entry/, 'no ban names it');

# ---- an honest terminal that errs after its chip proved itself ----
my ($h, $hsrc) = phone($honest, $addrs[4]);
$r = run_from($h, $hsrc, 'run', 'open', ',', 'issue-area', ',', @seq_error);
like($r->{out}, qr/^409 IDGW-SEQ-002/m, 'proven by the chip, then a sequence error')
    or diag $r->{out};
for (1 .. 2) {
    $r = run_from($h, $hsrc, 'run', 'open', ',', 'list', ',', @seq_error);
    like($r->{out}, qr/^409 IDGW-SEQ-002/m, 'again after listing its cards through the chip')
        or diag $r->{out};
}
$r = run_from($h, $addrs[5], 'open');
is(IdgwTest::Terminal::error_code($r), 'IDGW-ACL-002',
   'the terminal that erred after proving itself is banned everywhere') or diag $r->{out};
like(acl('explain', '--terminal', $honest), qr/by auto-strikes: 3 sequence errors/,
     'by its strikes');

# ---- a carrier NAT address: honest phones and an attacker behind it ----
# The attacker errs in sessions it never proved, under terminal ids of its
# choosing: the shared address is not banned and every honest phone there
# issues its area.  Then it proves a chip of its own and errs: that terminal
# is banned, the address still is not.
my @seen;
for my $i (1 .. 4) {
    push @nat_terminals, "T-natx$i-$tag";
    my ($ph, $src) = phone($nat_terminals[-1], $nat);
    my $r = run_from($ph, $src, 'run', 'open', ',', @seq_error);
    push @seen, $r->{out} =~ /^(\d{3}) (IDGW-\S+)/m ? $2 : "rc=$r->{rc}";
}
is("@seen", join(' ', ('IDGW-SEQ-002') x 4), 'the attacker behind the NAT address errs four times');
my $served = 0;
for my $i (1 .. 6) {
    push @nat_terminals, "T-nat$i-$tag";
    my ($ph, $src) = phone($nat_terminals[-1], $nat);
    my $r = run_from($ph, $src, 'run', 'open', ',', 'issue-area', ',', 'close');
    $served++ if $r->{rc} == 0;
    diag $r->{out} if $r->{rc};
}
is($served, 6, 'six honest phones behind the same address issue their areas');
push @nat_terminals, "T-natp-$tag";
my ($p, $psrc) = phone($nat_terminals[-1], $nat);
$r = run_from($p, $psrc, 'run', 'open', ',', 'issue-area', ',', @seq_error);
like($r->{out}, qr/^409 IDGW-SEQ-002/m, 'the attacker proves its chip, then errs') or diag $r->{out};
for (1 .. 2) {
    run_from($p, $psrc, 'run', 'open', ',', 'list', ',', @seq_error);
}
is(IdgwTest::Terminal::error_code(run_from($p, $addrs[5], 'open')), 'IDGW-ACL-002',
   'its proven terminal is banned');
unlike(acl('explain', '--addr', $nat), qr/blacklist entry/, 'the NAT address is not');
my ($last, $lsrc) = phone("T-natlast-$tag", $nat);
push @nat_terminals, "T-natlast-$tag";
is(run_from($last, $lsrc, 'run', 'open', ',', 'issue-area', ',', 'close')->{rc}, 0,
   'and the next phone behind it is served');

done_testing();
