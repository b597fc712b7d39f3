# A session that outlives IdgwSessionMaxLifetime (and stays active, so it
# never goes idle) is refused with IDGW-SES-004 "session lifetime exceeded",
# as documented, not IDGW-SES-001 "unknown or expired session": the session
# hash must still be there when the deadline has passed (issue 11, item 13a).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use Time::HiRes qw(sleep);
use IdgwTest::Client;
use IdgwTest::Httpd;

plan tests => 6;

my $PORT = 8562;
my $h = IdgwTest::Httpd::start(name => 'lifetime-httpd', port => $PORT, edit => sub {
    $_[0] =~ s/^IdgwSessionIdleTimeout .*$/IdgwSessionIdleTimeout 2s/m;
    $_[0] =~ s/^IdgwSessionMaxLifetime .*$/IdgwSessionMaxLifetime 2s/m;
}) or die 'cannot start the lifetime httpd';

my $c = IdgwTest::Client->new(base => "http://127.0.0.1:$PORT");
ok t_cmp($c->open_session->{status}, 200, 'open');
# active all the time: a status poll every 0.4 s, never idle
my $last;
for (1 .. 4) { sleep 0.4; $last = $c->status }
ok t_cmp($last->{status}, 200, 'still alive after 1.6 s of activity');
sleep 0.6;
my $res = $c->step('add_card', 'request', body => 'card=4980111122223333');
ok t_cmp($res->{status}, 403, 'after the lifetime: refused');
ok t_cmp(IdgwTest::Client::error_code($res), 'IDGW-SES-004', 'as "session lifetime exceeded"');
# status of a session past its lifetime says the same
my $c2 = IdgwTest::Client->new(base => "http://127.0.0.1:$PORT");
$c2->open_session;
sleep 1.0; $c2->status; sleep 1.1;
ok t_cmp(IdgwTest::Client::error_code($c2->status), 'IDGW-SES-004', 'status poll: IDGW-SES-004 too');
ok $h->stop;
