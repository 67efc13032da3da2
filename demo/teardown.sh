#!/usr/bin/env bash
# Remove the demo: deletes the kind cluster (everything in it goes with it).
#   demo/teardown.sh [--dry-run]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
usage() { echo "usage: demo/teardown.sh [--dry-run]"; }
parse_common_flags "$@"
need kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
check_missing
step "Deleting kind cluster '$CLUSTER_NAME'"
run kind delete cluster --name "$CLUSTER_NAME"
