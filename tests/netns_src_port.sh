#!/bin/bash
# --src-port: relayed datagrams leave every destination's socket from one fixed UDP port, which
# receivers see; a port another socket holds is refused with one line and exit 71.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_require_root
mcr_need_tools sender receiver
command -v socat >/dev/null || { echo "FAIL $(basename "$0"): socat not installed"; exit 1; }
mcr_suite_setup

# peer NAME NS ADDR:PORT: a socat that takes one datagram on ADDR:PORT and writes the sender's
# address and port as "from=ADDR:PORT" to $WORK/NAME.peer; its PID in NAME_PID.
peer() {
	local name=$1 ns=$2 at=$3
	: >"$WORK/$name.peer"
	# shellcheck disable=SC2016 # socat's child expands its own variables
	ip netns exec "$ns" timeout 10 socat -u "UDP4-RECVFROM:${at#*:},bind=${at%:*}" \
		SYSTEM:'echo "from=$SOCAT_PEERADDR:$SOCAT_PEERPORT"; cat >/dev/null' \
		>"$WORK/$name.peer" 2>&1 &
	eval "${name}_PID=$!"
	# Bound once ss lists it: bounded wait.
	for _ in $(seq 100); do
		ip netns exec "$ns" ss -Huan "sport = :${at#*:}" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# send_some: 20 datagrams of the stream from the sender, well within any wait below.
send_some() {
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n 20 -r 1000 -l 100 >/dev/null
}

# 1. Both destinations' datagrams come from port 4000, each from the relay's address on that
# network: one port shared by several connected sockets.
test_src_port_seen() {
	local name="--src-port 4000: both receivers see source port 4000 from the relay"
	peer a "$RCV" 198.18.2.2:6000 && peer b "$RCV2" 198.18.3.2:6001 ||
		{ mcr_fail "$name" "socat did not start"; return; }
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 -o 198.18.3.2:6001 --src-port 4000 ||
		{ mcr_fail "$name" start; return; }
	send_some
	wait "$a_PID" "$b_PID"
	stop_mcr
	if [ "$(cat "$WORK/a.peer")" = from=198.18.2.1:4000 ] &&
		[ "$(cat "$WORK/b.peer")" = from=198.18.3.1:4000 ] && [ "$MCR_STATUS" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" \
			"a: $(cat "$WORK/a.peer") b: $(cat "$WORK/b.peer") status $MCR_STATUS"
	fi
}

# 2. The control: without --src-port the kernel picks an ephemeral port, not 4000.
test_ephemeral_without() {
	local name="without --src-port the source port is an ephemeral one"
	local lo hi port
	read -r lo hi <"/proc/sys/net/ipv4/ip_local_port_range"
	peer a "$RCV" 198.18.2.2:6000 || { mcr_fail "$name" "socat did not start"; return; }
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || { mcr_fail "$name" start; return; }
	send_some
	wait "$a_PID"
	stop_mcr
	port=$(sed -n 's/^from=198\.18\.2\.1:\([0-9]*\)$/\1/p' "$WORK/a.peer")
	if [ -n "$port" ] && [ "$port" != 4000 ] && [ "$port" -ge "$lo" ] && [ "$port" -le "$hi" ]
	then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/a.peer"), range $lo-$hi"
	fi
}

# 3. A port another program holds: one line naming it, exit 71, and nothing relayed.
test_taken_by_other() {
	local holder
	ip netns exec "$RLY" timeout 20 socat -u UDP4-RECV:4000 /dev/null &
	holder=$!
	for _ in $(seq 100); do
		ip netns exec "$RLY" ss -Huan 'sport = :4000' | grep -q . && break
		sleep 0.05
	done
	expect_relay "--src-port a port another socket holds: exit 71, one line" 71 \
		'^mcr: --src-port 4000: Address already in use: another socket holds UDP port' -- \
		"$MCR" -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --src-port 4000
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
}

# 4. Two relays cannot share one source port by accident: the second is refused the same way.
test_taken_by_mcr() {
	local name="a second mcr with the same --src-port" first
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --src-port 4002 ||
		{ mcr_fail "$name" start; return; }
	expect_relay "$name: exit 71, one line" 71 \
		'^mcr: --src-port 4002: Address already in use' -- \
		"$MCR" -i r0 -g 239.0.0.2:5000 -o 198.18.3.2:6000 --src-port 4002
	first=$MCR_PID
	stop_mcr
	[ "$MCR_STATUS" = 0 ] || mcr_fail "$name: the first one" "exit $MCR_STATUS (pid $first)"
}

test_src_port_seen
test_ephemeral_without
test_taken_by_other
test_taken_by_mcr
mcr_summary
