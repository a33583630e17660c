#!/bin/bash
# The kernel as the oracle: every frame case of tests/oracle_cases goes, as one and the same
# frame, both to a kernel UDP socket joined to the group on a routable namespace and to mcr on
# the unroutable one; both must deliver the same datagrams, byte for byte, or none, and when mcr
# delivers none it must have counted the frame under the reason the table names.
#
#   SND  s0 --.                      .-- r0  RLY (mcr -i r0, strict rp_filter, no route back)
#             h0 -- HUB br0 -- h1 --'        r1 198.18.2.1, fd00:2::1 -- v1 RCV (oracle_rx)
#                          -- h2 -- k0  KRN 198.19.50.1/24, fd00:1::9/64, rp_filter 0
#                                           (oracle_rx joined to the group on k0)
#
# The bridge floods every frame, whatever its destination MAC, to both sides unchanged
# (no snooping, no br_netfilter). The sides' own packets stay out: KRN's output is dropped, HUB
# and SND have no IPv6, so all mcr counts between two markers belongs to the case.
#
# A row may say mcr deliberately differs ("| differs: REASON", the reason is in mcr.1): then
# the verdicts must differ. "| todo: WHAT" marks a known divergence not fixed yet: reported as
# skipped while it differs, and a failure once it agrees (the row must then lose its mark).
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

MCR_IPV6=1
CASES=${ORACLE_CASES:-tests/oracle_cases}
INJECT6=$PWD/tests/inject6
ORX=$PWD/tests/oracle_rx
MARK_STREAM=9			# the markers' stream; a case's own stream is 1000 + its row
CASE_LEN=200			# payload bytes of a case, unless its row gives -l
WAIT_TRIES=100			# x 0.05 s: the most a marker may take to arrive
GROUP4=239.0.0.1:5000
GROUP6='[ff3e::1234]:5000'
COUNTERS="rx_packets relayed frag_queued frag_reassembled drop_truncated drop_malformed
	drop_checksum drop_fragment drop_unmatched drop_vlan drop_martian drop_glued"

mcr_require_root
mcr_need_tools inject inject6 oracle_rx
mcr_suite_setup

# oracle_topology: the drawing above, from lib.sh's namespaces: s0-r0 becomes a bridged hub.
oracle_topology() {
	HUB=mcr-hub-$$
	KRN=mcr-krn-$$
	MCR_IPV6=0 mcr_add_netns "$HUB" && mcr_add_netns "$KRN" || return 1
	mcr_sysctl "$SND" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$SND" link del s0 || return 1
	ip -n "$SND" link add s0 type veth peer name h0 netns "$HUB" &&
		ip -n "$RLY" link add r0 type veth peer name h1 netns "$HUB" &&
		ip -n "$KRN" link add k0 type veth peer name h2 netns "$HUB" || return 1
	mcr_sysctl "$SND" net.ipv6.conf.s0.disable_ipv6=1
	ip -n "$HUB" link add br0 type bridge mcast_snooping 0 nf_call_iptables 0 \
		nf_call_ip6tables 0 nf_call_arptables 0 || return 1
	for i in h0 h1 h2; do
		ip -n "$HUB" link set "$i" master br0 && ip -n "$HUB" link set "$i" up || return 1
	done
	# br_netfilter, where the kernel has it, would check IP headers on the way: not here.
	if ip netns exec "$HUB" test -e /proc/sys/net/bridge/bridge-nf-call-iptables; then
		mcr_sysctl "$HUB" net.bridge.bridge-nf-call-iptables=0 \
			net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0
	fi
	ip -n "$HUB" link set br0 up
	ip -n "$SND" link set s0 up
	ip -n "$RLY" addr add 198.18.1.1/24 dev r0
	mcr_sysctl "$RLY" net.ipv4.conf.r0.rp_filter=1
	ip -n "$RLY" link set r0 up
	ip -n "$RLY" addr add fd00:2::1/64 dev r1 nodad
	ip -n "$RCV" addr add fd00:2::2/64 dev v1 nodad
	ip -n "$RCV" route add fd00::/8 via fd00:2::1
	# The kernel's side: the sources on the link, no reverse-path filter at all.
	mcr_sysctl "$KRN" net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	ip -n "$KRN" addr add 198.19.50.1/24 dev k0 &&
		ip -n "$KRN" addr add fd00:1::9/64 dev k0 nodad || return 1
	mcr_sysctl "$KRN" net.ipv4.conf.k0.rp_filter=0
	ip -n "$KRN" link set k0 up
	ip netns exec "$KRN" nft -f - <<-EOF || return 1
		table inet oracle {
			chain out { type filter hook output priority 0; policy drop; }
		}
	EOF
}

# rx NAME NS GROUP [IFACE]: an oracle_rx in the background, ready, its lines in $WORK/NAME.
rx() {
	rm -f "$WORK/$1.ready"
	ip netns exec "$2" "$ORX" -g "$3" ${4:+-I "$4"} -R "$WORK/$1.ready" -T 600 \
		>"$WORK/$1" 2>&1 &
	MCR_PIDS+=($!)
	mcr_wait_file "$WORK/$1.ready" 5
}

# inject_fam FAMILY CASE ARGS...: one run of the family's crafter from the sender's side.
inject_fam() {
	local fam=$1 tool=$INJECT
	shift
	[ "$fam" = 6 ] && tool=$INJECT6
	ip netns exec "$SND" "$tool" -I s0 -c "$@" >>"$WORK/inject.out" 2>&1
}

# marker_line FILE I: the line number of marker I in FILE, empty when not there (yet).
marker_line() {
	grep -n "^stream=$MARK_STREAM seq=$2 " "$1" | head -n 1 | cut -d: -f1
}

# mark FAMILY I: marker I through both sides; K_END and M_END its lines. 1 if it never came.
mark() {
	local i
	inject_fam "$1" valid -n 1 -l 64 -s $MARK_STREAM -q "$2" || return 1
	for ((i = 0; i < WAIT_TRIES; i++)); do
		K_END=$(marker_line "$WORK/krn$1" "$2")
		M_END=$(marker_line "$WORK/mcr$1" "$2")
		[ -n "$K_END" ] && [ -n "$M_END" ] && return 0
		sleep 0.05
	done
	return 1
}

# between FILE FROM TO: the lines strictly between two line numbers.
between() {
	[ $(($3 - $2)) -gt 1 ] && sed -n "$(($2 + 1)),$(($3 - 1))p" "$1"
	return 0
}

# snapshot: the counter line mcr prints, into SNAP.
snapshot() {
	counters
	SNAP=$(cat "$WORK/counters")
}

# take_deltas: how much each counter of COUNTERS grew from PREV to SNAP, less what the marker
# itself added, into DELTA (one awk for them all: the suite runs on busy machines).
declare -A DELTA
take_deltas() {
	local k v
	DELTA=()
	while read -r k v; do
		DELTA[$k]=$v
	done < <(printf '%s\n%s\n' "$PREV" "$SNAP" | awk -v keys="$COUNTERS" '
		{
			for (i = 1; i <= NF; i++) {
				eq = index($i, "=")
				if (eq)
					val[NR, substr($i, 1, eq - 1)] = substr($i, eq + 1)
			}
		}
		END {
			n = split(keys, k, /[ \t\n]+/)
			for (j = 1; j <= n; j++) {
				if (k[j] == "")
					continue
				m = k[j] == "rx_packets" || k[j] == "relayed"
				print k[j], val[2, k[j]] - val[1, k[j]] - m
			}
		}')
}

# delta KEY: from take_deltas.
delta() { echo "${DELTA[$1]:-0}"; }

# deltas: the counters that moved for the case, "name+N ...", or "nothing captured".
deltas() {
	local k d out=
	for k in $COUNTERS; do
		d=$(delta "$k")
		[ "$d" != 0 ] && out="$out $k+$d"
	done
	echo "${out:- nothing captured}"
}

# verdict LINES: "delivered N" or "dropped".
verdict() {
	local n
	n=$(printf '%s' "$1" | grep -c .)
	[ "$n" -gt 0 ] && echo "delivered $n" || echo dropped
}

# check_case FAMILY ROW CASE COUNTER NOTE KLINES MLINES: one row's verdict.
check_case() {
	local fam=$1 row=$2 k=$3 want=$4 note=$5 kl=$6 ml=$7 name kv mv bad= sum=0 d
	name="oracle IPv$fam $k (row $row)"
	kv=$(verdict "$kl")
	mv=$(verdict "$ml")
	for d in drop_truncated drop_malformed drop_checksum drop_fragment drop_unmatched \
		drop_vlan drop_martian drop_glued; do
		sum=$((sum + $(delta $d)))
	done
	if [ "$(delta rx_packets)" != $(($(delta relayed) + $(delta frag_queued) + sum)) ]; then
		bad="$bad counters do not add up;"
	fi
	if [ "$want" = filter ]; then
		[ "$(delta rx_packets)" = 0 ] || bad="$bad captured, the filter should keep it out;"
	elif [ "$(delta "$want")" -le 0 ]; then
		bad="$bad $want did not grow;"
	fi
	ORACLE_REPORT="$ORACLE_REPORT
IPv$fam $k: kernel $kv, mcr $mv, counted:$(deltas)${note:+ [$note]}"
	case $note in
	differs:*)
		[ "$kl" != "$ml" ] || bad="$bad agrees with the kernel, the row says it differs;"
		;;
	todo:*)
		if [ "$kl" = "$ml" ]; then
			bad="$bad agrees with the kernel now: drop the row's todo;"
		elif [ -z "$bad" ]; then
			mcr_skip "$name" "kernel $kv, mcr $mv: $note"
			return
		fi
		;;
	*)
		[ "$kl" = "$ml" ] || bad="$bad kernel $kv, mcr $mv;"
		;;
	esac
	if [ -z "$bad" ]; then
		mcr_pass "$name: kernel $kv, mcr $mv ($want)"
	else
		mcr_fail "$name" "$bad counted:$(deltas) | kernel: $(echo $kl) | mcr: $(echo $ml)"
	fi
}

# run_family FAMILY MCR_GROUP MCR_OUT: every row of the family through both sides.
run_family() {
	local fam=$1 group=$2 out=$3 row=0 i=0 k_prev m_prev line spec note k want args kl ml
	: >"$WORK/krn$fam"
	: >"$WORK/mcr$fam"
	rx "krn$fam" "$KRN" "$group" k0 || { mcr_fail "oracle IPv$fam" "kernel receiver"; return; }
	rx "mcr$fam" "$RCV" "$out" || { mcr_fail "oracle IPv$fam" "relay receiver"; return; }
	start_mcr -i r0 -g "$group" -o "$out" || { mcr_fail "oracle IPv$fam" "mcr start"; return; }
	mark "$fam" 0 || { mcr_fail "oracle IPv$fam" "the first marker never came"; return; }
	k_prev=$K_END m_prev=$M_END
	snapshot
	while IFS= read -r line; do
		row=$((row + 1))
		spec=${line%%|*}
		note=
		[ "$spec" != "$line" ] && note=$(echo "${line#*|}" | sed 's/^ *//; s/ *$//')
		# shellcheck disable=SC2086 # the row's fields
		set -- $spec
		[ $# -ge 3 ] && [ "$1" = "$fam" ] || continue
		k=$2 want=$3
		shift 3
		args=("$@")
		i=$((i + 1))
		PREV=$SNAP
		# -l first, so that a row's own -l wins.
		if ! inject_fam "$fam" "$k" -l $CASE_LEN -s $((1000 + row)) -q $((i * 100)) \
			"${args[@]}"; then
			mcr_fail "oracle IPv$fam $k (row $row)" \
				"inject: $(tail -n 2 "$WORK/inject.out")"
		fi
		if ! mark "$fam" "$i"; then
			mcr_fail "oracle IPv$fam $k (row $row)" "marker $i never came through both"
			break
		fi
		snapshot
		take_deltas
		kl=$(between "$WORK/krn$fam" "$k_prev" "$K_END")
		ml=$(between "$WORK/mcr$fam" "$m_prev" "$M_END")
		k_prev=$K_END m_prev=$M_END
		check_case "$fam" "$row" "$k" "$want" "$note" "$kl" "$ml"
	done < <(sed 's/#.*//' "$CASES")
	[ $i -gt 0 ] || mcr_fail "oracle IPv$fam" "no rows in $CASES"
	stop_mcr
	[ "$MCR_STATUS" = 0 ] || mcr_fail "oracle IPv$fam" "mcr exit status $MCR_STATUS"
}

if ! oracle_topology; then
	mcr_fail "oracle topology" "could not build the bridged hub and the kernel's namespace"
	mcr_summary
	exit
fi
ORACLE_REPORT=
run_family 4 $GROUP4 198.18.2.2:6000
run_family 6 "$GROUP6" '[fd00:2::2]:6000'
echo "verdicts:$ORACLE_REPORT"
mcr_summary
