#!/bin/bash
# Operating mcr from scripts and supervisors: run length, readiness, counters and their rates,
# the stats file. The real binary in the namespaces of lib.sh; nothing leaves them.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_require_root
mcr_need_tools sender receiver
MCR=$PWD/mcr
SEND=$PWD/tests/sender
RECV=$PWD/tests/receiver
mcr_topology
WORK=$MCR_TMP
MCR_PID=

# ms: CLOCK_MONOTONIC-independent wall time in milliseconds, for elapsed times only.
ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_exit PID SECS: its exit status, or 124 (and killed) when it outlives SECS.
wait_exit() {
	mcr_wait_pid "$1" "$2"
}

# receive NAME ADDR:PORT [receiver args]: a receiver in RCV, in the background, ready.
receive() {
	local name=$1 at=$2
	shift 2
	rm -f "$WORK/$name.ready"
	mcr_bg "$WORK/$name.out" "$RCV" "$RECV" -g "$at" -R "$WORK/$name.ready" "$@"
	eval "${name}_PID=$MCR_BG_PID"
	mcr_wait_file "$WORK/$name.ready" 5
}

# 1. --duration ends the run by itself, not before SECS, with status 0 and final counters.
test_duration() {
	local name="--duration 1 exits 0 after one second with the final counters"
	local t0 t1 status elapsed
	t0=$(ms)
	mcr_bg "$WORK/dur.log" "$RLY" "$MCR" -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 \
		--duration 1
	wait_exit "$MCR_BG_PID" 5
	status=$?
	t1=$(ms)
	elapsed=$((t1 - t0))
	if [ "$status" = 0 ] && [ "$elapsed" -ge 1000 ] && [ "$elapsed" -lt 3000 ] &&
		[ "$(grep -c 'rx_packets=' "$WORK/dur.log")" = 1 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $status after ${elapsed} ms: $(cat "$WORK/dur.log")"
	fi

	name="--duration stops a relay in mid-stream; what it relayed arrived"
	receive rx 198.18.2.2:6000 -w 1000 -T 10 || { mcr_fail "$name" receiver; return; }
	mcr_bg "$WORK/dur2.log" "$RLY" "$MCR" -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 \
		--duration 0.5
	local pid=$MCR_BG_PID
	for _ in $(seq 100); do
		grep -q ': relaying ' "$WORK/dur2.log" && break
		sleep 0.05
	done
	# Two seconds of stream: mcr must stop a quarter of the way in.
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n 4000 -r 2000 -l 100 >/dev/null
	wait_exit "$pid" 5
	status=$?
	wait "$rx_PID"
	local relayed received
	relayed=$(mcr_kv "$WORK/dur2.log" relayed)
	received=$(mcr_kv "$WORK/rx.out" received)
	if [ "$status" = 0 ] && [ -n "$relayed" ] && [ "$relayed" -gt 0 ] &&
		[ "$relayed" -lt 4000 ] && [ "$received" = "$relayed" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $status relayed=$relayed received=$received"
	fi
}

test_duration
mcr_summary
