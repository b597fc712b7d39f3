# Malformed and hostile XML from the app, wrong methods and content types:
# each refused with its documented XML error and HTTP status, no entity is
# ever expanded or fetched, and the session stays usable.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IdgwTest::Stack;
use IdgwTest::Terminal;

my $stack = IdgwTest::Stack->up;
my $ph = IdgwTest::Terminal->new($stack, 'xml');
is($ph->run('open')->{rc}, 0, 'open');

sub raw {
    my ($op, $step, $body, @extra) = @_;
    my $r = $ph->run('raw', $op, $step, $body, @extra);
    my ($status, $code) = $r->{out} =~ /^(\d{3}) (\S+) retry-after=/m;
    return ($status // 'none', $code // 'none', $r->{out});
}

my $lol = '<!ENTITY lol "lol">'
    . join('', map { my $p = $_ - 1; "<!ENTITY lol$_ \"" . ("&lol$p;" x 10) . '">' } 1 .. 9);
$lol =~ s/&lol0;/&lol;/g;
my $deep = ('<a>' x 60) . ('</a>' x 60);
my $huge = '<add_card version="1"><source>cremo</source><member>' . ('A' x 20000)
         . '</member></add_card>';

my @cases = (
    [ 'external entity', '<?xml version="1.0"?><!DOCTYPE add_card [<!ENTITY x SYSTEM '
      . '"file:///etc/passwd">]><add_card version="1"><member>&x;</member></add_card>',
      400, 'IDGW-CNV-002' ],
    [ 'external DTD over the network', '<!DOCTYPE add_card SYSTEM "http://127.0.0.1:8629/x.dtd">'
      . '<add_card version="1"/>', 400, 'IDGW-CNV-002' ],
    [ 'entity bomb', "<?xml version=\"1.0\"?><!DOCTYPE lolz [$lol]><add_card version=\"1\">"
      . '<member>&lol9;</member></add_card>', 400, 'IDGW-CNV-002' ],
    [ 'undeclared entity', '<add_card version="1"><member>&xxe;</member></add_card>', 400,
      'IDGW-CNV-001' ],
    [ 'deep nesting', $deep, 413, 'IDGW-CNV-003' ],
    [ 'wrong encoding declared', '<?xml version="1.0" encoding="ISO-8859-1"?>'
      . "<add_card version=\"1\"><member>caf\xE9</member></add_card>", 400, 'IDGW-CNV-001' ],
    [ 'bytes that are not UTF-8', "<add_card version=\"1\"><member>caf\xE9</member></add_card>",
      400, 'IDGW-CNV-001' ],
    [ 'not well-formed', '<add_card version="1"><member>x</add_card>', 400, 'IDGW-CNV-001' ],
    [ 'unknown field', '<add_card version="1"><source>cremo</source><pan>4111111111111111</pan>'
      . '</add_card>', 400, 'IDGW-CNV-004' ],
    [ 'wrong root', '<delete_card version="1"/>', 400, 'IDGW-CNV-004' ],
    [ 'wrong version', '<add_card version="2"/>', 400, 'IDGW-CNV-004' ],
);
for my $c (@cases) {
    my ($name, $body, $status, $code) = @$c;
    my ($st, $cd, $out) = raw('add_card', 'request', $body);
    is($st, $status, "$name: HTTP $status") or diag $out;
    is($cd, $code, "$name: $code");
}

# too large: the session module or the handler, whichever limit is lower
{
    my ($st, $cd) = raw('add_card', 'request', $huge);
    is($st, 413, 'huge body: HTTP 413');
    like($cd, qr/^IDGW-(REQ-004|CNV-003)$/, "huge body: $cd");
}

# content type and method
{
    my ($st, $cd) = raw('add_card', 'request', '<add_card version="1"/>', 'content-type=text/plain');
    is($st, 415, 'text/plain: HTTP 415');
    is($cd, 'IDGW-CNV-005', 'text/plain: IDGW-CNV-005');
    ($st, $cd) = raw('add_card', 'request', '<add_card version="1"/>',
                     'content-type=application/xml; charset=ISO-8859-1');
    is($st, 415, 'another charset: HTTP 415');
    ($st, $cd) = raw('add_card', 'request', '', 'method=GET');
    is($st, 405, 'GET on an operation: HTTP 405');
    like($cd, qr/^IDGW-(REQ-006|CNV-006)$/, "GET: $cd");
}

# nothing was fetched, nothing expanded: the gateway's log shows no file content
{
    my $log = join '', map { local (@ARGV, $/) = $_; <> } $stack->log_files;
    unlike($log, qr/root:x:0:0/, 'no file was read through an entity');
}

# open: the body must name the terminal and chip of the envelope
{
    my $other = IdgwTest::Terminal->new($stack, 'xml-open');
    my $r = $other->run('raw', 'open', 'request', '<open version="1"><terminal>T-xml-open</terminal>'
        . '<appVersion>1.0</appVersion><idm>FFFFFFFFFFFFFFFF</idm><pmm>0120220427674EFF</pmm></open>');
    like($r->{out}, qr/^400 IDGW-CNV-004 /m, 'open with another IDm in the body than in the header: 400');
    unlike($r->{out}, qr/<token>/, 'and no token');
}

my $r = $ph->run('status');
is($r->{rc}, 0, 'the session is still usable') or diag $r->{out};
like($r->{out}, qr/state ready/, 'and ready for the next operation');
$r = $ph->run("close");
is($r->{rc}, 0, "close") or diag $r->{out};

done_testing();
