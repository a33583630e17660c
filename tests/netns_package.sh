#!/bin/bash
# `make deb`: the package's fields and contents, what it unpacks to, and a whole
# install/remove/purge with dpkg in a throwaway root. No network and no namespace is used; the
# name puts it among the suites tests/run.sh runs.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

VERSION=$(sed -n 's/^#define MCR_VERSION "\(.*\)"/\1/p' mcr.h)
ARCH=$(dpkg --print-architecture)
DEB=build/mcr_${VERSION}_${ARCH}.deb
WORK=$(mktemp -d /tmp/mcr-pkg.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT

# 1. It builds, under the name Debian tools expect.
name="make deb builds $DEB"
rm -f "$DEB"
if make -s deb >"$WORK/build.log" 2>&1 && [ -f "$DEB" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$(tail -n 5 "$WORK/build.log")"
	mcr_summary
	exit 1
fi

# 2. dpkg-deb --info: the fields that say what it is, and no dependency for a static binary.
name="dpkg-deb --info: package, version, architecture, no Depends, the example as a conffile"
info=$(dpkg-deb --info "$DEB")
field() { dpkg-deb --field "$DEB" "$1"; }
bad=
[ "$(field Package)" = mcr ] || bad="$bad Package"
[ "$(field Version)" = "$VERSION" ] || bad="$bad Version"
[ "$(field Architecture)" = "$ARCH" ] || bad="$bad Architecture"
[ -n "$(field Maintainer)" ] || bad="$bad Maintainer"
[ -n "$(field Description)" ] || bad="$bad Description"
[ -z "$(field Depends)" ] || bad="$bad Depends"
for f in conffiles postinst prerm postrm; do
	echo "$info" | grep -Eq "^ +[0-9]+ bytes, +[0-9]+ lines +\*? *$f( |$)" || bad="$bad no-$f"
done
dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles >"$WORK/conffiles"
[ "$(cat "$WORK/conffiles")" = /etc/mcr/example.conf ] || bad="$bad conffiles"
if [ -z "$bad" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$bad: $info"
fi

# 3. dpkg-deb --contents: binary, manual, unit, example conf, copyright; root-owned, sane modes.
name="dpkg-deb --contents: binary, man page, unit, example conf, copyright, all root's"
dpkg-deb --contents "$DEB" >"$WORK/contents"
bad=
for want in "-rwxr-xr-x ./usr/bin/mcr" "-rw-r--r-- ./usr/share/man/man1/mcr.1.gz" \
	"-rw-r--r-- ./usr/lib/systemd/system/mcr@.service" "-rw-r--r-- ./etc/mcr/example.conf" \
	"-rw-r--r-- ./usr/share/doc/mcr/copyright"; do
	awk -v mode="${want% *}" -v path="${want#* }" \
		'$1 == mode && $2 == "root/root" && $6 == path { found = 1 } END { exit !found }' \
		"$WORK/contents" || bad="$bad '$want'"
done
awk '$2 != "root/root" { bad = 1 } END { exit bad }' "$WORK/contents" || bad="$bad owners"
[ "$(grep -vc '/$' "$WORK/contents")" = 5 ] || bad="$bad extra-files"
if [ -z "$bad" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$bad: $(cat "$WORK/contents")"
fi

# 4. Unpacked: the binary runs alone in that tree (static), the rest is what the source says.
name="unpacked, the binary runs chrooted in the package alone and the files match the source"
root=$WORK/x
dpkg-deb -x "$DEB" "$root"
bad=
out=$(chroot "$root" /usr/bin/mcr --version 2>&1)
[ "$out" = "mcr $VERSION" ] || bad="$bad version:'$out'"
file "$root/usr/bin/mcr" | grep -q 'statically linked' || bad="$bad not-static"
cmp -s "$root/usr/lib/systemd/system/mcr@.service" contrib/systemd/mcr@.service ||
	bad="$bad unit"
cmp -s "$root/etc/mcr/example.conf" contrib/systemd/example.conf || bad="$bad conf"
cmp -s <(gzip -dc "$root/usr/share/man/man1/mcr.1.gz") mcr.1 || bad="$bad man"
lint=$(gzip -dc "$root/usr/share/man/man1/mcr.1.gz" | mandoc -Tlint -W warning 2>&1)
[ -z "$lint" ] || bad="$bad man-lint:$lint"
cmp -s "$root/usr/share/doc/mcr/copyright" LICENSE || bad="$bad copyright"
if [ -z "$bad" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$bad"
fi

# 5. dpkg itself: install, run, remove (the edited conffile stays), purge (it goes), in a root of
# its own. DPKG_ROOT keeps the maintainer scripts off the host's systemd.
name="dpkg installs it, removes it keeping the conffile, and purges it, in a throwaway root"
root=$WORK/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
dpkgr() { dpkg --root="$root" --force-script-chrootless --force-not-root --log=/dev/null "$@"; }
bad=
dpkgr -i "$DEB" >"$WORK/dpkg.log" 2>&1 || bad="$bad install"
[ "$(dpkg --root="$root" -s mcr 2>/dev/null | sed -n 's/^Status: //p')" = \
	"install ok installed" ] || bad="$bad status"
[ "$("$root/usr/bin/mcr" -V)" = "mcr $VERSION" ] || bad="$bad run"
echo '# edited' >>"$root/etc/mcr/example.conf"
dpkgr -r mcr >>"$WORK/dpkg.log" 2>&1 || bad="$bad remove"
[ ! -e "$root/usr/bin/mcr" ] || bad="$bad binary-left"
grep -q '# edited' "$root/etc/mcr/example.conf" 2>/dev/null || bad="$bad conffile-lost"
dpkgr -P mcr >>"$WORK/dpkg.log" 2>&1 || bad="$bad purge"
[ ! -e "$root/etc/mcr/example.conf" ] || bad="$bad conffile-after-purge"
if [ -z "$bad" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$bad: $(cat "$WORK/dpkg.log")"
fi

mcr_summary
