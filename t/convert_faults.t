# Every fault the backend simulators inject, on each backend an operation
# uses: the app gets the documented XML error with a fitting HTTP status
# (timeouts 504, unusable answers 502, refusals 502/503), the chip is
# untouched, the session stays usable, and once the fault is gone the same
# operation succeeds.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $c101 = $stack->card('C101');
my $c401 = $stack->card('C401');
my @cremo = ('source=cremo', "member=$c101->{member}", "password=$c101->{password}",
             'cardId=C101', 'slot=any');
my @dlc = ('source=dlc', 'issuer=SKR', "member=$c401->{member}", "password=$c401->{password}",
           'cardId=C401', 'slot=any');

my $ph = IdgwTest::Terminal->new($stack, 'faults');
is($ph->run('run', 'open', ',', 'issue-area')->{rc}, 0, 'open and issue the area');
my $empty = $stack->chip_hex($ph->chip);

# [ service, fault spec, card, expected HTTP status, expected code(s) ]
my @faults = (
    [ 'cremo',    'delay=2500',  \@cremo, 504, qr/^IDGW-CNV-021$/ ],
    [ 'cremo',    'slow=1500',   \@cremo, 504, qr/^IDGW-CNV-021$/ ],
    [ 'cremo',    'refuse',      \@cremo, qr/^50[23]$/, qr/^IDGW-CNV-02[23]$/ ],
    [ 'cremo',    'reset',       \@cremo, 502, qr/^IDGW-CNV-022$/ ],
    [ 'cremo',    'malformed',   \@cremo, 502, qr/^IDGW-CNV-022$/ ],
    [ 'cremo',    'truncated',   \@cremo, 502, qr/^IDGW-CNV-022$/ ],
    [ 'cremo',    'unframed',    \@cremo, 502, qr/^IDGW-CNV-022$/ ],
    [ 'cremo',    'status=503',  \@cremo, 502, qr/^IDGW-CNV-020$/ ],
    [ 'cardinfo', 'status=500',  \@dlc,   502, qr/^IDGW-CNV-020$/ ],
    [ 'cardinfo', 'delay=2500',  \@dlc,   504, qr/^IDGW-CNV-021$/ ],
    [ 'brand',    'malformed',   \@cremo, 502, qr/^IDGW-CNV-022$/ ],
    [ 'brand',    'delay=2500',  \@cremo, 504, qr/^IDGW-CNV-021$/ ],
    [ 'felica',   'status=503',  \@cremo, 502, qr/^IDGW-CNV-020$/ ],
    [ 'felica',   'truncated',   \@cremo, 502, qr/^IDGW-CNV-022$/ ],
    [ 'felica',   'unframed',    \@cremo, 502, qr/^IDGW-CNV-022$/ ],
    [ 'felica',   'delay=2500',  \@cremo, 504, qr/^IDGW-CNV-021$/ ],
);
for my $f (@faults) {
    my ($svc, $spec, $card, $status, $code) = @$f;
    ok($stack->fault($svc, $spec), "$svc: fault $spec switched on");
    my $r = $ph->run('add-card', @$card);
    $stack->fault($svc, 'none');
    is($r->{rc}, 1, "$svc $spec: the operation is refused") or diag $r->{out};
    like(IdgwTest::Terminal::status_of($r), ref $status ? $status : qr/^$status$/,
         "$svc $spec: HTTP status") or diag $r->{out};
    like(IdgwTest::Terminal::error_code($r), $code, "$svc $spec: error code");
    is($stack->chip_hex($ph->chip), $empty, "$svc $spec: the chip is untouched");
}

# the faults are gone: the same operations work in the same session
my $r = $ph->run('add-card', @cremo);
is($r->{rc}, 0, 'after the faults a CREMO card is added') or diag $r->{out};
$r = $ph->run('add-card', @dlc);
is($r->{rc}, 0, 'and a download-center card') or diag $r->{out};
is($ph->run('close')->{rc}, 0, 'close');

done_testing();
