#!/bin/bash
# `make demo`: the problem and the fix, on three network namespaces built here and torn down
# at exit. Nothing leaves them.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root for its network namespaces: sudo make demo" >&2
	exit 1
fi

N=10000
RATE=5000
WORK=$(mktemp -d)
MCR_PID=
say() { printf '\n== %s\n' "$*"; }
finish() {
	[ -n "$MCR_PID" ] && kill -TERM "$MCR_PID" 2>/dev/null && wait "$MCR_PID" 2>/dev/null
	mcr_cleanup
	rm -rf "$WORK"
}

say "Building the network: a sender, a relay and a receiver, each in its own namespace."
mcr_topology
trap finish EXIT
cat <<TXT
   sender 198.19.50.5 [s0] ---- [r0 198.18.1.1] relay [r1 198.18.2.1] ---- [v1 198.18.2.2] receiver
The relay has rp_filter=1 and no route back to 198.19.50.0/24: to its kernel, the
sender's address is not reachable through r0, so the reverse-path check fails.
TXT

say "Step 1: an ordinary socket on the relay joins 239.0.0.1:5000 on r0."
echo "The sender sends $N datagrams at $RATE per second."
ip netns exec "$RLY" tests/receiver -g 239.0.0.1:5000 -I r0 -n $N -w 1500 -T 10 \
	-R "$WORK/ready1" >"$WORK/rx1" 2>&1 &
rx=$!
mcr_wait_file "$WORK/ready1" 5
ip netns exec "$SND" tests/sender -d 239.0.0.1:5000 -I s0 -n $N -r $RATE -l 1316 >/dev/null
wait $rx
got=$(mcr_kv "$WORK/rx1" received)
echo "The socket received $got of $N: the kernel dropped every one before any socket saw it."
echo "(socat, or any program reading a UDP socket, sees the same nothing.)"

say "Step 2: mcr captures on r0 before that check and sends each payload to the receiver."
echo "Running: mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000"
ip netns exec "$RCV" tests/receiver -g 198.18.2.2:6000 -n $N -T 20 -R "$WORK/ready2" \
	>"$WORK/rx2" 2>&1 &
rx=$!
mcr_wait_file "$WORK/ready2" 5
ip netns exec "$RLY" ./mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 2>"$WORK/mcr.log" &
MCR_PID=$!
for _ in $(seq 100); do
	grep -q 'relaying' "$WORK/mcr.log" && break
	sleep 0.05
done
sed 's/^/    /' "$WORK/mcr.log"
echo "The sender sends the same $N datagrams again."
ip netns exec "$SND" tests/sender -d 239.0.0.1:5000 -I s0 -n $N -r $RATE -l 1316 >/dev/null
wait $rx
echo "The receiver got $(mcr_kv "$WORK/rx2" unique) of $N," \
	"$(mcr_kv "$WORK/rx2" lost) lost, $(mcr_kv "$WORK/rx2" corrupt) corrupt," \
	"one-way latency $(mcr_kv "$WORK/rx2" lat_avg_us) us on average."

say "Step 3: mcr's counters, as SIGUSR1 prints them (SIGTERM prints them once more and exits 0)."
kill -USR1 $MCR_PID
sleep 0.2
grep 'rx_packets=' "$WORK/mcr.log" | tail -n 1 | tr ' ' '\n' | sed -n '2,$p' | sed 's/^/    /'
kill -TERM $MCR_PID
wait $MCR_PID
echo "mcr exited with status $?."
MCR_PID=
say "Done: the namespaces are removed."
