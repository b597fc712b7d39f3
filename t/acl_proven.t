# Only proven identities earn strikes and bans (issue 12, item 2).  A session
# is proven once its chip answered through the secure channel (the FeliCa
# server verified it) or a backend authenticated its user; the test handler
# reports that with ?prove=chip, as mod_idgw_convert does.  session/open takes
# any terminal id, so until then a session's failures count against the
# client address only, and a terminal id it merely names is counted per
# address, never against the terminal.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;

sub diag { print STDERR map { "# $_\n" } split /\n/, join("", @_) }

plan tests => 16;

IdgwTest::Acl::reset_keys();
my $log_from = IdgwTest::Acl::log_size();

# Attack 1: three sessions of the attacker's own, opened naming the victim's
# terminal id (from three addresses, so no one address reaches the strike
# threshold), each ended by a sequence error.
my $victim = IdgwTest::Acl::terminal();
my @codes;
for my $i (1 .. 3) {
    my $am = IdgwTest::Acl::idm();
    my ($open, $token) = IdgwTest::Acl::open_session('/acl/proof', xff => "10.9.5.$i",
                                                     terminal => $victim, idm => $am);
    my $bad = IdgwTest::Acl::request(path => '/acl/proof/add_card/relay', xff => "10.9.5.$i",
                                     terminal => $victim, idm => $am, token => $token // '',
                                     seq => 5);
    push @codes, IdgwTest::Acl::code($bad);
}
ok t_cmp("@codes", 'IDGW-SEQ-001 IDGW-SEQ-001 IDGW-SEQ-001', 'three sequence errors naming the victim');
ok t_cmp(IdgwTest::Acl::open_session('/acl/proof', xff => '10.9.5.99', terminal => $victim)->{status},
         200, 'the victim terminal is not banned by sessions it never proved');
my ($rc, $out) = IdgwTest::Acl::admin('explain', '--terminal', $victim);
ok $out !~ /blacklist entry/ or diag $out;
ok !IdgwTest::Acl::log_lines(qr/IDGW0330: .*terminal \Q$victim\E/, $log_from);

# Attack 2: a flood of session/open naming the victim's terminal id breaches
# the terminal limit (2 per hour) three times: only the flooder's own count
# (the id as named from its address) is refused, and nobody is banned.
my $victim2 = IdgwTest::Acl::terminal();
my @status;
for (1 .. 6) {
    push @status, IdgwTest::Acl::open_session('/acl/proofrate', xff => '10.9.6.1',
                                              terminal => $victim2)->{status};
}
ok t_cmp("@status", '200 200 429 429 429 429', 'the flood is limited where it comes from');
my @victim_status = map {
    IdgwTest::Acl::open_session('/acl/proofrate', xff => '10.9.6.99', terminal => $victim2)->{status}
} 1 .. 2;
ok t_cmp("@victim_status", '200 200', 'the victim, elsewhere, is neither banned nor limited');
($rc, $out) = IdgwTest::Acl::admin('explain', '--terminal', $victim2);
ok $out !~ /blacklist entry/ or diag $out;

# An honest terminal that proves its chip and then misbehaves answers for it:
# three sequence errors in proven sessions ban the terminal everywhere.
my $h = IdgwTest::Acl::terminal();
my $m = IdgwTest::Acl::idm();
@codes = ();
for my $i (1 .. 3) {
    my ($open, $token) = IdgwTest::Acl::open_session('/acl/proof', xff => "10.9.7.$i",
                                                     terminal => $h, idm => $m);
    my $step = IdgwTest::Acl::request(path => '/acl/proof/add_card/request?prove=chip',
                                      xff => "10.9.7.$i", terminal => $h, idm => $m,
                                      token => $token // '', seq => 1);
    push @codes, $step->{status};
    my $bad = IdgwTest::Acl::request(path => '/acl/proof/add_card/relay', xff => "10.9.7.$i",
                                     terminal => $h, idm => $m, token => $token // '', seq => 5);
    push @codes, IdgwTest::Acl::code($bad);
}
ok t_cmp("@codes", '200 IDGW-SEQ-001 200 IDGW-SEQ-001 200 IDGW-SEQ-001',
         'proven sessions, then sequence errors');
ok t_cmp(IdgwTest::Acl::code(IdgwTest::Acl::eventually(
        sub { IdgwTest::Acl::open_session('/acl/proof', xff => '10.9.7.99',
                                                         terminal => $h) },
        sub { IdgwTest::Acl::code($_[0]) eq 'IDGW-ACL-002' })),
         'IDGW-ACL-002', 'the proven terminal that erred is banned everywhere');
($rc, $out) = IdgwTest::Acl::admin('explain', '--terminal', $h);
ok $out =~ /terminal \Q$h\E: blacklist entry: temporary.* by auto-strikes: 3 sequence errors/
    or diag $out;
ok scalar IdgwTest::Acl::log_lines(qr/IDGW0330: auto-ban for 3600 s: terminal \Q$h\E /, $log_from);
ok scalar IdgwTest::Acl::log_lines(qr/IDGW0160: session sid=[0-9a-f]{8} proven by the chip/,
                                   $log_from);

# A proven terminal that floods breaches its own limit and is banned.
my $f = IdgwTest::Acl::terminal();
my $fm = IdgwTest::Acl::idm();
my ($open, $token) = IdgwTest::Acl::open_session('/acl/proofrate', xff => '10.9.8.1',
                                                 terminal => $f, idm => $fm);
my $step = IdgwTest::Acl::request(path => '/acl/proofrate/add_card/request?prove=chip',
                                  xff => '10.9.8.1', terminal => $f, idm => $fm,
                                  token => $token // '', seq => 1);
ok t_cmp($step->{status}, 200, 'the flooder proves its chip');
@status = map {
    IdgwTest::Acl::request(path => '/acl/proofrate/session/status', xff => '10.9.8.1',
                           terminal => $f, idm => $fm, token => $token // '')->{status}
} 1 .. 5;
ok t_cmp("@status", '200 200 429 429 429', 'its proven terminal id reaches the limit');
ok t_cmp(IdgwTest::Acl::code(IdgwTest::Acl::eventually(
        sub { IdgwTest::Acl::open_session('/acl/proof', xff => '10.9.8.2',
                                                         terminal => $f) },
        sub { IdgwTest::Acl::code($_[0]) eq 'IDGW-ACL-002' })),
         'IDGW-ACL-002', 'and is banned everywhere');
($rc, $out) = IdgwTest::Acl::admin('explain', '--terminal', $f);
ok $out =~ /by auto-breaches: 3 rate-limit breaches/ or diag $out;
