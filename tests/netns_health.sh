#!/bin/bash
# Stream health in the namespaces of lib.sh: stalls and their lines, counters and exit status,
# the systemd status line. Nothing leaves the namespaces.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_require_root
mcr_need_tools sender receiver
mcr_suite_setup
mcr_wait_oper "$RLY" r0 up	# else mcr rightly says the link is down

# send N: N datagrams of 100 bytes to 239.0.0.1:5000 at 200 per second, from the sender.
send() { ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n "$1" -r 200 -l 100 >/dev/null; }

# 1. A stream that stops is a stall, said once; it is said again when the stream comes back.
test_stall_resume() {
	local name="--stall-timeout 1: one 'stalled' line, one 'resumed' line, the counters agree"
	local bad=
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --stall-timeout 1 ||
		{ mcr_fail "$name" "no start"; return; }
	send 20
	mcr_wait_log ': stalled, ' || bad="$bad no-stall-line"
	counters
	[ "$(c stalled)" = 1 ] || bad="$bad stalled=$(c stalled)"
	[ "$(c stalls)" = 1 ] || bad="$bad stalls=$(c stalls)"
	[ "$(c relayed)" = 20 ] || bad="$bad relayed=$(c relayed)"
	[ "$(c last_rx_age_ms)" -ge 1000 ] 2>/dev/null || bad="$bad age=$(c last_rx_age_ms)"
	sleep 0.5	# the stall lasts 1.5 s at least
	send 20
	mcr_wait_log ': resumed ' || bad="$bad no-resume-line"
	counters
	[ "$(c stalled)" = 0 ] || bad="$bad stalled-after=$(c stalled)"
	[ "$(c stalls)" = 1 ] || bad="$bad stalls-after=$(c stalls)"
	[ "$(c relayed)" = 40 ] || bad="$bad relayed-after=$(c relayed)"
	[ "$(c last_rx_age_ms)" -lt 1000 ] 2>/dev/null || bad="$bad age-after=$(c last_rx_age_ms)"
	stop_mcr
	grep -Eq '^mcr: r0: 239\.0\.0\.1:5000: stalled, nothing for 1 s$' "$WORK/mcr.log" ||
		bad="$bad stall-line"
	# Silent from the 20th datagram (0.1 s in) until the second burst: 1.5 s at least.
	local line secs
	line=$(grep ': resumed ' "$WORK/mcr.log")
	secs=$(echo "$line" | sed -nE \
		's/^mcr: r0: 239\.0\.0\.1:5000: resumed after ([0-9]+)\.[0-9] s, 1 stall so far$/\1/p')
	[ -n "$secs" ] && [ "$secs" -ge 1 ] || bad="$bad resume-line($line)"
	[ "$(grep -c ': stalled, ' "$WORK/mcr.log")" = 1 ] || bad="$bad stall-lines"
	if [ -z "$bad" ] && [ "$MCR_STATUS" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad status=$MCR_STATUS: $(cat "$WORK/mcr.log")"
	fi
}

# 2. --stall-action exit: a stream that never comes ends mcr with status 75 and its counters.
test_stall_exit() {
	local name="--stall-action exit: no stream for 1 s exits 75 with final counters"
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --stall-timeout 1 \
		--stall-action exit || { mcr_fail "$name" "no start"; return; }
	if wait_mcr_exit && [ "$MCR_STATUS" = 75 ] &&
		grep -q ': stalled, nothing for 1 s$' "$WORK/mcr.log" &&
		[ "$(mcr_kv "$WORK/mcr.log" event)" = final ] &&
		[ "$(mcr_kv "$WORK/mcr.log" stalled)" = 1 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status ${MCR_STATUS:-running}: $(cat "$WORK/mcr.log")"
	fi
}

# 3. A stream that flows is no stall, and without --stall-timeout a silence is none either.
test_no_stall() {
	local name="a flowing stream never stalls; without --stall-timeout nothing is watched"
	local bad=
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --stall-timeout 0.5 ||
		{ mcr_fail "$name" "no start"; return; }
	send 300	# 1.5 s at 200 per second: three timeouts' worth
	counters
	stop_mcr
	[ "$(c relayed)" = 300 ] || bad="$bad relayed=$(c relayed)"
	# Started at once, the sender makes mcr wait less than the timeout only after mcr's start.
	[ "$(c stalls)" -le 1 ] 2>/dev/null || bad="$bad stalls=$(c stalls)"
	[ "$(grep -c ': resumed ' "$WORK/mcr.log")" = "$(c stalls)" ] || bad="$bad resumes"
	[ "$(c stalled)" = 0 ] || bad="$bad stalled=$(c stalled)"
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 ||
		{ mcr_fail "$name" "no start"; return; }
	send 5
	sleep 2.5	# the age is known to within the check's second
	counters
	stop_mcr
	[ "$(c stalls)" = 0 ] && [ "$(c stalled)" = 0 ] || bad="$bad unwatched=$(c stalls)"
	[ "$(c last_rx_age_ms)" -ge 1000 ] 2>/dev/null || bad="$bad age=$(c last_rx_age_ms)"
	grep -q ': stalled' "$WORK/mcr.log" && bad="$bad stall-line-unwatched"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad: $(cat "$WORK/mcr.log")"
	fi
}

# 4. The stats file and the JSON line carry the stall counters.
test_stall_json() {
	local name="stalls, stalled and last_rx_age_ms in the stats file and the JSON line"
	local f=$WORK/stats.json bad=
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --stall-timeout 0.5 \
		--stats-format json --stats-file "$f" || { mcr_fail "$name" "no start"; return; }
	mcr_wait_log ': stalled, ' || bad="$bad no-stall"
	sleep 1.1	# the file is rewritten every second
	[ "$(jq .stalled "$f")" = 1 ] || bad="$bad file-stalled=$(jq .stalled "$f")"
	[ "$(jq .stalls "$f")" = 1 ] || bad="$bad file-stalls=$(jq .stalls "$f")"
	[ "$(jq '.last_rx_age_ms >= 500' "$f")" = true ] || bad="$bad file-age"
	stop_mcr
	local last
	last=$(grep '^{' "$WORK/mcr.log" | tail -n 1)
	[ "$(echo "$last" | jq -c '[.stalls, .stalled, (.last_rx_age_ms >= 500)]')" = '[1,1,true]' ] ||
		bad="$bad line($last)"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad: $(cat "$WORK/mcr.log")"
	fi
}

# 5. Under systemd the status line says stalled, then relaying again.
test_stall_notify() {
	local name="NOTIFY_SOCKET: STATUS=stalled on a stall, STATUS=relaying when it resumes"
	command -v socat >/dev/null || { mcr_fail "$name" "socat missing (.ci/deps)"; return; }
	mcr_bg "$WORK/notify.out" "$RLY" socat -u "UNIX-RECV:$WORK/notify.sock" STDOUT
	local socat_pid=$MCR_BG_PID
	mcr_wait_file "$WORK/notify.sock"
	: >"$WORK/mcr.log"
	NOTIFY_SOCKET=$WORK/notify.sock ip netns exec "$RLY" "$MCR" -i r0 -g 239.0.0.1:5000 \
		-o 198.18.2.2:6000 --stall-timeout 0.5 2>"$WORK/mcr.log" &
	MCR_PID=$!
	mcr_wait_log ': stalled, '
	send 5
	mcr_wait_log ': resumed '
	stop_mcr
	sleep 0.2
	kill "$socat_pid" 2>/dev/null
	wait "$socat_pid" 2>/dev/null
	local statuses
	statuses=$(grep -o '^STATUS=[a-z]*' "$WORK/notify.out" | tr '\n' ' ')
	if [ "$statuses" = "STATUS=relaying STATUS=stalled STATUS=relaying " ] &&
		grep -qx 'STATUS=stalled 239.0.0.1:5000 from r0' "$WORK/notify.out"; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "got: $(cat "$WORK/notify.out")"
	fi
}

test_stall_resume
test_stall_exit
test_no_stall
test_stall_json
test_stall_notify
mcr_summary
