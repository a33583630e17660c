#!/bin/bash
# IPv6 with the real binary in network namespaces, and both ways across the families:
# sender -> [r0] relay [r1, r2] -> receivers, as in netns_relay.sh, with these addresses too:
#
#   SND  s0 fd00:1::5/64, fd00:1::6/64 ---- r0 fd00:1::1/64  RLY
#   RCV  v1 fd00:2::2/64               ---- r1 fd00:2::1/64  RLY
#   RCV2 v2 fd00:3::2/64               ---- r2 fd00:3::1/64  RLY
#
# The stream is [ff3e::1234]:5000 (RFC 4607 source-specific scope 'e', a test group). Crafted
# frames come from tests/inject6.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

INJECT6=$PWD/tests/inject6
MCR_IPV6=1

GROUP6='[ff3e::1234]:5000'
SRC6=fd00:1::5
SRC6_OTHER=fd00:1::6
MTU=1500
IP6_HLEN=40
UDP_HLEN=8
FRAG_HLEN=8
ETH_HLEN=14

mcr_require_root
mcr_need_tools sender receiver inject inject6

# The IPv4 topology of lib.sh with IPv6 kept on, and the addresses drawn above. nodad: usable
# at once, no duplicate address detection to wait for.
# 16. An egress queue that drops everything (pfifo of length 0) on one of two destinations:
# the other gets every datagram; the dropped ones are counted as ENOBUFS, not as sent.
test_egress_queue_full() {
	local n=5000 name="IPv6: datagrams a full egress queue dropped count as errors (ENOBUFS)"
	start_mcr -i r0 -g "$GROUP6" -o '[fd00:2::2]:6000' -o '[fd00:3::2]:6000' ||
		{ mcr_fail "$name" start; return; }
	receive rx "$RCV" '[fd00:2::2]:6000' "" -n $n -T 20 || { mcr_fail "$name" receiver; return; }
	tc -n "$RLY" qdisc add dev r2 root pfifo limit 0
	send6 -d "$GROUP6" -n $n -r 10000 -l 1316 >"$WORK/tx.out"
	wait "$rx_PID"
	counters
	tc -n "$RLY" qdisc del dev r2 root
	stop_mcr
	if [ "$(r rx unique)" = $n ] && [ "$(c out1.tx_packets)" = $n ] &&
		[ "$(c out2.tx_packets)" = 0 ] && [ "$(c out2.tx_errors)" = $n ] &&
		[ "$(c out2.last_error)" = ENOBUFS ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

v6_topology() {
	mcr_suite_setup
	if ! { ip -n "$SND" addr add $SRC6/64 dev s0 nodad &&
		ip -n "$SND" addr add $SRC6_OTHER/64 dev s0 nodad &&
		ip -n "$RLY" addr add fd00:1::1/64 dev r0 nodad &&
		ip -n "$RLY" addr add fd00:2::1/64 dev r1 nodad &&
		ip -n "$RCV" addr add fd00:2::2/64 dev v1 nodad &&
		ip -n "$RLY" addr add fd00:3::1/64 dev r2 nodad &&
		ip -n "$RCV2" addr add fd00:3::2/64 dev v2 nodad &&
		ip -n "$RCV" route add fd00::/8 via fd00:2::1 &&
		ip -n "$RCV2" route add fd00::/8 via fd00:3::1; }; then
		echo "FAIL $(basename "$0"): IPv6 addresses and routes"
		exit 1
	fi
}

# The drop counters, summed: with relayed and frag_queued, every captured frame.
sum_drops() {
	local s=0 k
	for k in drop_truncated drop_malformed drop_checksum drop_fragment drop_unmatched drop_vlan \
		drop_martian drop_glued; do
		s=$((s + $(c $k)))
	done
	echo $s
}

adds_up() {
	[ "$(c rx_packets)" = $(($(c relayed) + $(c frag_queued) + $(sum_drops))) ]
}

send6() {
	ip netns exec "$SND" "$SEND" -I s0 "$@"
}

# 1. The relay delivers 20,000 IPv6 datagrams, every byte intact, none lost, in order.
test_relay_integrity() {
	local n=20000 name="IPv6: relays 20,000 datagrams byte-identical, none lost"
	start_mcr -i r0 -g "$GROUP6" -o '[fd00:2::2]:6000' || { mcr_fail "$name" start; return; }
	receive rx "$RCV" '[fd00:2::2]:6000' "" -n $n -T 30 || { mcr_fail "$name" receiver; return; }
	send6 -d "$GROUP6" -n $n -r 20000 -l 1316 >"$WORK/tx.out"
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r rx unique)" = $n ] && [ "$(r rx corrupt)" = 0 ] && [ "$(r rx lost)" = 0 ] &&
		[ "$(r rx reordered)" = 0 ] && [ "$(r rx dup)" = 0 ] &&
		[ "$(r rx bytes)" = $((n * 1316)) ] && [ "$(c relayed)" = $n ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# /proc/net/igmp6 and mcfilter6 print an address as its 16 bytes in hex, no colons.
GROUP6_HEX=ff3e0000000000000000000000001234
SRC6_HEX=fd000001000000000000000000000005

# 2. The join: an MLD membership on r0 while mcr runs, none after; --no-join never joins.
test_join() {
	local name="IPv6: joins the group on the ingress (MLD) and leaves on exit; --no-join does not"
	local g=$GROUP6_HEX during='' after='' nojoin=''
	# shellcheck disable=SC2016 # awk's own variables
	joined() { ip netns exec "$RLY" awk -v g="$g" '$2 == "r0" && $3 == g { f = 1 }
		END { exit !f }' /proc/net/igmp6; }
	start_mcr -i r0 -g "$GROUP6" -o '[fd00:2::2]:6000' || { mcr_fail "$name" start; return; }
	joined && during=yes
	stop_mcr
	joined || after=left
	start_mcr -i r0 -g "$GROUP6" -o '[fd00:2::2]:6000' --no-join ||
		{ mcr_fail "$name" start; return; }
	joined || nojoin=none
	stop_mcr
	if [ "$during" = yes ] && [ "$after" = left ] && [ "$nojoin" = none ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "during=${during:-no} after=${after:-still} no-join=${nojoin:-joined}"
	fi
}

# 3. Counters equal what was sent and received, and add up.
test_counters() {
	local n=5000 len=200 name="IPv6: counters equal what was sent and received, and add up"
	start_mcr -i r0 -g "$GROUP6" -o '[fd00:2::2]:6000' -o '[ff3e::2]:6000@r1' ||
		{ mcr_fail "$name" start; return; }
	receive rx "$RCV" '[fd00:2::2]:6000' "" -n $n -T 20 || { mcr_fail "$name" receiver; return; }
	send6 -d "$GROUP6" -n $n -r 10000 -l $len >"$WORK/tx.out"
	wait "$rx_PID"
	counters
	stop_mcr
	local frame=$((ETH_HLEN + IP6_HLEN + UDP_HLEN + len))
	if [ "$(c rx_packets)" = $n ] && [ "$(c relayed)" = $n ] &&
		[ "$(c rx_bytes)" = $((n * frame)) ] && adds_up &&
		[ "$(c out1.tx_packets)" = "$(r rx received)" ] && [ "$(c out1.tx_packets)" = $n ] &&
		[ "$(c out2.tx_packets)" = $n ] && [ "$(c tx_packets)" = $((2 * n)) ] &&
		[ "$(c tx_bytes)" = $((2 * n * len)) ] && [ "$(c tx_errors)" = 0 ] &&
		[ "$(c kernel_drops)" = 0 ] && [ "$MCR_STATUS" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/counters") | $(cat "$WORK/rx.out")"
	fi
}

# 4. Fan-out: IPv6 multicast on one network, IPv6 unicast on the other.
test_fanout() {
	local n=20000 name="IPv6: fan-out to a multicast and a unicast receiver"
	start_mcr -i r0 -g "$GROUP6" -o '[ff3e::99]:6000@r1' -o '[fd00:3::2]:6000' ||
		{ mcr_fail "$name" start; return; }
	receive rx1 "$RCV" '[ff3e::99]:6000' v1 -n $n -T 20 || { mcr_fail "$name" rx1; return; }
	receive rx2 "$RCV2" '[fd00:3::2]:6000' "" -n $n -T 20 || { mcr_fail "$name" rx2; return; }
	send6 -d "$GROUP6" -n $n -r 20000 -l 1316 >"$WORK/tx.out"
	wait "$rx1_PID" "$rx2_PID"
	stop_mcr
	if [ "$(r rx1 unique)" = $n ] && [ "$(r rx1 corrupt)" = 0 ] &&
		[ "$(r rx2 unique)" = $n ] && [ "$(r rx2 corrupt)" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx1.out") | $(cat "$WORK/rx2.out")"
	fi
}

# 5. Unicast: the largest payload one 1500-byte frame carries, with -t as the hop limit.
test_unicast() {
	local n=2000 len=$((MTU - IP6_HLEN - UDP_HLEN)) name="IPv6: unicast destination, -t 9 as its hop limit"
	start_mcr -i r0 -g "$GROUP6" -o '[fd00:3::2]:7000' -t 9 || { mcr_fail "$name" start; return; }
	receive rx "$RCV2" '[fd00:3::2]:7000' "" -n $n -T 10 -H || { mcr_fail "$name" receiver; return; }
	send6 -d "$GROUP6" -n $n -r 10000 -l $len >"$WORK/tx.out"
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r rx unique)" = $n ] && [ "$(r rx corrupt)" = 0 ] && [ "$(c frag_queued)" = 0 ] &&
		[ "$(r rx ttl_min)" = 9 ] && [ "$(r rx ttl_max)" = 9 ] && [ "$(r rx hdr_n)" = $n ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 6. -s: one IPv6 source relayed, the other never even copied; the join is source-specific.
test_source_filter() {
	local n=1000 name="IPv6: -s relays only the chosen source, joined source-specifically (MLDv2)"
	local g=$GROUP6_HEX s=$SRC6_HEX ssm=''
	start_mcr -i r0 -g "$GROUP6" -s $SRC6 -o '[fd00:2::2]:6000' ||
		{ mcr_fail "$name" start; return; }
	# Idx Device Multicast-Address Source-Address INC EXC: one source, included.
	# shellcheck disable=SC2016 # awk's own variables
	ip netns exec "$RLY" awk -v g="$g" -v s="$s" '$2 == "r0" && $3 == g && $4 == s && $5 == 1 {
		f = 1 } END { exit !f }' /proc/net/mcfilter6 && ssm=yes
	receive rx "$RCV" '[fd00:2::2]:6000' "" -w 1500 -T 15 || { mcr_fail "$name" receiver; return; }
	send6 -d "$GROUP6" -S $SRC6_OTHER -s 2 -n $n -r 10000 -l 100 >/dev/null
	send6 -d "$GROUP6" -S $SRC6 -s 1 -n $n -r 10000 -l 100 >/dev/null
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r rx received)" = $n ] && [ "$(r rx unique)" = $n ] && [ "$(r rx corrupt)" = 0 ] &&
		[ "$(c relayed)" = $n ] && [ "$(c rx_packets)" = $n ] && [ "$ssm" = yes ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "ssm=${ssm:-no in $(ip netns exec "$RLY" cat /proc/net/mcfilter6 | tr '\n' ' ')} | $(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 7. Other IPv6 groups and ports, TCP, and IPv4 on the same group number are not relayed,
# nor copied to the ring at all.
test_other_traffic() {
	local n=500 name="IPv6: other groups, ports, protocols and IPv4 are not relayed, not captured"
	local k
	start_mcr -i r0 -g "$GROUP6" -o '[fd00:2::2]:6000' || { mcr_fail "$name" start; return; }
	receive rx "$RCV" '[fd00:2::2]:6000' "" -w 1500 -T 15 || { mcr_fail "$name" receiver; return; }
	send6 -d '[ff3e::1235]:5000' -n $n -r 10000 -l 100 >/dev/null
	send6 -d '[ff3e::1234]:5001' -n $n -r 10000 -l 100 >/dev/null
	for k in tcp other-port other-group; do
		ip netns exec "$SND" "$INJECT6" -I s0 -c $k -n $n -l 100 >/dev/null
	done
	send6 -d 239.0.0.1:5000 -n $n -r 10000 -l 100 >/dev/null
	ip netns exec "$SND" "$INJECT" -I s0 -c valid -n $n -l 100 >/dev/null
	ip netns exec "$SND" "$INJECT6" -I s0 -c valid -n $n -s 7 -l 100 >/dev/null
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

# 8. Crafted IPv6 frames: each lands in the counter its case names, relayed ones intact.
# case:outcome, where outcome is a drop counter, "relayed", "none" (the kernel filter keeps
# it out), or "frags/K" (K fragments a datagram, reassembled and relayed). udplen-short is
# relayed trimmed, as the kernel delivers it: netns_oracle.sh compares those bytes.
test_crafted() {
	local name="IPv6: crafted frames are counted by reason; good ones relayed intact"
	local cases="valid:relayed hbh:relayed dstopts:relayed routing-done:drop_malformed
		chain8:relayed chain9:relayed atomic:relayed
		routing-left:drop_malformed hbh-late:drop_malformed
		ext-overrun:drop_malformed plen-long:drop_malformed plen-zero:drop_malformed
		udplen-long:drop_malformed version:drop_malformed
		frag-odd:drop_malformed frag-past:drop_malformed frag-empty:drop_malformed
		csum-zero:drop_checksum csum-bad:drop_checksum
		hbh-tcp:drop_unmatched hbh-other-port:drop_unmatched other-source:relayed
		tcp:none other-port:none other-group:none
		frags:frags/3 frags-dstopts:frags/3 frags-hbh:frags/3 frags-interleave:frags/3
		frags-overlap:overlap/2"
	local n=10 k kase out stream=10 bad='' want got
	local relayed=0 frames=0 reassembled=0 invalid=0 captured=0
	declare -A drops=()
	start_mcr -i r0 -g "$GROUP6" -o '[fd00:2::2]:6000' || { mcr_fail "$name" start; return; }
	receive rx "$RCV" '[fd00:2::2]:6000' "" -w 5000 -T 30 || { mcr_fail "$name" receiver; return; }
	for k in $cases; do
		kase=${k%%:*} out=${k#*:} stream=$((stream + 1))
		case $out in
		frags/* | overlap/*)
			ip netns exec "$SND" "$INJECT6" -I s0 -c "$kase" -n $n -s $stream -l 400 \
				-k "${out#*/}" >"$WORK/inj.out" ;;
		*)
			ip netns exec "$SND" "$INJECT6" -I s0 -c "$kase" -n $n -s $stream -l 100 \
				>"$WORK/inj.out" ;;
		esac
		[ "$(r inj injected)" = $n ] || bad="$bad $kase:injected=$(r inj injected)"
		case $out in
		relayed) relayed=$((relayed + n)) captured=$((captured + n)) ;;
		none) ;;
		frags/*)
			frames=$((frames + n * ${out#*/})) reassembled=$((reassembled + n))
			captured=$((captured + n * ${out#*/})) ;;
		overlap/*)
			frames=$((frames + n * ${out#*/})) invalid=$((invalid + n))
			captured=$((captured + n * ${out#*/})) ;;
		*) drops[$out]=$((${drops[$out]:-0} + n)) captured=$((captured + n)) ;;
		esac
	done
	wait "$rx_PID"
	counters
	stop_mcr
	for want in drop_truncated drop_malformed drop_checksum drop_fragment drop_unmatched drop_vlan \
		drop_martian; do
		got=$(c $want)
		[ "$got" = "${drops[$want]:-0}" ] || bad="$bad $want=$got/${drops[$want]:-0}"
	done
	[ "$(c relayed)" = $relayed ] || bad="$bad relayed=$(c relayed)/$relayed"
	[ "$(c frag_queued)" = $frames ] || bad="$bad frag_queued=$(c frag_queued)/$frames"
	[ "$(c frag_reassembled)" = $reassembled ] ||
		bad="$bad frag_reassembled=$(c frag_reassembled)/$reassembled"
	[ "$(c frag_invalid)" = $invalid ] || bad="$bad frag_invalid=$(c frag_invalid)/$invalid"
	[ "$(c rx_packets)" = $captured ] || bad="$bad rx_packets=$(c rx_packets)/$captured"
	[ "$(r rx received)" = $((relayed + reassembled)) ] ||
		bad="$bad received=$(r rx received)/$((relayed + reassembled))"
	[ "$(r rx unique)" = $((relayed + reassembled)) ] || bad="$bad unique=$(r rx unique)"
	[ "$(r rx corrupt)" = 0 ] || bad="$bad corrupt=$(r rx corrupt)"
	adds_up || bad="$bad sum"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad | $(cat "$WORK/counters")"
	fi
}

# 9. IPv4 in, IPv6 out, multicast and unicast; keep copies the IPv4 DSCP into the traffic class.
test_v4_to_v6() {
	local n=5000 tos=104 name="IPv4 in, IPv6 out: every datagram intact, TOS kept as traffic class"
	start_mcr -i r0 -g 239.0.0.1:5000 -o '[ff3e::99]:6000@r1' -o '[fd00:3::2]:6000' ||
		{ mcr_fail "$name" start; return; }
	receive rx1 "$RCV" '[ff3e::99]:6000' v1 -n $n -T 20 -H || { mcr_fail "$name" rx1; return; }
	receive rx2 "$RCV2" '[fd00:3::2]:6000' "" -n $n -T 20 || { mcr_fail "$name" rx2; return; }
	send6 -d 239.0.0.1:5000 -n $n -r 10000 -l 1316 -c $tos >"$WORK/tx.out"
	wait "$rx1_PID" "$rx2_PID"
	counters
	stop_mcr
	if [ "$(r rx1 unique)" = $n ] && [ "$(r rx1 corrupt)" = 0 ] &&
		[ "$(r rx2 unique)" = $n ] && [ "$(r rx2 corrupt)" = 0 ] &&
		[ "$(r rx1 tos_min)" = $tos ] && [ "$(r rx1 tos_max)" = $tos ] &&
		[ "$(c relayed)" = $n ] && [ "$(c tx_errors)" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx1.out") | $(cat "$WORK/rx2.out") | $(cat "$WORK/counters")"
	fi
}

# 10. IPv6 in, IPv4 out, unicast and multicast; keep copies the traffic class's DSCP into TOS.
test_v6_to_v4() {
	local n=5000 tc=136 name="IPv6 in, IPv4 out: every datagram intact, traffic class kept as TOS"
	start_mcr -i r0 -g "$GROUP6" -o 198.18.2.2:6000 -o 239.0.0.2:6000@r2 ||
		{ mcr_fail "$name" start; return; }
	receive rx1 "$RCV" 198.18.2.2:6000 "" -n $n -T 20 -H || { mcr_fail "$name" rx1; return; }
	receive rx2 "$RCV2" 239.0.0.2:6000 v2 -n $n -T 20 -H || { mcr_fail "$name" rx2; return; }
	send6 -d "$GROUP6" -n $n -r 10000 -l 1316 -c $tc >"$WORK/tx.out"
	wait "$rx1_PID" "$rx2_PID"
	counters
	stop_mcr
	if [ "$(r rx1 unique)" = $n ] && [ "$(r rx1 corrupt)" = 0 ] &&
		[ "$(r rx2 unique)" = $n ] && [ "$(r rx2 corrupt)" = 0 ] &&
		[ "$(r rx1 tos_min)" = $tc ] && [ "$(r rx1 tos_max)" = $tc ] &&
		[ "$(r rx2 tos_min)" = $tc ] && [ "$(r rx2 ttl_max)" = 1 ] &&
		[ "$(c relayed)" = $n ] && [ "$(c tx_errors)" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx1.out") | $(cat "$WORK/rx2.out") | $(cat "$WORK/counters")"
	fi
}

# 11. IPv6 in, IPv6 out: keep (the default) copies the traffic class's DSCP, ECN bits 0.
test_dscp_keep() {
	local n=500 tc=105 want=104 name="IPv6 in, IPv6 out: --dscp keep copies the traffic class"
	start_mcr -i r0 -g "$GROUP6" -o '[ff3e::99]:6000@r1' -o '[fd00:3::2]:6000' ||
		{ mcr_fail "$name" start; return; }
	receive rx1 "$RCV" '[ff3e::99]:6000' v1 -n $n -T 10 -H || { mcr_fail "$name" rx1; return; }
	receive rx2 "$RCV2" '[fd00:3::2]:6000' "" -n $n -T 10 -H || { mcr_fail "$name" rx2; return; }
	# Traffic class 105: DSCP 26 (AF31) and ECN 01; relayed as 26 << 2.
	send6 -d "$GROUP6" -n $n -r 10000 -l 200 -c $tc >/dev/null
	wait "$rx1_PID" "$rx2_PID"
	stop_mcr
	if [ "$(r rx1 tos_min)/$(r rx1 tos_max)" = $want/$want ] &&
		[ "$(r rx2 tos_min)/$(r rx2 tos_max)" = $want/$want ] &&
		[ "$(r rx1 hdr_n)" = $n ] && [ "$(r rx2 hdr_n)" = $n ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx1.out") | $(cat "$WORK/rx2.out")"
	fi
}

# 12. Datagrams larger than the MTU: the sender's kernel fragments them, mcr reassembles.
test_fragments() {
	local n=2000 len=4000 name="IPv6: kernel-fragmented datagrams are reassembled and relayed whole"
	# RFC 8200 section 4.5: each fragment but the last carries a multiple of 8 bytes.
	local per=$(((MTU - IP6_HLEN - FRAG_HLEN) / 8 * 8))
	local k=$(((UDP_HLEN + len + per - 1) / per))
	start_mcr -i r0 -g "$GROUP6" -o '[fd00:2::2]:6000' || { mcr_fail "$name" start; return; }
	receive rx "$RCV" '[fd00:2::2]:6000' "" -n $n -T 20 || { mcr_fail "$name" receiver; return; }
	send6 -d "$GROUP6" -n $n -r 5000 -l $len >"$WORK/tx.out"
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r rx unique)" = $n ] && [ "$(r rx corrupt)" = 0 ] &&
		[ "$(r rx bytes)" = $((n * len)) ] && [ "$(c frag_queued)" = $((n * k)) ] &&
		[ "$(c frag_reassembled)" = $n ] && [ "$(c relayed)" = 0 ] &&
		[ "$(c frag_invalid)" = 0 ] && adds_up; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "k=$k $(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 13. A backlog of IPv6 fragments (mcr stopped while they arrive): every datagram rebuilt, none
# refused for want of a reassembly slot, though more than 16 complete in one ring's worth.
test_fragment_burst() {
	local n=40 k=3 name="IPv6: a backlog of fragments after a stall is reassembled whole"
	start_mcr -i r0 -g "$GROUP6" -o '[fd00:2::2]:6000' || { mcr_fail "$name" start; return; }
	receive rx "$RCV" '[fd00:2::2]:6000' "" -n $n -T 10 || { mcr_fail "$name" receiver; return; }
	kill -STOP "$MCR_PID"
	ip netns exec "$SND" "$INJECT6" -I s0 -c frags -n $n -k $k -l 1000 -s 3 >"$WORK/inj.out"
	kill -CONT "$MCR_PID"
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r inj frames)" = $((n * k)) ] && [ "$(r rx unique)" = $n ] &&
		[ "$(r rx corrupt)" = 0 ] && [ "$(c frag_reassembled)" = $n ] &&
		[ "$(c frag_queued)" = $((n * k)) ] && [ "$(c drop_fragment)" = 0 ] &&
		[ "$(c frag_evicted)" = 0 ] && [ "$(c kernel_drops)" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/inj.out") | $(cat "$WORK/rx.out") | $(cat "$WORK/counters")"
	fi
}

# 14. Egress options on an IPv6 multicast destination: hop limit 1 unless --ttl says, traffic
# class kept (0 here) unless --dscp says; unicast gets the interface's own hop limit.
test_hop_limit_dscp() {
	local n=500 name="IPv6 egress: hop limit 1 by default, --ttl 7 gives 7, --dscp ef gives 0xb8"
	local ef=$((46 << 2)) uni bad=''
	uni=$(ip netns exec "$RLY" sysctl -n net.ipv6.conf.r2.hop_limit)
	start_mcr -i r0 -g "$GROUP6" -o '[ff3e::99]:6000@r1' -o '[fd00:3::2]:6000' ||
		{ mcr_fail "$name" start; return; }
	receive rx1 "$RCV" '[ff3e::99]:6000' v1 -n $n -T 10 -H || { mcr_fail "$name" rx1; return; }
	receive rx2 "$RCV2" '[fd00:3::2]:6000' "" -n $n -T 10 -H || { mcr_fail "$name" rx2; return; }
	send6 -d "$GROUP6" -n $n -r 10000 -l 200 >/dev/null
	wait "$rx1_PID" "$rx2_PID"
	stop_mcr
	[ "$(r rx1 ttl_min)/$(r rx1 ttl_max)" = 1/1 ] || bad="$bad default-mc-hops=$(r rx1 ttl_min)"
	[ "$(r rx1 tos_min)/$(r rx1 tos_max)" = 0/0 ] || bad="$bad default-tclass=$(r rx1 tos_max)"
	[ "$(r rx2 ttl_min)/$(r rx2 ttl_max)" = "$uni/$uni" ] ||
		bad="$bad default-uc-hops=$(r rx2 ttl_min)/$uni"
	[ "$(r rx1 hdr_n)" = $n ] || bad="$bad hdr_n=$(r rx1 hdr_n)"

	start_mcr -i r0 -g "$GROUP6" -o '[ff3e::99]:6000@r1' -o '[fd00:3::2]:6000' --ttl 7 \
		--dscp ef || { mcr_fail "$name" start; return; }
	receive rx1 "$RCV" '[ff3e::99]:6000' v1 -n $n -T 10 -H || { mcr_fail "$name" rx1; return; }
	receive rx2 "$RCV2" '[fd00:3::2]:6000' "" -n $n -T 10 -H || { mcr_fail "$name" rx2; return; }
	send6 -d "$GROUP6" -n $n -r 10000 -l 200 -c 40 >/dev/null
	wait "$rx1_PID" "$rx2_PID"
	stop_mcr
	[ "$(r rx1 ttl_min)/$(r rx1 ttl_max)" = 7/7 ] || bad="$bad ttl7-mc=$(r rx1 ttl_min)"
	[ "$(r rx2 ttl_min)/$(r rx2 ttl_max)" = 7/7 ] || bad="$bad ttl7-uc=$(r rx2 ttl_min)"
	[ "$(r rx1 tos_min)/$(r rx1 tos_max)" = $ef/$ef ] || bad="$bad ef-mc=$(r rx1 tos_max)"
	[ "$(r rx2 tos_min)/$(r rx2 tos_max)" = $ef/$ef ] || bad="$bad ef-uc=$(r rx2 tos_max)"
	[ "$(r rx1 unique)" = $n ] && [ "$(r rx2 unique)" = $n ] || bad="$bad unique"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad | $(cat "$WORK/rx1.out") | $(cat "$WORK/rx2.out")"
	fi
}

# 15. Loop off on IPv6 multicast egress: a socket on the relay host joined to the egress group
# sees nothing of what mcr sends.
test_loop_off() {
	local n=500 name="IPv6 multicast egress has loopback off"
	start_mcr -i r0 -g "$GROUP6" -o '[ff3e::99]:6000@r1' || { mcr_fail "$name" start; return; }
	receive lo "$RLY" '[ff3e::99]:6000' r1 -w 1000 -T 2 || { mcr_fail "$name" receiver; return; }
	receive rx "$RCV" '[ff3e::99]:6000' v1 -n $n -T 10 || { mcr_fail "$name" rx; return; }
	send6 -d "$GROUP6" -n $n -r 10000 -l 200 >/dev/null
	wait "$rx_PID" "$lo_PID"
	stop_mcr
	if [ "$(r rx unique)" = $n ] && [ "$(r lo received)" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/lo.out") | $(cat "$WORK/rx.out")"
	fi
}

v6_topology
test_relay_integrity
test_join
test_counters
test_fanout
test_unicast
test_source_filter
test_other_traffic
test_crafted
test_v4_to_v6
test_v6_to_v4
test_dscp_keep
test_fragments
test_fragment_burst
test_hop_limit_dscp
test_loop_off
test_egress_queue_full
mcr_summary
