#!/usr/bin/perl
# chaos-truth.pl: the fault campaign's (scripts/idgw-chaos) ground truth for
# cards: what is on the chip images against what the sources say they
# issued, deposited and withdrew (the simulators' ledger.log, t/sim/sim_ledger.c).
#
#   chaos-truth.pl story I K                  phone I's story K: the suffix of its derived
#                                             members, then its cards' PANs (its secrets)
#   chaos-truth.pl pans RUN                   the derived PANs of every story run (secrets)
#   chaos-truth.pl check RUN [old]            the invariants below, one line each:
#                                             "NAME COUNT WHAT" (COUNT: violations);
#                                             no ledger is one each, but with "old"
#                                             (a run kept from before the ledger)
#   chaos-truth.pl plant-clone RUN            a chip image holding a card, copied under a
#                                             new IDm (a card put on a second chip)
#   chaos-truth.pl plant-withdraw RUN         a withdrawal recorded twice
#
# Environment: CHAOS_CARDHOLDERS
# (t/sim/data/cardholders.txt).  RUN is the campaign's run directory:
# phones.log ("I K RC" per story), phones/*.img* (the chips), gw1/sim/ledger.log
# and gw1/sim/store/ (what is deposited now).
#
# Invariants (docs/reliability.md, "Fault campaign"):
#   card-issued-to-chip     every card on a chip is one the source issued to
#                           that chip: its source handed it out (ISSUED) under a
#                           correlation id with which the FeliCa server started
#                           writing it to that chip's IDm (WRITE)
#   card-on-one-chip        no card is on two chips, but for the chip it was
#                           deposited from (the card stays there until the old
#                           handset is handed back: docs/smartphone-api.md 3.10)
#   deposit-withdrawn-once  per card, deposits and withdrawals alternate (nothing
#                           withdrawn twice or never deposited), and what the
#                           ledger leaves deposited is exactly what is in the store
# PANs are read from the chips and compared here; none is ever printed.
use strict;
use warnings;
use Digest::SHA qw(sha256);

my $holders = $ENV{CHAOS_CARDHOLDERS} // 't/sim/data/cardholders.txt';

sub suffix { return sprintf('%02d%04d', @_) }

# The test cards: [source, member, card id, PAN]
sub base_cards {
    open my $fh, '<', $holders or die "chaos-truth: $holders: $!\n";
    my @c;
    while (<$fh>) {
        next if /^#/ || !/\|/;
        chomp;
        my @f = split /\|/;
        push @c, [ $f[0], $f[1], $f[5], $f[7] ] if @f >= 11;
    }
    return @c;
}

sub luhn_digit {
    my ($digits) = @_;
    my ($sum, $i) = (0, 0);
    for my $d (reverse split //, $digits) {
        $d *= 2, $d -= 9 * ($d > 9) if $i++ % 2 == 0;
        $sum += $d;
    }
    return (10 - $sum % 10) % 10;
}

# t/sim/sim_ledger.c sim_derived_pan: digits 7-12 are the suffix, new check digit
sub derived_pan {
    my ($pan, $sfx) = @_;
    my $body = substr($pan, 0, 6) . sprintf('%06d', $sfx) . substr($pan, 12, length($pan) - 13);
    return $body . luhn_digit($body);
}

sub run_of { my ($run) = @_; return ("$run/gw1/sim/ledger.log", "$run/gw1/sim/store") }

# PAN -> "member card" for the base cards and every story's derived ones
sub card_map {
    my ($run) = @_;
    my @base = base_cards();
    my %map = map { $_->[3] => "$_->[1] $_->[2]" } @base;
    open my $fh, '<', "$run/phones.log" or return %map;
    while (<$fh>) {
        my ($i, $k) = split;
        next unless defined $k;
        my $sfx = suffix($i, $k);
        $map{ derived_pan($_->[3], $sfx) } = "$_->[1]-$sfx $_->[2]$sfx" for @base;
    }
    return %map;
}

# A chip image: its IDm and the PANs in its iD area's card slots.  Read here
# (libfelica/chip/felica_image.c's format: "IDGWCHIP", version, body length,
# then IDm, PMm, system code, counter, system keys, areas; SHA-256 of it all
# last), not with felicactl: a process per chip would take half a minute.
# An image that does not verify is chip-intact's (felicactl) business.
sub chip {
    my ($img) = @_;
    open my $fh, '<:raw', $img or return;
    local $/;
    my $b = <$fh> // '';
    return if length $b < 48 || substr($b, 0, 8) ne 'IDGWCHIP'
        || sha256(substr($b, 0, -32)) ne substr($b, -32);
    my $p = 16;
    my $idm = uc unpack('H16', substr($b, $p, 8));
    $p += 8 + 8 + 2 + 4;
    $p += 1 + 49 * unpack('C', substr($b, $p, 1));            # system key sets
    my $areas = unpack('C', substr($b, $p++, 1));
    my @pans;
    for (1 .. $areas) {
        my ($code, undef, $keys, $blocks) = unpack('n C C n', substr($b, $p, 6));
        $p += 6 + 49 * $keys;
        if ($code == 0x1000) {
            for my $blk (2, 8) {                                 # slot 0 and 1 PAN blocks
                next if $blk >= $blocks;
                my ($digits) = unpack('H20', substr($b, $p + 16 * $blk, 10)) =~ /^(\d+)/;
                push @pans, $digits if $digits && $digits !~ /^0+$/;
            }
        }
        $p += 16 * $blocks;
    }
    return ($idm, @pans);
}

sub ledger {
    my ($run) = @_;
    my ($path) = run_of($run);
    my (%issued, %writes, %stored_from, @deposits);
    open my $fh, '<', $path or return ({}, {}, {}, []);
    while (<$fh>) {
        my ($svc, $ev, $cid, $member, $card, $idm) = split;
        next unless defined $idm;
        if ($ev eq 'ISSUED') { $issued{"$cid $card"} = 1 }
        elsif ($ev eq 'WRITE') { push @{ $writes{ "$card " . uc $idm } }, $cid }
        elsif ($ev eq 'STORED') {
            $stored_from{ "$card " . uc $idm } = 1;
            push @deposits, [ "$svc-$member-$card", +1 ];
        }
        elsif ($ev eq 'RESTORED') { push @deposits, [ "$svc-$member-$card", -1 ] }
    }
    return (\%issued, \%writes, \%stored_from, \@deposits);
}

sub check {
    my ($run, $old) = @_;
    my ($path) = run_of($run);
    unless (-e $path) {    # a run kept from before the simulators kept a ledger
        my $n = $old ? 0 : 1;
        print "$_ $n not evaluated: no $path\n"
            for qw(card-issued-to-chip card-on-one-chip deposit-withdrawn-once);
        return;
    }
    my %map = card_map($run);
    my ($issued, $writes, $stored_from, $deposits) = ledger($run);
    my (%holders, $unissued, $chips, $cards);
    $unissued = $chips = $cards = 0;
    for my $img (sort glob("$run/phones/*.img*")) {
        my ($idm, @pans) = chip($img);
        next unless $idm;
        $chips++;
        $cards += @pans;
        for my $pan (@pans) {
            my $who = $map{$pan};
            my $card = $who ? (split ' ', $who)[1] : undef;
            my $ok = $card && grep { $issued->{"$_ $card"} } @{ $writes->{"$card $idm"} || [] };
            $unissued++ unless $ok;
            # a card unknown to the sources is one of its own
            my $key = $card // 'unknown:' . length($pan) . ':' . substr($pan, -4);
            push @{ $holders{$key} }, [ $img, $idm ];
        }
    }
    my $twice = 0;
    for my $card (keys %holders) {
        my @on = grep { !$stored_from->{"$card $_->[1]"} } @{ $holders{$card} };
        $twice++ if @on > 1;
    }
    my ($bad, %bal) = (0);
    for my $d (@$deposits) {
        my $b = $bal{ $d->[0] } = ($bal{ $d->[0] } // 0) + $d->[1];
        $bad++ if $b < 0 || $b > 1;
    }
    my (undef, $store) = run_of($run);
    for my $k (keys %bal) {
        $bad++ if ($bal{$k} == 1) != (-e "$store/$k" ? 1 : 0);
    }
    my $deps = grep { $_->[1] > 0 } @$deposits;
    print "# $chips chips read, $cards cards on them, $deps deposits, ",
        @$deposits - $deps, " withdrawals in the ledger\n";
    print "card-issued-to-chip $unissued cards on a chip their source did not issue to that chip\n";
    print "card-on-one-chip $twice cards on two chips (not counting the chip a card was deposited from)\n";
    print "deposit-withdrawn-once $bad deposits withdrawn twice or never made, or the store disagreeing\n";
}

sub plant_clone {
    my ($run) = @_;
    my (undef, undef, $stored_from) = ledger($run);
    my %map = card_map($run);
    for my $img (sort glob("$run/phones/*.img*")) {
        my ($idm, @pans) = chip($img);
        next unless $idm && @pans;
        my $card = (split ' ', $map{ $pans[0] } // '- -')[1];
        next if $stored_from->{"$card $idm"};
        open my $in, '<:raw', $img or next;
        local $/;
        my $bytes = <$in>;
        # the IDm is the body's first 8 bytes (after the 16-byte header); the
        # last 32 are the SHA-256 of the rest (libfelica/chip/felica_image.c)
        substr($bytes, 16, 8) = pack('H16', '01FFFFFFFFFFFF00');
        substr($bytes, -32) = sha256(substr($bytes, 0, -32));
        open my $out, '>:raw', "$run/phones/planted-clone.img" or die "chaos-truth: $!\n";
        print $out $bytes;
        close $out or die "chaos-truth: $!\n";
        return;
    }
    die "chaos-truth: no chip with a card to clone\n";
}

sub plant_withdraw {
    my ($run) = @_;
    my ($path) = run_of($run);
    my $last;
    if (open my $fh, '<', $path) { /^\S+ RESTORED / and $last = $_ while <$fh> }
    $last //= "cardinfo RESTORED PLANTED SKR0001-990001 C401990001 -\n";
    open my $out, '>>', $path or die "chaos-truth: $path: $!\n";
    print $out $last;
}

my $cmd = shift // '';
if ($cmd eq 'story') {
    my $sfx = suffix(@ARGV);
    print "$sfx\n", map { derived_pan($_->[3], $sfx) . "\n" } base_cards();
}
elsif ($cmd eq 'pans') { my %map = card_map(@ARGV); print "$_\n" for sort keys %map }
elsif ($cmd eq 'check') { check(@ARGV) }
elsif ($cmd eq 'plant-clone') { plant_clone(@ARGV) }
elsif ($cmd eq 'plant-withdraw') { plant_withdraw(@ARGV) }
else { die "usage: chaos-truth.pl story I K | pans RUN | check RUN | plant-clone RUN | plant-withdraw RUN\n" }
