# Two httpd instances sharing one Redis: a ban added by the admin command is
# in force on both at once, a fleet-wide limit is enforced across both
# together (not twice the limit), and a ban added after Redis lost the
# access-control keys still reaches children holding copies from before.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Acl;

plan tests => 13;

IdgwTest::Acl::reset_keys();
my $second = IdgwTest::Acl::second_base();
ok t_cmp(IdgwTest::Acl::second_start(), 1, 'second httpd started');

my $t = IdgwTest::Acl::terminal();
my %o = (xff => '10.7.0.1', terminal => $t);
ok t_cmp(IdgwTest::Acl::open_session('/acl/net', %o, base => $second)->{status}, 200,
         'second instance serves the terminal');
ok t_cmp(IdgwTest::Acl::open_session('/acl/net', %o)->{status}, 200, 'first instance too');

my ($rc) = IdgwTest::Acl::admin('add', 'terminal', $t, '--reason', 'fleet test');
ok t_cmp($rc, 0, 'ban added by the admin command');
my $banned = sub { IdgwTest::Acl::code($_[0]) eq 'IDGW-ACL-002' };
ok t_cmp(IdgwTest::Acl::code(IdgwTest::Acl::eventually(sub { IdgwTest::Acl::open_session('/acl/net', %o,
                                                                          base => $second) },
                                                      $banned)),
         'IDGW-ACL-002', 'in force on the second instance within IdgwAclListsMaxAge');
ok t_cmp(IdgwTest::Acl::code(IdgwTest::Acl::eventually(sub { IdgwTest::Acl::open_session('/acl/net', %o) },
                                                      $banned)),
         'IDGW-ACL-002', 'and on the first');

# 10 per hour per terminal, requests alternating between the instances
my $limited = IdgwTest::Acl::terminal();
my (%status, $retry_after);
for my $i (1 .. 14) {
    my $res = IdgwTest::Acl::open_session('/acl/rate', xff => '10.7.0.2', terminal => $limited,
                                          $i % 2 ? (base => $second) : ());
    $status{ $res->{status} }++;
    $retry_after //= $res->{headers}{'retry-after'} if $res->{status} == 429;
}
ok t_cmp($status{200} // 0, 10, 'exactly the fleet-wide limit passes across both instances');
ok t_cmp($status{429} // 0, 4, 'the rest is refused with 429');

# Redis loses the keys (a flush, a restart without persistence) while the
# second instance's children hold copies of the lists; then a new ban.  A
# counter restarting from nothing gave the new lists the number those copies
# already carried (1 after the first ban, 1 again after the loss), and the
# children took their stale copies for current.
IdgwTest::Acl::drop_keys();
my $before = IdgwTest::Acl::terminal();
IdgwTest::Acl::admin('add', 'terminal', $before, '--reason', 'before the loss');
# every child of the second instance reloads the lists (12 requests in a row
# refused, within IdgwAclListsMaxAge)
my $held = IdgwTest::Acl::eventually(sub {
    scalar grep { IdgwTest::Acl::code(IdgwTest::Acl::open_session(
        '/acl/net', xff => '10.7.0.3', terminal => $before, base => $second)) eq 'IDGW-ACL-002' }
        1 .. 12 }, sub { $_[0] == 12 });
ok t_cmp($held, 12, 'the second instance holds the lists with the first ban');
IdgwTest::Acl::drop_keys();
my $after = IdgwTest::Acl::terminal();
($rc) = IdgwTest::Acl::admin('add', 'terminal', $after, '--reason', 'after the loss');
ok t_cmp($rc, 0, 'ban added after the keys were lost');
my ($missed, $stale) = @{ IdgwTest::Acl::eventually(sub {
    my ($m, $s) = (0, 0);
    for (1 .. 12) {
        $m++ if IdgwTest::Acl::code(IdgwTest::Acl::open_session(
            '/acl/net', xff => '10.7.0.3', terminal => $after, base => $second)) ne 'IDGW-ACL-002';
        $s++ if IdgwTest::Acl::open_session(
            '/acl/net', xff => '10.7.0.3', terminal => $before, base => $second)->{status} != 200;
    }
    [$m, $s] }, sub { $_[0][0] == 0 && $_[0][1] == 0 }) };
ok t_cmp($missed, 0, 'no child of the second instance misses the new ban');
ok t_cmp($stale, 0, 'and none keeps the ban Redis lost');

IdgwTest::Acl::second_stop();
ok t_cmp($retry_after // 0, qr/^[1-9][0-9]*$/, 'Retry-After on the refusal');
