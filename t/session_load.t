# Many terminals at once on the event MPM (16 threads per child, a Redis
# connection pool per child): every session runs its whole sequence without
# a single error, and no session sees another's state.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use FindBin;
use lib "$FindBin::Bin/lib";
use IdgwTest::Client;
use POSIX ();

my $TERMINALS = 24;
plan tests => 3;

my $logfile = Apache::Test::vars('t_logs') . '/error_log';
my $log_from = -s $logfile;

my @kids;
for my $i (1 .. $TERMINALS) {
    pipe my $r, my $w or die $!;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        close $r;
        my $c = IdgwTest::Client->new;
        my @bad;
        my $res = $c->open_session;
        push @bad, "open:$res->{status}" if $res->{status} != 200;
        for my $op (qw(add_card list_cards set_main)) {
            for my $res ($c->operation($op, 3, body => "card=49800000000$i")) {
                push @bad, "$op:$res->{status}" if $res->{status} != 200;
            }
        }
        $res = $c->status;
        push @bad, 'status' unless $res->{content} =~ m{<state>ready</state><seq>15</seq>};
        $res = $c->close_session;
        push @bad, "close:$res->{status}" if $res->{status} != 200;
        print {$w} join(',', @bad);
        close $w;
        POSIX::_exit(0);
    }
    close $w;
    push @kids, [$pid, $r];
}
my @failures;
for my $k (@kids) {
    my $fh = $k->[1];
    my $out = do { local $/; <$fh> } // 'no answer';
    waitpid $k->[0], 0;
    push @failures, $out if length $out;
}
ok t_cmp(scalar @failures, 0, "$TERMINALS terminals, 17 requests each, no error")
    or print STDERR "# @failures[0 .. ($#failures < 4 ? $#failures : 4)]\n";

# only what this test wrote
open my $lf, '<', $logfile or die "$logfile: $!";
seek $lf, $log_from, 0;
my $log = do { local $/; <$lf> } // '';
ok $log !~ /exit signal|Segmentation fault|AH00051|AH00052/;
ok $log !~ /IDGW01(10|11|12|13|30|31)/;
