# SPDX-License-Identifier: GPL-2.0
#
# Ums.pm - shared helpers of the in-guest tests (tests/guest/*.t): loading the
# module and tearing a test down (ums_cleanup), starting umstarget processes,
# writing control commands and reading debugfs files, module parameters,
# tracefs (events, the trace buffer parsed into events), the kernel log,
# slab counters, files and temporary directories, forked helper processes,
# the bad-lines table and /proc/PID/maps.
#
# Loading it also drops perl's "Hexadecimal number > 0xffffffff non-portable"
# warning for the whole test: target addresses are 64-bit and parsed with
# hex() (harmless on the 64-bit perl the guests run); other warnings pass.
#
# Environment (set by scripts/check.sh): UMS_KO (module path), UMS_PROGS
# (directory of the test programs), KVER.
package Ums;

use strict;
use Cwd ();
use warnings;
no warnings 'portable';	# hex() of 64-bit addresses
use Errno;
use Fcntl;
use IPC::Open2;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Exporter 'import';

our @EXPORT = qw(ums_load ums_unload ums_loaded ctl ctl_errno rd rd_lines dbg target
		 wait_for stats regions slab_count errname $DBG);

our $DBG = '/sys/kernel/debug/umsampler';
our $PARAM = '/sys/module/umsampler/parameters';

{
	my $prev = $SIG{__WARN__};
	$SIG{__WARN__} = sub {
		return if $_[0] =~ /^Hexadecimal number > 0xffffffff non-portable/;
		ref $prev eq 'CODE' ? $prev->(@_) : warn @_;
	};
}
# Largest data payload of one umsampler:sample event (UMS_EVENT_CHUNK in common/umsampler_abi.h).
our $CHUNK = 1024;
my $root = $ENV{UMS_ROOT} // do { my $d = __FILE__; $d =~ s{/tests/lib/Ums\.pm$}{}; $d };
our $KO = $ENV{UMS_KO} // "$root/module/umsampler.ko";
our $PROGS = $ENV{UMS_PROGS} // "$root/build/progs";

# insmod with optional module parameters; dies on failure.
sub ums_load {
	my (@params) = @_;
	system('insmod', $KO, @params) == 0 or die "insmod $KO @params failed: $?";
	-d $DBG or die "$DBG missing after insmod";
	return 1;
}

sub ums_loaded { return -d '/sys/module/umsampler' }

sub ums_unload {
	return 1 unless ums_loaded();
	system('rmmod', 'umsampler') == 0 or die "rmmod failed: $?";
	return 1;
}

# Write one buffer to control with a single write(2). Returns 0 or the errno.
sub ctl_errno {
	my ($text, $file) = @_;
	$file //= "$DBG/control";
	sysopen(my $fh, $file, O_WRONLY) or return $! + 0;
	my $n = syswrite($fh, $text);
	my $err = defined $n ? 0 : $! + 0;
	close $fh;
	return $err;
}

# Write and die on failure (for set-up steps).
sub ctl {
	my ($text) = @_;
	my $err = ctl_errno($text);
	die sprintf("control write '%s' failed: %s (%s)", $text, errname($err), rd('control'))
		if $err;
	return 1;
}

sub errname {
	my ($e) = @_;
	return 'OK' unless $e;
	for my $n (qw(EINVAL ESRCH EFAULT E2BIG ENOSPC EEXIST ENOENT EPERM ENOMEM EBUSY EIO EACCES)) {
		my $v = eval "Errno::$n()";
		return $n if defined $v && $v == $e;
	}
	return "errno $e";
}

# Read a debugfs file of the module (relative name) or any path; undef on error.
sub rd {
	my ($f) = @_;
	$f = "$DBG/$f" unless $f =~ m{^/};
	open(my $fh, '<', $f) or return undef;
	binmode $fh;
	local $/;
	my $s = <$fh>;
	close $fh;
	return $s // '';
}

sub rd_lines { my $s = rd(@_); return defined $s ? split(/\n/, $s) : () }

sub dbg { return "$DBG/$_[0]" }

# stats -> hashref
sub stats {
	my %h = map { split / / } rd_lines('stats');
	return \%h;
}

# regions -> list of hashrefs keyed by the header's lower-cased names (empty
# when the file cannot be read, e.g. while the module is being reloaded)
sub regions {
	my @l = rd_lines('regions');
	my $hdr = shift @l // return ();
	my @k = map { lc } split / /, $hdr;
	return map { my @v = split / /; my %h; @h{@k} = @v; \%h } @l;
}

# Poll $cond->() every 10 ms until true or $timeout seconds; returns the last value.
sub wait_for {
	my ($cond, $timeout) = @_;
	my $end = time + ($timeout // 10);
	my $v;
	while (!($v = $cond->())) {
		return $v if time > $end;
		sleep 0.01;
	}
	return $v;
}

# Active objects of a slab cache from /proc/slabinfo (undef if not present).
sub slab_count {
	my ($cache) = @_;
	open(my $fh, '<', '/proc/slabinfo') or return undef;
	while (<$fh>) {
		my @f = split;
		return $f[1] if $f[0] eq $cache;
	}
	return undef;
}

# --- umstarget -------------------------------------------------------------

package Ums::Target;

use IPC::Open2;
use Scalar::Util ();
use POSIX qw(:sys_wait_h);

# Ums::target(args...) starts umstarget; ->{pid}, ->{var}{NAME} = {addr,len,type}.
sub Ums::target {
	my (@args) = @_;
	my ($out, $in);
	my $pid = open2($out, $in, "$Ums::PROGS/umstarget", @args);
	my $self = bless { pid => $pid, out => $out, in => $in, var => {} }, __PACKAGE__;
	push @Ums::TARGETS, $self;
	Scalar::Util::weaken($Ums::TARGETS[-1]);	# DESTROY still kills it when it goes out of scope
	while (my $l = <$out>) {
		if ($l =~ /^var (\S+) 0x([0-9a-f]+) (\d+) (\S+)/) {
			$self->{var}{$1} = { addr => hex($2), hex => "0x$2", len => $3, type => $4 };
		} elsif ($l =~ /^ready (\d+)/) {
			return $self;
		}
	}
	die "umstarget did not start";
}

# Ums::chain_target(PROG) starts tests/progs/umschain (or umschain32): ->{ptr}
# (its pointer size), ->{var}{NAME} (address), ->{off}{FIELD}, ->{node}{I}.
sub Ums::chain_target {
	my ($prog) = @_;
	my ($out, $in);
	my $pid = open2($out, $in, "$Ums::PROGS/$prog");
	my $self = bless { pid => $pid, out => $out, in => $in, var => {}, off => {}, node => {} },
		__PACKAGE__;
	push @Ums::TARGETS, $self;
	Scalar::Util::weaken($Ums::TARGETS[-1]);
	while (my $l = <$out>) {
		if ($l =~ /^ptr (\d+)/) {
			$self->{ptr} = $1;
		} elsif ($l =~ /^var (\S+) 0x([0-9a-f]+)/) {
			$self->{var}{$1} = hex($2);
		} elsif ($l =~ /^off (\S+) (\d+)/) {
			$self->{off}{$1} = $2;
		} elsif ($l =~ /^node (\d+) 0x([0-9a-f]+)/) {
			$self->{node}{$1} = hex($2);
		} elsif ($l =~ /^ready (\d+)/) {
			return $self;
		}
	}
	die "$prog did not start";
}

sub pid { $_[0]{pid} }
sub addr { $_[0]{var}{$_[1]}{hex} }
sub len { $_[0]{var}{$_[1]}{len} }

# Send a command, return its answer line ("ok ..." / "err ...").
sub cmd {
	my ($self, $c) = @_;
	my $fh = $self->{in};
	print $fh "$c\n";
	$fh->flush;
	my $out = $self->{out};
	my $l = <$out>;
	die "umstarget $self->{pid}: no answer to '$c'" unless defined $l;
	chomp $l;
	return $l;
}

# add command text for variable NAME with extra options
sub add_line {
	my ($self, $name, %o) = @_;
	my $v = $self->{var}{$name} or die "no variable $name";
	my $s = sprintf('add pid=%d addr=%s len=%d', $self->{pid}, $v->{hex}, $o{len} // $v->{len});
	$s .= " type=" . ($o{type} // ($v->{type} eq 'hex' ? 'hex' : $v->{type}));
	$s .= " name=$o{name}" if $o{name};
	$s .= " period_us=$o{period_us}" if $o{period_us};
	$s .= " mode=$o{mode}" if $o{mode};
	$s .= " fault" if $o{fault};
	$s .= " mirror" if $o{mirror};
	return $s;
}

sub kill {
	my ($self, $sig) = @_;
	return unless $self->{pid};
	kill($sig // 'KILL', $self->{pid});
	waitpid($self->{pid}, 0);
	$self->{pid} = 0;
}

sub DESTROY { $_[0]->kill }

# --- tracing, kernel log, exact slab counts (used by 20-lifecycle.t, 30-badinput.t,
# 40-concurrency.t) ----------------------------------------------------------

package Ums;

push @EXPORT, qw(trace_on trace_off trace_clear trace_lines trace_mark slab_exact dmesg_lines
		 reap_target trace_write region_events sample_events);

our $TRACE = '/sys/kernel/tracing';

# Write (or with $append add) TEXT to file F; 1 on success, 0 on any error.
sub wr {
	my ($f, $v, $append) = @_;
	open(my $fh, $append ? '>>' : '>', $f) or return 0;
	my $ok = print $fh $v;
	return (close($fh) && $ok) ? 1 : 0;
}
sub _wr { return wr($_[0], $_[1]) }

# Write TEXT to a tracefs file given relative to $TRACE ('trace',
# 'events/umsampler/sample/filter', ...), optionally appending; 1 on success.
sub trace_write { my ($f, $v, $append) = @_; return wr("$TRACE/$f", $v, $append) }

# Enable umsampler events (names: 'region', 'sample', 'batch'); optional filter per event:
# trace_on(region => undef, sample => 'id == 3'). Clears the buffer. Returns 1 on success.
sub trace_on {
	my (%ev) = @_;
	my $ok = 1;
	for my $e (sort keys %ev) {
		my $d = "$TRACE/events/umsampler/$e";
		$ok &&= _wr("$d/filter", defined $ev{$e} ? $ev{$e} : '0');
		$ok &&= _wr("$d/enable", '1');
	}
	trace_clear();
	return $ok;
}

# Disable all umsampler events (and their filters) and clear the buffer.
sub trace_off {
	for my $e (qw(region sample batch)) {
		my $d = "$TRACE/events/umsampler/$e";
		next unless -d $d;
		_wr("$d/enable", '0');
		_wr("$d/filter", '0');
	}
	trace_clear();
}

sub trace_clear { _wr("$TRACE/trace", '') }

# Write a marker line into the trace buffer (ordered with the events by timestamp).
sub trace_mark { _wr("$TRACE/trace_marker", $_[0]) }

# Current trace buffer (non-consuming), event lines only (comment lines dropped).
sub trace_lines {
	my $s = rd("$TRACE/trace") // '';
	return grep { !/^#/ && /\S/ } split /\n/, $s;
}

# umsampler:region events of the trace buffer, as event_fields() hashes
# (op, id, name, pid, addr, ..., reason), oldest first.
sub region_events {
	return map { /\bregion: (.*)$/ ? event_fields($1) : () } trace_lines();
}

# umsampler:sample events of the trace buffer, as event_fields() hashes (id,
# seq, flags, value, offset, data, ...; id, seq, offset and value are -1 when
# missing), oldest first.
sub sample_events {
	my @ev;
	for (trace_lines()) {
		next unless /\ssample:\s+(.*)$/;
		my $f = event_fields($1);
		$f->{$_} //= -1 for qw(id seq offset value);
		push @ev, $f;
	}
	return @ev;
}

# Active objects of a slab cache after flushing its per-cpu slabs, so that the
# count is the number of objects really allocated (SLUB counts cpu slabs as in use).
sub slab_exact {
	my ($cache) = @_;
	local $_;
	_wr("/sys/kernel/slab/$cache/shrink", '1');
	return slab_count($cache);
}

# Kernel log lines (dmesg), optionally only those matching a regex.
sub dmesg_lines {
	my ($re) = @_;
	my @l = split /\n/, scalar(`dmesg 2>/dev/null`) // '';
	return defined $re ? grep { /$re/ } @l : @l;
}

# Wait for a target that was told to exit/exec-and-die (or was killed) to be reaped.
sub reap_target {
	my ($t) = @_;
	return unless $t->{pid};
	waitpid($t->{pid}, 0);
	$t->{pid} = 0;
}

# --- regions, snapshot, sampler state, trace-event text, pagemap (shared by the
# value, trace, mode and safety tests) ---------------------------------------

push @EXPORT, qw(region_by_name region_samples set_enabled wait_quiet snapshot event_fields pagemap_present
		 pagemap_entry);

sub region_by_name { my ($n) = @_; my ($r) = grep { $_->{name} eq $n } regions(); return $r }

# Samples taken of the region named $n so far; 0 while it does not exist.
sub region_samples {
	my ($n) = @_;
	my $r = region_by_name($n);
	return $r ? $r->{samples} // 0 : 0;
}

push @EXPORT, qw(sampler_threads);

# Pids of the "umsampler" kernel threads (one while the module is loaded).
sub sampler_threads {
	return grep { (rd("/proc/$_/comm") // '') eq "umsampler\n" } map { m{/proc/(\d+)$} ? $1 : () }
		glob('/proc/[0-9]*');
}

# Write `enabled`; returns the errno (0 on success).
sub set_enabled { return ctl_errno("$_[0]\n", dbg('enabled')) }

# Wait until the sampler has stopped (stats samples stable over 200 ms).
sub wait_quiet {
	my $prev = -1;
	return wait_for(sub {
		my $s = stats()->{samples};
		return 1 if $s == $prev;
		$prev = $s;
		sleep 0.2;
		return 0;
	}, 15);
}

# snapshot -> { NAME => { id, name, pid, seq, time_ns, late_ns, type, flags, mirror, path,
#   raddr, value, dump, line } }
# (unparsable lines under '!bad')
sub snapshot {
	my %s;
	my $cur;
	for my $l (split /\n/, rd('snapshot') // '') {
		if ($l =~ /^id=(\d+) name=(\S+) pid=(\d+) seq=(\d+) time_ns=(\d+) late_ns=(\d+) type=(\S+) flags=(\S+) mirror=(\S+) path=(\S+) raddr=(0x[0-9a-f]+)(?: value=(.*))?$/) {
			$cur = $s{$2} = { id => $1, name => $2, pid => $3, seq => $4, time_ns => $5,
					  late_ns => $6, type => $7, flags => $8, mirror => $9,
					  path => $10, raddr => hex($11), value => $12, dump => '',
					  line => $l };
		} elsif (defined $cur && $l =~ /^  /) {
			$cur->{dump} .= "$l\n";
		} else {
			$s{'!bad'} = $l;
		}
	}
	return \%s;
}

# Fields of an event's text "key=value ... data=xx xx" (data last: hex bytes,
# spaces anywhere) -> { key => value, data => bytes }.
sub event_fields {
	my ($s) = @_;
	my %f;
	if ($s =~ s/ data=([0-9a-f ]*)$//) {
		(my $h = $1) =~ s/ //g;
		$f{data} = pack('H*', $h);
	}
	for (split / /, $s) {
		$f{$1} = $2 if /^(\w+)=(.*)$/;
	}
	return \%f;
}

# The /proc/PID/pagemap entry of the page holding ADDR: { present (bit 63),
# swapped (bit 62), pfn (bits 0-54; 0 unless present and we have
# CAP_SYS_ADMIN) }, or undef on error.
sub pagemap_entry {
	my ($pid, $addr) = @_;
	open(my $fh, '<:raw', "/proc/$pid/pagemap") or return undef;
	sysseek($fh, int($addr / 4096) * 8, 0) or return undef;
	sysread($fh, my $e, 8) == 8 or return undef;
	my ($lo, $hi) = unpack('V2', $e);
	return { present => $hi >> 31, swapped => ($hi >> 30) & 1,
		 pfn => ($hi & 0x7fffff) * 4294967296 + $lo };
}

# Present bit (63) of the page holding ADDR in /proc/PID/pagemap (undef on error).
sub pagemap_present {
	my $e = pagemap_entry(@_) // return undef;
	return $e->{present};
}

# --- running a command such as the umsampler CLI (50-cli.t; also the host's
# tests/host/resolve.t: nothing here needs a guest or debugfs) ---------------

use IPC::Open3;
use Symbol 'gensym';

push @EXPORT, qw(run_cli ums_cleanup);

# Run CMD ARGS... (e.g. run_cli($cli, 'list')) with its stdin closed; returns
# (exit status, stdout, stderr).
sub run_cli {
	my (@cmd) = @_;
	my $err = gensym;
	my $pid = open3(my $in, my $o, $err, @cmd);
	close $in;
	local $/;
	my $so = <$o> // '';
	my $se = <$err> // '';
	waitpid($pid, 0);
	return ($? >> 8, $so, $se);
}

# --- background commands and CSV rows (the recording tests 14-batch.t, 51-record.t) ---

push @EXPORT, qw(bg finish run_out csv_rows perf_start perf_stop tool_paths);

# Run CMD... in the background, stdin /dev/null, stdout+stderr to LOG; returns the pid.
sub bg {
	my ($log, @cmd) = @_;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if (!$pid) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', $log) or exit 126;
		open(STDERR, '>&', \*STDOUT) or exit 126;
		exec(@cmd) or exit 127;
	}
	return $pid;
}

# Wait for a bg() pid; returns its exit status.
sub finish {
	my ($pid) = @_;
	waitpid($pid, 0);
	return $? >> 8;
}

# The tools under test: the CLI, the plugin's directory and the perf script
# ($UMS_CLI, $UMS_PLUGIN_DIR override the first two; default: build/tracing).
sub tool_paths {
	my $root = Cwd::abs_path(__FILE__) =~ s{/tests/lib/Ums\.pm$}{}r;
	return ($ENV{UMS_CLI} // "$root/build/tracing/umsampler",
		$ENV{UMS_PLUGIN_DIR} // "$root/build/tracing", "$root/tracing/umsampler-perf.py");
}

# `perf record -e umsampler:EVENT -e umsampler:region -a -o $data` in the
# background, its log in $dir/$log; perf's workload marks $dir/perf.on once
# the events are enabled and lasts until perf_stop() removes the mark.
# Returns perf's pid once the mark is there, or undef (the log has why).
sub perf_start {
	my ($dir, $log, $event, $data) = @_;
	my $pid = bg("$dir/$log", 'perf', 'record', '-e', "umsampler:$event", '-e',
		     'umsampler:region', '-a', '-o', $data, '--', 'sh', '-c',
		     "touch $dir/perf.on; while [ -e $dir/perf.on ]; do sleep 0.1; done");
	return wait_for(sub { -e "$dir/perf.on" }, 300) ? $pid : undef;
}

# End a perf_start() recording: remove the mark, wait for perf; its exit status.
sub perf_stop {
	my ($dir, $pid) = @_;
	unlink("$dir/perf.on");
	return finish($pid);
}

# Run CMD... with stderr to /dev/null; returns (stdout, exit status).
sub run_out {
	my (@cmd) = @_;
	my $pid = open(my $fh, '-|');
	die "fork: $!" unless defined $pid;
	if (!$pid) {
		open(STDERR, '>', '/dev/null');
		exec(@cmd) or exit 127;
	}
	local $/;
	my $s = <$fh> // '';
	close $fh;
	return ($s, $? >> 8);
}

# `umsampler csv` text -> list of hashrefs: the columns (value kept exactly as in the file),
# line, notime (every column but time_ns) and key ("id/seq"); () without the header.
sub csv_rows {
	my ($text) = @_;
	my @l = split /\n/, $text;
	my $h = shift @l // '';
	return () unless $h eq 'time_ns,id,name,pid,addr,seq,late_ns,flags,value';
	my @rows;
	for (@l) {
		my @f = split /,/, $_, 9;
		push @rows, { time_ns => $f[0], id => $f[1], name => $f[2], pid => $f[3],
			      addr => $f[4], seq => $f[5], late_ns => $f[6], flags => $f[7],
			      value => $f[8], line => $_, notime => join(',', @f[1 .. 8]),
			      key => "$f[1]/$f[5]" };
	}
	return @rows;
}

# --- END-block cleanup of a guest test --------------------------------------

# END { ums_cleanup() }: kill the given targets (Ums::target objects; without
# arguments every target this process started that is still alive), then
# unload the module if it is still loaded, after a failure or die as well;
# the test's exit status ($?) is kept. (Not for a test that bails out because
# the module is wedged: rmmod would hang there.)
our @TARGETS;
sub ums_cleanup {
	my (@targets) = @_;
	local $?;
	@targets = grep { defined } @TARGETS unless @targets;
	$_->kill for @targets;
	eval { ums_unload() if ums_loaded(); 1 } or print STDERR "ums_cleanup: $@";
}

# --- files, parameters, forked helpers, temporary directories, the bad-lines
# table, /proc/PID/maps ----------------------------------------------------

push @EXPORT, qw(slurp put_file set_param spawn tmp_dir bad_lines proc_maps);

# Contents of a debugfs file (relative name) or any path; '' when unreadable.
sub slurp { return rd($_[0]) // '' }

# Replace file F with TEXT atomically (written to F.tmp, then renamed): a
# reader in another process sees the old or the new contents, never a part.
sub put_file {
	my ($f, $s) = @_;
	open(my $fh, '>', "$f.tmp") or die "$f.tmp: $!";
	print $fh $s;
	close $fh or die "$f.tmp: $!";
	rename("$f.tmp", $f) or die "rename $f: $!";
}

# Set module parameter NAME to VALUE (written as given); dies on failure.
sub set_param {
	my ($name, $val) = @_;
	open(my $fh, '>', "$PARAM/$name") or die "$name: $!";
	print $fh $val;
	close $fh or die "$name: $!";
}

# Run CODE in a forked child; returns its pid. The child exits with 0 when
# CODE returns, 1 when it dies (its message on stderr), through POSIX::_exit:
# no END block or DESTROY of the parent's objects runs in it.
sub spawn {
	my ($code) = @_;
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		my $rc = eval { $code->(); 0 } // do { print STDERR "child $$: $@"; 1 };
		POSIX::_exit($rc);
	}
	return $pid;
}

# A new directory /tmp/ums-TAG-PID (the guest's tmpfs), removed with its
# contents when the process that made it exits.
my %TMPDIRS;
sub tmp_dir {
	my ($tag) = @_;
	my $d = "/tmp/ums-$tag-$$";
	mkdir $d or die "mkdir $d: $!";
	$TMPDIRS{$d} = $$;
	return $d;
}
END {
	local $?;
	for my $d (grep { $TMPDIRS{$_} == $$ } keys %TMPDIRS) {
		system('rm', '-rf', $d);
	}
}

# The entries of tests/data/bad-lines.txt ("ERRNO<TAB>WRITE<TAB>COMMENT"; '#'
# and blank lines skipped): list of { errno, write (escapes \n \t \r \v \f \0
# \\ \xNN decoded), comment, src (WRITE as in the file, undef if missing) };
# empty if the file cannot be read.
sub bad_lines {
	(my $f = __FILE__) =~ s{[^/]*$}{../data/bad-lines.txt};
	my %e = (n => "\n", t => "\t", r => "\r", v => "\x0b", f => "\x0c", 0 => "\0", '\\' => '\\');
	my @entries;
	open(my $fh, '<', $f) or return ();
	while (my $l = <$fh>) {
		chomp $l;
		next if $l =~ /^#/ || $l !~ /\S/;
		my ($en, $w, $c) = split /\t/, $l, 3;
		(my $write = $w // '') =~
			s/\\(x[0-9a-fA-F]{2}|[ntrvf0\\])/length($1) == 3 ? chr(hex(substr($1, 1))) : $e{$1}/ge;
		push @entries, { errno => $en, write => $write, comment => $c // '', src => $w };
	}
	return @entries;
}

# Mappings of process PID from /proc/PID/maps: list of [start, end, perms
# ("r-xp"), name (path, [vdso], ... or '')].
sub proc_maps {
	my ($pid) = @_;
	return map { /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$/ ? [hex($1), hex($2), $3, $4] : () }
		split /\n/, rd("/proc/$pid/maps") // '';
}

1;
