#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Datagrams glued into one frame: a sender's UDP GSO super-packet crosses a veth whole, and the
# packet socket sees it so (GRO with rx-udp-gro-forwarding or rx-gro-list does the same on a
# NIC); the kernel splits it again before any socket gets it. mcr must never relay it glued:
# it counts it under drop_glued. Plain datagrams in the same run are relayed as ever. (Before
# Linux 6.2 the kernel cannot describe a UDP GSO frame to a PACKET_VNET_HDR socket and drops it
# from the ring itself: kernel_drops then counts it instead.)
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

GROUP=239.0.0.1:5000
N=200		# plain datagrams
N_GLUED=50	# super-packets of each size

mcr_require_root
mcr_need_tools sender receiver
mcr_suite_setup

# send ARGS...: from SND on s0 to the group; output in $WORK/tx.out
send() {
	ip netns exec "$SND" "$SEND" -d "$GROUP" -I s0 -T 10 "$@" >"$WORK/tx.out" 2>&1
}

name="UDP GSO super-packets are counted as drop_glued, never relayed glued"
if ! start_mcr -i r0 -g "$GROUP" -o 198.18.2.2:6000; then
	mcr_fail "$name" start
elif ! receive rx "$RCV" 198.18.2.2:6000 "" -n $((10 * N)) -w 3000 -T 20; then
	mcr_fail "$name" receiver
else
	bad=
	send -n $N -r 2000 -l 100 || bad="$bad plain-send"
	# 10 datagrams of 100 bytes a send: a 1042-byte frame, whole in the capture.
	send -n $N_GLUED -r 500 -l 1000 -U 100 -s 2 || bad="$bad small-gso-send"
	[ "$(r tx sent)" = $N_GLUED ] || bad="$bad small-gso-sent=$(r tx sent)"
	# 8 datagrams of 1000 bytes a send: an 8042-byte frame, past the MTU and the capture.
	send -n $N_GLUED -r 500 -l 8000 -U 1000 -s 3 || bad="$bad large-gso-send"
	[ "$(r tx sent)" = $N_GLUED ] || bad="$bad large-gso-sent=$(r tx sent)"
	wait "$rx_PID"
	counters
	stop_mcr
	[ "$(c relayed)" = $N ] || bad="$bad relayed=$(c relayed)"
	[ $(($(c drop_glued) + $(c kernel_drops))) = $((2 * N_GLUED)) ] ||
		bad="$bad drop_glued=$(c drop_glued) kernel_drops=$(c kernel_drops)"
	[ "$(c drop_truncated)" = 0 ] || bad="$bad drop_truncated=$(c drop_truncated)"
	[ $(($(c rx_packets) + $(c kernel_drops))) = $((N + 2 * N_GLUED)) ] ||
		bad="$bad rx_packets=$(c rx_packets)"
	[ "$(r rx received)" = $N ] || bad="$bad received=$(r rx received)"
	[ "$(r rx unique)" = $N ] && [ "$(r rx corrupt)" = 0 ] || bad="$bad $(cat "$WORK/rx.out")"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad | $(cat "$WORK/counters")"
	fi
fi

mcr_summary
