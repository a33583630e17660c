#!/bin/bash
# --coalesce counts, not times: at 5,000 pps a relay that may hold a datagram 2 ms relays several
# per wake-up, one without the option relays about one, and every datagram arrives intact and in
# order either way. The wake-up counter is what shows it.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_suite_setup

N=10000		# datagrams: 2 s at RATE
RATE=5000	# pps, one every 200 us

# relay_stream NAME ARGS...: N datagrams through mcr ARGS; leaves the counters and rx.out.
relay_stream() {
	local name=$1
	shift
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 "$@" ||
		{ mcr_fail "$name" start; return 1; }
	receive rx "$RCV" 198.18.2.2:6000 "" -n $N -T 20 || { mcr_fail "$name" receiver; return 1; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $N -r $RATE -l 1316 >"$WORK/tx.out"
	wait "$rx_PID"
	counters
}

# intact: every datagram arrived once, byte-identical, in order, and mcr relayed each once.
intact() {
	[ "$(r rx unique)" = $N ] && [ "$(r rx corrupt)" = 0 ] && [ "$(r rx lost)" = 0 ] &&
		[ "$(r rx reordered)" = 0 ] && [ "$(r rx dup)" = 0 ] && [ "$(c relayed)" = $N ] &&
		[ "$(c tx_packets)" = $N ] && [ "$(c kernel_drops)" = 0 ]
}

# per_wakeup: relayed datagrams per wake-up, times ten, as an integer.
per_wakeup() {
	local w
	w=$(c wakeups)
	[ "${w:-0}" -gt 0 ] || { echo 0; return; }
	echo $(($(c relayed) * 10 / w))
}

# 1. Without the option: about one datagram per wake-up. A busy host batches a few when the
# relay is late to run (1.45 with 7 jobs on 2 CPUs), so up to 3 passes.
test_default() {
	local name="without --coalesce: about one datagram per wake-up, every one intact, in order"
	relay_stream "$name" || return
	stop_mcr
	local pw
	pw=$(per_wakeup)
	if intact && [ "$pw" -ge 10 ] && [ "$pw" -le 30 ]; then
		mcr_pass "$name ($(c relayed) in $(c wakeups) wake-ups)"
	else
		mcr_fail "$name" "x10 per wake-up: $pw | $(cat "$WORK/counters") | $(cat "$WORK/rx.out")"
	fi
}

# 2. --coalesce 2000: a window holds ~10 datagrams; at least 5 per wake-up, every one intact.
test_coalesce() {
	local name="--coalesce 2000: several datagrams per wake-up, every one intact, in order"
	relay_stream "$name" --coalesce 2000 || return
	local pw
	pw=$(per_wakeup)
	if intact && [ "$pw" -ge 50 ]; then
		mcr_pass "$name ($(c relayed) in $(c wakeups) wake-ups)"
	else
		mcr_fail "$name" "x10 per wake-up: $pw | $(cat "$WORK/counters") | $(cat "$WORK/rx.out")"
	fi

	# 3. Once the stream stops, the relay sleeps: a quiet second adds only the wake-up that
	# the signal asking for the counters causes.
	name="--coalesce: a quiet relay does not wake (no timer while idle)"
	local before
	before=$(c wakeups)
	sleep 1
	counters
	if [ "$(c wakeups)" = $((before + 1)) ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "wake-ups $before, a quiet second later $(c wakeups)"
	fi
	stop_mcr
	name="--coalesce: SIGTERM still exits 0"
	if [ "$MCR_STATUS" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $MCR_STATUS: $(tail -n 2 "$WORK/mcr.log")"
	fi
}

# 4. The counter is in the JSON line too.
test_json() {
	local name="wakeups is in the JSON counters"
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --coalesce 500us --stats-format json ||
		{ mcr_fail "$name" start; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n 100 -r 1000 -l 100 >"$WORK/tx.out"
	stop_mcr
	if grep '"event":"final"' "$WORK/mcr.log" | grep -Eq '"tx_errors":[0-9]+,"wakeups":[1-9][0-9]*,'
	then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(tail -n 1 "$WORK/mcr.log")"
	fi
}

# 5. A stream sparser than USEC has nothing to coalesce, and on Linux 6.12 and later (the
# kernel's minimum wait) it costs one wake-up per datagram, as without the option: a hold that
# nothing arrived in goes on sleeping. A plain timeout would wake twice per datagram.
test_sparse() {
	local name="--coalesce 2000 at 200 pps: one wake-up per datagram, not two" n=400 major minor
	IFS=. read -r major minor _ <<<"$(uname -r)"
	if [ "$major" -lt 6 ] || { [ "$major" = 6 ] && [ "$minor" -lt 12 ]; }; then
		mcr_skip "$name" "Linux $(uname -r) has no io_uring minimum wait (6.12)"
		return
	fi
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --coalesce 2000 ||
		{ mcr_fail "$name" start; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -n $n -T 20 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 200 -l 1316 >"$WORK/tx.out"
	wait "$rx_PID"
	counters
	stop_mcr
	# Up to 1.5 per datagram: the counters' own signal and a few strays, never every one twice.
	if [ "$(r rx unique)" = $n ] && [ "$(c relayed)" = $n ] &&
		[ "$(c wakeups)" -le $((n * 3 / 2)) ]; then
		mcr_pass "$name ($n in $(c wakeups) wake-ups)"
	else
		mcr_fail "$name" "$(cat "$WORK/counters") | $(cat "$WORK/rx.out")"
	fi
}

# 6. Nor does a window cost a second system call per datagram there: after windows that catch
# one datagram, mcr skips the next ones (1, 2, 4 ... 64), so a stream too sparse to coalesce,
# or one a loaded host thinned, is relayed as without the option. Counted with strace.
test_sparse_backoff() {
	local name="--coalesce 2000 at 200 pps: windows that catch one datagram back off" n=400
	local calls strace_pid
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --coalesce 2000 ||
		{ mcr_fail "$name" start; return; }
	strace -qq -e trace=io_uring_enter -o "$WORK/enter.trace" -p "$MCR_PID" &
	strace_pid=$!
	sleep 0.5	# attached
	receive rx "$RCV" 198.18.2.2:6000 "" -n $n -T 20 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 200 -l 1316 >"$WORK/tx.out"
	wait "$rx_PID"
	kill -INT "$strace_pid" 2>/dev/null
	wait "$strace_pid" 2>/dev/null
	counters
	stop_mcr
	calls=$(grep -c '^io_uring_enter' "$WORK/enter.trace")
	# One enter per datagram as without the option, a few more for probes and signals; a
	# window for each would take two (one to send, one to wait).
	if [ "$(r rx unique)" = $n ] && [ "$calls" -ge $n ] && [ "$calls" -le $((n * 5 / 4)) ]; then
		mcr_pass "$name ($n datagrams, $calls io_uring_enter)"
	else
		mcr_fail "$name" "$calls io_uring_enter for $n | $(cat "$WORK/counters") |" \
			"$(cat "$WORK/rx.out")"
	fi
}

test_default
test_coalesce
test_json
test_sparse
test_sparse_backoff
mcr_summary
