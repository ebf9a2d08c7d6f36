#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# qrtxd on the kernel ledger: its worker reserves a job's capacity through
# /dev/qrtx, and a worker killed with SIGKILL in the middle of a job gives
# that capacity back through the file's release (sysfs counts it as
# reclaimed), while the daemon fails the job with ExecuteError, starts a
# fresh worker and goes on running jobs on the kernel ledger.
#
# Needs root, the module loaded, and qrtxd and qrtx in PATH (the VM harness
# puts them there with tests/vm/run.sh --tool); it skips otherwise.
# POSIX sh: the VM has busybox and no bash.

SYSFS=/sys/class/misc/qrtx
# The long job: 64 MiB of state and minutes of work under TCG, far longer
# than it takes to catch it running and kill its worker.
QUBITS=22
LAYERS=200

n=0
failed=0
qpid=
dir=

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
	shift
	for text in "$@"; do
		printf '%s\n' "$text" | sed 's/^/# /'
	done
}

# check NAME REASON CMD...: one result, "ok" when CMD succeeds.
check() {
	name=$1 why=$2
	shift 2
	if "$@"; then
		ok "$name"
	else
		not_ok "$name" "$why"
	fi
}

diag_log() {
	[ -n "$dir" ] && [ -s "$dir/qrtxd.log" ] || return 0
	echo "# qrtxd's log:"
	sed 's/^/#   /' "$dir/qrtxd.log"
}

cleanup() {
	if [ -n "$qpid" ]; then
		kill -KILL "$qpid" 2>/dev/null
		wait "$qpid" 2>/dev/null
		qpid=
	fi
	[ -n "$dir" ] && rm -rf "$dir"
}

bail() {
	echo "Bail out! $*"
	diag_log
	cleanup
	exit 1
}

# until_true TENTHS CMD...: run CMD every 0.1 s until it succeeds, for at
# most TENTHS tries.
until_true() {
	tries=$1
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		tries=$((tries - 1))
		sleep 0.1
	done
	return 1
}

sysfs() { cat "$SYSFS/$1"; }

# The first string value of KEY in the JSON on stdin (compact or not).
json_str() {
	grep -o "\"$1\": *\"[^\"]*\"" | head -n 1 | sed 's/.*: *"\(.*\)"$/\1/'
}

state_of() { qrtx status "$1" --socket "$sock" --json | json_str state; }

job_is() { [ "$(state_of "$1")" = "$2" ]; }

# The pid of the worker that runs job $1, from root's view of `stats`.
worker_of() {
	qrtx stats --socket "$sock" --json |
		grep -o "{[^{}]*[{,] *\"job_id\": *\"$1\"[^{}]*}" |
		grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$'
}

# The live pids of the cpu executor's workers, one a line.
workers() {
	qrtx stats --socket "$sock" --json |
		sed -n 's/.*"worker_list": *\[\([^]]*\)\].*/\1/p' |
		grep -o '{[^{}]*"executor": *"cpu"[^{}]*}' |
		grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$' | grep -v '^0$'
}

fresh_worker() {
	w=$(workers)
	[ -n "$w" ] && [ "$w" != "$killed" ]
}

pools_empty() { [ "$(sysfs qubits_used)" = 0 ] && [ "$(sysfs host_bytes_used)" = 0 ]; }

no_open_files() { [ "$(sysfs open_files)" = 0 ]; }

gone() {
	[ ! -e "/proc/$1" ] || [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" = Z ]
}

files_of() {
	for fd in /proc/"$1"/fd/*; do
		readlink "$fd"
	done
}

holds_dev_qrtx() { files_of "$1" | grep -qx /dev/qrtx; }

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (qrtxd's worker list, SIGKILL of its workers)"
	exit 0
fi
if [ ! -c /dev/qrtx ] || [ ! -d "$SYSFS" ]; then
	echo "1..0 # SKIP the qrtx module is not loaded"
	exit 0
fi
if ! command -v qrtxd >/dev/null || ! command -v qrtx >/dev/null; then
	echo "1..0 # SKIP qrtxd and qrtx are not in PATH (tests/vm/run.sh --tool)"
	exit 0
fi

trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
dir=$(mktemp -d "${TMPDIR:-/tmp}/qrtx-daemon.XXXXXX") || bail "cannot make a temporary directory"
sock=$dir/qrtxd.sock

echo "1..12"

qrtxd --socket "$sock" --state-dir "$dir/state" --workers 1 2>"$dir/qrtxd.log" &
qpid=$!
if until_true 300 test -S "$sock" && qrtx stats --socket "$sock" --json >/dev/null; then
	ok "qrtxd starts with one worker"
else
	not_ok "qrtxd starts with one worker" "no socket at $sock after 30 s"
	bail "qrtxd did not start"
fi

# A long job: layers of rotations and CNOTs over $QUBITS qubits.
awk -v n=$QUBITS -v layers=$LAYERS 'BEGIN {
	print "OPENQASM 2.0;"
	print "include \"qelib1.inc\";"
	printf "qreg q[%d];\ncreg c[%d];\n", n, n
	for (l = 0; l < layers; l++) {
		for (i = 0; i < n; i++)
			printf "rx(0.%d) q[%d];\n", (l + i) % 9 + 1, i
		for (i = l % 2; i + 1 < n; i += 2)
			printf "cx q[%d], q[%d];\n", i, i + 1
	}
	print "measure q -> c;"
}' >"$dir/long.qasm"
long=$(qrtx submit "$dir/long.qasm" --seed 1 --socket "$sock" --json | json_str job_id)
[ -n "$long" ] || bail "qrtx submit of the long job failed"
if until_true 600 job_is "$long" Executing; then
	ok "a $QUBITS-qubit job reaches Executing"
else
	not_ok "a $QUBITS-qubit job reaches Executing" "state after 60 s: $(state_of "$long")"
	bail "the long job never ran"
fi

# The worker reported Executing after its reservation was granted: the
# pools show it, and the worker holds it on its own /dev/qrtx file.
victim=$(worker_of "$long")
[ -n "$victim" ] || bail "no worker runs job $long in 'qrtx stats --json'"
q_used=$(sysfs qubits_used)
h_used=$(sysfs host_bytes_used)
reclaimed0=$(sysfs reservations_reclaimed)
q_reclaimed0=$(sysfs qubits_reclaimed)
h_reclaimed0=$(sysfs host_bytes_reclaimed)
if [ "$q_used" = "$QUBITS" ] && [ "$h_used" -gt 0 ] && holds_dev_qrtx "$victim"; then
	ok "the worker holds the job's reservation on /dev/qrtx"
else
	not_ok "the worker holds the job's reservation on /dev/qrtx" \
		"qubits_used $q_used (want $QUBITS), host_bytes_used $h_used (want > 0)" \
		"worker $victim's files: $(files_of "$victim" | tr '\n' ' ')"
fi

echo "# worker $victim holds $q_used qubits and $h_used host bytes; killing it"
kill -KILL "$victim"
killed=$victim
out=$(qrtx wait "$long" --timeout 30 --socket "$sock" --json 2>&1)
st=$(echo "$out" | json_str state)
category=$(echo "$out" | json_str category)
if [ "$st" = Failed ] && [ "$category" = ExecuteError ]; then
	ok "the job of a worker killed by SIGKILL fails with ExecuteError"
else
	not_ok "the job of a worker killed by SIGKILL fails with ExecuteError" \
		"state '$st', error category '$category'" "qrtx wait: $out"
fi

# The file's release gave the reservation back, counted as reclaimed.
if until_true 100 pools_empty &&
	[ "$(sysfs reservations_reclaimed)" -eq $((reclaimed0 + 1)) ] &&
	[ "$(sysfs qubits_reclaimed)" -eq $((q_reclaimed0 + q_used)) ] &&
	[ "$(sysfs host_bytes_reclaimed)" -eq $((h_reclaimed0 + h_used)) ]; then
	ok "sysfs shows the killed worker's reservation reclaimed"
else
	not_ok "sysfs shows the killed worker's reservation reclaimed" \
		"qubits_used $(sysfs qubits_used), host_bytes_used $(sysfs host_bytes_used) (want 0)" \
		"reservations_reclaimed $(sysfs reservations_reclaimed) (want $((reclaimed0 + 1)))" \
		"qubits_reclaimed $(sysfs qubits_reclaimed) (want $((q_reclaimed0 + q_used)))" \
		"host_bytes_reclaimed $(sysfs host_bytes_reclaimed) (want $((h_reclaimed0 + h_used)))"
fi

if until_true 100 fresh_worker && ! gone "$qpid"; then
	ok "qrtxd stays up and starts a fresh worker"
else
	not_ok "qrtxd stays up and starts a fresh worker" \
		"workers: '$(workers | tr '\n' ' ')', killed $killed"
fi

# A Bell pair afterwards, on the fresh worker (the only one).
cat >"$dir/bell.qasm" <<'EOF'
OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
EOF
bell=$(qrtx submit "$dir/bell.qasm" --seed 1 --shots 64 --socket "$sock" --json | json_str job_id)
out=$(qrtx wait "$bell" --timeout 30 --socket "$sock" --json 2>&1)
check "a job submitted afterwards completes" "job '$bell': $out" \
	test "$(echo "$out" | json_str state)" = Completed
meta=$dir/state/circuit_fs/$bell/meta.json
check "its meta.json records the kernel ledger" "$meta: $(cat "$meta" 2>&1)" \
	grep -q '"resources": *{[^}]*"ledger": *"kernel"' "$meta" 2>/dev/null

kill -TERM "$qpid"
if until_true 200 gone "$qpid"; then
	wait "$qpid"
	status="exit status $?"
else
	kill -KILL "$qpid"
	wait "$qpid"
	status="still running 20 s after SIGTERM"
fi
qpid=
if [ "$status" = "exit status 0" ] && until_true 100 no_open_files; then
	ok "qrtxd exits 0 on SIGTERM and leaves no /dev/qrtx file open"
else
	not_ok "qrtxd exits 0 on SIGTERM and leaves no /dev/qrtx file open" \
		"$status, open_files $(sysfs open_files) (want 0)"
fi

# Admission on the kernel's pools: with room for one $QUBITS-qubit run,
# a second one waits in Queued without a worker (two workers, one busy),
# and runs when the first one's capacity comes back (the daemon polls
# /dev/qrtx through its ring).
busy() {
	qrtx stats --socket "$sock" --json | grep -o '"workers_busy": *[0-9]*' | grep -o '[0-9]*$'
}
q_total0=$(sysfs qubits_total)
qrtxd --socket "$sock" --state-dir "$dir/state" --workers 2 2>>"$dir/qrtxd.log" &
qpid=$!
until_true 300 qrtx stats --socket "$sock" --json >/dev/null || bail "qrtxd did not start again"
echo $((QUBITS + 8)) >"$SYSFS/qubits_total" || bail "cannot size qubits_total"
first=$(qrtx submit "$dir/long.qasm" --seed 2 --socket "$sock" --json | json_str job_id)
until_true 600 job_is "$first" Executing || bail "the first long job never ran"
second=$(qrtx submit "$dir/long.qasm" --seed 3 --socket "$sock" --json | json_str job_id)
if until_true 300 job_is "$second" Queued && sleep 0.5 && job_is "$second" Queued &&
	[ "$(busy)" = 1 ]; then
	ok "capacity short on /dev/qrtx: the second job waits in Queued, holding no worker"
else
	not_ok "capacity short on /dev/qrtx: the second job waits in Queued, holding no worker" \
		"second job $(state_of "$second"), workers busy $(busy), qubits $(sysfs qubits_used)/$(sysfs qubits_total)"
fi
qrtx cancel "$first" --socket "$sock" --json >/dev/null
if until_true 600 job_is "$second" Executing; then
	ok "it runs once the first job's capacity is reclaimed"
else
	not_ok "it runs once the first job's capacity is reclaimed" \
		"second job $(state_of "$second"), qubits $(sysfs qubits_used)/$(sysfs qubits_total)"
fi
qrtx cancel "$second" --socket "$sock" --json >/dev/null
kill -TERM "$qpid"
until_true 200 gone "$qpid" || kill -KILL "$qpid"
wait "$qpid"
status=$?
qpid=
until_true 100 pools_empty
echo "$q_total0" >"$SYSFS/qubits_total"
if [ "$status" = 0 ] && until_true 100 no_open_files; then
	ok "qrtxd exits 0 again, nothing held"
else
	not_ok "qrtxd exits 0 again, nothing held" \
		"exit status $status, open_files $(sysfs open_files), qubits_used $(sysfs qubits_used)"
fi

[ "$failed" = 0 ] || diag_log
exit "$failed"
