#!/usr/bin/env bash
# Live view of the demo: HealingActions, recent KubeSkippy events and the audit trail.
#   demo/monitor.sh [--dry-run]   (refreshes every 5 s; Ctrl-C to stop)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
usage() { echo "usage: demo/monitor.sh [--dry-run]"; }
parse_common_flags "$@"
need kubectl "https://kubernetes.io/docs/tasks/tools/"
check_missing

show() {
  step "HealingActions"
  run kubectl get healingactions -A --sort-by=.metadata.creationTimestamp
  step "Recent KubeSkippy events on workloads"
  run_sh "kubectl get events -n demo-apps --field-selector source=kubeskippy --sort-by=.lastTimestamp | tail -n 10"
  step "Pods"
  run kubectl get pods -n demo-apps -o wide
  step "Audit trail (last hour)"
  run_sh "kubectl -n kubeskippy exec deploy/minio -- sh -c 'ls -R /data/kubeskippy-audit | tail -n 10'"
}

if [ "$DRY_RUN" = 1 ]; then
  show
  exit 0
fi
while true; do
  clear
  show || true
  sleep 5
done
