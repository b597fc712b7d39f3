package IdgwTest::Httpd;
# Another httpd beside the one Apache::Test runs: the same modules and idgw
# settings (t/conf/extra.conf, other parts' test configuration left out),
# its own loopback port, pid file and logs under t/<name>/.
use strict;
use warnings;

use Apache::Test ();
use File::Path qw(make_path);
use HTTP::Tiny;
use Time::HiRes qw(sleep time);

sub slurp { local (@ARGV, $/) = @_; return <> }

# start(name => 'second-httpd', port => 8560, edit => sub { s/.../.../ for $_[0] })
sub start {
    my (%opt) = @_;
    my $t = Apache::Test::vars('t_dir');
    my $dir = "$t/$opt{name}";
    make_path($dir);
    my $extra = slurp("$t/conf/extra.conf");
    $extra =~ s/^\s*IncludeOptional.*$//mg;
    $opt{edit}->($extra) if $opt{edit};
    my $base = slurp("$t/conf/httpd-base.conf");
    my $conf = "$dir/httpd.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print {$fh} <<"EOT";
ServerRoot "$dir"
ServerName 127.0.0.1:$opt{port}
Listen 127.0.0.1:$opt{port}
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
DefaultRuntimeDir "$dir"
User nobody
Group nogroup
TypesConfig "$t/conf/mime.types"
$base
$extra
EOT
    close $fh;
    my $self = bless { dir => $dir, conf => $conf, port => $opt{port} }, __PACKAGE__;
    return $self if $opt{config_only};
    # this start's log only: a test that looks for crashes must not find
    # those of an earlier run left in the same directory
    unlink "$dir/error_log";
    system(Apache::Test::vars('httpd'), '-f', $conf, '-k', 'start') == 0 or return;
    my $http = HTTP::Tiny->new(timeout => 2);
    my $deadline = time + 10;
    sleep 0.1 until $http->get("http://127.0.0.1:$opt{port}/")->{status} != 599
        || time > $deadline;
    return $self;
}

sub conf     { $_[0]{conf} }
sub base_url { "http://127.0.0.1:$_[0]{port}" }
sub log_text { slurp("$_[0]{dir}/error_log") }

sub stop {
    my ($self) = @_;
    system(Apache::Test::vars('httpd'), '-f', $self->{conf}, '-k', 'stop');
    my $deadline = time + 10;
    sleep 0.1 while -e "$self->{dir}/httpd.pid" && time < $deadline;
    return !-e "$self->{dir}/httpd.pid";
}

1;
