#!/bin/bash
# mcr's own edges: where a datagram could be lost or sent twice by mcr itself rather than by the
# network (ring sizing, a stale socket error), what a set-up error's exit status says, and what
# the relay owns once it dropped privileges (--user, the stats file's temporary name).
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_require_root
mcr_need_tools sender receiver
command -v jq >/dev/null || { echo "FAIL $0: jq missing (make deps)"; exit 1; }
mcr_suite_setup
chmod 755 "$WORK"	# the default user (nobody) must reach files here

# stop_or_kill PID: SIGTERM, and SIGKILL after 5 s (an mcr stuck in a system call, with the
# signals it reads through signalfd blocked, ignores SIGTERM); STATUS its exit status.
stop_or_kill() {
	local i
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1"
	wait "$1"
	STATUS=$?
}

# 1. A 65535-byte MTU: a ring slot holds a whole 64 KiB frame, so the 4 MiB ring has fewer
# slots (60) than a pass may take (64). mcr is stopped while a burst fills the ring; when it
# runs again, one pass must not come round to the slots it already holds.
test_ring_big_mtu() {
	local name="MTU 65535: a full ring is relayed once, each datagram exactly once" n=200
	local relayed drops bad=
	ip -n "$SND" link set s0 mtu 65535
	ip -n "$RLY" link set r0 mtu 65535
	receive rx "$RCV" 198.18.2.2:6000 "" -n $n -T 10 -w 2000 ||
		{ mcr_fail "$name" "receiver not ready"; return; }
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 ||
		{ mcr_fail "$name" "start: $(cat "$WORK/mcr.log")"; return; }
	kill -STOP "$MCR_PID"
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 20000 -l 200 >/dev/null
	kill -CONT "$MCR_PID"
	wait "$rx_PID"
	counters
	relayed=$(c relayed) drops=$(c kernel_drops)
	[ "$(r rx dup)" = 0 ] || bad="$bad dup=$(r rx dup)"
	[ "$(r rx corrupt)" = 0 ] || bad="$bad corrupt=$(r rx corrupt)"
	[ "$(r rx unique)" = "$relayed" ] || bad="$bad unique=$(r rx unique)/relayed=$relayed"
	[ "$(c tx_packets)" = "$relayed" ] || bad="$bad tx=$(c tx_packets)"
	[ "$(c rx_packets)" = "$relayed" ] || bad="$bad rx=$(c rx_packets)"
	[ $((relayed + drops)) = $n ] || bad="$bad relayed+drops=$((relayed + drops))"
	# The stop must really have filled the ring, or nothing was tested.
	[ "$relayed" -ge 50 ] && [ "$drops" -gt 0 ] || bad="$bad not-filled:$relayed/$drops"
	stop_mcr
	ip -n "$SND" link set s0 mtu 1500
	ip -n "$RLY" link set r0 mtu 1500
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad: $(cat "$WORK/counters")"
	fi
}

# 2. A prohibit route to a unicast destination: connect() says EACCES. That is no missing
# privilege (77, which a supervisor must not retry) but a route, which may change: 68.
test_prohibit_route() {
	ip -n "$RLY" route add prohibit 198.18.77.0/24
	expect_relay "a prohibit route to -o: exit 68, one line naming it, not 77" 68 \
		'^mcr: -o 198.18.77.7:6000: connect: Permission denied \(a prohibit route or policy' \
		-- "$MCR" -i r0 -g 239.0.0.1:5000 -o 198.18.77.7:6000
	ip -n "$RLY" route del prohibit 198.18.77.0/24
}

# 3. The stats file's temporary name: whatever another user planted in a shared directory at
# the name mcr used to write (PATH.tmp) - a FIFO that would block the relay, a symlink to a file
# it would overwrite or refuse - is never opened; the stats file is written all the same.
test_stats_file_planted() {
	local plant name dir=$WORK/shared f bad got
	mkdir -p "$dir"
	chmod 1777 "$dir"	# a shared, sticky directory such as /tmp
	f=$dir/stats.json
	echo victim >"$WORK/victim"
	for plant in fifo symlink; do
		name="--stats-file: a $plant planted at PATH.tmp is never opened; the file is written"
		bad=
		rm -f "$dir"/*
		case $plant in
		fifo) mkfifo "$f.tmp" ;;
		symlink) ln -s "$WORK/victim" "$f.tmp" ;;
		esac
		if start_mcr_ready "$WORK/planted.log" -i r0 -g 239.0.0.1:5000 \
			-o 239.0.0.2:6000@r1 --stats-file "$f"; then
			ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n 10 -r 1000 -l 100 \
				>/dev/null
		else
			bad="$bad not-ready:'$READY'"
		fi
		stop_or_kill "$MCR_PID"
		got=$(jq -r '"\(.event) \(.relayed)"' "$f" 2>&1)
		[ "$got" = "final 10" ] || bad="$bad file:'$got'"
		[ -p "$f.tmp" ] || [ -L "$f.tmp" ] || bad="$bad plant-replaced"
		[ "$(cat "$WORK/victim")" = victim ] || bad="$bad victim-written"
		[ "$(stat -c %a "$f" 2>&1)" = 644 ] || bad="$bad mode:$(stat -c %a "$f" 2>&1)"
		got=$(ls "$dir" | paste -sd, -)
		[ "$got" = "stats.json,stats.json.tmp" ] || bad="$bad files:$got"
		[ "$STATUS" = 0 ] || bad="$bad status=$STATUS"
		if [ -z "$bad" ]; then
			mcr_pass "$name"
		else
			mcr_fail "$name" "$bad: $(cat "$WORK/planted.log")"
		fi
	done
}

test_ring_big_mtu
test_prohibit_route
test_stats_file_planted
mcr_summary
