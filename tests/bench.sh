#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/bench.sh - `sudo make bench`: mcr side by side with no relay at all (direct), socat, and
# the kernel's own multicast forwarding set up by smcroute, on the namespaces of tests/lib.sh.
# A benchmark, not a test: it asserts nothing. It prints one markdown table of medians, a
# summary, a density run (32 relays on one host) and mcr's footprint, on stdout and into a
# results file; progress goes to stderr. Every packet stays in namespaces made here and deleted
# at exit, and every stream is bounded in count and in time.
#
#   direct   no relay: a receiver in RLY joined on r0, rp_filter off. The latency baseline.
#   mcr      mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000; rp_filter=1, no route back.
#   mcr-bp   the same with --busy-poll 200: latency bought with a CPU that spins.
#   mcr-co   the same with --coalesce 500 (BENCH_COALESCE_US): CPU bought with latency.
#   batch    tests/batchref, the batched reference --coalesce is held against: TPACKET_V3
#            blocks handed over full or after 1 ms, each block's datagrams sent as UDP GSO.
#   socat    socat from a socket joined on r0 to 198.18.2.2:6000; needs rp_filter off and a route.
#   kernel   multicast routing r0 -> r1 installed by smcrouted; the receiver joins on v1.
#   direct6  IPv6, no relay: a receiver in RLY joined to [ff3e::1234]:5000 on r0. mcr6's baseline.
#   mcr6     mcr -i r0 -g [ff3e::1234]:5000 -o [fd00:2::2]:6000; sent from fd00:1::5 on s0.
#
# The IPv6 methods carry at most 1452 bytes, what a 1500-byte frame holds after 40 bytes of
# IPv6 header and 8 of UDP: a larger size (1472 by default) runs, and is shown, as 1452 for them.
# IPv6 is turned on in the namespaces only when one of them is asked for.
#
# Quick run:  BENCH_RATES="10000 50000" BENCH_SIZES=1316 BENCH_REPS=1 tests/bench.sh
#   BENCH_RATES    offered pps; 0 is as fast as the sender goes    (10000 ... 400000 0)
#   BENCH_SIZES    UDP payload bytes                               (64 1316 1472)
#   BENCH_REPS     runs per cell; the table shows medians          (3)
#   BENCH_METHODS  some of: direct mcr mcr-bp mcr-co batch socat kernel direct6 mcr6  (all nine)
#   BENCH_MAX_N    datagrams per run at most; a paced run is also at most 2 s   (150000)
#   BENCH_EXTRAS   some of: density interleaved taps footprint wake tuned analyze     (all seven)
#   BENCH_ONLY     extras to run alone, without the method table: e.g. "interleaved taps"
#   BENCH_COALESCE_US  mcr-co's --coalesce                         (500)
#   BENCH_DENSITY_SETS  interleaved: STREAMSxPPS each, the --coalesce of its coalesced rows
#                  after a colon                                   (32x5000:2000 64x2500:2000)
#
#   density      32 relays, one stream each, each stream from its own sender process: the
#                scheduler hands each relay its stream in bursts (the kind case).
#   interleaved  the streams as independent sources put them on the wire: one sender
#                round-robin over the groups, so each relay sees its next datagram one
#                stream interval after the last. Rows: the sender alone (no relay: what the
#                host carries on its own), mcr, mcr --coalesce, and kernel forwarding where
#                the kernel has multicast routing.
#   taps         every frame on the ingress visits every packet socket bound there: one
#                stream at 50k pps through one relay, with 0, 32 and 64 idle relays of
#                other groups on the same interface; the sender's CPU per datagram (it runs
#                the receive softirq on veth) against N.
#
#   wake     what waking a sleeping process costs on this host (tests/wake), across CPUs and on
#            one, with and without the CPUs held out of deep idle: the floor under the latency
#            any relay that sleeps between datagrams adds.
#   tuned    direct and mcr again at 10k and 50k pps on a host tuned for latency, as trading
#            hosts are: /dev/cpu_dma_latency held at 0 for the runs (the CPUs poll instead of
#            halting when idle; released when the bench closes it), the sender (in the place
#            of the NIC's interrupt) on CPU 0, the relay and the receiver on CPU 1.
#   analyze  mcr's CPU per relayed datagram with and without --analyze auto, on TS over RTP
#            (tests/streamer: RTP and 7 TS packets a datagram, the most work the analysis
#            does) at 10k, 50k pps and as fast as the streamer goes; the host's load beside
#            it; and the analysis alone (tests/bench_analyze): ns and, under callgrind,
#            instructions per datagram, which no other load on the host changes.

set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

RATES=${BENCH_RATES:-"10000 50000 100000 200000 400000 0"}
SIZES=${BENCH_SIZES:-"64 1316 1472"}
REPS=${BENCH_REPS:-3}
METHODS=${BENCH_METHODS:-"direct mcr mcr-bp mcr-co batch socat kernel direct6 mcr6"}
MAX_N=${BENCH_MAX_N:-150000}
EXTRAS=${BENCH_EXTRAS-"density interleaved taps footprint wake tuned analyze"}
if [ -n "${BENCH_ONLY:-}" ]; then
	METHODS='' EXTRAS=$BENCH_ONLY
fi
COALESCE_US=${BENCH_COALESCE_US:-500}
DENSITY_SETS=${BENCH_DENSITY_SETS:-"32x5000:2000 64x2500:2000"}

GROUP=239.0.0.1:5000
OUT=198.18.2.2:6000		# mcr's and socat's destination: the receiver in RCV
SRC_NET=198.19.50.0/24		# the sender's network, routable from RLY only when asked
GROUP6='[ff3e::1234]:5000'	# the IPv6 stream, as in tests/netns_ipv6.sh
SRC6=fd00:1::5			# its source, on s0
OUT6='[fd00:2::2]:6000'		# mcr6's destination: the receiver in RCV
V6_MAX_SIZE=1452		# bytes: a 1500-byte MTU less 40 of IPv6 and 8 of UDP header
BUSY_POLL_US=200		# mcr-bp's --busy-poll
RUN_S=2				# a paced run lasts at most this many seconds of stream: with
				# MAX_N, what keeps seven methods x 3 sizes x 6 rates x 3 reps
				# near 15 minutes
RX_IDLE_MS=500			# a receiver stops this long after its last datagram
SETTLE_S=0.2			# between runs, for queues to drain
WARMUP_N=2000			# datagrams at 10 kpps after a relay starts: ARP, mroute cache
DENSITY_STREAMS=32
DENSITY_RATE=5000		# pps per stream
DENSITY_S=5
DENSITY_SIZE=1316
TAPS_N="0 32 64"		# idle relays beside the one that relays
TAPS_RATE=50000
TAPS_COUNT=150000		# datagrams per taps run: 3 s at TAPS_RATE
START_TRIALS=5
START_RATE=10000		# pps while mcr starts: one datagram every 100 us
LOAD_RATE=100000		# pps for the RSS under load
CLK_TCK=$(getconf CLK_TCK)
TUNED_RATES="10000 50000"	# the tuned runs: the rates of the latency target
TUNED_SIZE=1316
WAKE_TRIPS=20000		# round trips per tests/wake measurement
ANALYZE_RATES="10000 50000 0"	# the analyze runs: the latency target's rates and the top
ANALYZE_OUT=239.0.0.2:6000@r1	# a group nobody joins: no port unreachable comes back
ANALYZE_ALONE_N=2000000		# datagrams for tests/bench_analyze; 100000 under callgrind
# Command prefixes that pin the sender, relay and receiver; empty but in the tuned runs.
PIN_TX='' PIN_RELAY='' PIN_RX=''

RELAY_PID=
RELAY_LOG=
DENSITY_PIDS=()
RX_NS='' RX_AT='' RX_IF=''	# where the stream comes out: the receiver's namespace, address, iface
TX_AT='' TX_SRC=''		# where the sender sends it, and from which address ('' the kernel's pick)

# The awk functions the reports share, put in front of their programs: sortv sorts a[1..k];
# med is the median of field f over the runs of cell c (runs[c], v[c, run, f]), "-" when no
# run has a number there.
AWK_MEDIAN='
function sortv(a, k,   i, j, t) {
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}
function med(c, f,   i, k, a) {
	k = 0
	for (i = 1; i <= runs[c]; i++)
		if (v[c, i, f] != "-" && v[c, i, f] != "")
			a[++k] = v[c, i, f] + 0
	if (!k)
		return "-"
	sortv(a, k)
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
'

say() { echo "bench: $*" >&2; }

for v in "$REPS" "$MAX_N" "$COALESCE_US" $RATES $SIZES; do
	case $v in
	'' | *[!0-9]*)
		echo "bench: '$v' is not a number (BENCH_RATES, BENCH_SIZES, BENCH_REPS, BENCH_MAX_N," \
			"BENCH_COALESCE_US)" >&2
		exit 2
		;;
	esac
done
for s in $SIZES; do
	if [ "$s" -lt 32 ] || [ "$s" -gt 1472 ]; then
		echo "bench: size $s: want 32..1472 bytes (the header, and one 1500-byte frame)" >&2
		exit 2
	fi
done

for x in $EXTRAS; do
	case $x in
	density | interleaved | taps | footprint | wake | tuned | analyze) ;;
	*)
		echo "bench: extra $x: want density, interleaved, taps, footprint, wake, tuned or" \
			"analyze (BENCH_EXTRAS, BENCH_ONLY)" >&2
		exit 2
		;;
	esac
done
for d in $DENSITY_SETS; do
	if ! [[ $d =~ ^[1-9][0-9]*x[1-9][0-9]*:[0-9]+$ ]]; then
		echo "bench: density set $d: want STREAMSxPPS:COALESCE_US, e.g. 32x5000:2000" \
			"(BENCH_DENSITY_SETS)" >&2
		exit 2
	fi
done

mcr_require_root
mcr_need_tools sender receiver
if [ ! -x "$MCR_BIN" ]; then
	echo "bench: $MCR_BIN not built (make mcr)" >&2
	exit 1
fi
# kernel_forwarding: true when this kernel has multicast routing. Without it (no
# CONFIG_IP_MROUTE) MRT_INIT fails with ENOPROTOOPT, smcrouted logs that the kernel lacks IGMP
# support and carries on forwarding nothing, and a row of zeros would follow.
KERNEL_NA=
KERNEL_NA_TEXT="kernel forwarding: not available on this kernel (no multicast routing:"\
" MRT_INIT fails with ENOPROTOOPT)"
kernel_forwarding() { [ -e /proc/net/ip_mr_vif ]; }

methods=
for m in $METHODS; do
	case $m in
	direct | mcr | mcr-bp | mcr-co | batch) ;;
	direct6 | mcr6)
		[ -e /proc/net/if_inet6 ] || { say "no IPv6 in this kernel: $m skipped"; continue; }
		;;
	socat) command -v socat >/dev/null || { say "socat not installed: skipped"; continue; } ;;
	kernel)
		command -v smcrouted >/dev/null || { say "smcrouted not installed: skipped"; continue; }
		kernel_forwarding || { KERNEL_NA=1; say "$KERNEL_NA_TEXT"; continue; }
		;;
	*)
		echo "bench: method $m: want direct, mcr, mcr-bp, mcr-co, batch, socat, kernel," \
			"direct6 or mcr6" >&2
		exit 2
		;;
	esac
	methods="$methods $m"
done
METHODS=${methods# }
# Read by mcr_topology: IPv6 stays off, and out of every counter, unless a method needs it.
# shellcheck disable=SC2034
case " $METHODS " in *6\ *) MCR_IPV6=1 ;; esac

RESULT_DIR=$(mktemp -d /tmp/mcr-bench.XXXXXX) || exit 1
RAW=$RESULT_DIR/runs.tsv
RESULTS=$RESULT_DIR/bench-results.md
START_TIME=$SECONDS

mcr_topology
RELAY_LOG=$MCR_TMP/relay.log
# The addresses of tests/netns_ipv6.sh that the IPv6 methods use; nodad: usable at once.
if [ "${MCR_IPV6:-0}" = 1 ] && ! {
	ip -n "$SND" addr add "$SRC6/64" dev s0 nodad &&
		ip -n "$RLY" addr add fd00:1::1/64 dev r0 nodad &&
		ip -n "$RLY" addr add fd00:2::1/64 dev r1 nodad &&
		ip -n "$RCV" addr add fd00:2::2/64 dev v1 nodad &&
		ip -n "$RCV" route add fd00::/8 via fd00:2::1
}; then
	echo "bench: IPv6 addresses and routes failed" >&2
	exit 1
fi
bench_cleanup() {
	local p
	for p in $RELAY_PID "${DENSITY_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	mcr_cleanup
}
trap bench_cleanup EXIT

# --- The relay host's two modes.

# rly_strict: the real scenario. rp_filter=1 and no route back: only a packet socket sees it.
rly_strict() {
	mcr_sysctl "$RLY" net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.r0.rp_filter=1
	ip -n "$RLY" route del "$SRC_NET" 2>/dev/null
}

# rly_routable: what socat and kernel forwarding need: no RPF drop, and a route to the source.
rly_routable() {
	mcr_sysctl "$RLY" net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.r0.rp_filter=0
	ip -n "$RLY" route replace "$SRC_NET" dev r0
}

# --- Measuring a process and the host.

# The readers below set a variable rather than print, so that reading costs no fork: a run's
# CPU is measured from the reaped children, and a $(...) would be one.

# cpu_ns PID: CPU_NS = nanoseconds on CPU of all its threads (io_uring workers included).
cpu_ns() {
	local f t
	CPU_NS=0
	for f in /proc/"$1"/task/*/schedstat; do
		read -r t _ 2>/dev/null <"$f" && CPU_NS=$((CPU_NS + t))
	done
}

rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo -
}

# children_cpu: CHILD_NS = CPU time of this shell's reaped children (sender, receiver), from
# the builtin times, so no fork of ours counts in it. Their softirq work (a veth peer's receive
# path runs in the sender's context) is in it too.
children_cpu() {
	local _a _b u s
	times >"$MCR_TMP/times"
	{
		read -r _a _b
		read -r u s
	} <"$MCR_TMP/times"
	times_ns "$u"
	CHILD_NS=$TIMES_NS
	times_ns "$s"
	CHILD_NS=$((CHILD_NS + TIMES_NS))
}

# times_ns 1m2.345s: TIMES_NS = that in nanoseconds.
times_ns() {
	local m=${1%%m*} sec=${1#*m}
	sec=${sec%s}
	TIMES_NS=$(((m * 60 + ${sec%.*}) * 1000000000 + 10#${sec#*.} * 1000000))
}

# ksoftirqd_ns: KSOFTIRQD_NS = CPU time of the ksoftirqd threads: softirq work deferred out of
# our processes.
KSOFTIRQD_PIDS=$(for f in /proc/[0-9]*/comm; do
	read -r c <"$f" 2>/dev/null && [[ $c == ksoftirqd/* ]] && { f=${f#/proc/}; echo "${f%/comm}"; }
done)
ksoftirqd_ns() {
	local p t
	KSOFTIRQD_NS=0
	for p in $KSOFTIRQD_PIDS; do
		read -r t _ 2>/dev/null <"/proc/$p/schedstat" && KSOFTIRQD_NS=$((KSOFTIRQD_NS + t))
	done
}

# host_busy: HOST_TICKS = clock ticks all CPUs spent in user, system, irq and softirq, whoever's.
host_busy() {
	local _cpu user nice sys _idle _iowait irq softirq _rest
	read -r _cpu user nice sys _idle _iowait irq softirq _rest </proc/stat
	HOST_TICKS=$((user + nice + sys + irq + softirq))
}

# udp_stat NS FIELD: a counter of the Udp: lines of /proc/net/snmp in NS, e.g. RcvbufErrors.
udp_stat() {
	# shellcheck disable=SC2016
	ip netns exec "$1" awk -v f="$2" '
		$1 == "Udp:" && !col { for (i = 2; i <= NF; i++) if ($i == f) col = i; next }
		$1 == "Udp:" && col { print $col; exit }' /proc/net/snmp
}

# backlog_drops: frames the per-CPU input queues dropped (netdev_max_backlog), all CPUs: a veth
# peer's frames wait there for the softirq. Host-wide, but this benchmark is the only traffic.
backlog_drops() {
	local _p d _rest s=0
	while read -r _p d _rest; do
		s=$((s + 0x$d))
	done </proc/net/softnet_stat
	echo "$s"
}

# relay_drops METHOD: what the relay itself dropped so far: mcr's ring overruns and failed
# sends; socat's socket, in and out; '-' where there is no relay process to ask.
relay_drops() {
	local c
	case $1 in
	mcr | mcr-bp | mcr-co | mcr6)
		c=$(counters "$RELAY_PID" "$RELAY_LOG")
		echo $(($(echo "$c" | kv kernel_drops) + $(echo "$c" | kv tx_errors)))
		;;
	socat) echo $(($(udp_stat "$RLY" RcvbufErrors) + $(udp_stat "$RLY" SndbufErrors))) ;;
	*) echo - ;;
	esac
}

# wait_for_line FILE PATTERN PID: until PATTERN is in FILE; 1 if PID died or 5 s passed.
wait_for_line() {
	local i
	for ((i = 0; i < 250; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}


# counters PID LOG: asks mcr for its counter line; prints it once it is in LOG.
counters() {
	local before i
	before=$(grep -c 'rx_packets=' "$2")
	kill -USR1 "$1" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c 'rx_packets=' "$2")" -gt "$before" ] && break
		sleep 0.02
	done
	grep 'rx_packets=' "$2" | tail -n 1
}

kv() { tr ' ' '\n' | sed -n "s/^$1=//p" | tail -n 1; }

# run_size METHOD SIZE: RUN_SIZE = the payload METHOD runs SIZE as: at most V6_MAX_SIZE for the
# IPv6 methods, so that a datagram is one frame there too.
run_size() {
	RUN_SIZE=$2
	if [[ $1 == *6 ]] && [ "$2" -gt "$V6_MAX_SIZE" ]; then
		RUN_SIZE=$V6_MAX_SIZE
	fi
}

# method_sizes METHOD: SIZES as METHOD runs them, each once (1460 and 1472 are both 1452 in v6).
method_sizes() {
	local s seen=' '
	for s in $SIZES; do
		run_size "$1" "$s"
		[[ $seen == *" $RUN_SIZE "* ]] && continue
		seen="$seen$RUN_SIZE "
		echo "$RUN_SIZE"
	done
}

# --- Relays.

# start_mcr_relay ARGS...: mcr in RLY with ARGS (RELAY_PID), until its "relaying" line.
start_mcr_relay() {
	# shellcheck disable=SC2086
	ip netns exec "$RLY" $PIN_RELAY "$MCR_BIN" "$@" 2>"$RELAY_LOG" &
	RELAY_PID=$!
	wait_for_line "$RELAY_LOG" ': relaying ' "$RELAY_PID" ||
		{ say "mcr $* did not start: $(cat "$RELAY_LOG")"; return 1; }
}

# start_relay METHOD SIZE: puts RLY in the mode METHOD needs, starts its relay (RELAY_PID),
# points the sender (TX_AT, TX_SRC) at the stream and the receiver (RX_NS, RX_AT, RX_IF) at
# where it comes out; then warms up.
start_relay() {
	local log=$RELAY_LOG
	RELAY_PID=
	TX_AT=$GROUP TX_SRC=
	: >"$log"
	case $1 in
	direct)
		rly_routable
		RX_NS=$RLY RX_AT=$GROUP RX_IF=r0
		;;
	mcr)
		rly_strict
		start_mcr_relay -i r0 -g "$GROUP" -o "$OUT" || return 1
		RX_NS=$RCV RX_AT=$OUT RX_IF=
		;;
	mcr-bp)
		rly_strict
		start_mcr_relay -i r0 -g "$GROUP" -o "$OUT" --busy-poll "$BUSY_POLL_US" || return 1
		RX_NS=$RCV RX_AT=$OUT RX_IF=
		;;
	mcr-co)
		rly_strict
		start_mcr_relay -i r0 -g "$GROUP" -o "$OUT" --coalesce "$COALESCE_US" || return 1
		RX_NS=$RCV RX_AT=$OUT RX_IF=
		;;
	batch)
		rly_strict
		# shellcheck disable=SC2086
		ip netns exec "$RLY" $PIN_RELAY "$MCR_TESTS_DIR/batchref" -i r0 -g "$GROUP" \
			-o "$OUT" 2>"$log" >"$MCR_TMP/batchref.out" &
		RELAY_PID=$!
		wait_for_line "$log" 'batchref: ready' "$RELAY_PID" ||
			{ say "batchref did not start: $(cat "$log")"; return 1; }
		RX_NS=$RCV RX_AT=$OUT RX_IF=
		;;
	# IPv6 has no rp_filter: the IPv4 mode of RLY does not matter to these two.
	direct6)
		TX_AT=$GROUP6 TX_SRC=$SRC6
		RX_NS=$RLY RX_AT=$GROUP6 RX_IF=r0
		;;
	mcr6)
		TX_AT=$GROUP6 TX_SRC=$SRC6
		start_mcr_relay -i r0 -g "$GROUP6" -o "$OUT6" || return 1
		RX_NS=$RCV RX_AT=$OUT6 RX_IF=
		;;
	socat)
		rly_routable
		ip netns exec "$RLY" socat -u \
			UDP4-RECV:5000,ip-add-membership=239.0.0.1:r0,rcvbuf=4194304 \
			UDP4-SENDTO:198.18.2.2:6000,sndbuf=4194304 2>"$log" &
		RELAY_PID=$!
		# Joined: the group shows up on r0 (no one else in RLY joins it now).
		wait_for_line "/proc/$RELAY_PID/net/igmp" 010000EF "$RELAY_PID" ||
			{ say "socat did not start: $(cat "$log")"; return 1; }
		RX_NS=$RCV RX_AT=$OUT RX_IF=
		;;
	kernel)
		rly_routable
		cat >"$MCR_TMP/smcroute.conf" <<-EOF
			phyint r0 enable
			phyint r1 enable
			mroute from r0 group 239.0.0.1 to r1
		EOF
		rm -f "$MCR_TMP/smcroute.pid"
		# -n foreground, -N only the phyints enabled above, -c 0 never flush the (S,G)
		# route learned from the (*,G) rule; socket and PID file our own.
		ip netns exec "$RLY" smcrouted -n -N -c 0 -f "$MCR_TMP/smcroute.conf" \
			-u "$MCR_TMP/smcroute.sock" -P "$MCR_TMP/smcroute.pid" >"$log" 2>&1 &
		RELAY_PID=$!
		mcr_wait_file "$MCR_TMP/smcroute.pid" 5 ||
			{ say "smcrouted did not start: $(cat "$log")"; return 1; }
		if grep -q 'not even support IGMP' "$log"; then
			KERNEL_NA=1
			say "$KERNEL_NA_TEXT"
			return 1
		fi
		RX_NS=$RCV RX_AT=$GROUP RX_IF=v1
		;;
	esac
	run_one "$1" "$2" 10000 warmup "$WARMUP_N" /dev/null
}

stop_relay() {
	[ -n "$RELAY_PID" ] && stop_or_kill "$RELAY_PID"
	RELAY_PID=
}

# --- One run.

# run_one METHOD SIZE RATE REP N OUT: N datagrams of SIZE bytes at RATE pps through the relay
# now running; appends one tab-separated line to OUT. Raw values: derived ones come later.
run_one() {
	local method=$1 size=$2 rate=$3 rep=$4 n=$5 out=$6
	local limit rx cpu0=0 cpu1=0 host0 host1 rss=- relay_ns=- tx r ks0 ks1 child0 total
	local rd0 rd1 sd0 sd1 bd0 bd1 drops
	limit=$((rate > 0 ? n / rate + 5 : 15))	# seconds the sender may take, at most
	rm -f "$MCR_TMP/rx.ready"
	# shellcheck disable=SC2086
	ip netns exec "$RX_NS" $PIN_RX "$MCR_RECEIVER" -g "$RX_AT" ${RX_IF:+-I "$RX_IF"} -n "$n" \
		-w "$RX_IDLE_MS" -T $((limit + 5)) -R "$MCR_TMP/rx.ready" >"$MCR_TMP/rx.out" 2>&1 &
	rx=$!
	if ! mcr_wait_file "$MCR_TMP/rx.ready" 5; then
		say "receiver did not start: $(cat "$MCR_TMP/rx.out")"
		kill "$rx" 2>/dev/null
		wait "$rx" 2>/dev/null
		return 1
	fi
	rd0=$(relay_drops "$method")
	sd0=$(udp_stat "$RX_NS" RcvbufErrors)
	bd0=$(backlog_drops)
	children_cpu
	child0=$CHILD_NS
	ksoftirqd_ns
	ks0=$KSOFTIRQD_NS
	[ -n "$RELAY_PID" ] && cpu_ns "$RELAY_PID" && cpu0=$CPU_NS
	host_busy
	host0=$HOST_TICKS
	# shellcheck disable=SC2086
	ip netns exec "$SND" $PIN_TX "$MCR_SENDER" -d "$TX_AT" ${TX_SRC:+-S "$TX_SRC"} -I s0 -n "$n" \
		-r "$rate" -l "$size" -T "$limit" >"$MCR_TMP/tx.out" 2>&1
	wait "$rx"	# bounded by its -T
	host_busy
	host1=$HOST_TICKS
	children_cpu
	ksoftirqd_ns
	ks1=$KSOFTIRQD_NS
	total=$((CHILD_NS - child0 + ks1 - ks0))
	if [ -n "$RELAY_PID" ]; then
		cpu_ns "$RELAY_PID"
		cpu1=$CPU_NS
		total=$((total + cpu1 - cpu0))
		rss=$(rss_kib "$RELAY_PID")
		# Kernel forwarding runs in softirq, not in smcrouted: its CPU is not the relay's.
		[ "$method" != kernel ] && relay_ns=$((cpu1 - cpu0))
	fi
	bd1=$(backlog_drops)
	sd1=$(udp_stat "$RX_NS" RcvbufErrors)
	rd1=$(relay_drops "$method")
	[ "$rd0" = - ] || rd1=$((rd1 - rd0))
	drops="$rd1/$((sd1 - sd0))/$((bd1 - bd0))"
	tx=$(tail -n 1 "$MCR_TMP/tx.out")
	r=$(tail -n 1 "$MCR_TMP/rx.out")
	if [ -z "$(echo "$r" | kv unique)" ] || [ -z "$(echo "$tx" | kv sent)" ]; then
		say "$method $size B $rate pps: no result: $tx | $r"
		return 1
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$method" "$size" "$rate" "$rep" "$n" "$(echo "$tx" | kv sent)" \
		"$(echo "$tx" | kv pps)" "$(echo "$r" | kv unique)" "$(echo "$r" | kv lost)" \
		"$(echo "$r" | kv corrupt)" "$(echo "$r" | kv reordered)" "$(echo "$r" | kv dup)" \
		"$(echo "$r" | kv rx_pps)" "$(echo "$r" | kv lat_avg_us)" \
		"$(echo "$r" | kv lat_p99_us)" "$relay_ns" "$rss" "$((host1 - host0))" "$drops" \
		"$total" >>"$out"
	sleep "$SETTLE_S"
}

# --- The report: medians per (method, size, rate), then the summary.

# report: markdown from $RAW on stdout.
report() {
	awk -F'\t' -v methods="$METHODS" -v sizes="$SIZES" -v rates="$RATES" -v tck="$CLK_TCK" \
	    -v v6max="$V6_MAX_SIZE" -v bp="$BUSY_POLL_US" -v co="$COALESCE_US" "$AWK_MEDIAN"'
	function fmt(x, spec) { return x == "-" ? "-" : sprintf(spec, x) }
	# Never rounds a lossy cell up to 100.
	function pct(x) { return x == "-" ? "-" : sprintf("%.2f", int(x * 100) / 100) }
	function offered(r) { return r == 0 ? "max" : r }
	# The size method m ran a configured size s as (run_size), and the no-relay row it is
	# measured against: direct6 for the IPv6 methods.
	function rsize(m, s) { return m ~ /6$/ && s + 0 > v6max ? v6max : s }
	function basem(m) { return m ~ /6$/ ? "direct6" : "direct" }
	function sub_(a, b) { return a == "-" || b == "-" ? "-" : a - b }
	function lossless_rate(m, s,   i, r, c, best) {
		best = ""
		for (i = 1; i <= nr; i++) {
			r = R[i]; c = m SUBSEP s SUBSEP r
			if (runs[c] && lossy[c] == 0)
				if (best == "" || r == 0 || (best != 0 && r + 0 > best + 0))
					best = r
		}
		return best
	}
	# What the sender reached at an offered rate: the rate a method was actually shown to carry.
	function eff(m, s, r) { return med(m SUBSEP s SUBSEP r, "txpps") }
	# "100000", or "400000 (sent 143922)" when the sender fell short of the offer by over 2%.
	function show_rate(m, s, r,   e) {
		if (r == "")
			return "none"
		e = eff(m, s, r)
		return r == 0 ? sprintf("max (sent %.0f)", e) : e < 0.98 * r ? sprintf("%s (sent %.0f)", r, e) : r
	}
	BEGIN {
		nm = split(methods, M, " "); ns = split(sizes, S, " "); nr = split(rates, R, " ")
	}
	{
		c = $1 SUBSEP $2 SUBSEP $3
		i = ++runs[c]
		sent = $6; uniq = $8
		v[c, i, "txpps"] = $7
		v[c, i, "deliv"] = sent > 0 ? 100 * uniq / sent : 0
		v[c, i, "rxpps"] = $13
		v[c, i, "cpu"] = $16 == "-" || uniq == 0 ? "-" : $16 / uniq
		v[c, i, "lat"] = $14
		v[c, i, "p99"] = $15
		v[c, i, "rss"] = $17
		v[c, i, "lost"] = $9
		v[c, i, "corrupt"] = $10
		v[c, i, "reord"] = $11
		v[c, i, "host"] = uniq ? $20 / uniq : "-"
		split($19, dp, "/")
		v[c, i, "drelay"] = dp[1]; v[c, i, "drx"] = dp[2]; v[c, i, "dbacklog"] = dp[3]
		if (!(uniq == sent && sent == $5 && $10 == 0))
			lossy[c]++
	}
	END {
		print "| method | size | offered pps | sender pps | delivered % | rx pps | CPU ns/pkt" \
		    " | lat avg us | lat p99 us | added avg us | added p99 us | RSS KiB" \
		    " | lost | corrupt | reordered | total CPU ns/pkt | drops relay/rx/backlog |"
		print "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
		for (a = 1; a <= nm; a++) for (b = 1; b <= ns; b++) for (d = 1; d <= nr; d++) {
			m = M[a]; s = rsize(m, S[b]); r = R[d]; c = m SUBSEP s SUBSEP r
			if (!runs[c] || (c in shown))
				continue
			shown[c] = 1
			base = basem(m) SUBSEP s SUBSEP r
			lat = med(c, "lat"); p99 = med(c, "p99")
			add = add99 = "-"
			if (m != basem(m) && runs[base]) {
				add = sub_(lat, med(base, "lat")); add99 = sub_(p99, med(base, "p99"))
			}
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			    m, s, offered(r), fmt(med(c, "txpps"), "%.0f"), pct(med(c, "deliv")),
			    fmt(med(c, "rxpps"), "%.0f"), fmt(med(c, "cpu"), "%.0f"), fmt(lat, "%.1f"),
			    fmt(p99, "%.1f"), fmt(add, "%.1f"), fmt(add99, "%.1f"),
			    fmt(med(c, "rss"), "%.0f"), fmt(med(c, "lost"), "%.0f"),
			    fmt(med(c, "corrupt"), "%.0f"), fmt(med(c, "reord"), "%.0f"),
			    fmt(med(c, "host"), "%.0f"), fmt(med(c, "drelay"), "%.0f") "/" \
			    fmt(med(c, "drx"), "%.0f") "/" fmt(med(c, "dbacklog"), "%.0f")
		}
		print ""
		print "Summary: lossless rate = the highest offered rate at which a method delivered" \
		    " every datagram, intact, in every repetition."
		print ""
		for (b = 1; b <= ns; b++) {
			s = S[b]
			line = ""
			for (a = 1; a <= nm; a++) {
				m = M[a]; s6 = rsize(m, s); lr[m] = lossless_rate(m, s6)
				line = line (a > 1 ? ", " : "") m (s6 != s ? " (" s6 " B)" : "") " " \
				    show_rate(m, s6, lr[m])
			}
			printf "- %s B: lossless rate (offered pps): %s\n", s, line
			if (runs["direct" SUBSEP s SUBSEP 0])
				printf "  - sender ceiling (direct, unthrottled): %.0f pps\n", \
				    med("direct" SUBSEP s SUBSEP 0, "txpps")
			s6 = rsize("direct6", s)
			if (runs["direct6" SUBSEP s6 SUBSEP 0])
				printf "  - sender ceiling, IPv6 (direct6, %s B, unthrottled): %.0f pps\n", s6, \
				    med("direct6" SUBSEP s6 SUBSEP 0, "txpps")
			# Busy polling: the latency it saves against the relay CPU it spins away.
			line = ""
			for (d = 1; d <= nr; d++) {
				r = R[d]; cm = "mcr" SUBSEP s SUBSEP r; cb = "mcr-bp" SUBSEP s SUBSEP r
				if (runs[cm] && runs[cb])
					line = line (line == "" ? "" : "; ") offered(r) ": " \
					    fmt(med(cb, "lat"), "%.1f") " vs " fmt(med(cm, "lat"), "%.1f") " us, " \
					    fmt(med(cb, "cpu"), "%.0f") " vs " fmt(med(cm, "cpu"), "%.0f") " ns"
			}
			if (line != "")
				printf "  - mcr-bp vs mcr (--busy-poll %s), lat avg and relay CPU ns/pkt" \
				    " at each offered rate: %s\n", bp, line
			# Coalescing: the CPU it saves against the latency it adds (at most co us).
			line = ""
			for (d = 1; d <= nr; d++) {
				r = R[d]; cm = "mcr" SUBSEP s SUBSEP r; cc = "mcr-co" SUBSEP s SUBSEP r
				if (runs[cm] && runs[cc])
					line = line (line == "" ? "" : "; ") offered(r) ": " \
					    fmt(med(cc, "lat"), "%.1f") "/" fmt(med(cc, "p99"), "%.1f") \
					    " vs " fmt(med(cm, "lat"), "%.1f") "/" fmt(med(cm, "p99"), "%.1f") \
					    " us, " fmt(med(cc, "cpu"), "%.0f") " vs " \
					    fmt(med(cm, "cpu"), "%.0f") " ns"
			}
			if (line != "")
				printf "  - mcr-co vs mcr (--coalesce %s), lat avg/p99 and relay CPU" \
				    " ns/pkt at each offered rate: %s\n", co, line
			# The batched reference: what --coalesce is held against.
			line = ""
			for (d = 1; d <= nr; d++) {
				r = R[d]; cc = "mcr-co" SUBSEP s SUBSEP r; cr = "batch" SUBSEP s SUBSEP r
				if (runs[cc] && runs[cr])
					line = line (line == "" ? "" : "; ") offered(r) ": " \
					    fmt(med(cc, "cpu"), "%.0f") " vs " fmt(med(cr, "cpu"), "%.0f") \
					    " ns, delivered " pct(med(cc, "deliv")) " vs " \
					    pct(med(cr, "deliv")) "%"
			}
			if (line != "")
				printf "  - mcr-co vs batch (TPACKET_V3 + UDP GSO), relay CPU ns/pkt and" \
				    " delivered at each offered rate: %s\n", line
			if (("mcr" in lr) && ("socat" in lr)) {
				if (lr["mcr"] != "" && lr["socat"] != "")
					printf "  - mcr/socat lossless rate, as sent: %.2f\n", \
					    eff("mcr", s, lr["mcr"]) / eff("socat", s, lr["socat"])
				else
					printf "  - mcr/socat lossless rate: n/a (one of them lost datagrams at every rate)\n"
			}
			# CPU per packet where both delivered everything, at the highest such rate.
			common = ""
			for (d = 1; d <= nr; d++) {
				r = R[d]; cm = "mcr" SUBSEP s SUBSEP r; cs = "socat" SUBSEP s SUBSEP r
				if (runs[cm] && runs[cs] && !lossy[cm] && !lossy[cs] &&
				    (common == "" || r == 0 || (common != 0 && r + 0 > common + 0)))
					common = r
			}
			line = ""
			for (d = 1; d <= nr; d++) {
				r = R[d]; cm = "mcr" SUBSEP s SUBSEP r; cs = "socat" SUBSEP s SUBSEP r
				if (runs[cm] && runs[cs] && med(cm, "cpu") != "-" && med(cs, "cpu") > 0)
					line = line (line == "" ? "" : ", ") offered(r) " " \
					    sprintf("%.2f", med(cm, "cpu") / med(cs, "cpu"))
			}
			if (line != "")
				printf "  - mcr/socat CPU ns/pkt at each offered rate: %s\n", line
			if (common != "") {
				cm = "mcr" SUBSEP s SUBSEP common; cs = "socat" SUBSEP s SUBSEP common
				if (med(cm, "cpu") != "-" && med(cs, "cpu") > 0)
					printf "  - mcr/socat CPU ns/pkt at %s pps (both lossless): %.0f / %.0f = %.2f\n", \
					    offered(common), med(cm, "cpu"), med(cs, "cpu"), \
					    med(cm, "cpu") / med(cs, "cpu")
				line = ""
				for (a = 1; a <= nm; a++) {
					m = M[a]; s6 = rsize(m, s)
					c = m SUBSEP s6 SUBSEP common; cb = basem(m) SUBSEP s6 SUBSEP common
					if (m == basem(m) || !runs[c] || !runs[cb])
						continue
					line = line (line == "" ? "" : ", ") m " " \
					    fmt(sub_(med(c, "host"), med(cb, "host")), "%.0f")
				}
				if (line != "")
					printf "  - total CPU ns/pkt above direct (direct6 for IPv6) at %s pps: %s\n", \
					    offered(common), line
			}
		}
	}' "$RAW"
}

# --- Density: 32 relays, one stream each.

# density_phase K: streams 1..K sent at DENSITY_RATE for DENSITY_S, all 32 relays watched.
density_phase() {
	local active=$1 k n=$((DENSITY_RATE * DENSITY_S)) child0 ks0 ks1 rx_pids=() tx_pids=()
	local -a cpu0 cpu1 rel0 rel1
	for ((k = 1; k <= active; k++)); do
		rm -f "$MCR_TMP/d$k.ready"
		ip netns exec "$RCV" "$MCR_RECEIVER" -g "198.18.2.2:$((6000 + k))" -n "$n" -w 1000 \
			-T $((DENSITY_S * 3 + 15)) -R "$MCR_TMP/d$k.ready" >"$MCR_TMP/d$k.rx" 2>&1 &
		rx_pids+=($!)
	done
	for ((k = 1; k <= active; k++)); do
		mcr_wait_file "$MCR_TMP/d$k.ready" 5 || say "density: receiver $k not ready"
	done
	for ((k = 1; k <= DENSITY_STREAMS; k++)); do
		rel0[k]=$(counters "${DENSITY_PIDS[k - 1]}" "$MCR_TMP/d$k.log" | kv relayed)
		cpu_ns "${DENSITY_PIDS[k - 1]}"
		cpu0[k]=$CPU_NS
	done
	children_cpu
	child0=$CHILD_NS
	ksoftirqd_ns
	ks0=$KSOFTIRQD_NS
	for ((k = 1; k <= active; k++)); do
		ip netns exec "$SND" "$MCR_SENDER" -d "239.0.1.$k:5000" -I s0 -n "$n" \
			-r "$DENSITY_RATE" -l "$DENSITY_SIZE" -s "$k" -T $((DENSITY_S * 3)) \
			>"$MCR_TMP/d$k.tx" 2>&1 &
		tx_pids+=($!)
	done
	wait "${tx_pids[@]}" "${rx_pids[@]}"
	children_cpu
	ksoftirqd_ns
	ks1=$KSOFTIRQD_NS
	for ((k = 1; k <= DENSITY_STREAMS; k++)); do
		cpu_ns "${DENSITY_PIDS[k - 1]}"
		cpu1[k]=$CPU_NS
		rel1[k]=$(counters "${DENSITY_PIDS[k - 1]}" "$MCR_TMP/d$k.log" | kv relayed)
	done
	for ((k = 1; k <= DENSITY_STREAMS; k++)); do
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$active" "$k" "$((cpu1[k] - cpu0[k]))" \
			"$((rel1[k] - rel0[k]))" \
			"$( ((k <= active)) && kv sent <"$MCR_TMP/d$k.tx" || echo 0)" \
			"$( ((k <= active)) && kv unique <"$MCR_TMP/d$k.rx" || echo 0)" \
			"$(rss_kib "${DENSITY_PIDS[k - 1]}")" \
			"$( ((k <= active)) && kv seconds <"$MCR_TMP/d$k.tx" || echo 0)"
	done >>"$RESULT_DIR/density.tsv"
	# Senders, receivers and ksoftirqd; the relays' own CPU is added from density.tsv.
	echo "$active $((CHILD_NS - child0 + ks1 - ks0))" >>"$RESULT_DIR/density_host.txt"
}

density_run() {
	local k rss_idle=0
	say "density: $DENSITY_STREAMS mcr processes in RLY, one group each"
	rly_strict
	for ((k = 1; k <= DENSITY_STREAMS; k++)); do
		ip netns exec "$RLY" "$MCR_BIN" -i r0 -g "239.0.1.$k:5000" \
			-o "198.18.2.2:$((6000 + k))" 2>"$MCR_TMP/d$k.log" &
		DENSITY_PIDS+=($!)
	done
	for ((k = 1; k <= DENSITY_STREAMS; k++)); do
		if ! wait_for_line "$MCR_TMP/d$k.log" ': relaying ' "${DENSITY_PIDS[k - 1]}"; then
			say "density: mcr $k did not start: $(cat "$MCR_TMP/d$k.log")"
			return 1
		fi
		rss_idle=$((rss_idle + $(rss_kib "${DENSITY_PIDS[k - 1]}")))
	done
	: >"$RESULT_DIR/density.tsv"
	: >"$RESULT_DIR/density_host.txt"
	say "density: $DENSITY_STREAMS streams x $DENSITY_RATE pps x ${DENSITY_S} s"
	density_phase "$DENSITY_STREAMS"
	sleep 1
	say "density: 1 stream x $DENSITY_RATE pps x ${DENSITY_S} s, the other 31 relays idle"
	density_phase 1
	for k in "${DENSITY_PIDS[@]}"; do
		stop_or_kill "$k"
	done
	DENSITY_PIDS=()
	awk -F'\t' -v streams="$DENSITY_STREAMS" -v rate="$DENSITY_RATE" -v secs="$DENSITY_S" \
	    -v size="$DENSITY_SIZE" -v rss_idle="$rss_idle" -v tck="$CLK_TCK" \
	    -v hostfile="$RESULT_DIR/density_host.txt" "$AWK_MEDIAN"'
	{
		p = $1; k = $2
		cpu[p, k] = $3; rel[p, k] = $4; sent[p] += $5; got[p] += $6; rss[p] += $7
		if ($8 > slow[p])
			slow[p] = $8
	}
	END {
		while ((getline line < hostfile) > 0) {
			split(line, h, " "); host[h[1]] = h[2]
		}
		printf "\n## Density, bursty: %d mcr processes on one ingress, %d pps x %d B each, %d s," \
		    " one sender process per stream\n\n", \
		    streams, rate, size, secs
		print "| streams sent | relayed (all) | delivered % | CPU ns/pkt per relay min / median / max" \
		    " | CPU ms, all relays | CPU ms, the idle relays (max of one) | total CPU ns/pkt | RSS KiB, all relays | slowest sender s |"
		print "|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
		for (p = streams; p >= 1; p = (p == streams && streams > 1 ? 1 : 0)) {
			n = 0; tot = 0; idle = 0; idlemax = 0; r = 0
			for (k = 1; k <= streams; k++) {
				tot += cpu[p, k]; r += rel[p, k]
				if (k <= p && rel[p, k] > 0)
					a[++n] = cpu[p, k] / rel[p, k]
				else if (k > p) {
					idle += cpu[p, k]
					if (cpu[p, k] > idlemax)
						idlemax = cpu[p, k]
				}
			}
			sortv(a, n)
			printf "| %d | %d | %.2f | %s | %.1f | %s | %.0f | %d | %.2f |\n", p, r,
			    sent[p] ? 100 * got[p] / sent[p] : 0,
			    n ? sprintf("%.0f / %.0f / %.0f", a[1], a[int((n + 1) / 2)], a[n]) : "-",
			    tot / 1e6, p < streams ? sprintf("%.3f (%.3f)", idle / 1e6, idlemax / 1e6) : "-",
			    r ? (host[p] + tot) / r : 0, rss[p], slow[p]
			delete a
		}
		printf "\nIdle RSS of all %d relays together, before any traffic: %d KiB.\n", streams, rss_idle
	}' "$RESULT_DIR/density.tsv"
}

# --- Interleaved density: the streams as independent sources put them on the wire.

# dense_start K [COALESCE_US]: K relays in RLY, 239.0.1.k:5000 to 198.18.2.2:6000+k, in
# DENSITY_PIDS, their logs d$k.log.
dense_start() {
	local k
	for ((k = 1; k <= $1; k++)); do
		ip netns exec "$RLY" "$MCR_BIN" -i r0 -g "239.0.1.$k:5000" \
			-o "198.18.2.2:$((6000 + k))" ${2:+--coalesce "$2"} 2>"$MCR_TMP/d$k.log" &
		DENSITY_PIDS+=($!)
	done
	for ((k = 1; k <= $1; k++)); do
		wait_for_line "$MCR_TMP/d$k.log" ': relaying ' "${DENSITY_PIDS[k - 1]}" && continue
		say "interleaved: mcr $k did not start: $(cat "$MCR_TMP/d$k.log")"
		return 1
	done
}

dense_stop() {
	local p
	for p in "${DENSITY_PIDS[@]}"; do
		stop_or_kill "$p"
	done
	DENSITY_PIDS=()
}

# kernel_start K: smcrouted forwarding 239.0.1.1..K from r0 to r1 (RELAY_PID); 1 if the kernel
# cannot.
kernel_start() {
	local k log=$MCR_TMP/smcroute-dense.log
	kernel_forwarding && command -v smcrouted >/dev/null || return 1
	rly_routable
	{
		echo "phyint r0 enable"
		echo "phyint r1 enable"
		for ((k = 1; k <= $1; k++)); do
			echo "mroute from r0 group 239.0.1.$k to r1"
		done
	} >"$MCR_TMP/smcroute-dense.conf"
	rm -f "$MCR_TMP/smcroute-dense.pid"
	ip netns exec "$RLY" smcrouted -n -N -c 0 -f "$MCR_TMP/smcroute-dense.conf" \
		-u "$MCR_TMP/smcroute-dense.sock" -P "$MCR_TMP/smcroute-dense.pid" >"$log" 2>&1 &
	RELAY_PID=$!
	mcr_wait_file "$MCR_TMP/smcroute-dense.pid" 5 && ! grep -q 'not even support IGMP' "$log"
}

# interleaved_mode K RATE MODE: one run of K streams x RATE pps, MODE none (the sender alone),
# mcr, mcr-co (--coalesce CO_US) or kernel; relays already running. Appends per-relay lines
# "K RATE MODE k cpu_ns relayed wakeups unique" to interleaved.tsv and one line
# "K RATE MODE host sent pps seconds other_cpu_ns" for the run.
interleaved_mode() {
	local streams=$1 rate=$2 mode=$3 k n=$(($2 * DENSITY_S)) child0 ks0 tx c nrx=$1
	local -a cpu0 rel0 wk0 rx_pids=()
	[ "$mode" = none ] && nrx=0
	# The relays' counters first: a receiver gives up after -w of silence from its start, and
	# asking 64 relays takes seconds on a busy host.
	for ((k = 1; k <= ${#DENSITY_PIDS[@]}; k++)); do
		c=$(counters "${DENSITY_PIDS[k - 1]}" "$MCR_TMP/d$k.log")
		rel0[k]=$(echo "$c" | kv relayed)
		wk0[k]=$(echo "$c" | kv wakeups)
		cpu_ns "${DENSITY_PIDS[k - 1]}"
		cpu0[k]=$CPU_NS
	done
	for ((k = 1; k <= nrx; k++)); do
		rm -f "$MCR_TMP/i$k.ready"
		if [ "$mode" = kernel ]; then
			ip netns exec "$RCV" "$MCR_RECEIVER" -g "239.0.1.$k:5000" -I v1 -n "$n" \
				-w 3000 -T $((DENSITY_S * 3 + 15)) -R "$MCR_TMP/i$k.ready" \
				>"$MCR_TMP/i$k.rx" 2>&1 &
		else
			ip netns exec "$RCV" "$MCR_RECEIVER" -g "198.18.2.2:$((6000 + k))" -n "$n" \
				-w 3000 -T $((DENSITY_S * 3 + 15)) -R "$MCR_TMP/i$k.ready" \
				>"$MCR_TMP/i$k.rx" 2>&1 &
		fi
		rx_pids+=($!)
	done
	for ((k = 1; k <= nrx; k++)); do
		mcr_wait_file "$MCR_TMP/i$k.ready" 5 || say "interleaved: receiver $k not ready"
	done
	children_cpu
	child0=$CHILD_NS
	ksoftirqd_ns
	ks0=$KSOFTIRQD_NS
	ip netns exec "$SND" "$MCR_SENDER" -d 239.0.1.1:5000 -G "$streams" -I s0 -n "$n" \
		-r "$rate" -l "$DENSITY_SIZE" -s 1 -T $((DENSITY_S * 3)) >"$MCR_TMP/i.tx" 2>&1
	((${#rx_pids[@]})) && wait "${rx_pids[@]}"
	children_cpu
	ksoftirqd_ns
	tx=$(tail -n 1 "$MCR_TMP/i.tx")
	for ((k = 1; k <= ${#DENSITY_PIDS[@]}; k++)); do
		cpu_ns "${DENSITY_PIDS[k - 1]}"
		c=$(counters "${DENSITY_PIDS[k - 1]}" "$MCR_TMP/d$k.log")
		printf '%s %s %s %s %s %s %s %s\n' "$streams" "$rate" "$mode" "$k" \
			"$((CPU_NS - cpu0[k]))" "$(($(echo "$c" | kv relayed) - rel0[k]))" \
			"$(($(echo "$c" | kv wakeups) - wk0[k]))" "$(kv unique <"$MCR_TMP/i$k.rx")"
	done >>"$RESULT_DIR/interleaved.tsv"
	if [ "$mode" = kernel ]; then
		for ((k = 1; k <= streams; k++)); do
			echo "$streams $rate $mode $k - - - $(kv unique <"$MCR_TMP/i$k.rx")"
		done >>"$RESULT_DIR/interleaved.tsv"
	fi
	printf '%s %s %s host %s %s %s %s %s\n' "$streams" "$rate" "$mode" "$(echo "$tx" | kv sent)" \
		"$(echo "$tx" | kv pps)" "$(echo "$tx" | kv seconds)" \
		"$((CHILD_NS - child0 + KSOFTIRQD_NS - ks0))" "$(cut -d' ' -f1-3 /proc/loadavg)" \
		>>"$RESULT_DIR/interleaved.tsv"
	say "interleaved: $streams x $rate pps, $mode: $tx"
	sleep 1
}

interleaved_run() {
	local set streams rate co
	: >"$RESULT_DIR/interleaved.tsv"
	for set in $DENSITY_SETS; do
		streams=${set%%x*} rate=${set#*x} co=${set#*:}
		rate=${rate%%:*}
		say "interleaved: $streams streams x $rate pps, one sender round-robin"
		rly_strict
		interleaved_mode "$streams" "$rate" none
		dense_start "$streams" && interleaved_mode "$streams" "$rate" mcr
		dense_stop
		dense_start "$streams" "$co" && interleaved_mode "$streams" "$rate" "mcr-co$co"
		dense_stop
		if kernel_start "$streams"; then
			interleaved_mode "$streams" "$rate" kernel
		else
			echo "$streams $rate kernel na" >>"$RESULT_DIR/interleaved.tsv"
		fi
		stop_relay
		rly_strict
	done
	awk -v size="$DENSITY_SIZE" -v secs="$DENSITY_S" -v na="$KERNEL_NA_TEXT" "$AWK_MEDIAN"'
	$4 == "na" { na_seen[$1 " " $2] = 1; next }
	{
		key = $1 " " $2; if (!(key in order)) { order[key] = ++nk; K[nk] = key }
		m = $3; if (!((key, m) in seen)) { seen[key, m] = 1; mo[key, ++nm[key]] = m }
	}
	$4 == "host" {
		sent[key, m] = $5; pps[key, m] = $6; secs_[key, m] = $7; other[key, m] = $8
		load[key, m] = $9 " " $10 " " $11
		next
	}
	{
		c = key SUBSEP m
		if ($5 != "-") {
			n = ++nr[c]; cpu[c] += $5; rel[c] += $6
			if ($6 > 0) { pk[c, n] = $5 / $6; pw[c, n] = $7 > 0 ? $6 / $7 : 0 }
		}
		got[c] += $8; gotk[c, $4] = $8
	}
	# The worst stream, delivered of sent: datagram i of the run went to stream i % K + 1.
	function worst(c, S, K,   k, e, w, x) {
		w = 100
		for (k = 1; k <= K; k++) {
			e = S >= k ? int((S - k) / K) + 1 : 0
			x = e ? 100 * gotk[c, k] / e : 100
			if (x < w) w = x
		}
		return w
	}
	function medof(arr, c, k,   i, a) {
		for (i = 1; i <= k; i++) a[i] = arr[c, i]
		sortv(a, k)
		return k ? (k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2) : "-"
	}
	function minmax(arr, c, k, want,   i, x) {
		x = arr[c, 1]
		for (i = 2; i <= k; i++)
			if ((want == "min" && arr[c, i] < x) || (want == "max" && arr[c, i] > x)) x = arr[c, i]
		return x
	}
	END {
		printf "\n## Density, interleaved: one sender round-robin over the groups, %d B, %d s\n\n", \
		    size, secs
		print "Each relay sees its next datagram one stream interval after the last, as from" \
		    " independent sources. none = the sender alone, no relay: what the host carries on" \
		    " its own. Relay CPU per datagram over the relays; per wake-up = relayed / wakeups" \
		    " (median); total CPU = sender, receivers, ksoftirqd and relays per delivered" \
		    " datagram."
		print ""
		print "| streams x pps | relay | sender pps | % of none | delivered % (worst stream) |" \
		    " relay CPU ns/pkt min / median / max | per wake-up | CPU ms, all relays |" \
		    " total CPU ns/pkt | load avg |"
		print "|---|---|--:|--:|--:|--:|--:|--:|--:|---|"
		for (i = 1; i <= nk; i++) {
			key = K[i]; split(key, kr, " ")
			base = pps[key, "none"]
			for (j = 1; j <= nm[key]; j++) {
				m = mo[key, j]; c = key SUBSEP m; k = nr[c]
				printf "| %d x %d | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n", kr[1], kr[2],
				    m, pps[key, m], (base > 0 ? sprintf("%.1f", 100 * pps[key, m] / base) : "-"),
				    (m == "none" ? "-" : sprintf("%.3f (%.3f)",
					(sent[key, m] ? 100 * got[c] / sent[key, m] : 0),
					worst(c, sent[key, m], kr[1]))),
				    (k ? sprintf("%.0f / %.0f / %.0f", minmax(pk, c, k, "min"), medof(pk, c, k),
					minmax(pk, c, k, "max")) : "-"),
				    (k ? sprintf("%.1f", medof(pw, c, k)) : "-"),
				    (k ? sprintf("%.0f", cpu[c] / 1e6) : "-"),
				    (got[c] ? sprintf("%.0f", (other[key, m] + cpu[c]) / got[c]) : "-"),
				    load[key, m]
			}
			if (na_seen[key])
				printf "| %d x %d | kernel | %s |\n", kr[1], kr[2], na
		}
	}' "$RESULT_DIR/interleaved.tsv"
}

# --- Taps: what each packet socket on the ingress costs every frame that arrives there.

# taps_run: one stream through one relay, with N idle relays of other groups on r0; BENCH_REPS
# rounds over the Ns, medians.
taps_run() {
	local idle k cpu0 cpu1 child0 rx tx got rep
	: >"$RESULT_DIR/taps.tsv"
	rly_strict
	for ((rep = 1; rep <= REPS; rep++)); do for idle in $TAPS_N; do
		for ((k = 1; k <= idle; k++)); do
			ip netns exec "$RLY" "$MCR_BIN" -i r0 -g "239.0.2.$k:5000" \
				-o "198.18.2.2:$((7000 + k))" 2>"$MCR_TMP/t$k.log" &
			DENSITY_PIDS+=($!)
		done
		for ((k = 1; k <= idle; k++)); do
			wait_for_line "$MCR_TMP/t$k.log" ': relaying ' "${DENSITY_PIDS[k - 1]}" ||
				say "taps: idle mcr $k did not start"
		done
		: >"$RELAY_LOG"
		start_mcr_relay -i r0 -g "$GROUP" -o "$OUT" || { dense_stop; continue; }
		rm -f "$MCR_TMP/rx.ready"
		ip netns exec "$RCV" "$MCR_RECEIVER" -g "$OUT" -n "$TAPS_COUNT" -w "$RX_IDLE_MS" \
			-T 20 -R "$MCR_TMP/rx.ready" >"$MCR_TMP/rx.out" 2>&1 &
		rx=$!
		mcr_wait_file "$MCR_TMP/rx.ready" 5 || say "taps: receiver not ready"
		cpu_ns "$RELAY_PID"
		cpu0=$CPU_NS
		children_cpu
		child0=$CHILD_NS
		# Reaped alone, before the receiver: CHILD_NS moves by the sender's CPU only.
		ip netns exec "$SND" "$MCR_SENDER" -d "$GROUP" -I s0 -n "$TAPS_COUNT" \
			-r "$TAPS_RATE" -l "$DENSITY_SIZE" -T 15 >"$MCR_TMP/tx.out" 2>&1
		children_cpu
		wait "$rx"
		cpu_ns "$RELAY_PID"
		cpu1=$CPU_NS
		tx=$(tail -n 1 "$MCR_TMP/tx.out")
		got=$(kv unique <"$MCR_TMP/rx.out")
		echo "$idle $(echo "$tx" | kv sent) ${got:-0} $((CHILD_NS - child0)) $((cpu1 - cpu0))" \
			"$(cut -d' ' -f1 /proc/loadavg)" >>"$RESULT_DIR/taps.tsv"
		say "taps: $idle idle relays, rep $rep: $tx, delivered ${got:-0}"
		stop_relay
		dense_stop
		sleep 1
	done; done
	awk -v rate="$TAPS_RATE" -v size="$DENSITY_SIZE" -v reps="$REPS" "$AWK_MEDIAN"'
	BEGIN {
		printf "\n## Taps: one stream at %d pps x %d B, N idle relays of other groups on the" \
		    " same ingress\n\n", rate, size
		print "Every frame visits every packet socket bound to the interface; on veth the" \
		    " sender runs the receive softirq, so its CPU per datagram carries that cost."
		print ""
		printf "Medians of %d rounds.\n\n", reps
		print "| idle relays N | sent | delivered % | sender CPU ns/pkt | per idle relay ns/pkt" \
		    " | relay CPU ns/pkt | load avg (min-max) |"
		print "|--:|--:|--:|--:|--:|--:|--:|"
	}
	{
		c = $1; if (!(c in runs)) N[++nn] = c
		i = ++runs[c]
		v[c, i, "sent"] = $2; v[c, i, "deliv"] = $2 ? 100 * $3 / $2 : 0
		v[c, i, "snd"] = $2 ? $4 / $2 : 0; v[c, i, "rly"] = $3 ? $5 / $3 : 0
		if (!(c in lo) || $6 < lo[c]) lo[c] = $6
		if ($6 > hi[c]) hi[c] = $6
	}
	END {
		for (j = 1; j <= nn; j++) {
			c = N[j]; s = med(c, "snd")
			if (c == 0) s0 = s
			printf "| %d | %.0f | %.2f | %.0f | %s | %.0f | %s-%s |\n", c, med(c, "sent"),
			    med(c, "deliv"), s, (c > 0 && s0 != "" ? sprintf("%.0f", (s - s0) / c) : "-"),
			    med(c, "rly"), lo[c], hi[c]
		}
	}' "$RESULT_DIR/taps.tsv"
}

# --- Footprint: binary, memory, time to the first relayed datagram.

stamp_lines() {
	local l
	while IFS= read -r l; do
		printf '%s %s\n' "${EPOCHREALTIME/[.,]/}" "$l"
	done
}

footprint_run() {
	local i pid rss_idle rss_load hwm t_exec t_line first n tx rx trials=
	local log=$MCR_TMP/start.log
	say "footprint: binary, RSS, start-up time ($START_TRIALS trials)"
	rly_strict
	ip netns exec "$RLY" "$MCR_BIN" -i r0 -g "$GROUP" -o "$OUT" 2>"$log" &
	pid=$!
	wait_for_line "$log" ': relaying ' "$pid" || { say "mcr did not start"; return 1; }
	sleep 0.5
	rss_idle=$(rss_kib "$pid")

	# Under load: 1472-byte datagrams at LOAD_RATE for 2 s, RSS read halfway and after.
	n=$((LOAD_RATE * 2))
	rm -f "$MCR_TMP/rx.ready"
	ip netns exec "$RCV" "$MCR_RECEIVER" -g "$OUT" -n "$n" -w 1000 -T 15 \
		-R "$MCR_TMP/rx.ready" >"$MCR_TMP/rx.out" 2>&1 &
	rx=$!
	mcr_wait_file "$MCR_TMP/rx.ready" 5
	ip netns exec "$SND" "$MCR_SENDER" -d "$GROUP" -I s0 -n "$n" -r "$LOAD_RATE" -l 1472 \
		-T 10 >"$MCR_TMP/tx.out" 2>&1 &
	tx=$!
	sleep 1
	rss_load=$(rss_kib "$pid")
	wait "$tx" "$rx"
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
	stop_or_kill "$pid"

	# Start-up: the stream already flows (and RPF drops it) when mcr is exec'd. A shell in
	# RLY notes the wall clock and execs mcr; the receiver notes its first arrival.
	for ((i = 1; i <= START_TRIALS; i++)); do
		rm -f "$MCR_TMP/rx.ready" "$MCR_TMP/exec"
		ip netns exec "$RCV" "$MCR_RECEIVER" -g "$OUT" -w 1000 -T 15 \
			-R "$MCR_TMP/rx.ready" >"$MCR_TMP/rx.out" 2>&1 &
		rx=$!
		mcr_wait_file "$MCR_TMP/rx.ready" 5
		ip netns exec "$SND" "$MCR_SENDER" -d "$GROUP" -I s0 -n $((START_RATE * 2)) \
			-r "$START_RATE" -l 1316 -T 5 >"$MCR_TMP/tx.out" 2>&1 &
		tx=$!
		sleep 0.5
		# shellcheck disable=SC2016
		ip netns exec "$RLY" bash -c 'echo "$$ ${EPOCHREALTIME/[.,]/}" >"$0"; exec "$@"' \
			"$MCR_TMP/exec" "$MCR_BIN" -i r0 -g "$GROUP" -o "$OUT" 2> >(stamp_lines >"$log") &
		mcr_wait_file "$MCR_TMP/exec" 5
		read -r pid t_exec <"$MCR_TMP/exec"
		wait_for_line "$log" ': relaying ' "$pid"
		wait "$tx" "$rx"
		stop_or_kill "$pid"
		t_line=$(awk '/: relaying / { print $1; exit }' "$log")
		first=$(kv first_rx_realtime_ns <"$MCR_TMP/rx.out")
		if [ -n "$t_line" ] && [ "${first:-0}" -gt 0 ]; then
			trials="$trials $((t_line - t_exec)):$((first / 1000 - t_exec))"
		else
			say "footprint: start-up trial $i got no datagram: $(cat "$MCR_TMP/rx.out")"
		fi
	done
	echo "$trials" | tr ' ' '\n' | awk -F: -v size="$(stat -c %s "$MCR_BIN")" \
	    -v kind="$(file -b "$MCR_BIN" | grep -o 'statically linked' || echo 'dynamically linked')" \
	    -v idle="$rss_idle" -v load="$rss_load" -v hwm="$hwm" -v rate="$LOAD_RATE" \
	    -v srate="$START_RATE" "$AWK_MEDIAN"'
	NF == 2 { l[++n] = $1 / 1000; f[n] = $2 / 1000; all = all sprintf(" %.2f", $2 / 1000) }
	END {
		sortv(l, n); sortv(f, n)
		print "\n## Footprint\n"
		printf "- binary: %d bytes, %s\n", size, kind
		printf "- RSS idle: %d KiB; under load (%d pps x 1472 B): %d KiB, peak %d KiB\n", \
		    idle, rate, load, hwm
		printf "- start-up, stream already flowing at %d pps, median of %d: exec to the" \
		    " \"relaying\" line %.2f ms, exec to the first relayed datagram at the receiver" \
		    " %.2f ms (each:%s ms)\n", srate, n, l[int((n + 1) / 2)], f[int((n + 1) / 2)], all
	}'
}

# --- The host's floor: a wake-up, and the same relay on a host tuned for latency.

# hold_idle_latency: /dev/cpu_dma_latency at 0 while fd 9 is open here or in a child (PM QoS):
# an idle CPU polls rather than halting, so waking it is cheap. 1 if the host has no such file.
hold_idle_latency() {
	[ -w /dev/cpu_dma_latency ] || return 1
	exec 9>/dev/cpu_dma_latency || return 1
	# Not four bytes, so the kernel reads it as a hex number.
	printf 0 >&9
}

release_idle_latency() { exec 9>&-; }

wake_run() {
	local held cpus=0,0 c line
	[ -x "$MCR_TESTS_DIR/wake" ] || { say "tests/wake not built: wake skipped"; return; }
	[ "$(nproc)" -ge 2 ] && cpus="0,0 0,1"
	say "wake: tests/wake, $WAKE_TRIPS round trips each"
	echo
	echo "## A wake-up on this host"
	echo
	echo "tests/wake: two processes pinned to CPUs A and B pass a byte over pipes, each" \
		"sleeping until the other writes; one wake-up is half a round trip, mean of" \
		"$WAKE_TRIPS. A relay that sleeps between datagrams adds at least one to a" \
		"datagram's latency; kernel forwarding adds none."
	echo
	echo "| CPUs A,B | idle CPUs halt (default) | idle CPUs poll (cpu_dma_latency 0) |"
	echo "|---|--:|--:|"
	for c in $cpus; do
		line="| $c"
		for held in no yes; do
			if [ $held = yes ] && ! hold_idle_latency; then
				line="$line | -"
				continue
			fi
			line="$line | $("$MCR_TESTS_DIR/wake" "${c%,*}" "${c#*,}" "$WAKE_TRIPS" |
				kv wake_us) us"
			[ $held = yes ] && release_idle_latency
		done
		echo "$line |"
	done
}

tuned_run() {
	local m r rep n raw=$RESULT_DIR/tuned.tsv
	if [ "$(nproc)" -lt 2 ] || ! hold_idle_latency; then
		say "tuned: needs 2 CPUs and /dev/cpu_dma_latency: skipped"
		return
	fi
	say "tuned: direct and mcr at $TUNED_RATES pps, $TUNED_SIZE B, pinned, idle CPUs polling"
	PIN_TX="taskset -c 0" PIN_RELAY="taskset -c 1" PIN_RX="taskset -c 1"
	: >"$raw"
	for ((rep = 1; rep <= REPS; rep++)); do
		for m in direct mcr; do
			start_relay "$m" "$TUNED_SIZE" || { stop_relay; continue; }
			for r in $TUNED_RATES; do
				n=$((r * RUN_S < MAX_N ? r * RUN_S : MAX_N))
				run_one "$m" "$TUNED_SIZE" "$r" "$rep" "$n" "$raw" || continue
			done
			stop_relay
		done
	done
	PIN_TX='' PIN_RELAY='' PIN_RX=''
	release_idle_latency
	echo
	echo "## On a host tuned for latency"
	echo
	echo "The same runs with /dev/cpu_dma_latency held at 0 (idle CPUs poll instead of" \
		"halting) and pinned: the sender, whose CPU does the ingress's receive work as a" \
		"NIC's interrupt would, on CPU 0; the relay and the receiver on CPU 1. $REPS reps," \
		"medians; added = minus direct's in these runs."
	echo
	awk -F'\t' -v rates="$TUNED_RATES" "$AWK_MEDIAN"'
	{
		c = $1 SUBSEP $3; i = ++runs[c]
		v[c, i, "del"] = $6 ? 100 * $8 / $6 : 0
		v[c, i, "avg"] = $14; v[c, i, "p99"] = $15
		v[c, i, "cpu"] = $16 == "-" || $8 == 0 ? 0 : $16 / $8
	}
	END {
		print "| method | offered pps | delivered % | lat avg us | lat p99 us |" \
		    " added avg us | added p99 us | relay CPU ns/pkt |"
		print "|---|--:|--:|--:|--:|--:|--:|--:|"
		n = split(rates, rr, " ")
		for (k = 1; k <= n; k++) {
			d = "direct" SUBSEP rr[k]
			split("direct mcr", ms, " ")
			for (j = 1; j <= 2; j++) {
				c = ms[j] SUBSEP rr[k]
				if (!runs[c])
					continue
				add = ms[j] != "direct" && runs[d]
				printf "| %s | %d | %.2f | %.1f | %.1f | %s | %s | %s |\n", ms[j], rr[k],
				    med(c, "del"), med(c, "avg"), med(c, "p99"),
				    add ? sprintf("%.1f", med(c, "avg") - med(d, "avg")) : "-",
				    add ? sprintf("%.1f", med(c, "p99") - med(d, "p99")) : "-",
				    ms[j] == "direct" ? "-" : sprintf("%.0f", med(c, "cpu"))
			}
		}
	}' "$raw"
}

# --- What --analyze costs the relay.

# analyze_one MODE RATE REP: the streamer's TS over RTP through the mcr now running; one line
# to $RESULT_DIR/analyze.tsv: mode, rate, rep, sent, relayed, relay CPU ns, kernel_drops.
analyze_one() {
	local mode=$1 rate=$2 rep=$3 n limit c cpu0 rel0 kd0 sent
	n=$MAX_N
	[ "$rate" -gt 0 ] && [ $((rate * RUN_S)) -lt "$n" ] && n=$((rate * RUN_S))
	limit=$((rate > 0 ? n / rate + 5 : 15))
	c=$(counters "$RELAY_PID" "$RELAY_LOG")
	rel0=$(echo "$c" | kv relayed)
	kd0=$(echo "$c" | kv kernel_drops)
	cpu_ns "$RELAY_PID"
	cpu0=$CPU_NS
	sent=$(ip netns exec "$SND" "$MCR_TESTS_DIR/streamer" -d "$GROUP" -I s0 -m rtpts -n "$n" \
		-r "$rate" -T "$limit" | kv sent)
	sleep 0.3	# the ring's backlog relayed; an idle mcr uses no CPU
	cpu_ns "$RELAY_PID"
	c=$(counters "$RELAY_PID" "$RELAY_LOG")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$rate" "$rep" "${sent:-0}" \
		$(($(echo "$c" | kv relayed) - rel0)) $((CPU_NS - cpu0)) \
		$(($(echo "$c" | kv kernel_drops) - kd0)) >>"$RESULT_DIR/analyze.tsv"
	say "analyze $mode $rate pps rep $rep: $(tail -n 1 "$RESULT_DIR/analyze.tsv")"
	sleep "$SETTLE_S"
}

analyze_run() {
	local rep mode r load0 load1 k ns ir
	local -a args
	if [ ! -x "$MCR_TESTS_DIR/streamer" ] || [ ! -x "$MCR_TESTS_DIR/bench_analyze" ]; then
		say "tests/streamer or tests/bench_analyze not built: analyze skipped"
		return
	fi
	say "analyze: mcr with and without --analyze auto at $ANALYZE_RATES pps, TS over RTP"
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	: >"$RESULT_DIR/analyze.tsv"
	rly_strict
	# Off and on alternate within each rep, so a change in the host's load hits both alike.
	for ((rep = 1; rep <= REPS; rep++)); do
		for mode in off auto; do
			args=(-i r0 -g "$GROUP" -o "$ANALYZE_OUT")
			[ $mode = auto ] && args+=(--analyze auto)
			: >"$RELAY_LOG"
			start_mcr_relay "${args[@]}" || { stop_relay; continue; }
			for r in $ANALYZE_RATES; do
				analyze_one $mode "$r" "$rep"
			done
			stop_relay
		done
	done
	load1=$(cut -d' ' -f1-3 /proc/loadavg)
	echo
	echo "## What --analyze costs"
	echo
	echo "mcr's CPU (all threads) per relayed datagram, relaying tests/streamer's TS over" \
		"RTP (1328-byte datagrams: RTP and 7 TS packets, the most the analysis reads per" \
		"datagram), without and with --analyze auto, alternating; $REPS reps, medians" \
		"(and the range). Load average (1, 5, 15 min) before: $load0; after: $load1 on" \
		"$(nproc) CPUs: what else ran shows in these, and nothing here subtracts it."
	echo
	awk -F'\t' -v rates="$ANALYZE_RATES" "$AWK_MEDIAN"'
	# The smallest (s = 1) or largest (s = -1) of field f over the runs of cell c.
	function ext(c, f, s,   i, m) {
		m = ""
		for (i = 1; i <= runs[c]; i++)
			if (m == "" || s * v[c, i, f] < s * m)
				m = v[c, i, f]
		return m
	}
	{
		c = $1 SUBSEP $2; i = ++runs[c]
		v[c, i, "cpu"] = $5 ? $6 / $5 : 0
		v[c, i, "rel"] = $5; v[c, i, "sent"] = $4; v[c, i, "kd"] = $7
	}
	END {
		print "| offered pps | relayed (off / on) | off ns/datagram | on ns/datagram |" \
		    " added | kernel_drops (off / on) |"
		print "|--:|--:|--:|--:|--:|--:|"
		n = split(rates, rr, " ")
		for (k = 1; k <= n; k++) {
			a = "off" SUBSEP rr[k]; b = "auto" SUBSEP rr[k]
			if (!runs[a] || !runs[b])
				continue
			off = med(a, "cpu"); on = med(b, "cpu")
			printf "| %s | %.0f / %.0f | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) |" \
			    " %+.1f%% | %.0f / %.0f |\n", rr[k] ? rr[k] : "max",
			    med(a, "rel"), med(b, "rel"),
			    off, ext(a, "cpu", 1), ext(a, "cpu", -1),
			    on, ext(b, "cpu", 1), ext(b, "cpu", -1),
			    off ? 100 * (on - off) / off : 0, med(a, "kd"), med(b, "kd")
		}
	}' "$RESULT_DIR/analyze.tsv"
	echo
	echo "The analysis alone (tests/bench_analyze: analyze_datagram() on a clean stream, the" \
		"same build flags as mcr): ns per datagram on this host now ($ANALYZE_ALONE_N" \
		"datagrams), and instructions per datagram under callgrind (100000), which no" \
		"other load changes."
	echo
	echo "| stream | ns/datagram | instructions/datagram |"
	echo "|---|--:|--:|"
	for k in rtpts ts rtp; do
		ns=$("$MCR_TESTS_DIR/bench_analyze" $k "$ANALYZE_ALONE_N" | kv ns_per_datagram)
		ir=-
		if command -v valgrind >/dev/null &&
			valgrind --tool=callgrind --callgrind-out-file="$MCR_TMP/cg.$k" \
				--toggle-collect=analyze_datagram \
				"$MCR_TESTS_DIR/bench_analyze" $k 100000 once >/dev/null 2>&1; then
			ir=$(awk '/^summary:/ { printf "%.0f", $2 / 100000 }' "$MCR_TMP/cg.$k")
		fi
		echo "| $k | ${ns:--} | $ir |"
	done
}

# --- Main.

cells=0
for m in $METHODS; do for s in $(method_sizes "$m"); do for r in $RATES; do
	cells=$((cells + REPS))
done; done; done
say "$cells runs: methods $METHODS; sizes $SIZES; rates $RATES (0 = unthrottled); $REPS reps"
say "results will be in $RESULTS"
# Anything else running on the host shows in the host CPU column: measure it first.
host_busy
b0=$HOST_TICKS
sleep 2
host_busy
BACKGROUND=$((HOST_TICKS - b0))
BACKGROUND_PCT=$((BACKGROUND * 100 / (2 * CLK_TCK)))
OTHER_NETNS=$(ip netns list | grep -vc -- "-$$\b")
: >"$RAW"
done_runs=0
# Repetitions outermost, so that whatever else the host does is spread over all the methods.
for ((rep = 1; rep <= REPS; rep++)); do
	for m in $METHODS; do
		for s in $(method_sizes "$m"); do
			if ! start_relay "$m" "$s"; then
				stop_relay
				continue
			fi
			for r in $RATES; do
				n=$MAX_N
				[ "$r" -gt 0 ] && [ $((r * RUN_S)) -lt "$n" ] && n=$((r * RUN_S))
				done_runs=$((done_runs + 1))
				run_one "$m" "$s" "$r" "$rep" "$n" "$RAW" || continue
				say "[$done_runs/$cells, $((SECONDS - START_TIME)) s] $(tail -n 1 "$RAW" |
					awk -F'\t' '{ printf "%s %s B %s pps rep %s: sent %s at %s pps," \
					" got %s, lat %s/%s us, relay %s ns", $1, $2, $3 ? $3 : "max",
					$4, $6, $7, $8, $14, $15, $16 }')"
			done
			stop_relay
		done
	done
done

{
	echo "# mcr benchmark"
	echo
	echo "$(uname -sr), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' \
		/proc/cpuinfo)), no pinning; $REPS reps per cell, medians; N = min($MAX_N," \
		"${RUN_S} s of stream) datagrams per run."
	[ -n "$METHODS" ] &&
		echo "CPU ns/pkt: the relay process's CPU time (all threads, /proc/PID/task/*/schedstat)" \
		"per delivered datagram; '-' for direct and for kernel forwarding, which runs in" \
		"softirq. total CPU ns/pkt: sender + receiver (rusage) + relay + ksoftirqd per" \
		"delivered datagram: all the work of the path, since the kernel's receive work for a" \
		"veth peer runs in the sending process; other load on the host does not count." \
		"Latency: sender's send to" \
		"receiver's recvmmsg, one clock; added = minus direct's at the same size and rate" \
		"(direct6's for mcr6). IPv6 rows (direct6, mcr6) carry at most $V6_MAX_SIZE bytes," \
		"a 1500-byte frame less 40 of IPv6 and 8 of UDP header: their size column says what" \
		"they ran, $V6_MAX_SIZE where the IPv4 rows have a larger size. mcr-bp is mcr with" \
		"--busy-poll $BUSY_POLL_US: its relay CPU includes the spinning. mcr-co is mcr with" \
		"--coalesce $COALESCE_US: it may hold a datagram that long to relay several per wake-up." \
		"batch is tests/batchref, a batched relay with no io_uring: TPACKET_V3 blocks handed" \
		"over full or after 1 ms, their datagrams sent as UDP GSO; what --coalesce is held to." \
		"RSS: the relay process after the run (smcrouted for kernel). Drops, medians:" \
		"relay = mcr's kernel_drops + tx_errors or socat's socket RcvbufErrors +" \
		"SndbufErrors; rx = the receiver's socket RcvbufErrors; backlog = the CPUs' input" \
		"queues (softnet_stat), where a veth peer's frames wait for the softirq." \
		"On veth, the receive work for a frame, kernel forwarding included, runs in the" \
		"process that sent it: kernel forwarding slows the sender rather than dropping," \
		"which shows as sender pps below the offer."
	echo
	echo "$("$MCR_BIN" -V 2>&1) ($(git -C "$MCR_ROOT" describe --always --dirty 2>/dev/null ||
		echo "no git")); before the runs the host was ${BACKGROUND_PCT}% busy (of one CPU)" \
		"with $OTHER_NETNS network namespaces not ours."
	echo
	echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
	[ -n "$KERNEL_NA" ] && echo && echo "$KERNEL_NA_TEXT."
	echo
	[ -n "$METHODS" ] && report
	for x in $EXTRAS; do
		case $x in
		density) density_run ;;
		interleaved) interleaved_run ;;
		taps) taps_run ;;
		footprint) footprint_run ;;
		wake) wake_run ;;
		tuned) tuned_run ;;
		analyze) analyze_run ;;
		esac
	done
	echo
	echo "Raw runs: $RAW"
} | tee "$RESULTS"
say "done in $((SECONDS - START_TIME)) s; results: $RESULTS"
