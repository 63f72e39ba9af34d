#!/usr/bin/env bash
# Build the e2e tool binaries from the Go modules pinned in this directory:
#
#   controlplane    etcd + kube-apiserver + kube-controller-manager in one process
#                   (this module's main package)
#   kubectl         k8s.io/kubernetes/cmd/kubectl          (go.mod "tool" directive)
#   helm            helm.sh/helm/v3/cmd/helm               (go.mod "tool" directive)
#   kubelet         k8s.io/kubernetes/cmd/kubelet          (go.mod "tool" directive; the e2e node)
#   kube-scheduler  k8s.io/kubernetes/cmd/kube-scheduler   (go.mod "tool" directive; the e2e node)
#   criclean        ./criclean: removes every pod sandbox of the node's containerd at teardown
#
# Usage: tests/e2e/controlplane/build.sh [OUT_DIR]   (default: <repo>/.tools/e2e/bin)
#
# Only the Go module proxy is needed. The first build compiles most of
# Kubernetes (minutes); later runs are served from Go's build cache and do not
# even relink binaries that are up to date (seconds).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out="${1:-$repo/.tools/e2e/bin}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

cd "$here"

# Versions come from go.mod so there is a single place to bump them.
k8s_version="$(go list -mod=readonly -m -f '{{.Version}}' k8s.io/kubernetes)"   # e.g. v1.37.2
helm_version="$(go list -mod=readonly -m -f '{{.Version}}' helm.sh/helm/v3)"    # e.g. v3.22.0
k8s_minor="$(echo "$k8s_version" | cut -d. -f2)"

# Stamp real versions (the upstream Makefiles do the same): without them the
# apiserver reports v0.0.0-master, which breaks `kubeVersion:` checks in charts.
# These values are constant for a given go.mod, so they do not defeat caching.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
	ldflags+=" -X $pkg.gitTreeState=clean"
done
ldflags+=" -X helm.sh/helm/v3/internal/version.version=$helm_version"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
	ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

start=$(date +%s)
# One `go build` for all of them so their (mostly shared) packages compile in
# parallel. -buildvcs=false: VCS stamping would change with every commit of
# the repo and force relinking. CGO_ENABLED=0: static binaries, no C toolchain.
CGO_ENABLED=0 go build -mod=readonly -trimpath -buildvcs=false -ldflags="$ldflags" -o "$out/" \
	. \
	./criclean \
	k8s.io/kubernetes/cmd/kubectl \
	k8s.io/kubernetes/cmd/kubelet \
	k8s.io/kubernetes/cmd/kube-scheduler \
	helm.sh/helm/v3/cmd/helm
echo "built controlplane, criclean, kubectl, kubelet, kube-scheduler ($k8s_version), helm ($helm_version) into $out in $(($(date +%s) - start))s" >&2
