#!/bin/bash
# Boot the distribution kernel under QEMU (TCG) and run the driver selftests.
#
#   tests/vm/run.sh --kdir KDIR --module PATH/qrtx.ko --tests DIR \
#                   [--test FILE]... [--bench FILE]... [--tool FILE]... --out OUTDIR
#                   [--timeout SECS] [--vm-timeout SECS] [--params "k=v ..."]
#                   [--append "kernel args"]
#
# How it works
#   1. The kernel release is read from KDIR (include/generated/utsrelease.h,
#      else `make kernelrelease`); the kernel booted is /boot/vmlinuz-$release
#      and the module's vermagic must name the same release.
#   2. OUTDIR/initramfs/ is filled with a static busybox (applet symlinks made
#      here), the module as /qrtx.ko, every executable in DIR and each
#      --test program under /tests, each --bench program under /bench,
#      each --tool program under /usr/local/bin (first in PATH; tools are
#      there for the programs to call, they are not run as tests), the
#      shared libraries and dynamic loader `ldd` names for them (at the same
#      paths), and a generated /init.
#      It is packed into OUTDIR/initramfs.cpio.gz (newc, gzip).
#   3. /init mounts proc, sysfs, devtmpfs, debugfs and tmpfs, then for each
#      test program (C-locale sorted) and then each bench: insmod the module
#      with the parameters below, run the program from /tmp with
#      CMOCKA_MESSAGE_OUTPUT=TAP and QRTX_VM=1 under a per-program timeout
#      (SIGKILL) with an emptied /tmp, kill any process it left behind, rmmod
#      the module.
#      Last it dumps dmesg and powers off.  The guest CPU is "-cpu max" so
#      programs built with AVX2 run.  The guest has two NUMA nodes, each a
#      socket with one CPU and 1 GiB, so that placement across nodes can be
#      tested.
#   4. QEMU has two serial ports: ttyS0 is the kernel console, written to
#      OUTDIR/console.log (loglevel=7, so every warning is there); ttyS1
#      carries the programs' stdout+stderr and @@QRTX-VM@@ marker lines, and is
#      written to OUTDIR/tests.log.  Keeping them apart stops kernel messages
#      from splitting TAP lines.  /init also writes "qrtx-vm: start/end <prog>"
#      into the kernel log so a splat can be tied to the program that ran.
#   5. tests.log is parsed as TAP (cmocka 1.1.5 and kselftest styles) and
#      console.log is scanned for kernel splats.  One line per result is
#      printed (PASS/FAIL/SKIP vm/<prog>: <test>), bench output verbatim.
#
# Result accounting (OUTDIR/counts holds "PASSED FAILED SKIPPED"):
#   - each TAP result line; "# SKIP"/"# TODO" directives count as skipped
#     (cmocka prints skipped tests as "not ok N # SKIP <name>");
#     a plan "1..0 # SKIP reason" is one skipped test;
#   - a program that exits non-zero without any "not ok" (crash, timeout), that
#     prints no TAP result, that reports fewer results than it planned, or
#     that prints "Bail out!", is one failed test; so is
#     "<prog>: leaves no processes behind" when it left processes running;
#   - "<prog>: module loads" fails when insmod fails (reported only then) and
#     "<prog>: module unloads cleanly" passes/fails on rmmod (retried for
#     10 s; still in use means a leaked file or module reference);
#   - each bench passes when it exits 0;
#   - "kernel log clean": one test, failed on BUG/WARNING/Oops/lockdep/... ;
#   - "VM ran to completion": failed if the end marker never came (panic,
#     hang, timeout).
# Exit status: 0 when nothing failed, 1 when something failed, 2 on usage or
# setup errors (then counts is "0 1 0").
set -euo pipefail

MARK=@@QRTX-VM@@
SPLAT_RE='BUG:|WARNING:|Oops|general protection fault|Call Trace:|UBSAN:|KASAN|list_add corruption|list_del corruption|refcount_t:|possible recursive locking|circular locking|INFO: task .* blocked|rcu: INFO|Kernel panic'

kdir='' module='' tests='' out=''
benches=()
tools=()
extra=()
prog_timeout=300
vm_timeout=1500
params="qubits=64 host_bytes=1073741824 gpus=2 gpu_bytes=1073741824,536870912"
append=

usage() {
	sed -n '2,7s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

die() {
	echo "vm: error: $*" >&2
	[[ -n $out && -d $out ]] && echo "0 1 0" >"$out/counts"
	exit 2
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--kdir | --module | --tests | --test | --bench | --tool | --out | --timeout | --vm-timeout | --params | --append)
		[[ $# -ge 2 ]] || usage
		case $1 in
		--kdir) kdir=$2 ;;
		--module) module=$2 ;;
		--tests) tests=$2 ;;
		--test) extra+=("$2") ;;
		--bench) benches+=("$2") ;;
		--tool) tools+=("$2") ;;
		--out) out=$2 ;;
		--timeout) prog_timeout=$2 ;;
		--vm-timeout) vm_timeout=$2 ;;
		--params) params=$2 ;;
		--append) append=$2 ;;
		esac
		shift 2
		;;
	-h | --help) usage ;;
	*)
		echo "vm: unknown argument: $1" >&2
		usage
		;;
	esac
done
[[ -n $kdir && -n $module && -n $tests && -n $out ]] || usage
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/counts" "$out/console.log" "$out/tests.log"
[[ $out != *,* ]] || die "OUTDIR must not contain a comma (QEMU option syntax): $out"
[[ $prog_timeout =~ ^[0-9]+$ && $vm_timeout =~ ^[0-9]+$ ]] || die "timeouts must be whole seconds"

for tool in qemu-system-x86_64 busybox cpio gzip ldd timeout; do
	command -v "$tool" >/dev/null || die "$tool not found (run: scripts/deps.sh check)"
done

# --- kernel and module -------------------------------------------------------
[[ -d $kdir ]] || die "KDIR $kdir is not a directory"
krel=
if [[ -r $kdir/include/generated/utsrelease.h ]]; then
	# Debian's headers package has a wrong include/config/kernel.release
	# ("6.1.192" instead of "6.1.0-56-amd64"); utsrelease.h is what the
	# module's vermagic is built from.
	krel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$kdir/include/generated/utsrelease.h")
fi
[[ -n $krel ]] || krel=$(make -s -C "$kdir" kernelrelease 2>/dev/null) || true
[[ -n $krel ]] || die "cannot read the kernel release from $kdir"
kimage=/boot/vmlinuz-$krel
[[ -e $kimage ]] || die "kernel image $kimage not found: install the kernel matching $kdir (scripts/deps.sh check installs linux-image-amd64)"
[[ -r $kimage ]] || die "kernel image $kimage is not readable by $(id -un)"

[[ -f $module ]] || die "module $module not found (build it first: make module)"
vermagic=
if command -v modinfo >/dev/null; then
	vermagic=$(modinfo -F vermagic "$module" 2>/dev/null || true)
fi
[[ -n $vermagic ]] || vermagic=$(tr '\0' '\n' <"$module" | sed -n 's/^vermagic=//p' | head -n1)
[[ ${vermagic%% *} == "$krel" ]] ||
	die "module $module was built for '${vermagic%% *}', but the kernel is $krel"

# --- programs ----------------------------------------------------------------
[[ -d $tests ]] || die "test directory $tests not found"
declare -A src=()
while read -r p; do
	src[$p]=$tests/$p
done < <(find -L "$tests" -maxdepth 1 -type f -perm -u+x -printf '%f\n')
for t in "${extra[@]}"; do
	[[ -f $t && -x $t ]] || die "test program $t not found or not executable"
	[[ -z ${src[${t##*/}]:-} ]] || die "two test programs are named ${t##*/}"
	src[${t##*/}]=$t
done
mapfile -t test_progs < <(for p in "${!src[@]}"; do echo "$p"; done | LC_ALL=C sort)
for b in "${benches[@]}"; do
	[[ -f $b && -x $b ]] || die "bench program $b not found or not executable"
done
[[ ${#test_progs[@]} -gt 0 || ${#benches[@]} -gt 0 ]] || die "no executable test programs in $tests and no --bench"
[[ ${#test_progs[@]} -gt 0 ]] || echo "vm: warning: no executable test programs in $tests" >&2
declare -A seen=()
for p in "${test_progs[@]}" "${benches[@]##*/}"; do
	[[ $p =~ ^[A-Za-z0-9._+-]+$ ]] || die "program name '$p' has characters the VM script does not handle"
done
for b in "${benches[@]##*/}"; do
	[[ -z ${seen[$b]:-} ]] || die "two --bench programs are named $b"
	seen[$b]=1
done
seen=()
for t in "${tools[@]}"; do
	[[ -f $t && -x $t ]] || die "tool $t not found or not executable"
	t=${t##*/}
	[[ $t =~ ^[A-Za-z0-9._+-]+$ ]] || die "tool name '$t' has characters the VM script does not handle"
	[[ -z ${seen[$t]:-} ]] || die "two --tool programs are named $t"
	seen[$t]=1
done

# --- initramfs ---------------------------------------------------------------
root=$out/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,proc,sys,dev,tmp,etc,tests,bench}

is_elf() { [[ $(head -c4 "$1" | od -An -c | tr -d ' ') == '177ELF' ]]; }

# Copy the shared libraries and loader a program needs to the same paths.
copy_libs() {
	local prog=$1 lddout lib
	is_elf "$prog" || return 0
	if ! lddout=$(ldd "$prog" 2>&1); then
		[[ $lddout == *"not a dynamic executable"* || $lddout == *"statically linked"* ]] && return 0
		die "ldd $prog failed: $lddout"
	fi
	if grep -q 'not found' <<<"$lddout"; then
		die "$prog needs libraries that are not installed:"$'\n'"$(grep 'not found' <<<"$lddout")"
	fi
	while read -r lib; do
		[[ -e $root$lib ]] && continue
		mkdir -p "$root${lib%/*}"
		cp -L "$lib" "$root$lib"
	done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$lddout")
}

busybox=$(command -v busybox)
cp -L "$busybox" "$root/bin/busybox"
copy_libs "$busybox"
while read -r applet; do
	[[ -e $root/$applet || -L $root/$applet ]] || ln -s /bin/busybox "$root/$applet"
done < <("$busybox" --list-full)

cp "$module" "$root/qrtx.ko"
for p in "${test_progs[@]}"; do
	cp -L "${src[$p]}" "$root/tests/$p"
	copy_libs "$root/tests/$p"
done
for b in "${benches[@]}"; do
	cp -L "$b" "$root/bench/${b##*/}"
	copy_libs "$root/bench/${b##*/}"
done
for t in "${tools[@]}"; do
	cp -L "$t" "$root/usr/local/bin/${t##*/}"
	copy_libs "$root/usr/local/bin/${t##*/}"
done

{
	printf 'QRTX_PARAMS=%q\n' "$params"
	printf 'PROG_TIMEOUT=%q\n' "$prog_timeout"
	printf 'TEST_PROGS=%q\n' "${test_progs[*]}"
	printf 'BENCH_PROGS=%q\n' "$(for b in "${benches[@]}"; do printf '%s ' "${b##*/}"; done)"
} >"$root/etc/qrtx-vm.conf"

cat >"$root/init" <<'EOF'
#!/bin/sh
# Generated by tests/vm/run.sh: runs inside the test VM as PID 1.
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin HOME=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm
exec </dev/null >/dev/ttyS1 2>&1
. /etc/qrtx-vm.conf
M=@@QRTX-VM@@

klog() { echo "<5>qrtx-vm: $*" >/dev/kmsg; }
loaded() { grep -q '^qrtx ' /proc/modules; }

# A file closed by an exiting process (or an io_uring ring torn down by a
# workqueue) can drop its module reference a moment later: retry for 10 s.
unload() {
	n=0
	while loaded; do
		rmmod qrtx 2>/tmp/.rmmod.err && return 0
		n=$((n + 1))
		if [ $n -ge 20 ]; then
			cat /tmp/.rmmod.err
			echo "qrtx refcount: $(cat /sys/module/qrtx/refcnt 2>/dev/null)"
			return 1
		fi
		sleep 0.5
	done
}

run_prog() {
	kind=$1 name=$2
	if ! insmod /qrtx.ko $QRTX_PARAMS; then
		loaded && echo "(qrtx is still loaded from an earlier program)"
		echo "$M INSMOD-FAIL $kind $name"
		return
	fi
	rm -rf /tmp/* /tmp/.[!.]* 2>/dev/null
	klog "start $kind $name"
	echo "$M BEGIN $kind $name"
	t0=$(date +%s)
	(cd /tmp && export CMOCKA_MESSAGE_OUTPUT=TAP QRTX_VM=1 &&
		exec timeout -s KILL "$PROG_TIMEOUT" "/$kind/$name")
	st=$?
	t1=$(date +%s)
	echo "$M END $kind $name status=$st seconds=$((t1 - t0))"
	klog "end $kind $name status=$st"
	# Processes the program left behind would keep /dev/qrtx open and make
	# the unload check blame the driver.  busybox timeout's watcher lingers
	# for up to a second by design and is not reported.
	left=
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = 1 ] || [ ! -e "$p/exe" ] && continue
		read -r comm <"$p/comm" 2>/dev/null || continue
		[ "$comm" = timeout ] || left="$left ${p#/proc/}:$comm"
	done
	[ -n "$left" ] && echo "$M LEFTOVER $kind $name$left"
	kill -9 -1 2>/dev/null
	sleep 0.2
	if unload; then
		echo "$M RMMOD-OK $kind $name"
	else
		echo "$M RMMOD-FAIL $kind $name"
	fi
}

echo "$M BOOTED $(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"
for t in $TEST_PROGS; do run_prog tests "$t"; done
for b in $BENCH_PROGS; do run_prog bench "$b"; done
echo "$M DMESG-BEGIN"
dmesg
echo "$M DMESG-END"
echo "$M DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
EOF
chmod 755 "$root/init"

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
	gzip -6 >"$out/initramfs.cpio.gz"

echo "vm: kernel $kimage, module $module"
echo "vm: ${#test_progs[@]} test program(s), ${#benches[@]} bench(es), ${#tools[@]} tool(s); initramfs $(($(stat -c %s "$out/initramfs.cpio.gz") / 1024)) KiB"
echo "vm: booting QEMU (TCG) with a ${vm_timeout} s limit; kernel console: $out/console.log, program output: $out/tests.log"

# --- boot --------------------------------------------------------------------
t0=$(date +%s)
qemu_status=0
timeout -k 10 "$vm_timeout" qemu-system-x86_64 \
	-accel tcg -cpu max -m 2048 -smp 2,sockets=2,cores=1,threads=1 \
	-object memory-backend-ram,id=mem0,size=1024M -numa node,nodeid=0,cpus=0,memdev=mem0 \
	-object memory-backend-ram,id=mem1,size=1024M -numa node,nodeid=1,cpus=1,memdev=mem1 \
	-nodefaults -no-user-config -display none -monitor none -no-reboot \
	-serial "file:$out/console.log" -serial "file:$out/tests.log" \
	-kernel "$kimage" -initrd "$out/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 loglevel=7 $append" \
	</dev/null || qemu_status=$?
t1=$(date +%s)
touch "$out/console.log" "$out/tests.log"
echo "vm: QEMU ran $((t1 - t0)) s (exit status $qemu_status)"
echo

# --- results -----------------------------------------------------------------
awk -v M="$MARK" -v countsfile="$out/counts.tmp" -v timeout="$prog_timeout" '
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function pass(what) { P++; print "PASS " what }
function fail(what) { F++; print "FAIL " what }
function skip(what, why) { S++; print "SKIP " what " # " why }
function show(l) { print "     | " l }
function showtail(n,   i) {
	if (nout == 0) { show("(no output)"); return }
	i = nout - n + 1
	if (i < 1) i = 1
	else show("... last " n " of " nout " lines:")
	for (; i <= nout; i++) show(out[i])
}
function showloose(   i) { for (i = 1; i <= nloose; i++) show(loose[i]); nloose = 0 }
function signame(n) {
	return n == 6 ? "SIGABRT" : n == 9 ? "SIGKILL" : n == 11 ? "SIGSEGV" : \
	       n == 7 ? "SIGBUS" : n == 4 ? "SIGILL" : n == 8 ? "SIGFPE" : "signal " n
}
function describe(st, secs) {
	if (st == 137 && secs + 1 >= timeout) return "timed out after " timeout " s"
	if (st == 127) return "could not be executed (missing library or interpreter?)"
	if (st > 128) return "killed by " signame(st - 128)
	return "exited with status " st
}
function pendingtext(   i, s) {
	s = ""
	for (i = (npend > 3 ? npend - 2 : 1); i <= npend; i++) s = s (s == "" ? "" : " | ") pend[i]
	return s
}
function tap(l,   n, rest, dir, why, nm, notok) {
	if (l ~ /^1\.\.[0-9]+/) {
		n = l; sub(/^1\.\./, "", n); n = n + 0
		if (n == 0) {
			why = ""
			if (match(l, /#[ \t]*[Ss][Kk][Ii][Pp][A-Za-z]*/)) why = trim(substr(l, RSTART + RLENGTH))
			sub(/^:[ \t]*/, "", why)
			planskip = 1
			skip(label, why == "" ? "no reason given" : why)
		}
		plan += n; indiag = 0
		return
	}
	if (l ~ /^(not ok|ok)([ \t]|$)/) {
		notok = (l ~ /^not ok/)
		rest = l; sub(/^(not ok|ok)[ \t]*/, "", rest)
		if (match(rest, /^[0-9]+/)) rest = substr(rest, RLENGTH + 1)
		rest = trim(rest); sub(/^-[ \t]*/, "", rest)
		dir = ""; why = ""; nm = rest
		if (match(rest, /#[ \t]*([Ss][Kk][Ii][Pp]|[Tt][Oo][Dd][Oo])[A-Za-z]*/)) {
			dir = toupper(substr(rest, RSTART, RLENGTH))
			why = trim(substr(rest, RSTART + RLENGTH)); sub(/^:[ \t]*/, "", why)
			nm = trim(substr(rest, 1, RSTART - 1))
		}
		nres++
		if (dir != "") {
			if (nm == "") { nm = why; why = "" }	# cmocka: "not ok 3 # SKIP name"
			if (why == "") why = pendingtext()
			if (why == "") why = "no reason given"
			if (dir ~ /TODO/) why = "TODO " why
			skip(label ": " (nm == "" ? "test " nres : nm), why)
			indiag = 0
		} else if (notok) {
			nfail++
			fail(label ": " (nm == "" ? "test " nres : nm))
			for (n = (npend > 10 ? npend - 9 : 1); n <= npend; n++) show(pend[n])
			indiag = 1
		} else {
			pass(label ": " (nm == "" ? "test " nres : nm))
			indiag = 0
		}
		npend = 0
		return
	}
	if (l ~ /^Bail out!/) {
		nfail++; bailed = 1
		fail(label ": " l)
		indiag = 1; npend = 0
		return
	}
	if (l ~ /^# (not )?ok - /) return	# cmocka group summary
	if (l ~ /^#/ && indiag) { show(l); return }
	indiag = 0
	if (l ~ /^[ \t]*$/ || l ~ /^TAP version/) return
	sub(/^#[ \t]*/, "", l)
	pend[++npend] = l
}
function content(l) {
	if (indmesg) return
	if (!inprog) { loose[++nloose] = l; return }
	out[++nout] = l
	if (kind == "bench") print l
	else tap(l)
}
function marker(s,   f, st, secs, i) {
	split(s, f, " ")
	label = (f[2] == "bench" ? "bench/" : "vm/") f[3]
	if (f[1] == "BOOTED") {
		sub(/^uptime=/, "", f[3]); print "vm: guest kernel " f[2] " reached /init after " f[3] " s"
		nloose = 0
	} else if (f[1] == "BEGIN") {
		inprog = 1; kind = f[2]; nout = 0; nres = 0; nfail = 0; plan = 0
		planskip = 0; bailed = 0; npend = 0; indiag = 0; nloose = 0
		if (kind == "bench") print "---- " label " ----"
	} else if (f[1] == "END") {
		st = f[4]; sub(/^status=/, "", st); st += 0
		secs = f[5]; sub(/^seconds=/, "", secs); secs += 0
		inprog = 0
		if (kind == "bench") {
			print "---- end of " label " (" secs " s) ----"
			if (st == 0) pass(label ": exits 0")
			else fail(label ": " describe(st, secs))
		} else if (st != 0 && nfail == 0) {
			fail(label ": " describe(st, secs) " without reporting a failed test")
			showtail(30)
		} else if (plan > nres && !bailed) {
			fail(label ": reported " nres " of " plan " planned results")
			showtail(30)
		} else if (nres == 0 && !planskip) {
			fail(label ": printed no TAP results")
			showtail(30)
		}
	} else if (f[1] == "INSMOD-FAIL") {
		fail(label ": module loads")
		showloose()
	} else if (f[1] == "LEFTOVER") {
		fail(label ": leaves no processes behind")
		for (i = 4; i in f; i++) show("still running, killed: pid " f[i])
	} else if (f[1] == "RMMOD-OK") {
		pass(label ": module unloads cleanly")
		nloose = 0
	} else if (f[1] == "RMMOD-FAIL") {
		fail(label ": module unloads cleanly")
		show("rmmod qrtx failed for 10 s after the program ended: a /dev/qrtx file or a module reference leaked")
		showloose()
	} else if (f[1] == "DMESG-BEGIN") {
		indmesg = 1
	} else if (f[1] == "DMESG-END") {
		indmesg = 0
	}
}
{
	gsub(/\r/, "")
	m = index($0, M)
	if (m == 0) { content($0); next }
	if (m > 1) content(substr($0, 1, m - 1))
	marker(substr($0, m + length(M) + 1))
}
END {
	if (inprog) {
		fail(label ": did not finish (the VM stopped while it ran)")
		showtail(30)
	}
	print P + 0, F + 0, S + 0 > countsfile
}' "$out/tests.log"
read -r passed failed skipped <"$out/counts.tmp"
rm -f "$out/counts.tmp"

# Kernel log: the console has everything up to KERN_INFO, even when the VM died.
splats=$(awk -v re="$SPLAT_RE" '
	{ gsub(/\r/, ""); line[NR] = $0 }
	/qrtx-vm: start / { split($0, f, "qrtx-vm: start "); split(f[2], w, " ")
			    ctx = "while " (w[1] == "tests" ? "vm/" : "bench/") w[2] " ran"; next }
	/qrtx-vm: end / { split($0, f, "qrtx-vm: end "); split(f[2], w, " ")
			  ctx = "after " (w[1] == "tests" ? "vm/" : "bench/") w[2] " ended"; next }
	$0 ~ re { if (!first) first = NR
		  if (n < 60) { if (ctx != shown) { print "     (" (ctx == "" ? "during boot" : ctx) ")"; shown = ctx }
				print "     | " $0 }
		  n++ }
	END { if (!first) exit
	      if (n > 60) print "     ... " n - 60 " more matching lines"
	      print "     the first report in full:"
	      if (first > 1 && line[first - 1] ~ /cut here/) first--
	      for (i = first; i < first + 40 && i <= NR; i++) print "     | " line[i] }' "$out/console.log")
if [[ -z $splats ]]; then
	echo "PASS vm: kernel log clean"
	passed=$((passed + 1))
else
	echo "FAIL vm: kernel log clean"
	echo "$splats"
	failed=$((failed + 1))
fi

if grep -q "$MARK DONE" "$out/tests.log"; then
	passed=$((passed + 1))
	echo "PASS vm: VM ran to completion"
else
	failed=$((failed + 1))
	if [[ $qemu_status -eq 124 || $qemu_status -eq 137 ]]; then
		echo "FAIL vm: VM ran to completion: killed after the ${vm_timeout} s limit"
	else
		echo "FAIL vm: VM ran to completion: QEMU exited ($qemu_status) before the end marker (panic? boot failure?)"
	fi
	if [[ -n $splats ]]; then
		echo "     (the kernel's report is shown above; full log: $out/console.log)"
	else
		echo "     last lines of $out/console.log:"
		tail -n 40 "$out/console.log" | tr -d '\r' | sed 's/^/     | /'
	fi
	echo "     last lines of $out/tests.log:"
	tail -n 10 "$out/tests.log" | tr -d '\r' | sed 's/^/     | /'
fi

echo "$passed $failed $skipped" >"$out/counts"
echo
echo "vm: $passed passed, $failed failed, $skipped skipped (VM $((t1 - t0)) s; logs in $out)"
[[ $failed -eq 0 ]]
