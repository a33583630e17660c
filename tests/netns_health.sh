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

# 6. --stats-format prom: a file promtool accepts, with the counters of what was relayed.
test_prom_file() {
	local name="--stats-format prom: promtool check metrics passes; the values are the stream's"
	local f=$WORK/mcr.prom bad= labels
	command -v promtool >/dev/null || { mcr_fail "$name" "promtool missing (.ci/deps)"; return; }
	receive rx "$RCV" 198.18.2.2:6000 "" -w 1000 -T 10 || { mcr_fail "$name" receiver; return; }
	# The second destination has no route back to mcr's sends: its errors have a label too.
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 -o 198.18.3.2:6001 \
		--stats-format prom --stats-file "$f" --stall-timeout 0.5 ||
		{ mcr_fail "$name" "no start"; return; }
	send 50
	mcr_wait_log ': stalled, ' || bad="$bad no-stall"
	sleep 1.1	# one more rewrite, after the stall
	cp "$f" "$WORK/copy.prom"
	counters
	stop_mcr
	wait "$rx_PID"
	f=$WORK/copy.prom
	promtool check metrics <"$f" >"$WORK/promtool.out" 2>&1 ||
		bad="$bad promtool($(cat "$WORK/promtool.out"))"
	labels='ingress="r0",group="239.0.0.1",port="5000",source=""'
	# sample NAME [DEST]: the value of the stream's sample, or of that destination's.
	sample() {
		local l=$labels
		[ -n "${2:-}" ] && l="$l,destination=\"$2\""
		awk -v k="$1{$l}" '$1 == k { print $2 }' "$f"
	}
	[ "$(sample mcr_relayed_total)" = 50 ] || bad="$bad relayed=$(sample mcr_relayed_total)"
	[ "$(sample mcr_rx_packets_total)" = 50 ] || bad="$bad rx=$(sample mcr_rx_packets_total)"
	[ "$(sample mcr_out_tx_packets_total 198.18.2.2:6000)" = "$(r rx received)" ] &&
		[ "$(r rx received)" = 50 ] || bad="$bad out1=$(sample mcr_out_tx_packets_total \
			198.18.2.2:6000)/$(r rx received)"
	[ "$(sample mcr_out_tx_packets_total 198.18.3.2:6001)" = "$(c out2.tx_packets)" ] ||
		bad="$bad out2"
	[ "$(sample mcr_stalled)" = 1 ] && [ "$(sample mcr_stalls_total)" = 1 ] ||
		bad="$bad stalled=$(sample mcr_stalled)"
	awk -v a="$(sample mcr_last_rx_age_seconds)" 'BEGIN { exit !(a >= 0.5 && a < 60) }' ||
		bad="$bad age=$(sample mcr_last_rx_age_seconds)"
	# Every family once, typed, counters named _total and gauges not.
	local dup
	dup=$(grep '^# TYPE' "$f" | awk '{ print $3 }' | sort | uniq -d)
	[ -z "$dup" ] || bad="$bad dup($dup)"
	grep '^# TYPE' "$f" | awk '($4 == "counter") != ($3 ~ /_total$/) { bad = 1 } END { exit bad }' ||
		bad="$bad types"
	[ "$(grep -c '^# TYPE' "$f")" = "$(grep -c '^# HELP' "$f")" ] || bad="$bad help"
	grep -q '^{' "$f" && bad="$bad json-in-file"
	grep -q '^mcr: event=final .*relayed=50 ' "$WORK/mcr.log" || bad="$bad stderr-not-kv"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad: $(cat "$f")"
	fi
}

# 7. The shipped alert rules load, and every mcr metric they name is one mcr writes, or one the
# sequence analysis (--analyze) adds.
test_prom_rules() {
	local name="contrib/prometheus/mcr.rules.yml passes promtool check rules; names real metrics"
	local rules=contrib/prometheus/mcr.rules.yml bad= m
	command -v promtool >/dev/null || { mcr_fail "$name" "promtool missing (.ci/deps)"; return; }
	promtool check rules "$rules" >"$WORK/rules.out" 2>&1 || bad="$bad $(cat "$WORK/rules.out")"
	[ -s "$WORK/copy.prom" ] || { mcr_fail "$name" "no prom file from the test before"; return; }
	for m in $(grep -o 'mcr_[a-z_]*' "$rules" | sort -u); do
		case $m in
		mcr_rtp_lost_total | mcr_ts_cc_errors_total | mcr_querier_missing) continue ;;
		esac
		grep -q "^# TYPE $m " "$WORK/copy.prom" || bad="$bad unknown:$m"
	done
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad"
	fi
}

test_stall_resume
test_stall_exit
test_no_stall
test_stall_json
test_stall_notify
test_prom_file
test_prom_rules
mcr_summary
