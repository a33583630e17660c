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
maintainer=${DEB_MAINTAINER:-mcr maintainers <mcr@localhost>}

# Debian policy: compressed manual pages, a copyright file with the documentation.
gzip -9nf "$stage/usr/share/man/man1/mcr.1"
install -d "$stage/usr/share/doc/mcr" "$stage/DEBIAN"
install -m 644 "$top/LICENSE" "$stage/usr/share/doc/mcr/copyright"
install -m 755 "$here/postinst" "$here/prerm" "$here/postrm" "$stage/DEBIAN/"
# dpkg keeps an administrator's edits to the example across upgrades.
echo /etc/mcr/example.conf >"$stage/DEBIAN/conffiles"
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
