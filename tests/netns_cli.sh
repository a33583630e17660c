#!/bin/bash
# The command line and set-up errors a user can cause: each one line, each its exit status.
# mcr runs inside a namespace of its own; no packet is sent.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

MCR=$PWD/mcr
NS=mcr_cli$$
ip netns add "$NS"
ip -n "$NS" link set lo up
trap 'ip netns del "$NS" 2>/dev/null' EXIT
OK="-i lo -g 239.0.0.1:5000 -o 127.0.0.1:6000"

# expect NAME STATUS PATTERN -- COMMAND...: the status, and one stderr line matching PATTERN.
expect() {
	local name=$1 want=$2 pattern=$3 err status lines
	shift 4
	err=$(ip netns exec "$NS" timeout 5 "$@" 2>&1 >/dev/null)
	status=$?
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [ "$status" = "$want" ] && [ "$lines" = 1 ] && printf '%s' "$err" | grep -q -- "$pattern"
	then
		mcr_pass "$name"
	else
		mcr_fail "$name" "status $status (want $want), stderr: $err"
	fi
}

while IFS='|' read -r args pattern; do
	# shellcheck disable=SC2086
	expect "usage error exits 64: mcr $args" 64 "$pattern.*(see mcr --help)" -- "$MCR" $args
done <<'CASES'
|missing -i
-i lo -o 198.18.2.2:6000|missing -g
-i lo -g 239.0.0.1:5000|missing -o
-i lo -g 239.0.0.1 -o 198.18.2.2:6000|-g 239.0.0.1: missing :PORT
-i lo -g 239.0.0.1:0 -o 198.18.2.2:6000|port '0'
-i lo -g 239.0.0.1:70000 -o 198.18.2.2:6000|port '70000'
-i lo -g 10.0.0.1:5000 -o 198.18.2.2:6000|not a multicast group
-i lo -g 239.0.0.1:5000 -o 198.18.2.2:6000@|missing interface name after @
-i lo -i lo -g 239.0.0.1:5000 -o 198.18.2.2:6000|-i: given twice
-i lo -g 239.0.0.1:5000 -o 198.18.2.2:6000 -o 198.18.2.2:6000|destination given twice
-i lo -g 239.0.0.1:5000 -o 198.18.2.2:6000 -t 0|TTL must be
-i lo -g 239.0.0.1:5000 -o 198.18.2.2:6000 --dscp af99|DSCP must be
-i lo -g 239.0.0.1:5000 -o 198.18.2.2:6000 -s 239.1.1.1|not a unicast source
-i lo -g 239.0.0.1:5000 -o 198.18.2.2:6000 --stats-format xml|format must be kv or json
-i lo -g 239.0.0.1:5000 -o 198.18.2.2:6000 --bogus|--bogus: unknown option
-i lo -g 239.0.0.1:5000 -o 198.18.2.2:6000 extra|extra: unexpected argument
CASES

expect "missing ingress exits 66 naming it" 66 "nosuch0: no such interface (see ip link)" \
	-- "$MCR" -i nosuch0 -g 239.0.0.1:5000 -o 198.18.2.2:6000
expect "missing egress interface exits 66 naming it" 66 "nosuch1: no such interface" \
	-- "$MCR" $OK -o 239.0.0.2:6000@nosuch1
expect "without CAP_NET_RAW exits 77 and says what is needed" 77 "needs CAP_NET_RAW.*setcap" \
	-- setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$MCR" $OK
expect "io_uring refused by seccomp exits 69 naming the causes" 69 \
	"io_uring.*kernel.io_uring_disabled.*seccomp" -- tests/noring "$MCR" $OK

out=$("$MCR" --help)
if [ $? = 0 ] && printf '%s' "$out" | grep -q '^usage: mcr -i IFACE -g GROUP:PORT'; then
	mcr_pass "--help prints the usage on stdout and exits 0"
else
	mcr_fail "--help prints the usage on stdout and exits 0" "$out"
fi
if [ "$("$MCR" -V)" = "mcr $(sed -n 's/^#define MCR_VERSION "\(.*\)"/\1/p' mcr.h)" ]; then
	mcr_pass "-V prints the version"
else
	mcr_fail "-V prints the version" "$("$MCR" -V)"
fi
if file "$MCR" | grep -q 'statically linked'; then
	mcr_pass "the binary is statically linked"
else
	mcr_fail "the binary is statically linked" "$(file "$MCR")"
fi
mcr_summary
