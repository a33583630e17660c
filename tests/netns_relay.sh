#!/bin/bash
# The real binary in network namespaces: sender -> [r0] relay [r1, r2] -> receivers.
# The sender's address is one the relay cannot route back to, with rp_filter=1 on r0.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_suite_setup

# The drop counters, summed: with relayed, they must account for every captured frame.
sum_drops() {
	local s=0 k
	for k in drop_truncated drop_malformed drop_checksum drop_fragment drop_unmatched drop_vlan \
		drop_martian; do
		s=$((s + $(c $k)))
	done
	echo $s
}

# 1. The relay delivers 100,000 datagrams, every byte intact, none lost, in order.
test_relay_integrity() {
	local n=100000 name="relays 100,000 datagrams byte-identical, none lost"
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || { mcr_fail "$name" start; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -n $n -T 30 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 20000 -l 1316 >"$WORK/tx.out"
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r rx unique)" = $n ] && [ "$(r rx corrupt)" = 0 ] && [ "$(r rx lost)" = 0 ] &&
		[ "$(r rx reordered)" = 0 ] && [ "$(r rx dup)" = 0 ] && [ "$(c relayed)" = $n ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 2. Counters equal what was sent and received, and add up; SIGTERM exits 0 with final ones.
test_counters() {
	local n=5000 name="SIGUSR1 counters equal what was sent and received, and add up"
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 -o 239.0.0.2:6000@r1 ||
		{ mcr_fail "$name" start; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -n $n -T 20 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 10000 -l 200 >"$WORK/tx.out"
	wait "$rx_PID"
	counters
	local frame=$((14 + 20 + 8 + 200))
	if [ "$(c rx_packets)" = $n ] && [ "$(c relayed)" = $n ] &&
		[ "$(c rx_bytes)" = $((n * frame)) ] &&
		[ "$(c rx_packets)" = $(($(c relayed) + $(c frag_queued) + $(sum_drops))) ] &&
		[ "$(c out1.tx_packets)" = "$(r rx received)" ] && [ "$(c out1.tx_packets)" = $n ] &&
		[ "$(c out2.tx_packets)" = $n ] && [ "$(c tx_packets)" = $((2 * n)) ] &&
		[ "$(c tx_bytes)" = $((2 * n * 200)) ] && [ "$(c tx_errors)" = 0 ] &&
		[ "$(c kernel_drops)" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/counters") | $(cat "$WORK/rx.out")"
	fi

	name="SIGTERM exits 0 and prints the final counters"
	local lines
	lines=$(grep -c 'rx_packets=' "$WORK/mcr.log")
	stop_mcr
	if [ "$MCR_STATUS" = 0 ] && [ "$(grep -c 'rx_packets=' "$WORK/mcr.log")" = $((lines + 1)) ] &&
		grep 'rx_packets=' "$WORK/mcr.log" | tail -n 1 | grep -q "relayed=$n "; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $MCR_STATUS: $(tail -n 2 "$WORK/mcr.log")"
	fi
}

# 3. Fan-out: one stream, two receivers on two networks, multicast to one, unicast to the other.
test_fanout() {
	local n=20000 name="fan-out delivers the whole stream to two receivers"
	start_mcr -i r0 -g 239.0.0.1:5000 -o 239.0.0.2:6000@r1 -o 198.18.3.2:6000 ||
		{ mcr_fail "$name" start; return; }
	receive rx1 "$RCV" 239.0.0.2:6000 v1 -n $n -T 20 || { mcr_fail "$name" rx1; return; }
	receive rx2 "$RCV2" 198.18.3.2:6000 "" -n $n -T 20 || { mcr_fail "$name" rx2; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 20000 -l 1316 >"$WORK/tx.out"
	wait "$rx1_PID" "$rx2_PID"
	stop_mcr
	if [ "$(r rx1 unique)" = $n ] && [ "$(r rx1 corrupt)" = 0 ] &&
		[ "$(r rx2 unique)" = $n ] && [ "$(r rx2 corrupt)" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx1.out") | $(cat "$WORK/rx2.out")"
	fi
}

# 4. Multicast egress leaves with TTL 1 by default and the TTL given with -t; DSCP is kept.
test_unicast_and_options() {
	local n=2000 name="unicast destination receives every datagram"
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.3.2:7000 -t 9 || { mcr_fail "$name" start; return; }
	receive rx "$RCV2" 198.18.3.2:7000 "" -n $n -T 10 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 10000 -l 1472 >"$WORK/tx.out"
	wait "$rx_PID"
	stop_mcr
	if [ "$(r rx unique)" = $n ] && [ "$(r rx corrupt)" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out")"
	fi
}

# 5. -s relays one source only; the kernel filter never even copies the other.
test_source_filter() {
	local n=1000 name="-s relays only the chosen source"
	start_mcr -i r0 -g 239.0.0.1:5000 -s 198.19.50.5 -o 198.18.2.2:6000 ||
		{ mcr_fail "$name" start; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -w 1500 -T 15 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$INJECT" -I s0 -c other-source -n $n -s 2 -l 100 >/dev/null
	ip netns exec "$SND" "$INJECT" -I s0 -c valid -n $n -s 1 -l 100 >/dev/null
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r rx received)" = $n ] && [ "$(r rx corrupt)" = 0 ] && [ "$(c relayed)" = $n ] &&
		[ "$(c rx_packets)" = $n ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 6. Other groups, ports and protocols on the same interface are not relayed, not even copied.
test_other_traffic() {
	local n=500 name="other groups, ports and protocols are not relayed"
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || { mcr_fail "$name" start; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -w 1500 -T 15 || { mcr_fail "$name" receiver; return; }
	for k in other-group other-port tcp icmp ipv6; do
		ip netns exec "$SND" "$INJECT" -I s0 -c $k -n $n -l 100 >/dev/null
	done
	ip netns exec "$SND" "$SEND" -d 239.0.0.99:5000 -I s0 -n $n -r 5000 -l 100 >/dev/null
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5001 -I s0 -n $n -r 5000 -l 100 >/dev/null
	ip netns exec "$SND" "$INJECT" -I s0 -c valid -n $n -s 7 -l 100 >/dev/null
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r rx received)" = $n ] && [ "$(r rx corrupt)" = 0 ] &&
		[ "$(c rx_packets)" = $n ] && [ "$(c relayed)" = $n ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 7. Frames that pass the kernel filter but are broken: counted by reason, never relayed.
# Fragments have their own suite (netns_hostile.sh); a UDP length short of the IP payload is
# not broken but trimmed to, as the kernel does (netns_oracle.sh).
test_malformed() {
	local name="malformed frames are counted by reason and never relayed"
	# case:counter each frame must land in
	local cases="trunc-udp:drop_malformed trunc-payload:drop_malformed iplen-long:drop_malformed
		udplen-long:drop_malformed udplen-tiny:drop_malformed
		badcsum-ip:drop_checksum badcsum-udp:drop_checksum"
	local k want bad=
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || { mcr_fail "$name" start; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -w 1500 -T 20 || { mcr_fail "$name" receiver; return; }
	for k in $cases; do
		ip netns exec "$SND" "$INJECT" -I s0 -c "${k%%:*}" -n 10 -l 100 >/dev/null
	done
	for k in valid ipopts padded zero nocsum-udp; do
		ip netns exec "$SND" "$INJECT" -I s0 -c $k -n 10 -l 100 -s 3 >/dev/null
	done
	wait "$rx_PID"
	counters
	stop_mcr
	for want in drop_truncated drop_malformed drop_checksum; do
		local expect=$(( $(echo "$cases" | tr ' \t' '\n\n' | grep -c ":$want\$") * 10 ))
		[ "$(c $want)" = "$expect" ] || bad="$bad $want=$(c $want)/$expect"
	done
	[ "$(c relayed)" = 50 ] || bad="$bad relayed=$(c relayed)/50"
	[ "$(r rx received)" = 50 ] || bad="$bad received=$(r rx received)/50"
	[ "$(r rx corrupt)" = 0 ] || bad="$bad corrupt=$(r rx corrupt)"
	[ "$(c rx_packets)" = $(($(c relayed) + $(c frag_queued) + $(sum_drops))) ] ||
		bad="$bad sum"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad | $(cat "$WORK/counters")"
	fi
}

# 8. --count: exit 0 by itself after exactly N datagrams.
test_count() {
	local name="--count N relays exactly N datagrams and exits 0"
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 -c 500 ||
		{ mcr_fail "$name" start; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -w 1000 -T 15 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n 1000 -r 5000 -l 100 >/dev/null
	wait_mcr_exit || { mcr_fail "$name" "still running after the stream"; return; }
	local status=$MCR_STATUS
	wait "$rx_PID"
	grep 'rx_packets=' "$WORK/mcr.log" | tail -n 1 >"$WORK/counters"
	if [ "$status" = 0 ] && [ "$(c relayed)" = 500 ] && [ "$(r rx received)" = 500 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $status | $(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 9. A destination without a route, and one that refuses, do not disturb the good one.
test_bad_destinations() {
	local n=5000 name="unreachable and refusing destinations do not disturb the others"
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.9.9:6000 -o 198.18.3.2:6001 \
		-o 198.18.2.2:6000 || { mcr_fail "$name" start; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -n $n -T 20 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 10000 -l 500 >"$WORK/tx.out"
	wait "$rx_PID"
	counters
	# The refusing destination's socket: its receive queue (hex, in /proc/net/udp) holds the
	# ICMP errors that IP_RECVERR queued, unless mcr emptied it after each failed send.
	local errq
	errq=$(ip netns exec "$RLY" awk '$3 == "020312C6:1771" { split($5, q, ":"); print q[2] }' \
		/proc/net/udp)
	stop_mcr
	if [ "$(r rx unique)" = $n ] && [ "$(c out3.tx_packets)" = $n ] &&
		[ "$(c out1.tx_errors)" = $n ] && [ "$(c out1.last_error)" = ENETUNREACH ] &&
		[ "$(c out2.last_error)" = ECONNREFUSED ] && [ "$errq" = 00000000 ] &&
		[ "$(($(c out2.tx_packets) + $(c out2.tx_errors)))" = $n ] && [ "$MCR_STATUS" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "error queue ${errq:-not found} | $(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 10. Payloads up to the interface MTU, jumbo included, go out whole.
test_jumbo() {
	local n=2000 name="jumbo payloads (MTU 9000) are relayed whole"
	local l
	for l in "$SND s0" "$RLY r0" "$RLY r1" "$RCV v1"; do
		ip -n ${l% *} link set ${l#* } mtu 9000
	done
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || { mcr_fail "$name" start; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -n $n -T 15 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 5000 -l 8972 >"$WORK/tx.out"
	wait "$rx_PID"
	stop_mcr
	for l in "$SND s0" "$RLY r0" "$RLY r1" "$RCV v1"; do
		ip -n ${l% *} link set ${l#* } mtu 1500
	done
	if [ "$(r rx unique)" = $n ] && [ "$(r rx corrupt)" = 0 ] &&
		[ "$(r rx bytes)" = $((n * 8972)) ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out")"
	fi
}

# 11. The ingress disappearing ends mcr with 66, so a supervisor restarts it.
test_ingress_gone() {
	local name="ingress deleted: exit 66 with a message"
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || { mcr_fail "$name" start; return; }
	ip -n "$RLY" link del r0
	wait_mcr_exit || { mcr_fail "$name" "still running"; return; }
	local status=$MCR_STATUS
	if [ "$status" = 66 ] && grep -q 'r0: interface went away' "$WORK/mcr.log"; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $status: $(cat "$WORK/mcr.log")"
	fi
}

# 12. The join: present on the ingress while mcr runs, gone after; --no-join never joins.
test_join() {
	local name="joins the group on the ingress and leaves on exit; --no-join does not join"
	# /proc/net/igmp lists groups as the address in host-order hex: 239.0.0.1 is 010000EF.
	joined() { ip netns exec "$RLY" awk '/r0/ { on = 1; next } /^[0-9]/ { on = 0 }
		on && $1 == "010000EF" { found = 1 } END { exit !found }' /proc/net/igmp; }
	local during after nojoin
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || { mcr_fail "$name" start; return; }
	joined && during=yes
	stop_mcr
	joined || after=left
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --no-join ||
		{ mcr_fail "$name" start; return; }
	joined || nojoin=none
	stop_mcr
	if [ "${during:-}" = yes ] && [ "${after:-}" = left ] && [ "${nojoin:-}" = none ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "during=${during:-no} after=${after:-still} no-join=${nojoin:-joined}"
	fi
}

# 13. Ingress link down then up: mcr stays, says so, and relays again with no restart.
test_link_flap() {
	local n=2000 name="ingress link down and up: keeps running, relays again"
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || { mcr_fail "$name" start; return; }
	ip -n "$RLY" link set r0 down
	mcr_wait_log 'r0: link down' || { stop_mcr; mcr_fail "$name" "no link-down line"; return; }
	ip -n "$RLY" link set r0 up
	mcr_wait_log 'r0: link up' || { stop_mcr; mcr_fail "$name" "no link-up line"; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -n $n -T 15 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 10000 -l 300 >/dev/null
	wait "$rx_PID"
	stop_mcr
	if [ "$(r rx unique)" = $n ] && [ "$MCR_STATUS" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $MCR_STATUS | $(cat "$WORK/rx.out") | $(cat "$WORK/mcr.log")"
	fi
}

test_relay_integrity
test_join
test_link_flap
test_counters
test_fanout
test_unicast_and_options
test_source_filter
test_other_traffic
test_malformed
test_count
test_bad_destinations
test_jumbo
test_ingress_gone
mcr_summary
