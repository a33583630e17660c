#!/bin/bash
# Stream health in the namespaces of lib.sh: stalls and their lines, counters and exit status,
# the systemd status line. Nothing leaves the namespaces.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_require_root
mcr_need_tools sender receiver
MCR_IPV6=1	# MLD needs it; IPv4 captures here filter on IGMP or the stream alone
mcr_suite_setup
chown 65534:65534 "$WORK"	# started as root, mcr runs as nobody: its stats files go here
mcr_wait_oper "$RLY" r0 up	# else mcr rightly says the link is down
ip -n "$RLY" addr add fd00:2::1/64 dev r1 nodad
ip -n "$RCV" addr add fd00:2::2/64 dev v1 nodad

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
	# Unwatched, the age is known to within the counters' reads: the stats file's second.
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --stats-file "$WORK/age.json" ||
		{ mcr_fail "$name" "no start"; return; }
	send 5
	sleep 2.5
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
		--stats-format prom --stats-file "$f" --stall-timeout 0.5 --analyze auto ||
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

# 7. The shipped alert rules load, and every mcr metric they name is one mcr writes (the file
# of the test before comes from a run with --analyze).
test_prom_rules() {
	local name="contrib/prometheus/mcr.rules.yml passes promtool check rules; names real metrics"
	local rules=contrib/prometheus/mcr.rules.yml bad= m
	command -v promtool >/dev/null || { mcr_fail "$name" "promtool missing (.ci/deps)"; return; }
	promtool check rules "$rules" >"$WORK/rules.out" 2>&1 || bad="$bad $(cat "$WORK/rules.out")"
	[ -s "$WORK/copy.prom" ] || { mcr_fail "$name" "no prom file from the test before"; return; }
	for m in $(grep -o 'mcr_[a-z_]*' "$rules" | sort -u); do
		grep -q "^# TYPE $m " "$WORK/copy.prom" || bad="$bad unknown:$m"
	done
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad"
	fi
}

# capture NAME FILTER: tcpdump on the sender's s0, in the background, until capture_stop.
capture() {
	rm -f "$WORK/$1.pcap"
	ip netns exec "$SND" tcpdump -i s0 -nn -U --immediate-mode -w "$WORK/$1.pcap" "$2" \
		2>"$WORK/$1.err" &
	CAPTURE_PID=$!
	for _ in $(seq 100); do
		grep -q 'listening on' "$WORK/$1.err" && return 0
		sleep 0.05
	done
	return 1
}

# capture_stop NAME: ends the capture; $WORK/NAME.txt has one line per packet, verbose.
capture_stop() {
	sleep 0.2
	kill -INT "$CAPTURE_PID" 2>/dev/null
	wait "$CAPTURE_PID" 2>/dev/null
	# -v prints a packet on two lines or more: continuation lines start with spaces.
	tcpdump -r "$WORK/$1.pcap" -nn -v 2>/dev/null |
		awk '/^[0-9]/ { if (l) print l; l = $0; next } { l = l " " $0 } END { if (l) print l }' \
		>"$WORK/$1.txt"
}

# reports NAME ARGS...: mcr on r0 with ARGS for 3.5 s while the sender's side captures FILTER
# (in REPORT_FILTER); the capture is in $WORK/NAME.txt, mcr's log in $WORK/NAME.log.
reports() {
	local name=$1
	shift
	capture "$name" "$REPORT_FILTER" || return 1
	mcr_bg "$WORK/$name.log" "$RLY" "$MCR" -i r0 "$@" --duration 3.5
	mcr_wait_pid "$MCR_BG_PID" 10
	capture_stop "$name"
}

# between N LO HI: LO <= N <= HI.
between() { [ "$1" -ge "$2" ] 2>/dev/null && [ "$1" -le "$3" ]; }

# 8. IGMPv3 (the kernel's default) reports every second, with TTL 1 and the Router Alert, from
# the relay's own address, without any privilege left (mcr drops them all once set up).
test_report_igmpv3() {
	local name="--report-interval 1: IGMPv3 is_ex reports for 239.0.0.1 every second, TTL 1, RA"
	local n all bad=
	REPORT_FILTER=igmp
	reports v3 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --report-interval 1 -u 65534:65534 ||
		{ mcr_fail "$name" "no capture"; return; }
	all=$(grep -c 'is_ex' "$WORK/v3.txt")
	n=$(grep 'ttl 1,' "$WORK/v3.txt" | grep 'options (RA)' |
		grep -c '198\.18\.1\.1 > 224\.0\.0\.22: igmp v3 report, 1 group record(s) '\
'\[gaddr 239\.0\.0\.1 is_ex, 0 source(s)\]')
	# At 1, 2 and 3 s; a loaded host may shift one across the end.
	between "$n" 2 4 && [ "$n" = "$all" ] || bad="$bad reports=$n/$all"
	[ "$(mcr_kv "$WORK/v3.log" reports_sent)" = "$n" ] ||
		bad="$bad reports_sent=$(mcr_kv "$WORK/v3.log" reports_sent)"
	[ "$(mcr_kv "$WORK/v3.log" report_errors)" = 0 ] || bad="$bad errors"
	# Without the option, only the kernel's own join reports (change records, to_ex).
	reports none -g 239.0.0.1:5000 -o 198.18.2.2:6000 || bad="$bad no-capture"
	grep -q 'is_ex' "$WORK/none.txt" && bad="$bad reports-without-option"
	grep -q 'to_ex' "$WORK/none.txt" || bad="$bad no-kernel-join($(cat "$WORK/none.txt"))"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad: $(cat "$WORK/v3.txt" "$WORK/v3.log")"
	fi
}

# 9. The version the kernel uses on the ingress: IGMPv2 when forced, to the group itself.
test_report_igmpv2() {
	local name="--report-interval with force_igmp_version=2: IGMPv2 reports to 239.0.0.1"
	local n all
	REPORT_FILTER=igmp
	mcr_sysctl "$RLY" net.ipv4.conf.r0.force_igmp_version=2
	# --no-join: the kernel sends no report of its own, so every one captured is mcr's.
	reports v2 -g 239.0.0.1:5000 -o 198.18.2.2:6000 --report-interval 1 --no-join ||
		{ mcr_fail "$name" "no capture"; return; }
	mcr_sysctl "$RLY" net.ipv4.conf.r0.force_igmp_version=0
	# The kernel's state-change records are a previous run's leave, still being repeated.
	all=$(grep 'igmp' "$WORK/v2.txt" | grep -v -c -E 'to_in|to_ex|allow|block')
	n=$(grep 'ttl 1,' "$WORK/v2.txt" | grep 'options (RA)' |
		grep -c '198\.18\.1\.1 > 239\.0\.0\.1: igmp v2 report 239\.0\.0\.1')
	if between "$n" 2 4 && [ "$n" = "$all" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "reports=$n/$all: $(cat "$WORK/v2.txt" "$WORK/v2.log")"
	fi
}

# 10. MLDv2 and, forced, MLDv1: from the link-local address, hop limit 1, hop-by-hop RA.
test_report_mld() {
	local name="--report-interval over IPv6: MLDv2 is_ex to ff02::16, forced MLDv1 to the group"
	local n all n1 all1 bad=
	REPORT_FILTER=ip6	# "icmp6" misses ICMPv6 behind a hop-by-hop header
	reports mld2 -g '[ff3e::1234]:5000' -o '[fd00:2::2]:6000' --report-interval 1 ||
		{ mcr_fail "$name" "no capture"; return; }
	all=$(grep -c 'gaddr ff3e::1234 is_ex' "$WORK/mld2.txt")
	n=$(grep 'hlim 1,' "$WORK/mld2.txt" | grep 'HBH (rtalert: 0x0000)' | grep -E -c \
		'fe80::[0-9a-f:]+ > ff02::16: .*multicast listener report v2, 1 group record\(s\) '\
'\[gaddr ff3e::1234 is_ex, 0 source\(s\)\]')
	between "$n" 2 4 && [ "$n" = "$all" ] || bad="$bad v2=$n/$all"
	mcr_sysctl "$RLY" net.ipv6.conf.r0.force_mld_version=1
	reports mld1 -g '[ff3e::1234]:5000' -o '[fd00:2::2]:6000' --report-interval 1 --no-join ||
		bad="$bad no-capture"
	mcr_sysctl "$RLY" net.ipv6.conf.r0.force_mld_version=0
	# The MLDv2 lines here are the previous run's leave; v1 reports are all mcr's.
	all1=$(grep -E -c 'listener report ?max resp' "$WORK/mld1.txt")
	n1=$(grep 'hlim 1,' "$WORK/mld1.txt" | grep 'HBH (rtalert: 0x0000)' | grep -E -c \
		'fe80::[0-9a-f:]+ > ff3e::1234: .*multicast listener report ?max resp delay: 0 addr: ff3e::1234')
	between "$n1" 2 4 && [ "$n1" = "$all1" ] || bad="$bad v1=$n1/$all1"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad: $(cat "$WORK/mld2.txt" "$WORK/mld1.txt" "$WORK/mld1.log")"
	fi
}

# querier_bridge: the sender's s0 goes into a bridge that is an IGMPv3 and MLDv2 querier,
# asking every second (the kernel's minimum) with half a second to answer.
querier_bridge() {
	ip -n "$SND" link add br0 type bridge mcast_snooping 1 mcast_querier 1 \
		mcast_query_use_ifaddr 1 mcast_query_interval 100 mcast_query_response_interval 50 \
		mcast_startup_query_interval 100 mcast_igmp_version 3 mcast_mld_version 2 || return 1
	ip -n "$SND" addr del 198.19.50.5/24 dev s0
	ip -n "$SND" link set s0 master br0
	ip -n "$SND" addr add 198.19.50.5/24 dev br0
	ip -n "$SND" link set br0 up
	ip -n "$SND" route add 239.0.0.0/8 dev br0
	mcr_wait_oper "$SND" br0 up
}

# 11. A real querier's IGMP queries are counted and named, every frame still in one verdict;
# when they stop for the membership interval they announced, mcr warns once.
test_querier_igmp() {
	local name="IGMPv3 queries from a bridge querier: counted, querier named; their end warned of"
	local bad= drops=0 k before
	querier_bridge || { mcr_fail "$name" "no bridge"; return; }
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || { mcr_fail "$name" "no start"; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I br0 -n 20 -r 200 -l 100 >/dev/null
	sleep 2.5
	counters
	[ "$(c queries_seen)" -ge 2 ] 2>/dev/null || bad="$bad queries_seen=$(c queries_seen)"
	[ "$(c querier)" = 198.19.50.5 ] || bad="$bad querier=$(c querier)"
	awk -v a="$(c last_query_age_s)" 'BEGIN { exit !(a >= 0 && a < 2) }' ||
		bad="$bad age=$(c last_query_age_s)"
	[ "$(c querier_missing)" = 0 ] || bad="$bad missing=$(c querier_missing)"
	[ "$(c relayed)" = 20 ] || bad="$bad relayed=$(c relayed)"
	for k in drop_truncated drop_malformed drop_checksum drop_fragment drop_unmatched drop_vlan; do
		drops=$((drops + $(c $k)))
	done
	[ "$(c rx_packets)" = $(($(c relayed) + $(c frag_queued) + $(c queries_seen) + drops)) ] ||
		bad="$bad sum"
	before=$(grep -c 'no IGMP query' "$WORK/mcr.log")
	# Silence the querier: its queries said QRV 2, QQIC 1 s, 0.5 s to answer: 2.5 s.
	ip -n "$SND" link set br0 type bridge mcast_querier 0
	for _ in $(seq 160); do
		grep -q 'no IGMP query' "$WORK/mcr.log" && break
		sleep 0.05
	done
	counters
	stop_mcr
	[ "$before" = 0 ] || bad="$bad warned-while-querying"
	grep -Eq '^mcr: r0: no IGMP query for [0-9.]+ s: snooping switches may stop sending '\
'239\.0\.0\.1:5000 \(run a querier on the segment, or give --report-interval\)$' \
		"$WORK/mcr.log" || bad="$bad no-warning"
	[ "$(c querier_missing)" = 1 ] || bad="$bad missing-after=$(c querier_missing)"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad: $(cat "$WORK/mcr.log")"
	fi
}

# 12. MLDv2 queries from the same querier, behind their hop-by-hop header, in every format.
test_querier_mld() {
	local name="MLDv2 queries counted; the querier's link-local address in kv, JSON and prom"
	local bad= ll f=$WORK/q.prom
	ip -n "$SND" link set br0 type bridge mcast_querier 1
	ll=$(ip -n "$SND" -6 addr show dev br0 scope link | awk '/inet6/ { sub("/.*", "", $2); print $2 }')
	[ -n "$ll" ] || { mcr_fail "$name" "br0 has no link-local address"; return; }
	start_mcr -i r0 -g '[ff3e::1234]:5000' -o '[fd00:2::2]:6000' --stats-format prom \
		--stats-file "$f" || { mcr_fail "$name" "no start"; return; }
	sleep 2.5
	counters
	[ "$(c queries_seen)" -ge 2 ] 2>/dev/null || bad="$bad queries_seen=$(c queries_seen)"
	[ "$(c querier)" = "$ll" ] || bad="$bad querier=$(c querier)/$ll"
	[ "$(c rx_packets)" = "$(c queries_seen)" ] || bad="$bad rx=$(c rx_packets)"
	grep -q "^mcr_querier{.*,querier=\"$ll\"} 1\$" "$f" || bad="$bad prom-querier"
	grep -q '^mcr_querier_missing{.*} 0$' "$f" || bad="$bad prom-missing"
	grep -q '^mcr_queries_seen_total{.*} [1-9]' "$f" || bad="$bad prom-queries"
	promtool check metrics <"$f" >/dev/null 2>&1 || bad="$bad promtool"
	stop_mcr
	start_mcr -i r0 -g '[ff3e::1234]:5000' -o '[fd00:2::2]:6000' --stats-format json ||
		{ mcr_fail "$name" "no start"; return; }
	sleep 1.5
	counters
	stop_mcr
	[ "$(grep '^{' "$WORK/mcr.log" | tail -n 1 | jq -r .querier)" = "$ll" ] || bad="$bad json"
	if [ -z "$bad" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$bad: $(cat "$WORK/mcr.log")"
	fi
}

test_stall_resume
test_stall_exit
test_no_stall
test_stall_json
test_stall_notify
test_prom_file
test_prom_rules
test_report_igmpv3
test_report_igmpv2
test_report_mld
test_querier_igmp
test_querier_mld
mcr_summary
