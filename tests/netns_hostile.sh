#!/bin/bash
# What a hostile or merely awkward network hands the relay, through the real binary in
# namespaces: datagrams fragmented by the kernel and by hand (in order, reversed, shuffled,
# duplicated, overlapping, incomplete), 802.1Q tags, UDP checksums right, wrong and absent;
# and the whole tool under ASan and UBSan while every case inject knows goes past it.
# Expected counts come from what was sent, never from what mcr reported.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

MCR_ASAN=$PWD/mcr_asan

MTU=1500
FRAG_DATA=$((MTU - 20))		# bytes of IP payload per fragment at that MTU
IDLE_MS=700			# receiver: the stream is over after this long without a datagram

mcr_require_root
mcr_need_tools sender receiver inject
mcr_suite_setup

DROPS="drop_truncated drop_malformed drop_checksum drop_fragment drop_unmatched drop_vlan
	drop_martian drop_glued"

# has_counters KEY...: the last counter line has every one of them, as a number. (A run
# whose mcr died has none: its sums must fail the test, not the shell's arithmetic.)
has_counters() {
	local k v
	for k in "$@"; do
		v=$(c "$k") || return 1
		case $v in '' | *[!0-9]*) return 1 ;; esac
	done
}

# adds_up: rx_packets = relayed + frag_queued + the drops, in the last counter line.
adds_up() {
	local s k
	# shellcheck disable=SC2086 # DROPS is a list
	has_counters rx_packets relayed frag_queued $DROPS || return 1
	s=$(($(c relayed) + $(c frag_queued)))
	for k in $DROPS; do
		s=$((s + $(c $k)))
	done
	[ "$(c rx_packets)" = $s ]
}

# inject CASE ARGS...: one run of tests/inject from the sender's side.
inject() {
	local k=$1
	shift
	ip netns exec "$SND" "$INJECT" -I s0 -c "$k" "$@" >>"$WORK/inject.out" 2>&1
}

# ceil_div A B
ceil_div() { echo $((($1 + $2 - 1) / $2)); }

# relay [OPTIONS]: mcr relaying 239.0.0.1:5000 from r0 to the receiver, with the options.
relay() { start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 "$@"; }

# receive_all RECEIVER_ARGS...: the receiver, its report in $WORK/rx.out.
receive_all() { receive rx "$RCV" 198.18.2.2:6000 "" "$@"; }

# receive_idle: the receiver, until the stream has been quiet for IDLE_MS.
receive_idle() { receive_all -w $IDLE_MS -T 10; }

# 1. A datagram larger than the MTU, fragmented by the sender's kernel: 3 fragments each.
test_kernel_fragments() {
	local n=2000 len=4000 name="kernel-fragmented datagrams (4000 B, MTU 1500) relayed whole"
	local per frames bytes
	per=$(ceil_div $((len + 8)) $FRAG_DATA)
	frames=$((n * per))
	# Each frame: Ethernet and IPv4 headers, and its share of the 4008 bytes of UDP.
	bytes=$((n * (per * (14 + 20) + len + 8)))
	relay || { mcr_fail "$name" start; return; }
	receive_all -n $n -T 20 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 2000 -l $len >"$WORK/tx.out"
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r rx unique)" = $n ] && [ "$(r rx corrupt)" = 0 ] && [ "$(r rx dup)" = 0 ] &&
		[ "$(r rx bytes)" = $((n * len)) ] && [ "$(c frag_reassembled)" = $n ] &&
		[ "$(c frag_queued)" = $frames ] && [ "$(c relayed)" = 0 ] &&
		[ "$(c rx_packets)" = $frames ] && [ "$(c rx_bytes)" = $bytes ] &&
		[ "$(c frag_invalid)" = 0 ] && [ "$(c frag_evicted)" = 0 ] &&
		[ "$(c drop_fragment)" = 0 ] && [ "$(c tx_bytes)" = $((n * len)) ] && adds_up &&
		[ "$MCR_STATUS" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "want $frames frames, $bytes bytes | $(cat "$WORK/rx.out") |" \
			"$(cat "$WORK/counters")"
	fi
}

# 2. Fragments crafted by inject, whole sets in some order: relayed, every byte checked. At
# 1000 datagrams a second, so this is about order, not about bursts (test_frags_burst).
# frags_case CASE K N DUP_FRAMES_PER_DATAGRAM
frags_case() {
	local k=$1 per=$2 n=$3 dup=$4 len=1000 frames
	local name="inject $k (-k $per): every datagram reassembled and relayed"
	frames=$((n * per))
	relay || { mcr_fail "$name" start; return; }
	receive_all -n $n -T 10 || { mcr_fail "$name" receiver; return; }
	inject "$k" -k "$per" -n $n -l $len -s 21 -q 1000 -r 1000
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r rx unique)" = $n ] && [ "$(r rx corrupt)" = 0 ] && [ "$(r rx dup)" = 0 ] &&
		[ "$(r rx bytes)" = $((n * len)) ] && [ "$(c frag_reassembled)" = $n ] &&
		[ "$(c frag_queued)" = $frames ] && [ "$(c drop_fragment)" = $((n * dup)) ] &&
		[ "$(c rx_packets)" = $((frames + n * dup)) ] && [ "$(c relayed)" = 0 ] &&
		[ "$(c frag_invalid)" = 0 ] && adds_up; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 3. A burst: fragmented datagrams queue up in the ring while mcr is stopped, then go through
# in full passes of frames. Every one must still be reassembled: a backlog is no reason to
# lose datagrams (and unfragmented ones are not lost that way either).
test_frags_burst() {
	local n=40 per=3 name="a burst of fragmented datagrams queued in the ring: none lost"
	relay || { mcr_fail "$name" start; return; }
	receive_all -n $n -T 5 || { mcr_fail "$name" receiver; return; }
	kill -STOP "$MCR_PID"
	inject frags -k $per -n $n -l 1000 -s 25 -q 1500
	kill -CONT "$MCR_PID"
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r rx unique)" = $n ] && [ "$(r rx corrupt)" = 0 ] &&
		[ "$(c frag_reassembled)" = $n ] && [ "$(c frag_queued)" = $((n * per)) ] &&
		[ "$(c drop_fragment)" = 0 ] && [ "$(c frag_evicted)" = 0 ] &&
		[ "$(c kernel_drops)" = 0 ] && adds_up; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# bounded_counter KEY WANT TRIES: ask for counters every 0.1 s until KEY = WANT; 1 if never.
bounded_counter() {
	local i
	for ((i = 0; i < $3; i++)); do
		counters
		[ "$(c "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# 4. Overlapping fragments: each datagram dropped whole, nothing relayed. A valid datagram
# after them proves everything before it was handled; its arrival ends the receiver's wait.
test_frags_overlap() {
	local n=10 per=3 name="overlapping fragments: the datagram is dropped, nothing relayed"
	relay || { mcr_fail "$name" start; return; }
	receive_idle || { mcr_fail "$name" receiver; return; }
	inject frags-overlap -k $per -n $n -l 1000 -s 31 -q 2000
	inject valid -n 1 -l 100 -s 32
	wait "$rx_PID"
	counters
	stop_mcr
	# Per datagram: the first fragment queued, the second overlaps it (invalid, counted as
	# queued), the last starts a datagram of its own that can never complete.
	if [ "$(r rx received)" = 1 ] && [ "$(r rx corrupt)" = 0 ] &&
		[ "$(c frag_invalid)" = $n ] && [ "$(c frag_reassembled)" = 0 ] &&
		[ "$(c frag_queued)" = $((n * per)) ] && [ "$(c relayed)" = 1 ] && adds_up; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 5. A fragment missing: given up after the reassembly timeout (1 s, checked every 0.5 s).
test_frags_incomplete() {
	local n=10 per=3 name="incomplete datagrams time out after 1 to 1.5 s, nothing relayed"
	local t0 t1 ms
	relay || { mcr_fail "$name" start; return; }
	receive_idle || { mcr_fail "$name" receiver; return; }
	t0=$(date +%s%N)
	inject frags-incomplete -k $per -n $n -l 1000 -s 41 -q 3000
	if ! bounded_counter frag_timeout $n 40; then
		stop_mcr
		mcr_fail "$name" "frag_timeout never reached $n in 4 s | $(cat "$WORK/counters")"
		return
	fi
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	inject valid -n 1 -l 100 -s 42
	wait "$rx_PID"
	counters
	stop_mcr
	# Not before 1000 ms from the first fragment; by 1500 ms after the last, plus the polling.
	if [ $ms -ge 999 ] && [ $ms -le 2000 ] && [ "$(r rx received)" = 1 ] &&
		[ "$(c frag_timeout)" = $n ] && [ "$(c frag_reassembled)" = 0 ] &&
		[ "$(c frag_queued)" = $((n * (per - 1))) ] && [ "$(c relayed)" = 1 ] &&
		[ "$(c frag_evicted)" = 0 ] && adds_up; then
		mcr_pass "$name (timed out after $ms ms)"
	else
		mcr_fail "$name" "after $ms ms | $(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 6. --count N counts reassembled datagrams as relayed ones.
test_count_fragments() {
	local name="--count counts reassembled datagrams: exits 0 after N"
	local status
	relay -c 7 || { mcr_fail "$name" start; return; }
	receive_idle || { mcr_fail "$name" receiver; return; }
	inject valid -n 3 -l 100 -s 51
	inject frags -k 4 -n 10 -l 500 -s 52 -q 4000
	wait_mcr_exit ||
		{ mcr_fail "$name" "still running after 3 whole and 10 fragmented datagrams"; return; }
	status=$MCR_STATUS
	wait "$rx_PID"
	grep 'rx_packets=' "$WORK/mcr.log" | tail -n 1 >"$WORK/counters"
	if [ "$status" = 0 ] && [ "$(c relayed)" = 3 ] && [ "$(c frag_reassembled)" = 4 ] &&
		[ "$(r rx received)" = 7 ] && [ "$(r rx corrupt)" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $status | $(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# vlan_run NAME WANT MCR_OPTIONS RUN...: mcr with the options, then each inject run
# ("CASE:ARGS"); WANT datagrams must be relayed.
vlan_run() {
	local name=$1 want=$2 extra=$3 run
	shift 3
	# shellcheck disable=SC2086 # extra is a list of options
	relay $extra || { mcr_fail "$name" start; return; }
	receive_idle || { mcr_fail "$name" receiver; return; }
	for run in "$@"; do
		# shellcheck disable=SC2086 # the run's arguments
		inject ${run%%:*} ${run#*:}
	done
	wait "$rx_PID"
	counters
	stop_mcr
	# The kernel filter already keeps the other VLANs out: only the relayed are captured.
	if [ "$(r rx received)" = "$want" ] && [ "$(r rx unique)" = "$want" ] &&
		[ "$(r rx corrupt)" = 0 ] && [ "$(c relayed)" = "$want" ] &&
		[ "$(c rx_packets)" = "$want" ] && adds_up; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "want $want | $(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 7. VLAN: --vlan picks the tagged stream; without it only untagged frames count.
test_vlan_100() {
	vlan_run "--vlan 100 relays VLAN 100 and not untagged frames" 50 "--vlan 100" \
		"valid:-n 50 -l 100 -s 61" "vlan:-n 50 -l 100 -s 62 -V 100" \
		"vlan:-n 50 -l 100 -s 63 -V 101"
}
test_vlan_none() {
	vlan_run "no --vlan: VLAN 100 frames are not relayed, untagged ones are" 50 "" \
		"vlan:-n 50 -l 100 -s 64 -V 100" "valid:-n 50 -l 100 -s 65"
}
test_vlan_200() {
	vlan_run "--vlan 200 does not relay VLAN 100" 50 "--vlan 200" \
		"vlan:-n 50 -l 100 -s 66 -V 100" "vlan:-n 50 -l 100 -s 67 -V 200"
}

# 8. UDP checksums of frames the kernel did not build: verified.
test_udp_checksum() {
	local n=50 name="UDP checksum: a wrong one is dropped, none (0) and right ones relayed"
	relay || { mcr_fail "$name" start; return; }
	receive_idle || { mcr_fail "$name" receiver; return; }
	inject badcsum-udp -n $n -l 100 -s 71
	inject nocsum-udp -n $n -l 100 -s 72
	inject valid -n $n -l 101 -s 73
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r rx received)" = $((2 * n)) ] && [ "$(r rx unique)" = $((2 * n)) ] &&
		[ "$(r rx corrupt)" = 0 ] && [ "$(c drop_checksum)" = $n ] &&
		[ "$(c relayed)" = $((2 * n)) ] && [ "$(c rx_packets)" = $((3 * n)) ] &&
		adds_up; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# The inject cases a relay of 239.0.0.1:5000 with no --vlan must relay whole: valid frames,
# the IPv4 options and padding it must see past, no payload, no UDP checksum, a priority tag
# (also over another), a Router Alert, another source (no -s), and every complete set of
# fragments, duplicates inside a run, an odd fragment cut to 8-byte units, ECN-capable mixes
# and options on the first included. Any other case must relay nothing.
RELAYED_CASES="valid ipopts padded zero max nocsum-udp vlan0 other-source frags frags-reverse
	frags-shuffle frags-dup frags-dup-inside frags-odd-mf frags-ecn-ce frags-ipopts opts
	vlan0-vlan0"
# Relayed too, but only up to a UDP length short of the payload, as the kernel delivers it: the
# receiver sees those payloads cut, so counts them corrupt.
TRIMMED_CASES="udplen-short"

# 9. mcr built with ASan and UBSan, fed every case inject has, and kernel fragments.
test_asan_every_case() {
	local name="mcr under ASan/UBSan: every inject case, relays the valid, exits 0, no report"
	local reps=3 k i=0 want=0 cut=0 got status report bad=
	if [ ! -x "$MCR_ASAN" ]; then
		mcr_fail "$name" "mcr_asan not built (make mcr_asan)"
		return
	fi
	MCR=$MCR_ASAN relay ||
		{ mcr_fail "$name" start; return; }
	receive_all -w 4000 -T 30 || { mcr_fail "$name" receiver; return; }
	for k in $("$INJECT" -c list); do
		i=$((i + 1))
		# A stream and IP IDs of its own per case, so no two cases' fragments meet.
		inject "$k" -n $reps -l 200 -s $((800 + i)) -q $((i * 100))
		case " $(echo $RELAYED_CASES) " in
		*" $k "*) want=$((want + reps)) ;;
		esac
		case " $TRIMMED_CASES " in
		*" $k "*) want=$((want + reps)) cut=$((cut + reps)) ;;
		esac
	done
	[ $i -ge 36 ] || bad="$bad only $i cases listed"
	# The incomplete sets above linger in the table for up to 1.5 s, keyed by source and IP
	# ID; the kernel picks the IDs below at random, from the same source. Let them expire
	# first, so a chance match of IDs cannot merge two datagrams.
	sleep 1.6
	# Kernel fragments, many small crafted ones, and the largest datagram there is.
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n 100 -r 2000 -l 4000 -s 901 \
		>"$WORK/tx.out"
	inject frags -k 64 -n $reps -l 2000 -s 902 -q 9000
	inject frags-shuffle -k 60 -n $reps -l 65507 -s 903 -q 9100
	want=$((want + 100 + 2 * reps))
	wait "$rx_PID"
	counters
	stop_mcr
	status=$MCR_STATUS
	[ "$status" = 0 ] || bad="$bad exit status $status"
	[ "$(r rx received)" = $want ] || bad="$bad received $(r rx received)/$want"
	[ "$(r rx corrupt)" = $cut ] || bad="$bad corrupt $(r rx corrupt)/$cut"
	if has_counters relayed frag_reassembled; then
		got=$(($(c relayed) + $(c frag_reassembled)))
		[ $got = $want ] || bad="$bad relayed+reassembled $got/$want"
	else
		bad="$bad no counters"
	fi
	adds_up || bad="$bad counters do not add up"
	if grep -qE 'Sanitizer|runtime error|SUMMARY:' "$WORK/mcr.log"; then
		report=$(grep -E 'ERROR|runtime error|SUMMARY' "$WORK/mcr.log" | head -n 3)
		bad="$bad sanitizer report: $report"
	fi
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad | $(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# run_test FUNCTION ARGS...: a test that ends without a verdict (a shell error cut it short)
# is a failure, never nothing.
run_test() {
	local before=$((MCR_PASSED + MCR_FAILED))
	"$@"
	[ $((MCR_PASSED + MCR_FAILED)) -gt "$before" ] || mcr_fail "$*" "ended without a verdict"
}

run_test test_kernel_fragments
run_test frags_case frags 3 200 0
run_test frags_case frags-reverse 4 200 0
run_test frags_case frags-shuffle 5 200 0
run_test frags_case frags-dup 3 200 1
run_test test_frags_burst
run_test test_frags_overlap
run_test test_frags_incomplete
run_test test_count_fragments
run_test test_vlan_100
run_test test_vlan_none
run_test test_vlan_200
run_test test_udp_checksum
run_test test_asan_every_case
mcr_summary
