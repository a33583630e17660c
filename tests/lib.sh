# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# tests/lib.sh - sourced by the namespace tests, demos and benchmarks.
#
# Every packet stays inside namespaces made here: names end in this shell's PID, and the EXIT
# trap that mcr_topology installs kills what we started in them and deletes them.
#
#   SND  s0 198.19.50.5/24 ---- r0 198.18.1.1/24  RLY  (ingress: RLY has no route back to
#                                                        198.19.50.0/24, so RPF drops the stream)
#   RCV  v1 198.18.2.2/24  ---- r1 198.18.2.1/24  RLY
#   RCV2 v2 198.18.3.2/24  ---- r2 198.18.3.1/24  RLY
#
# Set MCR_IPV6=1 before mcr_topology to keep IPv6 on; by default it is off in every namespace,
# so no router solicitation or MLD report lands in a capture or a counter.

# Used by the scripts that source this file.
# shellcheck disable=SC2034
{
MCR_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MCR_ROOT=$(dirname "$MCR_TESTS_DIR")
MCR_SENDER=$MCR_TESTS_DIR/sender
MCR_RECEIVER=$MCR_TESTS_DIR/receiver
MCR_INJECT=$MCR_TESTS_DIR/inject
MCR_BIN=$MCR_ROOT/mcr
}

MCR_PASSED=0
MCR_FAILED=0
MCR_SKIPPED=0
MCR_PIDS=()		# background processes we started, killed at exit
MCR_NETNS=()		# namespaces we made, deleted at exit
MCR_TMP=
MCR_BG_PID=

MCR_EXIT_SKIP=77	# automake's "skipped" status

# mcr_require_root: a test that needs namespaces skips, with the reason, when it cannot have them.
mcr_require_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP $(basename "$0"): needs root for network namespaces"
		exit "$MCR_EXIT_SKIP"
	fi
	if ! ip netns list >/dev/null 2>&1; then
		echo "SKIP $(basename "$0"): ip netns does not work here"
		exit "$MCR_EXIT_SKIP"
	fi
}

# mcr_need_tools NAME...: fails the script when a test program is not built.
mcr_need_tools() {
	local t
	for t in "$@"; do
		if [ ! -x "$MCR_TESTS_DIR/$t" ]; then
			echo "FAIL $(basename "$0"): tests/$t not built (make test-tools)"
			exit 1
		fi
	done
}

mcr_sysctl() {
	local ns=$1
	shift
	ip netns exec "$ns" sysctl -qw "$@" >/dev/null
}

mcr_cleanup() {
	local pid ns i alive
	for pid in "${MCR_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	# Whatever still runs inside our namespaces was started by this script.
	for ns in "${MCR_NETNS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
	done
	for ((i = 0; i < 20; i++)); do
		alive=
		for ns in "${MCR_NETNS[@]}"; do
			[ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && alive=1
		done
		[ -z "$alive" ] && break
		sleep 0.05
	done
	for ns in "${MCR_NETNS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$MCR_TMP" ] && rm -rf "$MCR_TMP"
}

mcr_add_netns() {
	local ns=$1
	ip netns add "$ns" || return 1
	MCR_NETNS+=("$ns")
	# Before any link exists: new links copy conf/default.
	if [ "${MCR_IPV6:-0}" = 1 ]; then
		mcr_sysctl "$ns" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	else
		mcr_sysctl "$ns" net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	fi
	ip -n "$ns" link set lo up
}

# mcr_veth NS_A IF_A ADDR_A NS_B IF_B ADDR_B: a veth pair made inside the namespaces, never in
# the root one.
mcr_veth() {
	ip -n "$1" link add "$2" type veth peer name "$5" netns "$4" || return 1
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# mcr_topology: SND, RLY, RCV and RCV2 as drawn at the top; installs the cleanup trap.
mcr_topology() {
	SND=mcr-snd-$$
	RLY=mcr-rly-$$
	RCV=mcr-rcv-$$
	RCV2=mcr-rcv2-$$
	MCR_TMP=$(mktemp -d /tmp/mcr-test.XXXXXX) || exit 1
	trap mcr_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	if ! { mcr_add_netns "$SND" && mcr_add_netns "$RLY" && mcr_add_netns "$RCV" &&
		mcr_add_netns "$RCV2"; }; then
		echo "mcr_topology: ip netns add failed" >&2
		exit 1
	fi
	# Strict RPF where the stream comes in: the situation mcr exists for. Receivers strict too,
	# since relayed datagrams come from the relay's own, routable, address.
	mcr_sysctl "$RLY" net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
	mcr_sysctl "$RCV" net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
	mcr_sysctl "$RCV2" net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1

	if ! { mcr_veth "$SND" s0 198.19.50.5/24 "$RLY" r0 198.18.1.1/24 &&
		mcr_veth "$RLY" r1 198.18.2.1/24 "$RCV" v1 198.18.2.2/24 &&
		mcr_veth "$RLY" r2 198.18.3.1/24 "$RCV2" v2 198.18.3.2/24; }; then
		echo "mcr_topology: veth setup failed" >&2
		exit 1
	fi
	mcr_sysctl "$RLY" net.ipv4.conf.r0.rp_filter=1

	ip -n "$SND" route add 239.0.0.0/8 dev s0
	ip -n "$RCV" route add 198.18.0.0/15 via 198.18.2.1
	ip -n "$RCV2" route add 198.18.0.0/15 via 198.18.3.1
	# Offloads: veth has GRO off unless XDP is attached, and nothing here asks for UDP GSO, so
	# no datagrams are coalesced; ethtool is not needed (and may not be installed).
}

# mcr_bg OUT NS CMD...: starts CMD in NS in the background, stdout and stderr to OUT; the PID is
# left in MCR_BG_PID and killed at exit if still running.
mcr_bg() {
	local out=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$@" >"$out" 2>&1 &
	MCR_BG_PID=$!
	MCR_PIDS+=("$MCR_BG_PID")
}

# mcr_wait_pid PID [TIMEOUT_S]: its exit status, or 124 after killing it at the timeout.
mcr_wait_pid() {
	local pid=$1 timeout=${2:-10} i
	for ((i = 0; i < timeout * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"
}

# mcr_wait_file PATH [TIMEOUT_S]: until PATH exists; 1 after TIMEOUT_S (default 5).
mcr_wait_file() {
	local path=$1 timeout=${2:-5} i
	for ((i = 0; i < timeout * 50; i++)); do
		[ -e "$path" ] && return 0
		sleep 0.02
	done
	[ -e "$path" ]
}

# mcr_kv FILE KEY: the value of KEY in the last key=value line of FILE that has it; 1 if none.
mcr_kv() {
	awk -v key="$2" '
		{
			for (i = 1; i <= NF; i++)
				if (index($i, key "=") == 1) {
					v = substr($i, length(key) + 2)
					found = 1
				}
		}
		END { if (!found) exit 1; print v }' "$1" 2>/dev/null
}

# mcr_netstat NS FIELD: a counter of /proc/net/netstat in NS, e.g. IPReversePathFilter.
mcr_netstat() {
	# shellcheck disable=SC2016
	ip netns exec "$1" awk -v f="$2" '
		/^[A-Za-z]+:/ && !seen[$1]++ { for (i = 2; i <= NF; i++) if ($i == f) { col = i; hdr = $1 } next }
		$1 == hdr && col { print $col; exit }' /proc/net/netstat
}

# mcr_link_stat NS IFACE COUNTER: e.g. rx_packets from the interface's statistics.
mcr_link_stat() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"
}

mcr_pass() {
	MCR_PASSED=$((MCR_PASSED + 1))
	echo "PASS $1"
}

mcr_fail() {
	MCR_FAILED=$((MCR_FAILED + 1))
	echo "FAIL $1: $2"
}

mcr_skip() {
	MCR_SKIPPED=$((MCR_SKIPPED + 1))
	echo "SKIP $1: $2"
}

# mcr_summary: "N passed, N failed[, N skipped]"; non-zero when anything failed.
mcr_summary() {
	local line="$MCR_PASSED passed, $MCR_FAILED failed"
	[ "$MCR_SKIPPED" -gt 0 ] && line="$line, $MCR_SKIPPED skipped"
	echo "$line"
	[ "$MCR_FAILED" -eq 0 ]
}

# --- Running mcr and receivers in the topology. These expect WORK (a temp dir), MCR (the
# binary), RECV (the receiver) and the namespace variables that mcr_topology sets: a suite
# gets them all from mcr_suite_setup.

# mcr_suite_setup: a suite's start, from the project root: MCR, SEND, RECV, INJECT, an empty
# MCR_PID, the topology, WORK (its temp dir), and an EXIT trap that stops all and cleans up.
mcr_suite_setup() {
	MCR=$PWD/mcr
	SEND=$PWD/tests/sender
	RECV=$PWD/tests/receiver
	INJECT=$PWD/tests/inject
	MCR_PID=
	mcr_topology
	WORK=$MCR_TMP
	trap stop_all EXIT
}

# stop_all: kills mcr and every job this shell started, then mcr_cleanup.
stop_all() {
	local p
	[ -n "$MCR_PID" ] && kill -KILL "$MCR_PID" 2>/dev/null
	for p in $(jobs -p); do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	mcr_cleanup
}

# start_mcr ARGS...: mcr in the relay, stderr in $WORK/mcr.log; waits for its start line.
start_mcr() {
	# shellcheck disable=SC2086 # MCR_WRAP is a command line, e.g. setpriv and its flags
	start_cmd ${MCR_WRAP:-} "$MCR" "$@"
}

# start_cmd COMMAND...: start_mcr with the whole command given, e.g. mcr run from elsewhere.
start_cmd() {
	: >"$WORK/mcr.log"
	ip netns exec "$RLY" "$@" 2>"$WORK/mcr.log" &
	MCR_PID=$!
	for _ in $(seq 100); do
		grep -q ': relaying ' "$WORK/mcr.log" && return 0
		kill -0 "$MCR_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "mcr did not start: $(cat "$WORK/mcr.log")"
	return 1
}

# mcr_wait_log TEXT: bounded wait for a line of mcr's stderr.
mcr_wait_log() {
	for _ in $(seq 100); do
		grep -q "$1" "$WORK/mcr.log" && return 0
		sleep 0.05
	done
	return 1
}

# stop_mcr: SIGTERM, then MCR_STATUS holds its exit status.
stop_mcr() {
	kill -TERM "$MCR_PID" 2>/dev/null
	wait "$MCR_PID"
	MCR_STATUS=$?
	MCR_PID=
}

# wait_mcr_exit: mcr must end by itself within 5 s; then MCR_STATUS holds its status. Still
# running, it is stopped and this returns 1.
wait_mcr_exit() {
	local i
	for i in $(seq 100); do
		kill -0 "$MCR_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$MCR_PID" 2>/dev/null; then
		stop_mcr
		return 1
	fi
	wait "$MCR_PID"
	MCR_STATUS=$?
	MCR_PID=
}

# counters: ask for a counter line and wait until it is there; $WORK/counters holds it.
counters() {
	local before
	before=$(grep -c 'rx_packets=' "$WORK/mcr.log")
	kill -USR1 "$MCR_PID"
	for _ in $(seq 100); do
		[ "$(grep -c 'rx_packets=' "$WORK/mcr.log")" -gt "$before" ] && break
		sleep 0.02
	done
	grep 'rx_packets=' "$WORK/mcr.log" | tail -n 1 >"$WORK/counters"
}

c() { mcr_kv "$WORK/counters" "$1"; }

# receive NAME NS ADDR:PORT [IFACE] [receiver args]: a receiver in the background, ready.
receive() {
	local name=$1 ns=$2 at=$3 ifc=$4
	shift 4
	rm -f "$WORK/$name.ready"
	ip netns exec "$ns" "$RECV" -g "$at" ${ifc:+-I "$ifc"} -R "$WORK/$name.ready" "$@" \
		>"$WORK/$name.out" 2>&1 &
	eval "${name}_PID=$!"
	mcr_wait_file "$WORK/$name.ready" 5
}

r() { mcr_kv "$WORK/$1.out" "$2"; }

# start_mcr_ready LOG ARGS...: mcr in the relay with --ready-fd 3 on a FIFO, stderr to LOG,
# MCR_PID its PID. READY is the line it wrote (empty when none came within 5 s); READY_EOF is 1
# when the FIFO reached end-of-file right after, as it does once mcr closed it. True when READY
# is "ready": from then on every frame is relayed, with no sleep needed.
start_mcr_ready() {
	local log=$1
	shift
	rm -f "$WORK/ready.fifo"
	mkfifo "$WORK/ready.fifo"
	ip netns exec "$RLY" "$MCR" --ready-fd 3 "$@" 3>"$WORK/ready.fifo" 2>"$log" &
	MCR_PID=$!
	MCR_PIDS+=("$MCR_PID")
	READY= READY_EOF=
	exec 5<"$WORK/ready.fifo"
	read -r -t 5 READY <&5
	read -r -t 2 _ <&5
	READY_EOF=$?
	exec 5<&-
	[ "$READY" = ready ]
}

# stop_or_kill PID: SIGTERM, and SIGKILL after 5 s (an mcr stuck in a system call, with the
# signals it reads through signalfd blocked, ignores SIGTERM); reaps it, STATUS its exit status.
stop_or_kill() {
	local i
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	STATUS=$?
}

# stop_mcr_pid PID: SIGTERM; STATUS is its exit status, 124 if it outlived 5 s.
stop_mcr_pid() {
	kill -TERM "$1" 2>/dev/null
	mcr_wait_pid "$1" 5
	STATUS=$?
}

# expect_relay NAME STATUS PATTERN -- COMMAND...: in the relay, COMMAND (run by bash -c, so it
# may open or close descriptors) exits STATUS with exactly one stderr line, matching PATTERN
# (grep -E).
expect_relay() {
	local name=$1 want=$2 pattern=$3 err status lines
	shift 4
	err=$(ip netns exec "$RLY" timeout 5 bash -c "$*" 2>&1 >/dev/null)
	status=$?
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [ "$status" = "$want" ] && [ "$lines" = 1 ] && printf '%s' "$err" | grep -Eq -- "$pattern"
	then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $status (want $want), stderr: $err"
	fi
}

# mcr_wait_oper NS IFACE STATE: bounded wait until the kernel's link watcher gives IFACE the
# operstate STATE; it may lag "ip link set" by up to a second, and mcr reports what it says.
mcr_wait_oper() {
	for _ in $(seq 150); do
		[ "$(ip netns exec "$1" cat "/sys/class/net/$2/operstate")" = "$3" ] && return 0
		sleep 0.02
	done
	echo "$1 $2 never became $3" >&2
	return 1
}
