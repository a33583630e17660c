#!/bin/sh
# contrib/deb/build.sh STAGE OUTDIR: the tree `make install DESTDIR=STAGE PREFIX=/usr` left,
# made into OUTDIR/mcr_VERSION_ARCH.deb by dpkg-deb alone. Run by `make deb`.
set -eu
stage=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$(dirname "$here")")
version=$(sed -n 's/^#define MCR_VERSION "\(.*\)"/\1/p' "$top/mcr.h")
arch=$(dpkg --print-architecture)
# Who to write to about this build: DEB_MAINTAINER, else the DEBFULLNAME and DEBEMAIL that
# Debian's own tools (dch, dh_make) read, else the checkout's git identity. Never a made-up one.
maintainer=${DEB_MAINTAINER:-}
if [ -z "$maintainer" ] && [ -n "${DEBEMAIL:-}" ]; then
	maintainer="${DEBFULLNAME:-mcr maintainer} <$DEBEMAIL>"
fi
if [ -z "$maintainer" ] && git -C "$top" config user.email >/dev/null 2>&1; then
	maintainer="$(git -C "$top" config user.name) <$(git -C "$top" config user.email)>"
fi
if [ -z "$maintainer" ]; then
	echo "make deb: who maintains this build? set DEB_MAINTAINER='Name <address>' (or" \
		"DEBFULLNAME and DEBEMAIL)" >&2
	exit 1
fi

# Debian policy: a stripped binary (DEB_BUILD_OPTIONS=nostrip keeps the symbols, as
# dh_strip does), compressed manual pages and changelog, a copyright file with the documentation.
case " ${DEB_BUILD_OPTIONS:-} " in
*" nostrip "*) ;;
*) strip --remove-section=.comment --remove-section=.note "$stage/usr/bin/mcr" ;;
esac
gzip -9nf "$stage/usr/share/man/man1/mcr.1"
install -d "$stage/usr/share/doc/mcr" "$stage/usr/share/lintian/overrides" "$stage/DEBIAN"
install -m 644 "$top/LICENSE" "$stage/usr/share/doc/mcr/copyright"
# The entry's signer is the package's maintainer; index(), as no character in a name is special.
awk -v m="$maintainer" '{ i = index($0, "@MAINTAINER@") }
	i { $0 = substr($0, 1, i - 1) m substr($0, i + 12) } 1' "$here/changelog" |
	gzip -9n >"$stage/usr/share/doc/mcr/changelog.gz"
chmod 644 "$stage/usr/share/doc/mcr/changelog.gz"
install -m 644 "$here/lintian-overrides" "$stage/usr/share/lintian/overrides/mcr"
install -m 755 "$here/postinst" "$here/prerm" "$here/postrm" "$stage/DEBIAN/"
# dpkg keeps an administrator's edits to the example across upgrades.
echo /etc/mcr/example.conf >"$stage/DEBIAN/conffiles"
# What debsums and dpkg --verify check; conffiles have theirs in dpkg's database instead.
(cd "$stage" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' |
	LC_ALL=C sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
# mcr is static: no Depends. The unit needs systemd, the binary does not.
cat >"$stage/DEBIAN/control" <<CONTROL
Package: mcr
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Section: net
Priority: optional
Description: relay a multicast UDP stream past the reverse-path filter
 A host with rp_filter=1 silently drops a multicast stream whose source it
 cannot route back to, before any socket sees it. mcr captures the stream
 with a packet socket, ahead of that check, and republishes each UDP payload
 unchanged to multicast groups or unicast hosts on other networks.
 .
 One static binary, its manual, and a hardened systemd template unit
 (mcr@NAME.service, arguments in /etc/mcr/NAME.conf).
CONTROL
mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/mcr_${version}_${arch}.deb"
