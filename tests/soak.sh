#!/bin/bash
# `make soak`: mcr relays a steady stream for SOAK_SECONDS (default 600) in namespaces;
# afterwards: zero loss, and resident memory and open file descriptors flat after warm-up.
# A measurement run, not part of `make check` (it takes ten minutes).
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

SECONDS_TOTAL=${SOAK_SECONDS:-600}
RATE=${SOAK_RATE:-10000}
WARMUP=30

mcr_suite_setup

n=$((SECONDS_TOTAL * RATE))
start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || exit 1
receive rx "$RCV" 198.18.2.2:6000 "" -n $n -T $((SECONDS_TOTAL + 60)) -w 5000 || exit 1
echo "soak: $n datagrams at $RATE pps for $SECONDS_TOTAL s; sampling RSS and fds every 10 s" >&2
ip netns exec "$SND" tests/sender -d 239.0.0.1:5000 -I s0 -n $n -r "$RATE" -l 1316 \
	-T $((SECONDS_TOTAL + 30)) >"$WORK/tx.out" &
sender=$!
: >"$WORK/samples"
t=0
while kill -0 "$sender" 2>/dev/null && [ $t -le $((SECONDS_TOTAL + 30)) ]; do
	sleep 10
	t=$((t + 10))
	printf '%s %s %s\n' $t "$(awk '/^VmRSS:/ { print $2 }' "/proc/$MCR_PID/status")" \
		"$(ls "/proc/$MCR_PID/fd" | wc -l)" >>"$WORK/samples"
done
wait "$sender" "$rx_PID"
counters
stop_mcr

after=$(awk -v w=$WARMUP '$1 >= w' "$WORK/samples")
rss_min=$(echo "$after" | awk 'NR == 1 || $2 < m { m = $2 } END { print m }')
rss_max=$(echo "$after" | awk 'NR == 1 || $2 > m { m = $2 } END { print m }')
fd_min=$(echo "$after" | awk 'NR == 1 || $3 < m { m = $3 } END { print m }')
fd_max=$(echo "$after" | awk 'NR == 1 || $3 > m { m = $3 } END { print m }')
echo "sender:   $(cat "$WORK/tx.out")"
echo "receiver: $(cat "$WORK/rx.out")"
echo "mcr:      $(cat "$WORK/counters")"
echo "RSS after ${WARMUP}s warm-up: $rss_min..$rss_max kB; fds: $fd_min..$fd_max;" \
	"$(wc -l <"$WORK/samples") samples"
if [ "$(r rx unique)" = $n ] && [ "$(r rx corrupt)" = 0 ] && [ "$rss_min" = "$rss_max" ] &&
	[ "$fd_min" = "$fd_max" ] && [ "$MCR_STATUS" = 0 ]; then
	echo "soak: PASS (zero loss, RSS and fds flat)"
else
	echo "soak: FAIL"
	exit 1
fi
