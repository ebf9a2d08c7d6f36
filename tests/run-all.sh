#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build everything and run every suite: unit tests (plain and under
# AddressSanitizer + UndefinedBehaviorSanitizer), valgrind on the CLI,
# the module's warning-free build, and the driver selftests inside a VM.
# Ends with one line: "N passed, N failed, N skipped". Exit status is
# non-zero when anything failed.
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RESULTS=$BUILD/results
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

passed=0 failed=0 skipped=0

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }

# step NAME CMD...: one counted check whose output is kept in a log.
step() {
	local name=$1 log
	shift
	log=$RESULTS/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_').log
	if "$@" >"$log" 2>&1; then
		pass "$name"
	else
		fail "$name (log: $log)"
		tail -n 30 "$log" | sed 's/^/    /'
	fi
}

# tap SUITE PROGRAM [ARGS...]: run a program printing TAP (cmocka's or
# plain), one count per case.
tap() {
	local suite=$1 prog=$2 name out rc line n_fail=0
	shift 2
	name=$(basename "$prog")
	out=$RESULTS/$suite-$name.tap
	CMOCKA_MESSAGE_OUTPUT=TAP "$prog" "$@" >"$out" 2>&1 </dev/null
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"not ok "*"# SKIP"*)
			# cmocka's form of a skipped case
			skip "$suite/$name: ${line#not ok }" "${line##*#}" ;;
		"not ok "*)
			n_fail=$((n_fail + 1))
			fail "$suite/$name: ${line#not ok }" ;;
		"ok "*"# SKIP"* | "ok "*"# skip"*)
			skip "$suite/$name: ${line#ok }" "${line##*#}" ;;
		"ok "*)
			pass "$suite/$name: ${line#ok }" ;;
		esac
	done <"$out"
	if [ "$rc" -ne 0 ] && [ "$n_fail" -eq 0 ]; then
		fail "$suite/$name: exited with status $rc"
	fi
	if [ "$rc" -ne 0 ]; then
		grep -v '^ok ' "$out" | tail -n 30 | sed 's/^/    /'
	fi
}

echo "== build"
step "build: userspace" make -s userspace
step "build: userspace under ASan+UBSan" make -s VARIANT=sanitize unit-tests
step "build: fuzz targets (libFuzzer, ASan+UBSan)" make -s fuzz
step "build: module with W=1 C=1, no warnings" make -s module-check
step "build: driver selftests" make -s selftests
step "build: benchmarks" make -s bench

echo "== unit"
for t in "$BUILD"/release/tests/unit/test_*; do
	[ -x "$t" ] && tap unit "$t"
done

echo "== unit under ASan+UBSan"
for t in "$BUILD"/sanitize/tests/unit/test_*; do
	[ -x "$t" ] && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tap sanitize "$t"
done

CORPUS=${QRTX_CORPUS:-../shared/corpus/qasmbench}
echo "== reference corpus ($CORPUS)"
if [ -d "$CORPUS" ]; then
	tap corpus "$BUILD"/release/tests/corpus/corpus_check "$CORPUS"
	# The CUDA engine: its host emulation everywhere it is built (the
	# kernels' indexing and arithmetic), device 0 where there is one.
	tap corpus-cuda-emulated "$BUILD"/release/tests/corpus/corpus_check \
		--engine cuda-emulated "$CORPUS"
	tap corpus-cuda "$BUILD"/release/tests/corpus/corpus_check --engine cuda "$CORPUS"
	# What a new user does first: qrtx run on each file, through the CLI.
	run_dir=$(mktemp -d)
	for f in $(find "$CORPUS" -name '*.qasm' | sort); do
		step "qrtx run ${f#"$CORPUS"/}" "$BUILD"/release/qrtx run "$f" --shots 256 \
			--seed 7 --json --state-dir "$run_dir"
	done
	rm -rf "$run_dir"
else
	skip "corpus" "no reference corpus at $CORPUS"
fi

echo "== daemon: a real qrtxd on a temporary socket and state directory"
tap daemon "$BUILD"/release/tests/integration/daemon_test "$BUILD"/release/qrtxd \
	"$([ -d "$CORPUS" ] && echo "$CORPUS")"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	tap daemon-sanitize "$BUILD"/sanitize/tests/integration/daemon_test \
	"$BUILD"/sanitize/qrtxd "" quick

echo "== client: the asynchronous client API against a real qrtxd"
tap client "$BUILD"/release/tests/integration/client_async_test "$BUILD"/release/qrtxd
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	tap client-sanitize "$BUILD"/sanitize/tests/integration/client_async_test \
	"$BUILD"/sanitize/qrtxd

echo "== fuzzing (${QRTX_FUZZ_SECONDS:-30} s per target)"
for t in "$BUILD"/fuzz/tests/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	seeds=tests/fuzz/corpus/${name#fuzz_}
	work=$RESULTS/fuzz-$name
	mkdir -p "$work"
	dict=()
	[ -f "tests/fuzz/${name#fuzz_}.dict" ] && dict=(-dict="tests/fuzz/${name#fuzz_}.dict")
	step "fuzz: $name runs ${QRTX_FUZZ_SECONDS:-30} s without a crash, leak or hang" \
		"$t" -max_total_time="${QRTX_FUZZ_SECONDS:-30}" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$work/" "${dict[@]}" "$work" "$seeds"
done

echo "== valgrind"
if command -v valgrind >/dev/null; then
	step "valgrind: qrtx info leaks nothing" valgrind -q --leak-check=full \
		--show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=9 \
		"$BUILD"/release/qrtx info
	vdir=$(mktemp -d)
	step "valgrind: qrtx run leaks nothing" valgrind -q --leak-check=full \
		--show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=9 \
		"$BUILD"/release/qrtx run examples/bell.qasm --seed 1 --state-dir "$vdir"
	# The daemon's verbs, against a daemon of their own.
	"$BUILD"/release/qrtxd --socket "$vdir/s.sock" --state-dir "$vdir" --workers 1 \
		2>"$RESULTS/valgrind-qrtxd.log" &
	qpid=$!
	for _ in $(seq 100); do [ -S "$vdir/s.sock" ] && break; sleep 0.05; done
	step "valgrind: qrtx submit --wait leaks nothing" valgrind -q --leak-check=full \
		--show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=9 \
		"$BUILD"/release/qrtx submit examples/bell.qasm --seed 1 --wait --socket "$vdir/s.sock"
	step "valgrind: qrtx list leaks nothing" valgrind -q --leak-check=full \
		--show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=9 \
		"$BUILD"/release/qrtx list --socket "$vdir/s.sock"
	kill "$qpid"
	wait "$qpid"
	rm -rf "$vdir"
else
	skip "valgrind: qrtx info, run, submit, list" "valgrind is not installed"
fi

echo "== driver selftests in a VM"
if [ -f driver/qrtx.ko ] && [ -d "$BUILD/selftests" ]; then
	vm_out=$BUILD/vm
	# Only the driver's benchmark runs in the VM; the simulator's runs here.
	benches=()
	[ -x "$BUILD/bench/qrtx_bench" ] && benches=(--bench "$BUILD/bench/qrtx_bench")
	# The daemon and the CLI, for vm/qrtx_daemon.sh (it skips without them).
	tools=()
	for t in "$BUILD"/release/qrtxd "$BUILD"/release/qrtx; do
		[ -x "$t" ] && tools+=(--tool "$t")
	done
	# The engine's NUMA placement needs the VM's two nodes.
	extra=()
	[ -x "$BUILD/release/tests/integration/sv_numa_test" ] &&
		extra=(--test "$BUILD/release/tests/integration/sv_numa_test")
	tests/vm/run.sh --kdir "${KDIR:-$(scripts/kdir.sh)}" \
		--module driver/qrtx.ko --tests "$BUILD/selftests" "${extra[@]}" "${benches[@]}" \
		"${tools[@]}" --out "$vm_out"
	if [ -r "$vm_out/counts" ]; then
		read -r p f s <"$vm_out/counts"
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	else
		fail "vm: the harness produced no results"
	fi
else
	fail "vm: module or selftests were not built"
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
