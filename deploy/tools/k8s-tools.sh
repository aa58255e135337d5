#!/usr/bin/env bash
# Builds the deploy checks' tools from source with Go (the Go module proxy is the only place
# they come from) and caches them under .cache/deploy-tools/<tool>-<version>/.
#
#   deploy/tools/k8s-tools.sh kustomize     # prints the path of the kustomize binary
#   deploy/tools/k8s-tools.sh kubeconform   # prints the path of the kubeconform binary
#   deploy/tools/k8s-tools.sh all           # builds both, prints both paths
#
# Needs Go 1.24+ (GOTOOLCHAIN=local: no toolchain download). A cold build takes about a
# minute on two cores; afterwards the cached binaries are used as they are. Change a version
# below and the next call builds the new one beside the old.
set -euo pipefail

KUSTOMIZE_VERSION=v5.8.1
KUBECONFORM_VERSION=v0.7.0

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${PORTAL_DEPLOY_TOOLS:-$root/.cache/deploy-tools}

ensure() {
    local name=$1 pkg version
    case "$name" in
        kustomize) pkg=sigs.k8s.io/kustomize/kustomize/v5; version=$KUSTOMIZE_VERSION ;;
        kubeconform) pkg=github.com/yannh/kubeconform/cmd/kubeconform; version=$KUBECONFORM_VERSION ;;
        *) echo "unknown tool: $name (kustomize, kubeconform, all)" >&2; return 2 ;;
    esac
    local dir=$cache/$name-$version
    local bin=$dir/$name
    if [ ! -x "$bin" ]; then
        command -v go >/dev/null || {
            echo "Go 1.24+ is needed to build $name $version (apt-get install golang-go)" >&2
            return 1
        }
        mkdir -p "$cache"
        (
            # one builder at a time; a second caller waits and then finds the binary
            command -v flock >/dev/null && flock 9
            if [ ! -x "$bin" ]; then
                local tmp
                tmp=$(mktemp -d "$cache/.build-$name.XXXXXX")
                echo "building $name $version with $(go version | cut -d' ' -f3) (cached in $dir)" >&2
                if ! GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath "$pkg@$version" >&2; then
                    rm -rf "$tmp"
                    exit 1
                fi
                mkdir -p "$dir"
                mv "$tmp/$name" "$bin"
                rm -rf "$tmp"
            fi
        ) 9>"$cache/.lock"
    fi
    echo "$bin"
}

case "${1:-all}" in
    all) ensure kustomize && ensure kubeconform ;;
    *) ensure "$1" ;;
esac
