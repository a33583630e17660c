#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The problem mcr solves: with strict reverse-path filtering on the ingress interface, a
# multicast stream from a source the host has no route back to never reaches an ordinary
# socket, though every frame arrives. The control shows the same receiver works without RPF.

set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

COUNT=2000
RATE=2000	# pps: one second of stream
GROUP=239.0.0.1:5000

mcr_require_root
mcr_need_tools sender receiver
mcr_topology

# start_receiver NAME TIMEOUT_S: receiver in RLY joined on r0, ready; output in $MCR_TMP/NAME.rx
start_receiver() {
	local name=$1 timeout=$2
	rm -f "$MCR_TMP/$name.ready"
	mcr_bg "$MCR_TMP/$name.rx" "$RLY" "$MCR_RECEIVER" -g "$GROUP" -I r0 -n "$COUNT" \
		-T "$timeout" -R "$MCR_TMP/$name.ready"
	RX_PID=$MCR_BG_PID
	mcr_wait_file "$MCR_TMP/$name.ready" 5
}

# send_stream NAME: COUNT datagrams from SND at RATE; output in $MCR_TMP/NAME.tx
send_stream() {
	ip netns exec "$SND" "$MCR_SENDER" -d "$GROUP" -I s0 -n "$COUNT" -r "$RATE" -T 5 \
		>"$MCR_TMP/$1.tx" 2>&1
}

# --- rp_filter=1: every frame reaches r0, RPF drops every one, the socket gets nothing
name="kernel drops the stream for a normal socket"
rx_before=$(mcr_link_stat "$RLY" r0 rx_packets)
rpf_before=$(mcr_netstat "$RLY" IPReversePathFilter)
if ! start_receiver drop 5; then
	mcr_fail "$name" "receiver never got ready: $(cat "$MCR_TMP/drop.rx")"
else
	send_stream drop
	# Wait for the kernel's verdict on every datagram, not for a guessed time.
	for ((i = 0; i < 100; i++)); do
		rpf=$(mcr_netstat "$RLY" IPReversePathFilter)
		[ $((rpf - rpf_before)) -ge "$COUNT" ] && break
		sleep 0.02
	done
	kill -TERM "$RX_PID" 2>/dev/null
	mcr_wait_pid "$RX_PID" 3
	sent=$(mcr_kv "$MCR_TMP/drop.tx" sent)
	received=$(mcr_kv "$MCR_TMP/drop.rx" received)
	arrived=$(($(mcr_link_stat "$RLY" r0 rx_packets) - rx_before))
	rpf_drops=$(($(mcr_netstat "$RLY" IPReversePathFilter) - rpf_before))
	detail="sent=$sent arrived_on_r0=$arrived rpf_drops=$rpf_drops received=$received"
	if [ "$sent" != "$COUNT" ]; then
		mcr_fail "$name" "sender did not send them all: $detail"
	elif [ "$arrived" -lt "$COUNT" ]; then
		mcr_fail "$name" "frames did not reach r0: $detail"
	elif [ "$received" != 0 ]; then
		mcr_fail "$name" "socket got datagrams despite rp_filter=1: $detail"
	elif [ "$rpf_drops" -lt "$COUNT" ]; then
		mcr_fail "$name" "not dropped by the reverse-path filter: $detail"
	else
		echo "  $detail"
		mcr_pass "$name"
	fi
fi

# --- control: rp_filter=0 (the effective value is the larger of all and r0), all arrive
name="control: receiver works when RPF is off"
mcr_sysctl "$RLY" net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.r0.rp_filter=0
if ! start_receiver control 5; then
	mcr_fail "$name" "receiver never got ready: $(cat "$MCR_TMP/control.rx")"
else
	send_stream control
	mcr_wait_pid "$RX_PID" 5
	rc=$?
	line=$(tail -n 1 "$MCR_TMP/control.rx")
	sent=$(mcr_kv "$MCR_TMP/control.tx" sent)
	if [ "$rc" != 0 ]; then
		mcr_fail "$name" "receiver exited $rc: $line"
	elif [ "$sent" != "$COUNT" ] ||
		[ "$(mcr_kv "$MCR_TMP/control.rx" unique)" != "$COUNT" ] ||
		[ "$(mcr_kv "$MCR_TMP/control.rx" corrupt)" != 0 ] ||
		[ "$(mcr_kv "$MCR_TMP/control.rx" foreign)" != 0 ]; then
		mcr_fail "$name" "sent=$sent, $line"
	else
		echo "  $line"
		mcr_pass "$name"
	fi
fi
mcr_sysctl "$RLY" net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.r0.rp_filter=1

mcr_summary
