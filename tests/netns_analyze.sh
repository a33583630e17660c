#!/bin/bash
# --analyze in namespaces: streams with faults put in at known places (tests/streamer, and an
# nftables drop on the sender's side) must be counted as exactly those faults, and real streams
# from ffmpeg, MPEG-TS over UDP and over RTP, with none. The relayed bytes are the sent bytes.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_require_root
mcr_need_tools streamer
STREAMER=$PWD/tests/streamer
GROUP=239.0.0.1:5000
OUT_PORT=6000
RATE=4000			# pps: under a second per stream, far below what drops here
mcr_suite_setup
chown 65534:65534 "$WORK"	# started as root, mcr runs as nobody: its stats files go here

# relay_stream NAME RELAYED STREAMER_ARGS...: mcr --analyze auto relays the streamer's stream
# to RCV, where socat keeps its bytes; waits until RELAYED datagrams were relayed (bounded),
# then stops mcr. The final counters are in $WORK/counters, the bytes in $WORK/NAME.{sent,got}.
relay_stream() {
	local name=$1 want=$2 i socat_pid
	shift 2
	rm -f "$WORK/$name.got" "$WORK/$name.sent"
	ip netns exec "$RCV" socat -u "UDP4-RECV:$OUT_PORT,bind=198.18.2.2,rcvbuf=4194304" \
		"CREATE:$WORK/$name.got" &
	socat_pid=$!
	for i in $(seq 100); do
		ip netns exec "$RCV" ss -Hlun "sport = :$OUT_PORT" | grep -q . && break
		sleep 0.05
	done
	start_mcr -i r0 -g "$GROUP" -o "198.18.2.2:$OUT_PORT" --analyze auto || return 1
	ip netns exec "$SND" "$STREAMER" -d "$GROUP" -I s0 -r "$RATE" -T 20 \
		-w "$WORK/$name.sent" "$@" >"$WORK/$name.tx" 2>&1 || {
		echo "streamer: $(cat "$WORK/$name.tx")"
		return 1
	}
	wait_relayed "$want"
	stop_mcr
	grep 'event=final' "$WORK/mcr.log" | tail -n 1 >"$WORK/counters"
	sleep 0.2	# the last datagrams' way through RCV's socket into the file
	kill "$socat_pid" 2>/dev/null
	wait "$socat_pid" 2>/dev/null
	# Gone for good before the next one binds the port.
	for i in $(seq 100); do
		ip netns exec "$RCV" ss -Hlun "sport = :$OUT_PORT" | grep -q . || break
		sleep 0.05
	done
	return 0
}

# wait_relayed N: until mcr's counters say N datagrams were relayed, at most 5 s.
wait_relayed() {
	for _ in $(seq 50); do
		counters
		[ "$(c relayed)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# expect NAME KEY=VALUE...: every counter of the final line as given, mcr's own losses 0, and the
# relayed bytes those sent; else one FAIL naming what differs.
expect() {
	local name=$1 kv key want got bad=
	shift
	for kv in "$@" kernel_drops=0 tx_errors=0; do
		key=${kv%%=*}
		want=${kv#*=}
		got=$(c "$key")
		[ "$got" = "$want" ] || bad="$bad $key=$got (want $want)"
	done
	if [ -n "$bad" ]; then
		mcr_fail "$name" "${bad# } | $(cat "$WORK/counters")"
	else
		mcr_pass "$name"
	fi
}

# same_bytes NAME WHAT: the bytes relayed to RCV are the bytes the streamer sent.
same_bytes() {
	if [ -s "$WORK/$1.sent" ] && cmp -s "$WORK/$1.sent" "$WORK/$1.got"; then
		mcr_pass "$2"
	else
		mcr_fail "$2" "sent $(stat -c %s "$WORK/$1.sent" 2>/dev/null) bytes, got \
$(stat -c %s "$WORK/$1.got" 2>/dev/null): $(cmp "$WORK/$1.sent" "$WORK/$1.got" 2>&1)"
	fi
}

# 1. RTP across the 16-bit wrap: 3 numbers skipped, one datagram twice, two swapped, then a
# second SSRC from datagram 2000. 3000 numbers, 2997 arrive, 2998 datagrams with the duplicate.
test_rtp_faults() {
	local name="RTP: exactly the 3 lost, 1 duplicate, 1 reordered, 1 SSRC change sent"
	if ! relay_stream rtp 2998 -m rtp -n 3000 -q 64000 -k 100 -k 1536 -k 1537 -D 700 \
		-R 900 -S 2000; then
		mcr_fail "$name" "relay: $(tail -n 2 "$WORK/mcr.log")"
		return
	fi
	expect "$name" stream=rtp relayed=2998 rtp_expected=3000 rtp_received=2997 rtp_lost=3 \
		rtp_duplicate=1 rtp_reordered=1 rtp_ssrc_changes=1 rtp_resets=0 rtp_invalid=0 \
		ts_packets=0
	same_bytes rtp "RTP: the relayed bytes are the sent bytes, --analyze on"
}

# 2. The loss made by nftables on the sender's way out, every 40th datagram from the 20th:
# the drop counter of nft is the oracle, not the streamer.
test_nft_drop() {
	local name="RTP: nftables drops on the sender's side are counted as exactly that loss"
	local n=2000 dropped
	if ! command -v nft >/dev/null; then
		mcr_fail "$name" "nft not installed (.ci/deps installs nftables)"
		return
	fi
	ip netns exec "$SND" nft -f - <<-EOF || { mcr_fail "$name" "nft rules refused"; return; }
		table ip mcrtest {
			chain out {
				type filter hook output priority 0; policy accept;
				udp dport 5000 numgen inc mod 40 == 20 counter drop
			}
		}
	EOF
	if ! relay_stream nft $((n - n / 40)) -m rtp -n $n -q 100; then
		mcr_fail "$name" "relay: $(tail -n 2 "$WORK/mcr.log")"
		ip netns exec "$SND" nft delete table ip mcrtest
		return
	fi
	dropped=$(ip netns exec "$SND" nft list table ip mcrtest |
		sed -nE 's/.*counter packets ([0-9]+) .*/\1/p')
	ip netns exec "$SND" nft delete table ip mcrtest
	if [ "$dropped" != $((n / 40)) ] || [ "$(mcr_kv "$WORK/nft.tx" filtered)" != "$dropped" ]
	then
		mcr_fail "$name" "nft dropped $dropped, want $((n / 40)): $(cat "$WORK/nft.tx")"
		return
	fi
	expect "$name" stream=rtp rtp_lost="$dropped" rtp_expected=$n \
		rtp_received=$((n - dropped)) rtp_duplicate=0 rtp_reordered=0 rtp_resets=0
}

# 3. Raw MPEG-TS: datagram 500 skipped (one CC error on PID 0, one on PID 0x100), PID 0x100's
# counter moved on at 300 and at 1200 (one error each), datagram 800's last sync byte lost.
test_ts_faults() {
	local name="TS: exactly the 4 continuity errors and 1 sync error sent"
	if ! relay_stream ts 1999 -m ts -n 2000 -k 500 -C 300 -C 1200 -Y 800; then
		mcr_fail "$name" "relay: $(tail -n 2 "$WORK/mcr.log")"
		return
	fi
	expect "$name" stream=ts relayed=1999 ts_cc_errors=4 ts_sync_errors=1 \
		ts_packets=$((1999 * 7 - 1)) ts_pids=3 rtp_received=0
	same_bytes ts "TS: the relayed bytes are the sent bytes, --analyze on"
}

# 4. TS inside RTP: datagram 700 lost is one RTP number and two CC errors.
test_rtp_ts_faults() {
	local name="TS over RTP: one datagram lost is 1 RTP loss and 2 continuity errors"
	if ! relay_stream rtpts 1499 -m rtpts -n 1500 -q 65500 -k 700; then
		mcr_fail "$name" "relay: $(tail -n 2 "$WORK/mcr.log")"
		return
	fi
	expect "$name" stream=rtp_ts relayed=1499 rtp_expected=1500 rtp_lost=1 rtp_duplicate=0 \
		ts_cc_errors=2 ts_sync_errors=0 ts_packets=$((1499 * 7)) ts_pids=3
}

# 5-6. ffmpeg's own streams: three seconds of test picture and tone, MPEG-TS in 1316-byte
# datagrams over UDP, and over RTP (rtp_mpegts: payload type 33). Nothing may be counted.
ffmpeg_stream() {
	local format=$1 url=$2 relayed
	# To a group on r1: nobody need listen, and no port unreachable comes back.
	start_mcr -i r0 -g "$GROUP" -o "239.0.0.2:$OUT_PORT@r1" --analyze auto || return 1
	ip netns exec "$SND" timeout 40 ffmpeg -nostdin -hide_banner -loglevel error -re \
		-f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=frequency=1000 -t 3 \
		-c:v mpeg2video -b:v 800k -c:a mp2 -b:a 128k -f "$format" "$url" \
		>"$WORK/$format.ffmpeg" 2>&1 || {
		echo "ffmpeg: $(tail -n 3 "$WORK/$format.ffmpeg")"
		return 1
	}
	# ffmpeg's datagrams are all out: wait until the relay stops counting more.
	for _ in $(seq 30); do
		counters
		relayed=$(c relayed)
		sleep 0.1
		counters
		[ "$(c relayed)" = "$relayed" ] && break
	done
	stop_mcr
	grep 'event=final' "$WORK/mcr.log" | tail -n 1 >"$WORK/counters"
}

test_ffmpeg() {
	local name url fmt
	if ! command -v ffmpeg >/dev/null; then
		mcr_fail "ffmpeg streams" "ffmpeg not installed (.ci/deps installs it)"
		return
	fi
	for fmt in mpegts rtp_mpegts; do
		if [ $fmt = mpegts ]; then
			name="ffmpeg MPEG-TS over UDP: relayed, no error counted"
			url="udp://$GROUP?pkt_size=1316&ttl=8&localaddr=198.19.50.5"
		else
			name="ffmpeg MPEG-TS over RTP: relayed, no error counted"
			url="rtp://$GROUP?pkt_size=1328&ttl=8&localaddr=198.19.50.5"
		fi
		if ! ffmpeg_stream $fmt "$url"; then
			mcr_fail "$name" "relay: $(tail -n 2 "$WORK/mcr.log")"
			continue
		fi
		# 3 s of 128 kbit/s audio alone is 255 packets, 75 frames of video 75 more: in
		# 1316-byte datagrams, 48 or more. PAT, PMT, SDT, video and audio: 5 PIDs.
		if [ "$(c relayed)" -lt 48 ] || [ "$(c ts_packets)" -lt 330 ] ||
			[ "$(c ts_pids)" -lt 5 ]; then
			mcr_fail "$name" "too little relayed or seen: $(cat "$WORK/counters")"
			continue
		fi
		if [ $fmt = mpegts ]; then
			expect "$name" stream=ts ts_cc_errors=0 ts_sync_errors=0 rtp_received=0
		else
			expect "$name" stream=rtp_ts ts_cc_errors=0 ts_sync_errors=0 rtp_lost=0 \
				rtp_duplicate=0 rtp_reordered=0 rtp_resets=0 rtp_invalid=0 \
				rtp_ssrc_changes=0 rtp_received="$(c relayed)"
		fi
	done
}

# 7. Without --analyze none of it is printed: a zero never counted is no news.
test_off_prints_nothing() {
	local name="without --analyze, no stream or rtp_/ts_ counters in the line"
	start_mcr -i r0 -g "$GROUP" -o "198.18.2.2:$OUT_PORT" || { mcr_fail "$name" start; return; }
	ip netns exec "$SND" "$STREAMER" -d "$GROUP" -I s0 -m rtp -n 100 -r "$RATE" -T 10 \
		>/dev/null 2>&1
	wait_relayed 100
	stop_mcr
	if grep 'event=final' "$WORK/mcr.log" | grep -q 'relayed=100 ' &&
		! grep -qE ' (stream|rtp_[a-z_]+|ts_[a-z_]+)=' "$WORK/mcr.log"; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(tail -n 1 "$WORK/mcr.log")"
	fi
}

# 8. JSON, on stderr and in the stats file: the same counters, as numbers, stream as a string.
test_json() {
	local name="JSON line and stats file carry stream and the rtp_/ts_ counters" f
	f=$WORK/stats.json
	start_mcr -i r0 -g "$GROUP" -o "198.18.2.2:$OUT_PORT" --analyze rtp --stats-format json \
		--stats-file "$f" || { mcr_fail "$name" start; return; }
	ip netns exec "$SND" "$STREAMER" -d "$GROUP" -I s0 -m rtp -n 200 -k 50 -k 51 \
		-r "$RATE" -T 10 >/dev/null 2>&1
	for _ in $(seq 50); do
		[ "$(jq -r .relayed "$f" 2>/dev/null)" = 198 ] && break
		sleep 0.1
	done
	stop_mcr
	local want='.stream == "rtp" and .rtp_lost == 2 and .rtp_expected == 200 and
		.rtp_received == 198 and .ts_pids == 0 and (.rtp_duplicate | type) == "number"'
	if jq -e "$want" "$f" >/dev/null 2>&1 &&
		grep '"event":"final"' "$WORK/mcr.log" | jq -e "$want" >/dev/null 2>&1; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "file: $(cat "$f") | line: $(tail -n 1 "$WORK/mcr.log")"
	fi

	# mcr.1's table of these keys: names, types and order, between tx_bps and out.
	name="the JSON keys of --analyze are mcr.1's table of them, in order, before out"
	local table got
	local row='^\.It Cm \(stream\|rtp_[a-z_]*\|ts_[a-z_]*\) Ta \([a-z]*\) Ta .*'
	table=$(sed -n "/^\.Ss JSON schema/,/^\.Sh/s/$row/\1 \2/p" mcr.1 | sed 's/ integer$/ number/')
	got=$(jq -r 'keys_unsorted as $k | ($k | index("stream")) as $a |
		($k | index("out")) as $b | $k[$a:$b][] as $key | "\($key) \(.[$key] | type)"' \
		"$f" 2>&1)
	if [ -n "$table" ] && [ "$table" = "$got" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "mcr.1: $(echo $table) | JSON: $(echo $got)"
	fi
}

test_rtp_faults
test_json
test_nft_drop
test_ts_faults
test_rtp_ts_faults
test_ffmpeg
test_off_prints_nothing
mcr_summary
