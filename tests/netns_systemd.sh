#!/bin/bash
# The systemd unit, without a running systemd: what make install puts where, systemd-analyze
# verify and security on it, and mcr run the way the unit runs it (an unprivileged user with
# CAP_NET_RAW alone, no new privileges), traced, with every system call, address family and
# file write checked against the unit's sandbox. Traffic stays in the namespaces of lib.sh.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_require_root
mcr_need_tools sender receiver
for tool in systemd-analyze strace setpriv socat jq; do
	command -v $tool >/dev/null || { echo "FAIL $tool is missing (make deps)"; exit 1; }
done
SEND=$PWD/tests/sender
RECV=$PWD/tests/receiver
mcr_topology
WORK=$MCR_TMP
chmod 755 "$WORK"	# the unit's user must reach the binary and its runtime directory
ROOT=$WORK/root
UNIT=$ROOT/usr/lib/systemd/system/mcr@.service
MCR=$ROOT/usr/bin/mcr
UID_UNIT=61234		# a stand-in for the unit's DynamicUser
mcr_wait_oper "$RLY" r0 up	# else mcr rightly says the link is down

# 1. make install: binary, manual, unit (ExecStart following BINDIR), example configuration.
name="make install puts the binary, manual, unit and example conf in place"
make -s install PREFIX="$ROOT/usr" SYSCONFDIR="$ROOT/etc" >"$WORK/install.log" 2>&1
bad=
for f in usr/bin/mcr:755 usr/share/man/man1/mcr.1:644 usr/lib/systemd/system/mcr@.service:644 \
	etc/mcr/example.conf:644; do
	[ "$(stat -c %a "$ROOT/${f%:*}" 2>/dev/null)" = "${f#*:}" ] || bad="$bad ${f%:*}"
done
[ "$(grep '^ExecStart=' "$UNIT")" = \
	"ExecStart=$ROOT/usr/bin/mcr --stats-file %t/mcr/%i/stats.json \$MCR_ARGS" ] ||
	bad="$bad ExecStart:$(grep '^ExecStart=' "$UNIT")"
cmp -s <(grep -v '^ExecStart=' "$UNIT") <(grep -v '^ExecStart=' contrib/systemd/mcr@.service) ||
	bad="$bad unit-differs-beyond-ExecStart"
if [ -z "$bad" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$bad $(cat "$WORK/install.log")"
fi

# 2. systemd-analyze verify: exit 0 and not one warning.
name="systemd-analyze verify passes on the unit without a word"
out=$(systemd-analyze verify --man=no "$UNIT" 2>&1)
status=$?
if [ "$status" = 0 ] && [ -z "$out" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "status $status: $out"
fi

# 3. systemd-analyze security: the exposure README states, and no worse than 2.0.
name="systemd-analyze security scores the unit as README says, at most 2.0"
score=$(systemd-analyze security --offline=true "$UNIT" 2>&1 |
	sed -n 's/.*Overall exposure level for mcr@.*\.service: \([0-9.]*\) .*/\1/p')
claimed=$(tr '\n' ' ' <README |
	sed -n 's/.*`systemd-analyze security` *scores it \([0-9.]*\) .*/\1/p')
if [ -n "$score" ] && [ "$score" = "$claimed" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'
then
	echo "  exposure $score"
	mcr_pass "$name"
else
	mcr_fail "$name" "systemd-analyze says '$score', README says '$claimed'"
fi

# 4. The example configuration's arguments parse (-h after them: parsed, then help, exit 0).
name="the example conf's MCR_ARGS parse, and leave --stats-file to the unit"
(
	. "$ROOT/etc/mcr/example.conf"
	# shellcheck disable=SC2086
	"$MCR" $MCR_ARGS -h >/dev/null 2>"$WORK/conf.err" &&
		! printf '%s' "$MCR_ARGS" | grep -q -- --stats-file && [ -n "$MCR_ARGS" ]
)
if [ $? = 0 ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$(cat "$WORK/conf.err")"
fi

# 5. Run as the unit runs it, traced: relays, reports ready to the FIFO and to a notify socket,
# keeps the stats file in its runtime directory, stops cleanly on SIGTERM.
name="as the unit's user with CAP_NET_RAW only and no new privileges, mcr relays and reports"
n=1000
run=$WORK/run/mcr/camera1
mkdir -p "$run"
chown -R $UID_UNIT:$UID_UNIT "$WORK/run"
rm -f "$WORK/rx.ready"
mcr_bg "$WORK/rx.out" "$RCV" "$RECV" -g 239.0.0.2:6000 -I v1 -n $n -T 10 -R "$WORK/rx.ready"
rx=$MCR_BG_PID
mcr_bg "$WORK/notify.out" "$RLY" socat -u "UNIX-RECV:$WORK/notify.sock,perm=0777" STDOUT
mcr_wait_file "$WORK/rx.ready" 5 && mcr_wait_file "$WORK/notify.sock" 5
mkfifo "$WORK/ready.fifo"
NOTIFY_SOCKET=$WORK/notify.sock ip netns exec "$RLY" strace -f -qq -o "$WORK/trace" \
	setpriv --reuid=$UID_UNIT --regid=$UID_UNIT --clear-groups --inh-caps=-all,+net_raw \
	--ambient-caps=-all,+net_raw --bounding-set=-all,+net_raw --no-new-privs \
	"$MCR" --stats-file "$run/stats.json" -i r0 -g 239.0.0.1:5000 -o 239.0.0.2:6000@r1 \
	--ready-fd 3 3>"$WORK/ready.fifo" 2>"$WORK/unit.log" &
tracer=$!
MCR_PIDS+=("$tracer")
read -r -t 10 ready <"$WORK/ready.fifo"
# strace's only child: setpriv, which became mcr (strace's log may not be written out yet).
pid=$(ps -o pid= --ppid "$tracer" | tr -d ' ')
bad=
[ "$ready" = ready ] || bad="$bad not-ready"
ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $n -r 10000 -l 200 >/dev/null
wait "$rx"
[ -n "$pid" ] && kill -USR1 "$pid" && kill -TERM "$pid"
# Bounded: strace returns mcr's status once mcr exits; if it does not, mcr is killed.
for _ in $(seq 200); do
	kill -0 "$tracer" 2>/dev/null || break
	sleep 0.05
done
if kill -0 "$tracer" 2>/dev/null; then
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	bad="$bad still-running"
fi
wait "$tracer"
status=$?
[ "$status" = 0 ] || bad="$bad status=$status"
[ "$(mcr_kv "$WORK/rx.out" unique)" = $n ] || bad="$bad received=$(mcr_kv "$WORK/rx.out" unique)"
[ "$(jq -r '"\(.event) \(.relayed)"' "$run/stats.json" 2>&1)" = "final $n" ] ||
	bad="$bad stats-file"
[ "$(stat -c %u "$run/stats.json")" = $UID_UNIT ] || bad="$bad stats-file-owner"
grep -q '^READY=1$' "$WORK/notify.out" && grep -q '^STOPPING=1$' "$WORK/notify.out" ||
	bad="$bad notify:$(tr '\n' '|' <"$WORK/notify.out")"
if [ -z "$bad" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$bad: $(cat "$WORK/unit.log")"
fi

# Every system call of a systemd group, nested groups expanded.
expand() {
	local g
	systemd-analyze syscall-filter "$1" | sed -n 's/^    \([@a-z0-9_-]*\)$/\1/p' |
		while read -r g; do
			case $g in
			@*) expand "$g" ;;
			*) echo "$g" ;;
			esac
		done
}

# 6. The unit's SystemCallFilter= allows every call mcr made (from its exec on). As systemd reads
# them: the first line is an allow list, later ~ lines take calls out, later plain lines put
# calls back.
name="every system call mcr makes is allowed by the unit's SystemCallFilter"
allowed=
while IFS= read -r line; do
	set=$(for f in ${line#\~}; do
		case $f in @*) expand "$f" ;; *) echo "$f" ;; esac
	done | sort -u)
	case $line in
	\~*) allowed=$(comm -23 <(echo "$allowed") <(echo "$set")) ;;
	*) allowed=$(printf '%s\n%s\n' "$allowed" "$set" | grep . | sort -u) ;;
	esac
done < <(sed -n 's/^SystemCallFilter=//p' "$UNIT")
used=$(awk -v pid="$pid" -v exe="execve(\"$MCR\"" '$1 == pid && index($0, exe) { on = 1; next }
	on && $1 == pid { sub(/\(.*/, "", $2); if ($2 ~ /^[a-z0-9_]+$/) print $2 }' "$WORK/trace" |
	sort -u)
refused=$(comm -23 <(echo "$used") <(echo "$allowed"))
if [ -n "$pid" ] && [ "$(echo "$used" | grep -c .)" -gt 20 ] && [ -z "$refused" ] &&
	echo "$used" | grep -q '^io_uring_enter$'; then
	mcr_pass "$name"
else
	mcr_fail "$name" "pid '$pid', refused: $(echo $refused); used: $(echo $used)"
fi

# 7. RestrictAddressFamilies= lists every family mcr opens a socket of.
name="every socket family mcr opens is in the unit's RestrictAddressFamilies"
families=$(grep -E "^$pid +socket\(" "$WORK/trace" | sed 's/.*socket(\(AF_[A-Z0-9]*\).*/\1/' | sort -u)
allowed=$(sed -n 's/^RestrictAddressFamilies=//p' "$UNIT" | tr ' ' '\n' | sort -u)
if [ -n "$families" ] && [ -z "$(comm -23 <(echo "$families") <(echo "$allowed"))" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "opened: $(echo $families); allowed: $(echo $allowed)"
fi

# 8. ProtectSystem=strict leaves only the runtime directory writable: mcr writes nowhere else.
name="mcr creates and writes files only in its runtime directory (ProtectSystem=strict)"
writes=$(grep -E "^$pid +open" "$WORK/trace" | grep -E 'O_WRONLY|O_RDWR|O_CREAT' |
	sed 's/^[0-9]* *open[a-z]*([^"]*"\([^"]*\)".*/\1/' | sort -u)
if [ -n "$writes" ] && ! echo "$writes" | grep -vq "^$run/"; then
	mcr_pass "$name"
else
	mcr_fail "$name" "writes: $(echo $writes)"
fi

mcr_summary
