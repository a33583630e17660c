#!/bin/bash
# contrib/container: the image's root filesystem, built as a directory by the script the
# Containerfile runs, holds /mcr alone; mcr run from it (chroot, uid 65534, CAP_NET_RAW the only
# capability in reach) relays in the namespaces, as a container runtime would run it, both when
# the capability comes from /mcr's file capability (Docker, Kubernetes) and when it is ambient.
# The failures a container user can meet are shown with their exit status: no_new_privs (which
# makes exec ignore the file capability), no capability, a user namespace that does not own the
# network namespace (rootless podman with host networking), and --user as a non-root user.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

mcr_require_root
mcr_need_tools sender receiver
for t in capsh getcap setpriv unshare; do
	command -v $t >/dev/null || { echo "FAIL $(basename "$0"): $t not installed"; exit 1; }
done
mcr_suite_setup

ROOT=$PWD/build/container/rootfs
CX_UID=65534
N=2000

# 1. make container-rootfs builds it.
name="make container-rootfs builds build/container/rootfs"
if make -s container-rootfs >"$WORK/build.log" 2>&1 && [ -d "$ROOT" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$(tail -n 5 "$WORK/build.log")"
	mcr_summary
	exit 1
fi

# 2. It holds /mcr alone, root's, static, stripped, with exactly the file capability
# cap_net_raw=ep: the image has nothing else to read or run.
name="the root filesystem holds /mcr alone: static, stripped, cap_net_raw=ep, root's"
bad=
listing=$(cd "$ROOT" && find . -printf '%M %u:%g %p\n' | LC_ALL=C sort)
[ "$listing" = "$(printf '%s\n' '-rwxr-xr-x root:root ./mcr' 'drwxr-xr-x root:root .')" ] ||
	bad="$bad listing:$listing"
[ "$(getcap "$ROOT/mcr")" = "$ROOT/mcr cap_net_raw=ep" ] || bad="$bad caps:$(getcap "$ROOT/mcr")"
file "$ROOT/mcr" | grep -q 'statically linked.*, stripped' || bad="$bad $(file "$ROOT/mcr")"
if [ -z "$bad" ]; then mcr_pass "$name"; else mcr_fail "$name" "$bad"; fi

# 3. The Containerfile's image is that directory: its first stage runs rootfs.sh, its last is
# FROM scratch with one COPY of the directory, a non-root numeric USER and /mcr as entrypoint.
name="Containerfile: the image is rootfs.sh's directory, a non-root USER, ENTRYPOINT /mcr"
cf=contrib/container/Containerfile
last=$(awk '/^FROM /{n = NR} END {print n}' "$cf")
final=$(tail -n +"$last" "$cf" | grep -Ev '^[[:space:]]*(#|$)')
want='FROM scratch
COPY --from=rootfs /rootfs/ /
USER 65534:65534
ENTRYPOINT ["/mcr"]'
if [ "$final" = "$want" ] && grep -q '^FROM .* AS rootfs$' "$cf" &&
	grep -q '^RUN /src/rootfs.sh /src/mcr /rootfs$' "$cf"; then
	mcr_pass "$name"
else
	mcr_fail "$name" "last stage: $final"
fi

# The capabilities a runtime leaves: every one but CAP_NET_RAW out of the bounding set.
NOT_RAW=$(capsh --print | sed -n 's/^Bounding set =//p' | tr ',' '\n' | grep -vx cap_net_raw |
	paste -sd,)
# As a runtime starts the entrypoint: chrooted into ROOT, uid and gid 65534 and no other group,
# bounding set {CAP_NET_RAW}. CX_AMBIENT=1 also raises it ambient (and inheritable), as a
# runtime that sets ambient capabilities does; without it, only the file capability grants it.
# CX_ROOT overrides the root filesystem; CX_NNP=1 sets no_new_privs first. The command is left
# in the array CX, /mcr's arguments to follow.
cx_cmd() {
	CX=()
	[ "${CX_NNP:-0}" = 1 ] && CX+=(setpriv --no-new-privs)
	CX+=(capsh --chroot="${CX_ROOT:-$ROOT}" --drop="$NOT_RAW")
	[ "${CX_AMBIENT:-0}" = 1 ] && CX+=(--keep=1)
	CX+=(--groups="$CX_UID" --gid="$CX_UID" --uid="$CX_UID")
	[ "${CX_AMBIENT:-0}" = 1 ] && CX+=(--caps=cap_net_raw+eip --addamb=cap_net_raw)
	CX+=(--shell=/mcr --)
}

# start_cx ARGS...: like lib.sh's start_mcr, mcr run as cx_cmd says.
start_cx() {
	cx_cmd
	start_cmd "${CX[@]}" "$@"
}

# relay_cx NAME: relays N datagrams byte-identical from the container's root filesystem; while
# it runs, /proc shows uid 65534, no capability left (mcr dropped CAP_NET_RAW once set up) and
# no_new_privs.
relay_cx() {
	local name=$1 status
	start_cx -i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000 || { mcr_fail "$name" start; return; }
	status=$(grep -E '^(Uid|CapPrm|CapEff|CapAmb|NoNewPrivs):' "/proc/$MCR_PID/status" |
		tr -s '\t' ' ')
	receive rx "$RCV" 198.18.2.2:6000 "" -n $N -T 20 || { mcr_fail "$name" receiver; return; }
	ip netns exec "$SND" "$SEND" -d 239.0.0.1:5000 -I s0 -n $N -r 5000 -l 1316 >/dev/null
	wait "$rx_PID"
	counters
	stop_mcr
	if [ "$(r rx unique)" = $N ] && [ "$(r rx corrupt)" = 0 ] && [ "$(c relayed)" = $N ] &&
		[ "$MCR_STATUS" = 0 ] &&
		[ "$status" = "$(printf '%s\n' "Uid: $CX_UID $CX_UID $CX_UID $CX_UID" \
			'CapPrm: 0000000000000000' 'CapEff: 0000000000000000' \
			'CapAmb: 0000000000000000' 'NoNewPrivs: 1')" ]; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/rx.out") | $(cat "$WORK/counters") | $status |" \
			"status $MCR_STATUS $(grep -v event= "$WORK/mcr.log")"
	fi
}

# 4. Docker and Kubernetes: non-root, nothing ambient; /mcr's file capability grants it.
relay_cx "uid 65534, CAP_NET_RAW from the file capability only: relays $N, ends with none"

# 5. A runtime that sets ambient capabilities (and systemd's unit) needs no file capability.
PLAIN=$WORK/plain
mkdir -p "$PLAIN"
cp "$ROOT/mcr" "$PLAIN/mcr"	# cp keeps no xattr: no file capability
CX_ROOT=$PLAIN CX_AMBIENT=1 relay_cx "uid 65534, CAP_NET_RAW ambient, no file capability: relays $N"

# expect_cx NAME STATUS PATTERN ARGS...: run as cx_cmd says, in the relay; exits STATUS with
# exactly one stderr line matching PATTERN.
expect_cx() {
	local name=$1 want=$2 pattern=$3
	shift 3
	cx_cmd
	expect_relay "$name" "$want" "$pattern" -- "${CX[@]}" "$@"
}
ARGS=(-i r0 -g 239.0.0.1:5000 -o 198.18.2.2:6000)
NEEDS='^mcr: packet socket: Operation not permitted \(mcr needs CAP_NET_RAW'

# 6. Without either, the packet socket is refused: the capability is what makes 4 and 5 work.
CX_ROOT=$PLAIN expect_cx "uid 65534, no capability: exit 77 naming CAP_NET_RAW" 77 \
	"$NEEDS" "${ARGS[@]}"

# 7. no_new_privs (allowPrivilegeEscalation: false, --security-opt no-new-privileges) makes
# exec ignore the file capability.
CX_NNP=1 expect_cx \
	"no_new_privs ignores the file capability: exit 77 naming CAP_NET_RAW" 77 "$NEEDS" \
	"${ARGS[@]}"

# 8. --user needs root to switch; in a container the image's USER does that job.
expect_cx "--user as uid 65534: exit 77, switching users needs root" 77 \
	'^mcr: --user 1000:1000: Operation not permitted \(switching users needs root\)' \
	"${ARGS[@]}" --user 1000:1000

# 9. Rootless podman with host networking: root in a user namespace of its own has every
# capability there, but the packet socket checks CAP_NET_RAW in the user namespace that owns
# the network namespace, the initial one.
expect_relay "root of a user namespace that does not own the netns: exit 77" 77 "$NEEDS" -- \
	unshare --user --map-root-user "$ROOT/mcr" "${ARGS[@]}"

mcr_summary
