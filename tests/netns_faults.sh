#!/bin/bash
# Faults mcr must ride out without a restart: an egress link going down, a route vanishing,
# a storm of SIGUSR1, and an overload that fills the ring. Each relays a stream in batches
# around the fault, so what must arrive is known exactly.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_suite_setup

# batch STREAM N: N datagrams of 200 bytes at 10k pps, as stream STREAM.
batch() { ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n "$2" -r 10000 -l 200 -s "$1" >/dev/null; }

# stop_receivers: SIGTERM makes a receiver report what it has.
stop_receivers() {
	local p
	for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
	for p in "$@"; do wait "$p"; done
}

# A fault on destination 2 between two good batches: destination 1 must get all three
# batches, destination 2 the first and the last, with the middle one counted as errors.
# fault_test NAME BREAK-COMMAND MEND-COMMAND [ERRNO]: ERRNO, when given, is what destination 2's
# last_error must name.
fault_test() {
	local name=$1 break=$2 mend=$3 errno=${4:-} n=3000
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 -o 198.18.3.2:6000 ||
		{ mcr_fail "$name" start; return; }
	receive rx1 "$RCV" 198.18.2.2:6000 "" -w 20000 -T 60 || { mcr_fail "$name" rx1; return; }
	receive rx2 "$RCV2" 198.18.3.2:6000 "" -w 20000 -T 60 || { mcr_fail "$name" rx2; return; }
	batch 1 $n
	eval "$break"
	batch 2 $n
	eval "$mend"
	# The neighbour entry went with the link or route; resolve it again before batch 3, or
	# the first datagrams wait in (and overflow) the ARP queue, which is not mcr's doing.
	ip netns exec "$RLY" ping -c 1 -W 2 198.18.3.2 >/dev/null
	batch 3 $n
	counters
	stop_mcr
	stop_receivers "$rx1_PID" "$rx2_PID"
	if [ "$(r rx1 unique)" = $((3 * n)) ] && [ "$(c out1.tx_errors)" = 0 ] &&
		[ "$(r rx2 unique)" = $((2 * n)) ] && [ "$(c out2.tx_errors)" = $n ] &&
		[ "$(c out2.tx_packets)" = $((2 * n)) ] && [ "$MCR_STATUS" = 0 ] &&
		{ [ -z "$errno" ] || [ "$(c out2.last_error)" = "$errno" ]; }; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "rx1: $(cat "$WORK/rx1.out") | rx2: $(cat "$WORK/rx2.out") | $(cat "$WORK/counters")"
	fi
}

fault_test "egress link down then up: counted on that destination, the other keeps everything" \
	'ip -n "$RLY" link set r2 down' 'ip -n "$RLY" link set r2 up'
fault_test "egress route removed then restored: counted, resumes by itself" \
	'ip -n "$RLY" route del 198.18.3.0/24 dev r2' \
	'ip -n "$RLY" route add 198.18.3.0/24 dev r2 src 198.18.3.1'
# A queue that drops every packet (a pfifo of length 0, with no bypass for an empty queue): the
# kernel's ENOBUFS, which UDP hides from a socket without IP_RECVERR, must count as errors.
fault_test "egress queue dropping everything (ENOBUFS): counted, not reported as sent" \
	'tc -n "$RLY" qdisc add dev r2 root pfifo limit 0' 'tc -n "$RLY" qdisc del dev r2 root' \
	ENOBUFS

# 1,000 SIGUSR1 a second while relaying: no datagram lost, every counter line whole.
test_signal_storm() {
	local name="1,000 SIGUSR1 a second lose no datagram and print whole lines" n=30000 i
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || { mcr_fail "$name" start; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -n $n -T 30 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 10000 -l 300 >/dev/null &
	local sender=$!
	# Bounded: 300 rounds of 10 signals 10 ms apart, about 3 seconds.
	for i in $(seq 300); do
		kill -USR1 "$MCR_PID" "$MCR_PID" "$MCR_PID" "$MCR_PID" "$MCR_PID" \
			"$MCR_PID" "$MCR_PID" "$MCR_PID" "$MCR_PID" "$MCR_PID" 2>/dev/null
		sleep 0.01
	done
	wait "$sender" "$rx_PID"
	counters
	stop_mcr
	local lines whole
	lines=$(grep -c . "$WORK/mcr.log")
	whole=$(grep -cE '^mcr: event=(stats|final) time_ms=[0-9]+ uptime_s=[0-9]+\.[0-9]{3} rx_packets=[0-9]+ .* out1\.last_error=[-A-Z]+ out1\.tx_pps=[0-9]+ out1\.tx_bps=[0-9]+$' "$WORK/mcr.log")
	if [ "$(r rx unique)" = $n ] && [ "$(c relayed)" = $n ] && [ "$lines" -gt 50 ] &&
		[ "$whole" = $((lines - 1)) ] && [ "$MCR_STATUS" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out") | $lines lines, $whole whole"
	fi
}
test_signal_storm

# Overload: mcr gets no CPU for 10 s (SIGSTOP) while 10k pps keep arriving, so the ring
# overflows. Memory must not grow, the kernel's ring drops must be counted, and the next
# stream after it must be delivered whole.
test_overload() {
	local name="overload: memory flat, kernel ring drops counted, whole again right after"
	local rss0 rss1 n=100000 warm=10000 after=10000
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || { mcr_fail "$name" start; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -w 15000 -T 60 || { mcr_fail "$name" receiver; return; }
	# Warm up, so every page the relay touches is already resident.
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $warm -r 10000 -l 1316 -s 1 >/dev/null
	counters
	rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$MCR_PID/status")
	kill -STOP "$MCR_PID"
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 10000 -l 1316 -s 2 >/dev/null
	kill -CONT "$MCR_PID"
	# The stream after the overload: all of its 1 s must arrive.
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $after -r 10000 -l 1316 -s 3 >/dev/null
	counters
	rss1=$(awk '/^VmRSS:/ { print $2 }' "/proc/$MCR_PID/status")
	stop_mcr
	kill -TERM "$rx_PID"
	wait "$rx_PID"
	local drops captured total=$((warm + n + after))
	drops=$(c kernel_drops)
	captured=$(c rx_packets)
	# Everything offered was captured and relayed, or is a counted kernel drop; the receiver
	# got every relayed datagram, so stream 3 (after the overload) arrived whole.
	if [ "$rss1" = "$rss0" ] && [ "$drops" -gt 0 ] && [ $((captured + drops)) = $total ] &&
		[ "$(c relayed)" = "$captured" ] && [ "$(r rx unique)" = "$captured" ] &&
		[ "$(r rx corrupt)" = 0 ] && [ "$(c out1.tx_errors)" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "RSS $rss0 -> $rss1 kB | $(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}
test_overload
mcr_summary
