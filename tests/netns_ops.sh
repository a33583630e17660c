#!/bin/bash
# Operating mcr from scripts and supervisors: run length, readiness, counters and their rates,
# the stats file. The real binary in the namespaces of lib.sh; nothing leaves them.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_require_root
mcr_need_tools sender receiver
MCR=$PWD/mcr
SEND=$PWD/tests/sender
RECV=$PWD/tests/receiver
mcr_topology
WORK=$MCR_TMP
chmod 755 "$WORK"	# mcr started as root runs as nobody once set up
MCR_PID=
mcr_wait_oper "$RLY" r0 up	# else mcr rightly says the link is down

# ms: CLOCK_MONOTONIC-independent wall time in milliseconds, for elapsed times only.
ms() { echo $(($(date +%s%N) / 1000000)); }

# joined: RLY's r0 is a member of 239.0.0.1 (/proc/net/igmp lists it as host-order hex).
joined() {
	ip netns exec "$RLY" awk '/r0/ { on = 1; next } /^[0-9]/ { on = 0 }
		on && $1 == "010000EF" { found = 1 } END { exit !found }' /proc/net/igmp
}

# 1. --duration ends the run by itself, not before SECS, with status 0 and final counters.
test_duration() {
	local name="--duration 1 exits 0 after one second with the final counters"
	local t0 t1 status elapsed
	t0=$(ms)
	mcr_bg "$WORK/dur.log" "$RLY" "$MCR" -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 \
		--duration 1
	mcr_wait_pid "$MCR_BG_PID" 5
	status=$?
	t1=$(ms)
	elapsed=$((t1 - t0))
	if [ "$status" = 0 ] && [ "$elapsed" -ge 1000 ] && [ "$elapsed" -lt 3000 ] &&
		[ "$(grep -c 'rx_packets=' "$WORK/dur.log")" = 1 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $status after ${elapsed} ms: $(cat "$WORK/dur.log")"
	fi

	name="--duration stops a relay in mid-stream; what it relayed arrived"
	receive rx "$RCV" 198.18.2.2:6000 "" -w 1000 -T 10 || { mcr_fail "$name" receiver; return; }
	start_mcr_ready "$WORK/dur2.log" -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --duration 0.5 ||
		{ mcr_fail "$name" "not ready: $(cat "$WORK/dur2.log")"; return; }
	local pid=$MCR_PID
	# Two seconds of stream: mcr must stop a quarter of the way in.
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n 4000 -r 2000 -l 100 >/dev/null
	mcr_wait_pid "$pid" 5
	status=$?
	wait "$rx_PID"
	local relayed received
	relayed=$(mcr_kv "$WORK/dur2.log" relayed)
	received=$(mcr_kv "$WORK/rx.out" received)
	if [ "$status" = 0 ] && [ -n "$relayed" ] && [ "$relayed" -gt 0 ] &&
		[ "$relayed" -lt 4000 ] && [ "$received" = "$relayed" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $status relayed=$relayed received=$received"
	fi
}

# 2. --ready-fd: one line once capture runs, then end-of-file; by then the join is in place.
test_ready_fd() {
	local name="--ready-fd: 'ready' once capture runs, then EOF; joined and announced by then"
	local ready eof started member
	start_mcr_ready "$WORK/ready.log" -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000
	ready=$READY eof=$READY_EOF
	grep -q ': relaying ' "$WORK/ready.log" && started=yes
	joined && member=yes
	kill -0 "$MCR_PID" 2>/dev/null || eof="$eof (mcr had exited)"
	stop_mcr_pid "$MCR_PID"
	if [ "$ready" = ready ] && [ "$eof" = 1 ] && [ "${started:-}" = yes ] &&
		[ "${member:-}" = yes ] && [ "$STATUS" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "line '$ready' eof=$eof started=${started:-no} joined=${member:-no}" \
			"status $STATUS: $(cat "$WORK/ready.log")"
	fi

	name="a stream sent the moment 'ready' arrives is relayed whole"
	local n=2000
	receive rx "$RCV" 198.18.2.2:6000 "" -n $n -T 10 || { mcr_fail "$name" receiver; return; }
	start_mcr_ready "$WORK/ready2.log" -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 -c $n ||
		{ mcr_fail "$name" "not ready: $(cat "$WORK/ready2.log")"; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 20000 -l 200 >/dev/null
	mcr_wait_pid "$MCR_PID" 5
	STATUS=$?
	wait "$rx_PID"
	if [ "$STATUS" = 0 ] && [ "$(mcr_kv "$WORK/ready2.log" relayed)" = $n ] &&
		[ "$(mcr_kv "$WORK/rx.out" unique)" = $n ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $STATUS: $(cat "$WORK/ready2.log") | $(cat "$WORK/rx.out")"
	fi

	name="--ready-fd: a failed start gives the reader EOF, not a hang"
	start_mcr_ready "$WORK/ready3.log" -i nosuch0 -g 239.0.0.1:5000 -o 198.18.2.2:6000
	ready=$READY eof=$READY_EOF
	mcr_wait_pid "$MCR_PID" 5
	STATUS=$?
	if [ -z "$ready" ] && [ "$STATUS" = 66 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "line '$ready' status $STATUS: $(cat "$WORK/ready3.log")"
	fi
}

test_ready_fd_errors() {
	local ok="-i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000"
	expect_relay "--ready-fd of a closed descriptor exits 64 saying how to open it" 64 \
		"--ready-fd 7: not open; open it for mcr, e.g. --ready-fd 7 7>FILE" -- \
		"$MCR" $ok --ready-fd 7 "7>&-"
	expect_relay "--ready-fd of a read-only descriptor exits 64" 64 \
		"--ready-fd 3: open for reading only" -- "$MCR" $ok --ready-fd 3 "3</dev/null"
}

# notify_listen NAME ADDRESS: socat receiving sd_notify datagrams on ADDRESS (socat syntax) in
# RLY, each written to $WORK/NAME.notify.
notify_listen() {
	mcr_bg "$WORK/$1.notify" "$RLY" socat -u "$2" STDOUT
	NOTIFY_PID=$MCR_BG_PID
}

# wait_text FILE TEXT: bounded wait for TEXT in FILE.
wait_text() {
	for _ in $(seq 100); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# 3. sd_notify: READY=1 with a status once capture runs, STOPPING=1 on the way out.
test_notify() {
	local kind sock env name ok
	for kind in path abstract; do
		name="NOTIFY_SOCKET ($kind): READY=1 after the start line, STOPPING=1 at exit"
		if [ $kind = path ]; then
			sock=$WORK/notify.sock env=$sock
			notify_listen $kind "UNIX-RECV:$sock"
			mcr_wait_file "$sock" 5
		else
			sock=mcr-notify-$$ env=@$sock
			notify_listen $kind "ABSTRACT-RECV:$sock"
			for _ in $(seq 100); do
				ip netns exec "$RLY" ss -xl | grep -q "@$sock" && break
				sleep 0.05
			done
		fi
		NOTIFY_SOCKET=$env ip netns exec "$RLY" "$MCR" -i r0 -g 239.0.0.1:5000 \
			-o 198.18.2.2:6000 2>"$WORK/$kind.log" &
		MCR_PID=$!
		MCR_PIDS+=("$MCR_PID")
		ok=
		if wait_text "$WORK/$kind.notify" READY=1; then
			grep -q ': relaying ' "$WORK/$kind.log" && ok=started
			grep -q STOPPING=1 "$WORK/$kind.notify" && ok="$ok early-stopping"
		fi
		stop_mcr_pid "$MCR_PID"
		wait_text "$WORK/$kind.notify" STOPPING=1
		kill "$NOTIFY_PID" 2>/dev/null
		wait "$NOTIFY_PID" 2>/dev/null
		if [ "$ok" = started ] && [ "$STATUS" = 0 ] &&
			[ "$(grep -c . "$WORK/$kind.notify")" = 3 ] &&
			[ "$(sed -n 1p "$WORK/$kind.notify")" = READY=1 ] &&
			[ "$(sed -n 2p "$WORK/$kind.notify")" = \
				"STATUS=relaying 239.0.0.1:5000 from r0" ] &&
			[ "$(sed -n 3p "$WORK/$kind.notify")" = STOPPING=1 ] &&
			! grep -q NOTIFY "$WORK/$kind.log"; then
			mcr_pass "$name"
		else
			mcr_fail "$name" "ok='$ok' status $STATUS notify: $(tr '\n' '|' \
				<"$WORK/$kind.notify") log: $(cat "$WORK/$kind.log")"
		fi
	done

	name="NOTIFY_SOCKET with nobody listening: a line per message, and relays anyway"
	NOTIFY_SOCKET=$WORK/nobody.sock start_mcr_ready "$WORK/nobody.log" -i r0 -g 239.0.0.1:5000 \
		-o 198.18.2.2:6000
	ok=$READY
	stop_mcr_pid "$MCR_PID"
	if [ "$ok" = ready ] && [ "$STATUS" = 0 ] &&
		grep -q "NOTIFY_SOCKET=$WORK/nobody.sock: READY=1 not sent: " "$WORK/nobody.log" &&
		grep -q "NOTIFY_SOCKET=$WORK/nobody.sock: STOPPING=1 not sent: " "$WORK/nobody.log"
	then
		mcr_pass "$name"
	else
		mcr_fail "$name" "ready '$ok' status $STATUS: $(cat "$WORK/nobody.log")"
	fi
}

# The JSON schema table of mcr.1, as "key type" lines in table order.
schema_table() {
	sed -n '/^\.Ss JSON schema/,/^\.El/s/^\.It Cm \([^ ]*\) Ta \([a-z]*\) Ta .*/\1 \2/p' mcr.1
}

# usr1 PID LOG PATTERN: SIGUSR1, then a bounded wait for one more line matching PATTERN in LOG.
usr1() {
	local before
	before=$(grep -c -- "$3" "$2")
	kill -USR1 "$1"
	for _ in $(seq 100); do
		[ "$(grep -c -- "$3" "$2")" -gt "$before" ] && return 0
		sleep 0.02
	done
	return 1
}

# 4. JSON counters: every line parses, has the keys and types mcr.1's table lists, in order.
test_json_schema() {
	local name="JSON counters have exactly the keys and types of mcr.1's schema table, in order"
	local n=500 odd='q"b\c' table bad= line i
	table=$(schema_table)
	[ "$(echo "$table" | grep -c .)" -ge 30 ] ||
		{ mcr_fail "$name" "mcr.1 schema table not found: $table"; return; }
	# An interface whose name needs escaping in JSON, with an address to send from.
	ip -n "$RLY" link add "$odd" type veth peer name qpeer &&
		ip -n "$RLY" addr add 198.18.7.1/24 dev "$odd" &&
		ip -n "$RLY" link set "$odd" up && ip -n "$RLY" link set qpeer up ||
		{ mcr_fail "$name" "cannot make interface $odd"; return; }
	start_mcr_ready "$WORK/json.log" -i r0 -g 239.0.0.1:5000 -o 239.0.0.2:6000@r1 \
		-o "239.0.0.9:7000@$odd" --stats-format json --stats-interval 0.2 ||
		{ mcr_fail "$name" "not ready: $(cat "$WORK/json.log")"; return; }
	wait_text "$WORK/json.log" '"event":"stats"' || bad="$bad no-interval-line"
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 5000 -l 100 >/dev/null
	usr1 "$MCR_PID" "$WORK/json.log" '"relayed":500,' || bad="$bad no-usr1-line"
	stop_mcr_pid "$MCR_PID"
	ip -n "$RLY" link del "$odd"
	[ "$STATUS" = 0 ] || bad="$bad status=$STATUS"

	local want_top want_out types
	want_top=$(echo "$table" | awk '$1 !~ /^out\[\]\./ { print $1 }' | paste -sd' ')
	want_out=$(echo "$table" | awk '$1 ~ /^out\[\]\./ { print substr($1, 7) }' | paste -sd' ')
	grep '^{' "$WORK/json.log" >"$WORK/json.lines"
	[ "$(grep -c . "$WORK/json.lines")" -ge 3 ] || bad="$bad too-few-lines"
	i=0
	while IFS= read -r line; do
		i=$((i + 1))
		printf '%s' "$line" | jq -e . >/dev/null 2>&1 || { bad="$bad line$i:not-json"; continue; }
		[ "$(printf '%s' "$line" | jq -r 'keys_unsorted | join(" ")')" = "$want_top" ] ||
			bad="$bad line$i:top-keys"
		[ "$(printf '%s' "$line" | jq -r '.out[] | keys_unsorted | join(" ")' | sort -u)" = \
			"$want_out" ] || bad="$bad line$i:out-keys"
		# Each value's JSON type as the table names it; integers have no fraction.
		types=$(printf '%s' "$line" | jq -r '
			def t: if type == "number" then (if . == floor and (tostring | test("^[0-9]+$"))
				then "integer" else "number" end) else type end;
			(to_entries[] | "\(.key) \(.value | t)"),
			(.out[0] | to_entries[] | "out[].\(.key) \(.value | t)")')
		[ "$types" = "$table" ] || bad="$bad line$i:types"
		[ "$(printf '%s' "$line" | jq -r .schema)" = 1 ] || bad="$bad line$i:schema"
	done <"$WORK/json.lines"
	[ "$(jq -r .event "$WORK/json.lines" | sort | uniq -c | awk '{ print $2 "=" $1 }' |
		paste -sd' ')" = "final=1 stats=$((i - 1))" ] || bad="$bad events"
	[ "$(tail -n 1 "$WORK/json.lines" | jq -r '.event, .relayed, .out[0].tx_packets,
		.out[1].tx_packets, .out[1].dest' | paste -sd' ')" = "final $n $n $n 239.0.0.9:7000@$odd" ] ||
		bad="$bad final-values"
	jq -r .time_ms "$WORK/json.lines" | sort -c -n 2>/dev/null || bad="$bad time-not-monotonic"
	# journald keeps what a plain line-per-event stderr gives it: no colour, no continuation.
	grep -v -e '^mcr: ' -e '^{' "$WORK/json.log" | grep -q . && bad="$bad stray-lines"
	grep -q $'\033' "$WORK/json.log" && bad="$bad escape-codes"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad: $(tail -n 2 "$WORK/json.log")"
	fi

	name="key=value lines carry the same keys as the JSON object"
	ip netns exec "$RLY" "$MCR" -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 -o 198.18.3.2:6000 \
		--duration 0.1 2>"$WORK/kv.log"
	local kv js
	kv=$(grep 'event=' "$WORK/kv.log" | tr ' ' '\n' | sed -n 's/=.*//p' |
		sed -E 's/^out[0-9]+$/out[].dest/; s/^out[0-9]+\./out[]./' | sort -u | paste -sd' ')
	js=$(echo "$table" | awk '$1 != "schema" && $1 != "out" { print $1 }' | sort -u | paste -sd' ')
	if [ -n "$kv" ] && [ "$kv" = "$js" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "kv: $kv | table: $js"
	fi
}

# 5. Rates: per second since the previous line, as the sender's pace says they must be.
test_rates() {
	local name="--stats-interval lines carry pps and bit/s that match the sender's pace"
	local n=6000 pps=2000 len=200 frame=$((14 + 20 + 8 + 200))
	start_mcr_ready "$WORK/rates.log" -i r0 -g 239.0.0.1:5000 -o 239.0.0.2:6000@r1 \
		-o 239.0.0.3:6000@r2 --stats-interval 0.5 ||
		{ mcr_fail "$name" "not ready: $(cat "$WORK/rates.log")"; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r $pps -l $len >/dev/null
	stop_mcr_pid "$MCR_PID"
	local report
	# Lines wholly inside the stream (not the first or last one with traffic) must show the
	# sender's rate; every line's rates must be its own deltas over its own interval.
	report=$(grep 'event=' "$WORK/rates.log" | awk -v pps=$pps -v frame=$frame -v len=$len -v n=$n '
		function v(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1)
			return substr($i, length(k) + 2); return "missing" }
		function off(a, b, tol) { return a - b > tol || b - a > tol }
		{
			t[NR] = v("time_ms"); iv[NR] = v("interval_s"); rx[NR] = v("rx_packets")
			rp[NR] = v("rx_pps"); rb[NR] = v("rx_bps"); tp[NR] = v("tx_pps")
			tb[NR] = v("tx_bps"); o1[NR] = v("out1.tx_pps"); o2b[NR] = v("out2.tx_bps")
			if (rp[NR] > 0) busy[++nb] = NR
		}
		END {
			for (k = 2; k <= NR; k++) {
				if (off(iv[k] * 1000, t[k] - t[k - 1], 1))
					print "interval@" k ":" iv[k] "/" t[k] - t[k - 1]
				# interval_s is rounded to the millisecond, the rate is not.
				if (iv[k] > 0 && off(rp[k], (rx[k] - rx[k - 1]) / iv[k],
						     rp[k] * (0.01 + 0.0005 / iv[k]) + 2))
					print "rx_pps-not-delta@" k ":" rp[k] "/" rx[k] - rx[k - 1] "/" iv[k]
				sum += rp[k] * iv[k]
			}
			if (off(sum + rp[1] * iv[1], rx[NR], n / 100)) print "sum=" sum "/" rx[NR]
			if (rx[NR] != n) print "rx_packets=" rx[NR]
			if (nb < 5) print "busy-lines=" nb
			for (j = 2; j < nb; j++) {
				k = busy[j]
				if (off(rp[k], pps, pps * 0.15)) print "rx_pps=" rp[k] "@" k
				if (off(rb[k], rp[k] * frame * 8, frame * 8)) print "rx_bps=" rb[k] "@" k
				if (off(tp[k], 2 * rp[k], rp[k] * 0.05 + 2)) print "tx_pps=" tp[k] "@" k
				if (off(tb[k], tp[k] * len * 8, len * 8)) print "tx_bps=" tb[k] "@" k
				if (off(o1[k], rp[k], rp[k] * 0.05 + 2)) print "out1.tx_pps=" o1[k] "@" k
				if (off(o2b[k], o1[k] * len * 8, rp[k] * 0.05 * len * 8 + len * 8))
					print "out2.tx_bps=" o2b[k] "@" k
			}
		}')
	if [ "$STATUS" = 0 ] && [ -z "$report" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $STATUS: $(echo $report)"
	fi
}

# 6. --stats-file: there when ready, kept fresh without signals, replaced whole, final on exit.
test_stats_file() {
	local name="--stats-file exists when ready, updates every second unasked, ends final"
	local dir=$WORK/stats f n=1000 bad= got
	mkdir -p "$dir"
	chown 65534:65534 "$dir"	# started as root, mcr runs as nobody once set up
	f=$dir/stats.json
	start_mcr_ready "$WORK/sf.log" -i r0 -g 239.0.0.1:5000 -o 239.0.0.2:6000@r1 --stats-file "$f" ||
		{ mcr_fail "$name" "not ready: $(cat "$WORK/sf.log")"; return; }
	got=$(jq -r '"\(.schema) \(.event) \(.relayed)"' "$f" 2>&1)
	[ "$got" = "1 stats 0" ] || bad="$bad at-ready:'$got'"
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 10000 -l 100 >/dev/null
	# No signal: the file's own timer must bring the count within a few seconds.
	for _ in $(seq 60); do
		got=$(jq -r .relayed "$f" 2>/dev/null)
		[ "$got" = $n ] && break
		sleep 0.05
	done
	[ "$got" = $n ] || bad="$bad not-updated:relayed=$got"
	grep -q 'event=stats' "$WORK/sf.log" && bad="$bad printed-a-line-unasked"
	stop_mcr_pid "$MCR_PID"
	got=$(jq -r '"\(.event) \(.relayed) \(.out[0].tx_packets)"' "$f" 2>&1)
	[ "$got" = "final $n $n" ] || bad="$bad at-exit:'$got'"
	[ "$(ls "$dir")" = stats.json ] || bad="$bad leftovers:$(ls "$dir" | paste -sd,)"
	[ "$STATUS" = 0 ] || bad="$bad status=$STATUS"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad: $(cat "$WORK/sf.log")"
	fi

	name="--stats-file is replaced whole: 10000 reads racing rewrites every 2 ms are all whole"
	local i c torn=0
	start_mcr_ready "$WORK/sf2.log" -i r0 -g 239.0.0.1:5000 -o 239.0.0.2:6000@r1 --stats-file "$f" \
		--stats-interval 0.002 --stats-format kv ||
		{ mcr_fail "$name" "not ready: $(cat "$WORK/sf2.log")"; return; }
	for ((i = 0; i < 10000; i++)); do
		c=$(<"$f")
		[[ $c == '{"schema":1,'*'}]}' ]] || torn=$((torn + 1))
	done
	stop_mcr_pid "$MCR_PID"
	# Each kv line on stderr went with a rewrite of the file: the reads raced many of them.
	local writes
	writes=$(grep -c 'event=stats' "$WORK/sf2.log")
	if [ "$torn" = 0 ] && [ "$STATUS" = 0 ] && [ "$writes" -ge 30 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$torn torn reads, $writes rewrites, status $STATUS"
	fi

	name="--stats-file that fails while relaying: one line, relays on, one line when it works again"
	start_mcr_ready "$WORK/sf3.log" -i r0 -g 239.0.0.1:5000 -o 239.0.0.2:6000@r1 --stats-file "$f" \
		--stats-interval 60 || { mcr_fail "$name" "not ready: $(cat "$WORK/sf3.log")"; return; }
	rm -rf "$dir"
	for i in 1 2 3; do
		usr1 "$MCR_PID" "$WORK/sf3.log" 'event=stats' || bad="$bad no-usr1-line"
	done
	local failed_lines
	failed_lines=$(grep -c -- "--stats-file $f: No such file or directory; still relaying" \
		"$WORK/sf3.log")
	mkdir -p "$dir"
	chown 65534:65534 "$dir"
	usr1 "$MCR_PID" "$WORK/sf3.log" 'event=stats' || bad="$bad no-usr1-line"
	grep -q -- "--stats-file $f: written again" "$WORK/sf3.log" || bad="$bad no-recovery-line"
	[ -s "$f" ] || bad="$bad no-file"
	stop_mcr_pid "$MCR_PID"
	if [ -z "$bad" ] && [ "$failed_lines" = 1 ] && [ "$STATUS" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad failed_lines=$failed_lines status $STATUS: $(cat "$WORK/sf3.log")"
	fi

	expect_relay "--stats-file in a missing directory exits 73 naming it" 73 \
		"--stats-file $WORK/nodir/s.json: No such file or directory \\(mcr writes" -- \
		"$MCR" -i r0 -g 239.0.0.1:5000 -o 239.0.0.2:6000@r1 --stats-file "$WORK/nodir/s.json"
	mkdir -p "$WORK/isdir"
	expect_relay "--stats-file naming a directory exits 73" 73 \
		"--stats-file $WORK/isdir: Is a directory" -- \
		"$MCR" -i r0 -g 239.0.0.1:5000 -o 239.0.0.2:6000@r1 --stats-file "$WORK/isdir"
}

test_duration
test_ready_fd
test_ready_fd_errors
test_notify
test_json_schema
test_rates
test_stats_file
mcr_summary
