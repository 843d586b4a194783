#!/usr/bin/env bash
# Render Argo's cluster-install manifests for the offline tests, from the Go module cache only.
#   render_argo_manifests.sh [ARGO_VERSION]   -> prints the path of the rendered install.yaml
# The release install.yaml is `kustomize build manifests/cluster-install`; the release site is not
# reachable here, so we build kustomize and fetch Argo's module through the Go module proxy, render
# once into the user cache and reuse it. Nothing here is written into the repository.
set -euo pipefail
argo_version=${1:-v4.0.5}
# The newest kustomize the proxy serves that builds with this machine's Go (v5.8.3 needs go 1.27).
kustomize_version=${KUSTOMIZE_VERSION:-v5.8.1}
cache=${ARGOOPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/argoops-workflows}
bin_dir=$cache/bin/kustomize-$kustomize_version
out_dir=$cache/manifests/argo-$argo_version
out=$out_dir/install.yaml
log() { echo "render_argo_manifests: $*" >&2; }

if [ -s "$out" ]; then echo "$out"; exit 0; fi
# Two test runs may render at once (a unit tier beside a Molecule run): one renders, the other waits and reuses it.
mkdir -p "$cache"
exec 9>"$cache/.render-argo-manifests.lock"
flock 9
if [ -s "$out" ]; then echo "$out"; exit 0; fi

if [ ! -x "$bin_dir/kustomize" ]; then
  log "building kustomize $kustomize_version into $bin_dir (first use only)"
  start=$SECONDS
  mkdir -p "$bin_dir"
  GOBIN=$bin_dir CGO_ENABLED=0 GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$kustomize_version" >&2
  log "kustomize built in $((SECONDS - start))s"
fi

module=github.com/argoproj/argo-workflows/v4
src=$(cd /tmp && go mod download -json "$module@$argo_version" | sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p')
[ -d "$src/manifests/cluster-install" ] || { log "no manifests/cluster-install in $module@$argo_version"; exit 1; }
mkdir -p "$out_dir"
tmp=$(mktemp "$out.XXXXXX")
"$bin_dir/kustomize" build "$src/manifests/cluster-install" >"$tmp"
mv "$tmp" "$out"
log "rendered $module@$argo_version manifests/cluster-install ($(grep -c '^kind:' "$out") objects)"
echo "$out"
