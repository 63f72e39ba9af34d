#!/usr/bin/env bash
# Install the Debian packages the e2e node needs, unless they are there already:
#
#   containerd, runc                the container runtime the kubelet talks to (CRI)
#   containernetworking-plugins     the bridge and host-local CNI plugins (pod addresses)
#   iptables                        the counter that proves no packet leaves the cluster's namespace
#   docker.io                       dockerd, started privately to build the images (tests/e2e/node/images.py)
#   mmdebstrap                      the Debian base image, made from Debian's packages (no registry here)
#
# Needs root (apt-get). Nothing is started: with no init system here, a package whose maintainer
# script would start its daemon is stopped by a policy-rc.d that refuses, in place only while apt runs
# (unless one is there already).
set -euo pipefail

needed=()
command -v containerd >/dev/null || needed+=(containerd)
command -v runc >/dev/null || needed+=(runc)
[ -x /usr/lib/cni/bridge ] || needed+=(containernetworking-plugins)
command -v iptables >/dev/null || needed+=(iptables)
[ -x /usr/sbin/dockerd ] || needed+=(docker.io)
command -v mmdebstrap >/dev/null || needed+=(mmdebstrap)
command -v unshare >/dev/null && command -v nsenter >/dev/null || needed+=(util-linux)
command -v ip >/dev/null || needed+=(iproute2)
[ ${#needed[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-packages.sh: the e2e node needs ${needed[*]} from Debian; run as root (CI does)" >&2
	exit 1
fi
policy=/usr/sbin/policy-rc.d
made_policy=false
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod +x "$policy"
	made_policy=true
fi
trap '$made_policy && rm -f "$policy"' EXIT
echo "installing ${needed[*]} from Debian..." >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
