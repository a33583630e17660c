#!/bin/bash
# The start-up line that answers "why does my socket get nothing?": with -s, mcr says in one
# line when the relay's reverse-path filter drops the stream, and nothing when it does not.
# The kernel is the oracle: each case sends the stream and reads the relay's
# IPReversePathFilter counter, which must rise exactly when mcr said it would drop.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_require_root
mcr_need_tools sender receiver
mcr_suite_setup

LINE='^mcr: r0: rp_filter=[12] \((strict|loose)\) drops this stream before any socket sees it: '
N=20

# rpf ALL R0: the relay's net.ipv4.conf.{all,r0}.rp_filter.
rpf() {
	mcr_sysctl "$RLY" "net.ipv4.conf.all.rp_filter=$1" "net.ipv4.conf.r0.rp_filter=$2"
}

# route_back [ARGS]: the relay's route to the sender's network, none without ARGS.
route_back() {
	ip -n "$RLY" route del 198.19.50.0/24 2>/dev/null
	[ $# = 0 ] || ip -n "$RLY" route add 198.19.50.0/24 "$@"
}

# case NAME WANT PATTERN [MCR ARGS]: mcr says a line matching PATTERN (WANT=1, exactly once) or
# no such line (WANT=0); it relays all N datagrams either way; and the kernel's RPF drops rise
# exactly when WANT=1.
case_() {
	local name=$1 want=$2 pattern=$3 before after said dropped
	shift 3
	start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 "$@" ||
		{ mcr_fail "$name" "start"; return; }
	before=$(mcr_netstat "$RLY" IPReversePathFilter)
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $N -r 1000 -l 100 >/dev/null
	counters
	after=$(mcr_netstat "$RLY" IPReversePathFilter)
	stop_mcr
	said=$(grep -cE "$LINE" "$WORK/mcr.log")
	dropped=$((after - before >= N ? 1 : 0))
	if [ "$want" = 1 ]; then
		grep -qE "$pattern" "$WORK/mcr.log" || said=0
	fi
	if [ "$said" = "$want" ] && [ "$dropped" = "$want" ] && [ "$(c relayed)" = $N ] &&
		[ "$MCR_STATUS" = 0 ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "said $said, kernel RPF drops $((after - before)), relayed" \
			"$(c relayed): $(grep -v 'event=' "$WORK/mcr.log")"
	fi
}

S='-s 198.19.50.5'
# shellcheck disable=SC2086 # $S is two words on purpose
{
rpf 1 1
case_ "lib.sh's topology (strict, no route back): the line names the source" 1 \
	'rp_filter=1 \(strict\) .*: no route back to 198\.19\.50\.5 \(ip route get 198\.19\.50\.5' \
	$S
rpf 0 0
case_ "rp_filter 0 on all and r0: nothing said, nothing dropped" 0 . $S
rpf 0 1
case_ "all=0 r0=1: the larger one counts, the line appears" 1 'rp_filter=1 \(strict\)' $S
rpf 1 0
case_ "all=1 r0=0: the larger one counts, the line appears" 1 'rp_filter=1 \(strict\)' $S
rpf 1 1
route_back dev r0
case_ "strict with the route back through r0: nothing said, nothing dropped" 0 . $S
route_back via 198.18.2.2 dev r1
case_ "strict with the route back through r1: the line says it is not through r0" 1 \
	'the route back to 198\.19\.50\.5 is not through r0' $S
rpf 2 2
case_ "loose with a route back through r1: nothing said, nothing dropped" 0 . $S
route_back
case_ "loose with no route back at all: the line appears" 1 \
	'rp_filter=2 \(loose\) .*: no route back to 198\.19\.50\.5' $S
route_back
ip -n "$RLY" route add unreachable 198.19.50.0/24
case_ "loose with an unreachable route back: the line appears" 1 'rp_filter=2 \(loose\)' $S
rpf 1 1
route_back
# Without -s the source is unknown and a guess could be wrong: mcr says nothing, the kernel
# still drops, and mcr relays.
start_mcr -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || mcr_fail "without -s" start
stop_mcr
if ! grep -qE "$LINE" "$WORK/mcr.log" && [ "$(grep -vc 'event=' "$WORK/mcr.log")" = 1 ]; then
	mcr_pass "without -s: no line but the start line"
else
	mcr_fail "without -s: no line but the start line" "$(cat "$WORK/mcr.log")"
fi
}
mcr_summary
