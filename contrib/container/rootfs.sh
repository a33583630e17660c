#!/bin/sh
# contrib/container/rootfs.sh MCR DIR: the container image's whole root filesystem, made in DIR:
# the static binary MCR as /mcr, stripped, with the file capability cap_net_raw=ep, and nothing
# else. The Containerfile's first stage runs it and its last stage copies DIR; `make
# container-rootfs` runs it for tests/netns_container.sh, which checks and runs the result.
set -eu
mcr=$1
dir=$2
rm -rf "$dir"
install -d -m 755 "$dir"
install -m 755 "$mcr" "$dir/mcr"
chown 0:0 "$dir" "$dir/mcr"
strip --remove-section=.comment --remove-section=.note "$dir/mcr"
# Docker and Kubernetes start a non-root USER with --cap-add's capabilities in its bounding set
# only, none ambient; this file capability is what makes exec grant CAP_NET_RAW. (setcap last:
# strip rewrites the file, which would drop it.)
setcap cap_net_raw=ep "$dir/mcr"
