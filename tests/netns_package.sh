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

# 0. DEB_BUILD_OPTIONS=nostrip keeps the symbols, and DEB_MAINTAINER names who to write to.
name="make deb DEB_BUILD_OPTIONS=nostrip DEB_MAINTAINER=...: symbols kept, that maintainer"
rm -f "$DEB"
who='Test Packager <packager@mcr.test>'
if DEB_BUILD_OPTIONS=nostrip DEB_MAINTAINER=$who make -s deb >"$WORK/build.log" 2>&1 &&
	dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ./usr/bin/mcr >"$WORK/mcr.nostrip" &&
	file "$WORK/mcr.nostrip" | grep -q ', not stripped' &&
	[ "$(dpkg-deb --field "$DEB" Maintainer)" = "$who" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$(file "$WORK/mcr.nostrip"; dpkg-deb --field "$DEB" Maintainer;
		tail -n 5 "$WORK/build.log")"
fi

# 0b. With no identity to name, make deb refuses in one line rather than invent an address.
name="make deb with no DEB_MAINTAINER, DEBEMAIL or git user refuses, saying what to set"
noid() { env -u DEB_MAINTAINER -u DEBEMAIL HOME="$WORK" GIT_CONFIG_NOSYSTEM=1 "$@"; }
if noid git config user.email >/dev/null; then
	mcr_skip "$name" "this checkout's own git config names a user"
elif noid make -s deb >"$WORK/noid.log" 2>&1; then
	mcr_fail "$name" "built with Maintainer $(dpkg-deb --field "$DEB" Maintainer)"
elif grep -q "^make deb: who maintains this build? set DEB_MAINTAINER='Name <address>'" \
	"$WORK/noid.log"; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$(cat "$WORK/noid.log")"
fi

# 1. It builds, under the name Debian tools expect. A machine with no maintainer identity at all
# (no DEB_MAINTAINER, DEBEMAIL or git user) gets one from the test: make deb refuses to invent it.
if [ -z "${DEB_MAINTAINER:-}${DEBEMAIL:-}" ] && ! git config user.email >/dev/null; then
	export DEB_MAINTAINER='mcr tests <tests@mcr.test>'
fi
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

# 3. dpkg-deb --contents: binary, manual, unit, example conf, copyright, changelog, lintian
# override; root-owned, sane modes.
name="dpkg-deb --contents: binary, man page, unit, example conf, copyright, changelog, override"
dpkg-deb --contents "$DEB" >"$WORK/contents"
bad=
for want in "-rwxr-xr-x ./usr/bin/mcr" "-rw-r--r-- ./usr/share/man/man1/mcr.1.gz" \
	"-rw-r--r-- ./usr/lib/systemd/system/mcr@.service" "-rw-r--r-- ./etc/mcr/example.conf" \
	"-rw-r--r-- ./usr/share/doc/mcr/copyright" "-rw-r--r-- ./usr/share/doc/mcr/changelog.gz" \
	"-rw-r--r-- ./usr/share/lintian/overrides/mcr"; do
	awk -v mode="${want% *}" -v path="${want#* }" \
		'$1 == mode && $2 == "root/root" && $6 == path { found = 1 } END { exit !found }' \
		"$WORK/contents" || bad="$bad '$want'"
done
awk '$2 != "root/root" { bad = 1 } END { exit bad }' "$WORK/contents" || bad="$bad owners"
[ "$(grep -vc '/$' "$WORK/contents")" = 7 ] || bad="$bad extra-files"
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
file "$root/usr/bin/mcr" | grep -q ', stripped' || bad="$bad not-stripped"
# The changelog's entry is this version's, signed by the package's maintainer.
gzip -dc "$root/usr/share/doc/mcr/changelog.gz" >"$WORK/changelog"
head -n 1 "$WORK/changelog" | grep -q "^mcr ($VERSION) " || bad="$bad changelog-version"
grep -qF -- " -- $(dpkg-deb --field "$DEB" Maintainer)  " "$WORK/changelog" ||
	bad="$bad changelog-signer"
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
# deb-systemd-helper masked the unit on remove and unmasked it on purge, in the root it was given.
left=$(find "$root/etc" "$root/var/lib/systemd" -mindepth 1 ! -type d 2>/dev/null)
[ -z "$left" ] || bad="$bad left-after-purge:$left"
if [ -z "$bad" ]; then
	mcr_pass "$name"
else
	mcr_fail "$name" "$bad: $(cat "$WORK/dpkg.log")"
fi

# 6. Debian's own checker: not one error or warning (the static binary's override says why).
name="lintian reports no error and no warning"
if ! command -v lintian >/dev/null; then
	mcr_fail "$name" "lintian is not installed (.ci/deps installs it)"
else
	lintian "$DEB" >"$WORK/lintian" 2>&1
	if grep -Eq '^(E|W): ' "$WORK/lintian"; then
		mcr_fail "$name" "$(grep -E '^(E|W): ' "$WORK/lintian")"
	elif ! grep -vq '^running with root privileges' "$WORK/lintian" &&
		lintian --show-overrides "$DEB" 2>&1 |
		grep -q '^O: mcr: statically-linked-binary'; then
		mcr_pass "$name"
	else
		mcr_fail "$name" "$(cat "$WORK/lintian")"
	fi
fi

mcr_summary
