# Automatic settlement (docs/reconcile.md): a card write left chip-unconfirmed
# (the chip's answer to the final write is tampered with: the chip holds the
# card, the source was never told) is settled by the gateway itself when the
# phone next runs an operation that authenticates the member at the card's
# source and reads the chip's cards (store_card): the source gets exactly
# one CARD_WRITTEN_REQ with what the chip holds, the record is settled by
# "gateway" with that outcome, logged IDGW0461 and counted.  A record of
# another chip is not touched; a later operation does not settle again;
# Redis refusing the settlement (the claim) leaves the record unsettled and
# the operation succeeds; a notice the source refuses leaves its record open
# for a later try; a notice whose answer is lost leaves it claimed for the
# operator and is never sent again.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP qw(decode_json);
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my %env = IdgwTest::Stack::env();
my $run = $stack->run_dir;
my $c101 = $stack->card('C101');
my @cremo = ('source=cremo', "member=$c101->{member}", "password=$c101->{password}");
my @tool = ("$FindBin::Bin/../scripts/idgw-reconcile", '--port', $env{IDGW_DEMO_REDIS_PORT},
            '--prefix', 'demo:');

sub slurp { open my $fh, '<', $_[0] or return ''; local $/; return scalar <$fh> }
sub q_ { return join ' ', map { IdgwTest::Terminal::quote($_) } @_ }
sub tool { my $out = `@{[ q_(@tool, @_) ]} 2>&1`; return ($? >> 8, $out) }
sub redis_cli {
    my $out = `@{[ q_('redis-cli', '-h', '127.0.0.1', '-p', $env{IDGW_DEMO_REDIS_PORT}, @_) ]} 2>&1`;
    chomp $out;
    return $out;
}
sub record { my %h = split /\n/, redis_cli('HGETALL', "demo:unsettled:{$_[0]}"); return \%h }
sub chip_index { return sort split /\n/, redis_cli('SMEMBERS', "demo:unsettled:chip:{$_[0]}") }
sub hex_id { return join '', map { sprintf '%02x', int rand 256 } 1 .. $_[0] }

# a gateway of the fleet with the counters page (mod_idgw_status), for the metric
my $conf = slurp("$run/idgw.conf");
my ($load) = $conf =~ /^(#LoadModule idgw_status_module .*)$/m or die 'no status module line';
my ($require) = $conf =~ /^(#    Require ip 127\.0\.0\.1 .*)$/m or die 'no Require line';
my $url = $stack->extra_gateway('autosettle', 1, $load => substr($load, 1),
    '#<Location /idgw-status>' => '<Location /idgw-status>',
    '#    SetHandler idgw-status' => '    SetHandler idgw-status',
    $require => '    Require all granted', '#</Location>' => '</Location>');   # a loopback listener
(my $status_url = $url) =~ s{/idgw/v1$}{/idgw-status?format=prometheus};
sub settled_metric {
    my ($outcome) = @_;
    my $page = `curl -sk '$status_url'`;
    return $page =~ /^idgw_unsettled_settled_total\{outcome="$outcome",by="gateway"\} (\d+)$/m
        ? $1 : 0;
}

my $notices = "$run/sim/notifications.log";
sub written_notices {
    my ($cid) = @_;
    return grep { /^cremo WRITTEN \Q$cid\E / } split /\n/, slurp($notices);
}
my $deposit = "$run/sim/store/cremo-$c101->{member}-C101";
sub store_c101 {
    my ($ph) = @_;
    unlink $deposit;    # the deposit of the story before: the same story again
    return $ph->run('run', 'open', ',', 'store', @cremo, 'cardId=C101', 'slot=0', ',', 'close');
}

# ---- a chip-unconfirmed card write ----
my $ph = IdgwTest::Terminal->new($stack, 'autosettle', url => $url);
my $idm = uc $ph->idm;
my %known = map { $_ => 1 } split /\n/, redis_cli('ZRANGE', 'demo:unsettled', 0, -1);
my $r = $ph->run('run', 'open', ',', 'issue-area');
is($r->{rc}, 0, 'open and issue the area') or diag $r->{out};
$r = $ph->run({ opts => [ '--tamper', 4 ] }, 'add-card', @cremo, 'cardId=C101', 'slot=0');
is(IdgwTest::Terminal::error_code($r), 'IDGW-CNV-033', 'the final write\'s answer is refused');
my @new = grep { !$known{$_} } split /\n/, redis_cli('ZRANGE', 'demo:unsettled', 0, -1);
is(scalar @new, 1, 'one new unsettled record') or diag "@new";
my $id = $new[0] // 'none';
my $rec = record($id);
is($rec->{kind}, 'chip-unconfirmed', 'kind chip-unconfirmed');
is_deeply([ @$rec{qw(source member issuer last4 card slot)} ],
          [ 'cremo', $c101->{member}, 'DCM', substr($c101->{pan}, -4), 'C101', '1' ],
          'it names the source, member, issuer, last four digits, card and slot');
is_deeply([ chip_index($idm) ], [ $id ], 'it is in its chip\'s index');

# the same record for another chip, and one on this chip whose write never
# reached it (slot 2 is empty): the chip read settles it as not-written
my $other_idm = '0123456789ABCDEF';
my ($other, $empty) = (hex_id(8), hex_id(8));
my %cid = ($id => $rec->{cid}, $other => 'idgw-' . hex_id(16), $empty => 'idgw-' . hex_id(16));
redis_cli('HSET', "demo:unsettled:{$other}", %$rec, idm => $other_idm, cid => $cid{$other});
redis_cli('HSET', "demo:unsettled:{$empty}", %$rec, card => 'C102', slot => '2',
          last4 => substr($stack->card('C102')->{pan}, -4), cid => $cid{$empty});
redis_cli('ZADD', 'demo:unsettled', $rec->{at}, $_) for $other, $empty;
redis_cli('SADD', "demo:unsettled:chip:{$other_idm}", $other);
redis_cli('SADD', "demo:unsettled:chip:{$idm}", $empty);
my %m0 = map { $_ => settled_metric($_) } qw(written not-written);
my $log = "$run/autosettle.error.log";

# ---- Redis refuses the settlement: the record stays, the operation succeeds ----
my $log0 = length slurp($log);
is(redis_cli('ACL', 'SETUSER', 'default', '-eval'), 'OK', 'Redis refuses EVAL (the claim)');
$r = store_c101($ph);
redis_cli('ACL', 'SETUSER', 'default', '+eval');
is($r->{rc}, 0, 'the next session\'s deposit succeeds all the same') or diag $r->{out};
like(substr(slurp($log), $log0), qr/IDGW0463: unsettled records of chip $idm: the claim of \w+ failed in Redis/,
     'the failure is logged (IDGW0463)');
ok(!record($id)->{outcome} && !record($id)->{claimed_by}, 'the record is still open');
is(scalar written_notices($cid{$id}), 0, 'the source was told nothing');

# ---- the next session settles ----
$log0 = length slurp($log);
$r = store_c101($ph);
is($r->{rc}, 0, 'the next session\'s deposit succeeds') or diag $r->{out};
$rec = record($id);
is($rec->{outcome}, 'written', 'settled as written (the chip holds the card)');
is($rec->{settled_by}, 'gateway', 'by the gateway');
my @w = written_notices($cid{$id});
is(scalar @w, 1, 'the source got exactly one CARD_WRITTEN_REQ for it') or diag explain \@w;
like($w[0] // '', qr/ C101 1 OK$/, 'card C101, slot 1, writeResult OK');
is(record($empty)->{outcome}, 'not-written', 'the write that never reached the chip: not-written');
like((written_notices($cid{$empty}))[0] // '', qr/ C102 2 NG$/, 'its source was told NG');
my $new_log = substr(slurp($log), $log0);
like($new_log, qr/IDGW0461: settled $id \(chip-unconfirmed of add_card, correlation id \Q$cid{$id}\E\) as written by gateway/,
     'logged (IDGW0461)');
is(settled_metric('written'), $m0{written} + 1, 'counted: idgw_unsettled_settled_total written');
is(settled_metric('not-written'), $m0{'not-written'} + 1, 'and not-written');
is_deeply([ chip_index($idm) ], [], 'the chip\'s index is empty');
like(redis_cli('ZSCORE', 'demo:settled', $id), qr/^\d+$/, 'the record is in the settled index');
is(redis_cli('ZSCORE', 'demo:unsettled', $id), '', 'and no longer in the unsettled one');
my ($rc, $out) = tool('list', '--settled', '--json');
my ($listed) = grep { $_->{id} eq $id } @{ decode_json($out)->{records} };
is($listed->{settled_by} // '', 'gateway', 'idgw-reconcile lists it as settled by the gateway');

# ---- the other chip's record is not touched ----
my $o = record($other);
ok(!$o->{outcome} && !$o->{claimed_by}, 'the other chip\'s record is untouched');
is(scalar written_notices($cid{$other}), 0, 'and nothing was sent for it');

# ---- a later session does not settle again; a notice the source refuses
# (a card of another member: the source answers "no such card") leaves its
# record open, its claim dropped ----
my $foreign = hex_id(8);
my $c201 = $stack->card('C201');
$cid{$foreign} = 'idgw-' . hex_id(16);
redis_cli('HSET', "demo:unsettled:{$foreign}", %$rec, card => 'C201', slot => '2',
          last4 => substr($c201->{pan}, -4), cid => $cid{$foreign});
redis_cli('HDEL', "demo:unsettled:{$foreign}", qw(outcome settled_by settled_at note claimed_by claimed_at));
redis_cli('ZADD', 'demo:unsettled', $rec->{at}, $foreign);
redis_cli('SADD', "demo:unsettled:chip:{$idm}", $foreign);
$log0 = length slurp($log);
$r = store_c101($ph);
is($r->{rc}, 0, 'a later deposit succeeds') or diag $r->{out};
is(scalar written_notices($cid{$id}), 1, 'no second CARD_WRITTEN_REQ');
is(settled_metric('written'), $m0{written} + 1, 'not counted again');
like(substr(slurp($log), $log0), qr/IDGW0462: $foreign \(chip-unconfirmed of add_card, correlation id \Q$cid{$foreign}\E\): the chip shows it not-written, but its source was not told \(CARD_WRITTEN_RES answered result \d+\): left unsettled, tried again/,
     'a refused notice is logged (IDGW0462)');
my $f = record($foreign);
ok(!$f->{outcome} && !$f->{claimed_by}, 'its record stays open, the claim dropped');
is_deeply([ chip_index($idm) ], [ $foreign ], 'and in the chip\'s index');
($rc, $out) = tool('settle', '--outcome', 'written', $id);
is($rc, 3, 'the operator cannot settle it again (exit 3)') or diag $out;

# ---- the operator settles the others: they leave their chips' indexes ----
($rc, $out) = tool('settle', '--outcome', 'aborted', '--by', 'ops-test', $other);
is($rc, 0, 'idgw-reconcile settles the other chip\'s record') or diag $out;
is_deeply([ chip_index($other_idm) ], [], 'and takes it out of its chip\'s index');
($rc, $out) = tool('settle', '--outcome', 'aborted', '--by', 'ops-test', $foreign);
is($rc, 0, 'and the refused one') or diag $out;
is_deeply([ chip_index($idm) ], [], 'out of this chip\'s index');

# ---- a notice whose answer is lost (the source served it, its answer came
# too late): the record stays claimed for the operator, never sent again ----
my $lost = hex_id(8);
$cid{$lost} = 'idgw-' . hex_id(16);
redis_cli('HSET', "demo:unsettled:{$lost}", %$rec, card => 'C102', slot => '2',
          last4 => substr($stack->card('C102')->{pan}, -4), cid => $cid{$lost});
redis_cli('HDEL', "demo:unsettled:{$lost}", qw(outcome settled_by settled_at note claimed_by claimed_at));
redis_cli('ZADD', 'demo:unsettled', $rec->{at}, $lost);
redis_cli('SADD', "demo:unsettled:chip:{$idm}", $lost);
ok($stack->fault('cremo', 'only=CARD_WRITTEN_REQ;delay=2500', 1),
   'the source answers the next CARD_WRITTEN_REQ after the gateway gave up');
$log0 = length slurp($log);
$r = store_c101($ph);
is($r->{rc}, 0, 'the deposit succeeds all the same') or diag $r->{out};
like(substr(slurp($log), $log0), qr/IDGW0464: $lost \(chip-unconfirmed of add_card, correlation id \Q$cid{$lost}\E\): the notice that the chip shows it not-written may have reached its source/,
     'logged (IDGW0464)');
my $l = record($lost);
ok(!$l->{outcome}, 'not settled');
like($l->{claimed_by} // '', qr/^gateway idgw-[0-9a-f]{32}$/, 'but claimed by the gateway');
is(scalar written_notices($cid{$lost}), 1, 'the source did get it');
$r = store_c101($ph);
is($r->{rc}, 0, 'a later deposit succeeds') or diag $r->{out};
is(scalar written_notices($cid{$lost}), 1, 'and does not send it again');
($rc, $out) = tool('show', $lost);
like($out, qr/claimed by gateway idgw-/, 'idgw-reconcile show names the claim');
($rc, $out) = tool('settle', '--outcome', 'not-written', '--by', 'ops-test', $lost);
is($rc, 0, 'the operator settles it') or diag $out;
is_deeply([ chip_index($idm) ], [], 'out of the chip\'s index');
$stack->fault('cremo', 'none');

unlink $deposit;
done_testing;
