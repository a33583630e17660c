#!/bin/bash
# `make demo`: the problem and the fix, on three network namespaces built here and torn down
# at exit. Nothing leaves them. Each step says in plain words what happens; the last thing
# printed is mcr's final counters.
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
chown 65534:65534 "$WORK"	# mcr, started as root, writes stats.json as nobody
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
rpf_before=$(mcr_netstat "$RLY" IPReversePathFilter)
ip netns exec "$RLY" tests/receiver -g 239.0.0.1:5000 -I r0 -n $N -w 1500 -T 10 \
	-R "$WORK/ready1" >"$WORK/rx1" 2>&1 &
rx=$!
mcr_wait_file "$WORK/ready1" 5
ip netns exec "$SND" tests/sender -d 239.0.0.1:5000 -I s0 -n $N -r $RATE -l 1316 >/dev/null
wait $rx
got=$(mcr_kv "$WORK/rx1" received)
echo "The socket received $got of $N: the kernel dropped every one before any socket saw it."
echo "Its reverse-path counter (nstat: TcpExtIPReversePathFilter) went up by" \
	"$(($(mcr_netstat "$RLY" IPReversePathFilter) - rpf_before))."
echo "(socat, or any program reading a UDP socket, sees the same nothing.)"

say "Step 2: mcr captures on r0, before that check, and sends each payload to the receiver."
echo "Running: mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --stats-file stats.json" \
	"--ready-fd 3"
ip netns exec "$RCV" tests/receiver -g 198.18.2.2:6000 -n $N -T 20 -R "$WORK/ready2" \
	>"$WORK/rx2" 2>&1 &
rx=$!
mcr_wait_file "$WORK/ready2" 5
mkfifo "$WORK/ready.fifo"
ip netns exec "$RLY" ./mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 \
	--stats-file "$WORK/stats.json" --ready-fd 3 3>"$WORK/ready.fifo" 2>"$WORK/mcr.log" &
MCR_PID=$!
read -r line <"$WORK/ready.fifo"
echo "mcr wrote '$line' on descriptor 3 the moment capture ran; no need to sleep and hope."
echo "Its first line on stderr:"
sed 's/^/    /' "$WORK/mcr.log"
echo "The sender sends the same $N datagrams again."
ip netns exec "$SND" tests/sender -d 239.0.0.1:5000 -I s0 -n $N -r $RATE -l 1316 >/dev/null
wait $rx
echo "The receiver got $(mcr_kv "$WORK/rx2" unique) of $N," \
	"$(mcr_kv "$WORK/rx2" lost) lost, $(mcr_kv "$WORK/rx2" corrupt) corrupt," \
	"one-way latency $(mcr_kv "$WORK/rx2" lat_avg_us) us on average."

say "Step 3: a script reads the counters from the stats file, rewritten whole every second."
for _ in $(seq 60); do
	[ "$(jq -r .relayed "$WORK/stats.json" 2>/dev/null)" = $N ] && break
	sleep 0.05
done
echo "jq '{uptime_s, relayed, kernel_drops}' stats.json"
jq '{uptime_s, relayed, kernel_drops}' "$WORK/stats.json" | sed 's/^/    /'

say "Step 4: SIGTERM: mcr finishes its sends, leaves the group and prints its final counters."
kill -TERM $MCR_PID
wait $MCR_PID
status=$?
MCR_PID=
echo "mcr exited with status $status. The namespaces are removed on the way out."
echo "Its final counters (mcr(1), COUNTERS, explains each):"
grep 'event=final' "$WORK/mcr.log" | tr ' ' '\n' | sed -n '2,$p' | awk -F= '
	BEGIN {
		say["rx_packets"] = "frames captured on r0"
		say["relayed"] = "datagrams sent on to every destination"
		say["kernel_drops"] = "frames the kernel had no ring room for"
		say["out1.tx_packets"] = "datagrams the receiver was sent"
		say["out1.last_error"] = "why the latest send failed, - for never"
	}
	$1 in say { printf "    %-28s %s\n", $0, say[$1]; next }
	{ print "    " $0 }'
