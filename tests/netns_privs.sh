#!/bin/bash
# Privileges: mcr needs CAP_NET_RAW to open its packet socket and nothing after. Once set up it
# holds no capability at all, runs as --user when asked, and works as a plain user who holds
# only CAP_NET_RAW, by file capability or ambient.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_suite_setup
chmod 755 "$WORK"

status_of() { awk -v k="$1:" '$1 == k { $1 = ""; print substr($0, 2) }' "/proc/$MCR_PID/status"; }

# relays NAME: 1000 datagrams through the running mcr reach the receiver.
relays() {
	receive rx "$RCV" 198.18.2.2:6000 "" -n 1000 -T 10 || return 1
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n 1000 -r 5000 -l 500 >/dev/null
	wait "$rx_PID"
	[ "$(r rx unique)" = 1000 ] && [ "$(r rx corrupt)" = 0 ]
}

ARGS="-i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000"

name="as root: no capability left once running, no new privileges, still relays"
# shellcheck disable=SC2086
if start_mcr $ARGS; then
	eff=$(status_of CapEff) prm=$(status_of CapPrm) bnd=$(status_of CapBnd) nnp=$(status_of NoNewPrivs)
	if [ "$eff" = 0000000000000000 ] && [ "$prm" = 0000000000000000 ] &&
		[ "$bnd" = 0000000000000000 ] && [ "$nnp" = 1 ] && relays; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "CapEff=$eff CapPrm=$prm CapBnd=$bnd NoNewPrivs=$nnp"
	fi
	stop_mcr
else
	mcr_fail "$name" start
fi

name="--user nobody: runs as that user, cannot regain root, still relays"
# shellcheck disable=SC2086
if start_mcr $ARGS --user nobody; then
	uid=$(status_of Uid) gid=$(status_of Gid) eff=$(status_of CapEff)
	want=$(id -u nobody)
	if [ "$uid" = "$want $want $want $want" ] &&
		[ "$eff" = 0000000000000000 ] && relays; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "Uid=$uid Gid=$gid CapEff=$eff"
	fi
	stop_mcr
else
	mcr_fail "$name" start
fi

name="--user 65534:65534 (numbers) works the same"
# shellcheck disable=SC2086
if start_mcr $ARGS --user 65534:65534; then
	gid=$(status_of Gid)
	if [ "$gid" = "65534 65534 65534 65534" ] && relays; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "Gid=$gid"
	fi
	stop_mcr
else
	mcr_fail "$name" start
fi

name="a plain user with only CAP_NET_RAW (ambient) relays"
MCR_WRAP="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+net_raw"
MCR_WRAP="$MCR_WRAP --ambient-caps=-all,+net_raw"
# shellcheck disable=SC2086
if start_mcr $ARGS; then
	if relays; then mcr_pass "$name"; else mcr_fail "$name" "$(cat "$WORK/rx.out")"; fi
	stop_mcr
else
	mcr_fail "$name" "$(cat "$WORK/mcr.log")"
fi

name="a plain user running a binary with the file capability cap_net_raw+ep relays"
MCR_SAVED=$MCR
cp "$MCR" "$WORK/mcr-cap"
chmod 755 "$WORK/mcr-cap"
if setcap cap_net_raw+ep "$WORK/mcr-cap" 2>"$WORK/setcap.err"; then
	MCR_WRAP="setpriv --reuid=65534 --regid=65534 --clear-groups"
	MCR=$WORK/mcr-cap
	# shellcheck disable=SC2086
	if start_mcr $ARGS; then
		if relays; then mcr_pass "$name"; else mcr_fail "$name" "$(cat "$WORK/rx.out")"; fi
		stop_mcr
	else
		mcr_fail "$name" "$(cat "$WORK/mcr.log")"
	fi
else
	mcr_skip "$name" "setcap failed here: $(cat "$WORK/setcap.err")"
fi
MCR=$MCR_SAVED
MCR_WRAP=
mcr_summary
