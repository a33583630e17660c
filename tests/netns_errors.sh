#!/bin/bash
# The mistakes and walls a newcomer meets in the first hour: each must be one line that names
# the culprit and the fix, with the exit status mcr(1) documents. In the namespaces of lib.sh;
# the io_uring walls are built with seccomp (tests/noring) and, for the sysctl, a file mounted
# over it in a private mount namespace, so the host's setting is never touched.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_require_root
mcr_need_tools sender receiver noring
MCR=$PWD/mcr
SEND=$PWD/tests/sender
RECV=$PWD/tests/receiver
NORING=$PWD/tests/noring
mcr_topology
WORK=$MCR_TMP
OK="-i r0 -g 239.0.0.1:5000 -o 239.0.0.2:6000@r1"

mcr_wait_oper "$RLY" r0 up

# 1. io_uring refused, call by call: exit 69, naming the call and the three to allow.
allow="allow io_uring_setup, io_uring_enter and io_uring_register"
for call in setup enter register; do
	want="^mcr: io_uring_$call: Operation not permitted: kernel.io_uring_disabled is 0, "
	want+="so a seccomp profile .* refuses it: $allow"
	expect_relay "io_uring_$call refused by seccomp: exit 69, says what to allow" 69 "$want" \
		-- "$NORING" -s $call "$MCR" $OK
done

# 2. The sysctl: a private mount namespace sees a file with 2 (or 1) as the sysctl, and seccomp
# refuses io_uring_setup the way the kernel then does. mcr must blame the sysctl, not seccomp.
for value in 2 1; do
	echo $value >"$WORK/io_uring_disabled.$value"
	case $value in
	2) extra='=0$' ;;
	1) extra='=0, or run mcr in kernel.io_uring_group$' ;;
	esac
	want="^mcr: io_uring_setup: Operation not permitted: sysctl kernel.io_uring_disabled is "
	want+="$value; allow io_uring with sysctl -w kernel.io_uring_disabled$extra"
	expect_relay "kernel.io_uring_disabled=$value: exit 69, says which sysctl to set" 69 "$want" \
		-- unshare -m --propagation private sh -c "'mount --bind $WORK/io_uring_disabled.$value \
		/proc/sys/kernel/io_uring_disabled && exec $NORING $MCR $OK'"
done

# 3. A kernel older than Linux 5.6 cannot list io_uring operations: EINVAL from the probe.
want="^mcr: io_uring on Linux $(uname -r | sed 's/[.+]/\\&/g') cannot list its operations "
want+="\(Linux 5.6 can\): mcr needs Linux 5.6 or later$"
expect_relay "a kernel too old for io_uring's probe (before 5.6): exit 69 naming the release" 69 \
	"$want" -- "$NORING" -s probe "$MCR" $OK

# 4. An egress interface without an IPv4 address: exit 66 before anything leaves from 0.0.0.0.
ip -n "$RLY" link add r9 type veth peer name r9p
ip -n "$RLY" link set r9 up
ip -n "$RLY" link set r9p up
expect_relay "egress interface without an IPv4 address: exit 66 saying how to add one" 66 \
	"^mcr: -o 239.0.0.2:6000@r9: r9 has no IPv4 address, .* \(ip address add ADDR/LEN dev r9\)$" \
	-- "$MCR" -i r0 -g 239.0.0.1:5000 -o 239.0.0.2:6000@r9
expect_relay "unicast through an interface without an IPv4 address: exit 66 too" 66 \
	"^mcr: -o 198.18.9.9:6000@r9: r9 has no IPv4 address" \
	-- "$MCR" -i r0 -g 239.0.0.1:5000 -o 198.18.9.9:6000@r9

# 5. The known ones, each one line with its status.
expect_relay "group that is not multicast: exit 64" 64 \
	"^mcr: -g 198.18.1.1:5000: not a multicast group \(224.0.0.0/4 or ff00::/8\) \(see mcr --help\)$" \
	-- "$MCR" -i r0 -g 198.18.1.1:5000 -o 239.0.0.2:6000@r1
expect_relay "ingress interface missing: exit 66" 66 "^mcr: eth7: no such interface \(see ip link\)$" \
	-- "$MCR" -i eth7 -g 239.0.0.1:5000 -o 239.0.0.2:6000@r1
want="^mcr: packet socket: Operation not permitted \(mcr needs CAP_NET_RAW: run it as root or "
want+="setcap cap_net_raw\+ep mcr\)$"
expect_relay "not root and no CAP_NET_RAW: exit 77 with both ways out" 77 "$want" \
	-- setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$MCR" $OK

# 6. An ingress that is down at start is waited for, with the reason and the fix in one line.
test_link_down() {
	local name="ingress set down: one line with 'ip link set r0 up', and mcr waits for it"
	ip -n "$RLY" link set r0 down
	if start_mcr_ready "$WORK/down.log" $OK && kill -0 "$MCR_PID" 2>/dev/null &&
		[ "$(grep -c 'link is down' "$WORK/down.log")" = 1 ] &&
		grep -q '^mcr: r0: link is down; relaying starts when it is up (ip link set r0 up)$' \
			"$WORK/down.log"; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/down.log")"
	fi
	stop_mcr_pid "$MCR_PID"
	ip -n "$RLY" link set r0 up
	mcr_wait_oper "$RLY" r0 up

	name="ingress without carrier: one line blaming the cable or the far end"
	ip -n "$SND" link set s0 down
	mcr_wait_oper "$RLY" r0 down
	if start_mcr_ready "$WORK/nocarrier.log" $OK && kill -0 "$MCR_PID" 2>/dev/null &&
		grep -q '^mcr: r0: link is down; relaying starts when it is up (no carrier: check the '\
'cable or the far end)$' "$WORK/nocarrier.log"; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/nocarrier.log")"
	fi
	stop_mcr_pid "$MCR_PID"
	ip -n "$SND" link set s0 up
	mcr_wait_oper "$RLY" r0 up
}

# 7. "Address already in use" is not a thing: mcr binds no port. A socket bound to the stream's
# port and a second mcr relaying the same stream do not stop either relay.
test_port_in_use() {
	local name="a socket bound to PORT and a second mcr on the same stream: both relay it all"
	local n=2000 pid1 pid2 s1 s2
	mcr_bg "$WORK/bound.out" "$RLY" socat -u UDP4-RECV:5000,reuseaddr /dev/null
	local squatter=$MCR_BG_PID
	rm -f "$WORK/rx1.ready" "$WORK/rx2.ready"
	mcr_bg "$WORK/rx1.out" "$RCV" "$RECV" -g 198.18.2.2:6000 -n $n -T 10 -R "$WORK/rx1.ready"
	local rx1=$MCR_BG_PID
	mcr_bg "$WORK/rx2.out" "$RCV2" "$RECV" -g 198.18.3.2:6000 -n $n -T 10 -R "$WORK/rx2.ready"
	local rx2=$MCR_BG_PID
	mcr_wait_file "$WORK/rx1.ready" 5 && mcr_wait_file "$WORK/rx2.ready" 5 ||
		{ mcr_fail "$name" receivers; return; }
	start_mcr_ready "$WORK/p1.log" -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 -c $n ||
		{ mcr_fail "$name" "first: $(cat "$WORK/p1.log")"; return; }
	pid1=$MCR_PID
	start_mcr_ready "$WORK/p2.log" -i r0 -g 239.0.0.1:5000 -o 198.18.3.2:6000 -c $n ||
		{ mcr_fail "$name" "second: $(cat "$WORK/p2.log")"; return; }
	pid2=$MCR_PID
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 10000 -l 500 >/dev/null
	mcr_wait_pid "$pid1" 5
	s1=$?
	mcr_wait_pid "$pid2" 5
	s2=$?
	wait "$rx1" "$rx2"
	kill "$squatter" 2>/dev/null
	if [ "$s1" = 0 ] && [ "$s2" = 0 ] && [ "$(mcr_kv "$WORK/rx1.out" unique)" = $n ] &&
		[ "$(mcr_kv "$WORK/rx2.out" unique)" = $n ] && ! grep -qi 'in use' "$WORK"/p?.log; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $s1/$s2: $(cat "$WORK/rx1.out") | $(cat "$WORK/rx2.out")"
	fi
}

test_link_down
test_port_in_use
mcr_summary
