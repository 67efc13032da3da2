#!/usr/bin/env bash
# KubeSkippy on kind: a five-minute demo. Idempotent: run it again to converge.
#
#   demo/setup.sh            set everything up
#   demo/setup.sh --dry-run  print every step without touching anything (no cluster needed)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<USAGE
usage: demo/setup.sh [--dry-run]
Creates kind cluster '$CLUSTER_NAME' with Knative Serving (Kourier) and Eventing ($KNATIVE_VERSION),
Prometheus + kube-state-metrics + Alertmanager, MinIO, the demo apps, the demo policies and the
four KubeSkippy functions. Environment: KUBESKIPPY_CLUSTER, KNATIVE_VERSION, FUNCTIONS=func|kustomize.
USAGE
}
parse_common_flags "$@"

KN="https://github.com/knative"
FUNCTIONS_VIA="${FUNCTIONS:-}"
if [ -z "$FUNCTIONS_VIA" ]; then
  if command -v func >/dev/null 2>&1; then FUNCTIONS_VIA=func; else FUNCTIONS_VIA=kustomize; fi
fi

step "Checking prerequisites"
need docker "a container engine for kind: https://docs.docker.com/engine/install/"
need kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
need kubectl "https://kubernetes.io/docs/tasks/tools/"
need python3 "Python 3.11+ for the kubeskippy CLI"
if [ "$FUNCTIONS_VIA" = func ]; then need func "Knative func CLI: https://knative.dev/docs/functions/install-func/"; fi
check_missing

step "kind cluster '$CLUSTER_NAME'"
if [ "$DRY_RUN" != 1 ] && kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  echo "cluster exists; reusing it"
else
  run kind create cluster --name "$CLUSTER_NAME" --wait 120s
fi
run kubectl config use-context "kind-$CLUSTER_NAME"

step "Knative Serving $KNATIVE_VERSION with Kourier"
run kubectl apply -f "$KN/serving/releases/download/$KNATIVE_VERSION/serving-crds.yaml"
run kubectl apply -f "$KN/serving/releases/download/$KNATIVE_VERSION/serving-core.yaml"
run kubectl apply -f "$KN/net-kourier/releases/download/$KOURIER_VERSION/kourier.yaml"
run kubectl patch configmap/config-network -n knative-serving --type merge \
  -p '{"data":{"ingress-class":"kourier.ingress.networking.knative.dev"}}'
run kubectl wait --for=condition=Available deployment --all -n knative-serving --timeout=300s

step "Knative Eventing $KNATIVE_VERSION (in-memory channel broker)"
run kubectl apply -f "$KN/eventing/releases/download/$KNATIVE_VERSION/eventing-crds.yaml"
run kubectl apply -f "$KN/eventing/releases/download/$KNATIVE_VERSION/eventing-core.yaml"
run kubectl apply -f "$KN/eventing/releases/download/$KNATIVE_VERSION/in-memory-channel.yaml"
run kubectl apply -f "$KN/eventing/releases/download/$KNATIVE_VERSION/mt-channel-broker.yaml"
run kubectl wait --for=condition=Available deployment --all -n knative-eventing --timeout=300s

step "KubeSkippy CLI"
if [ "$DRY_RUN" != 1 ] && [ ! -x "$REPO_ROOT/.venv/bin/kubeskippy" ]; then
  run python3 -m venv "$REPO_ROOT/.venv"
  run "$REPO_ROOT/.venv/bin/pip" install -q -e "$REPO_ROOT"
fi
KS="$REPO_ROOT/.venv/bin/kubeskippy"

step "Monitoring: Prometheus, kube-state-metrics, Alertmanager; alert rules from the demo policies"
run kubectl apply -f "$REPO_ROOT/demo/manifests/monitoring.yaml"
run_sh "'$KS' rules '$REPO_ROOT'/demo/policies/*.yaml --format rules --out /tmp/kubeskippy-rules.yml"
run_sh "kubectl create configmap kubeskippy-rules -n monitoring --from-file=kubeskippy.yml=/tmp/kubeskippy-rules.yml --dry-run=client -o yaml | kubectl apply -f -"

step "Demo apps (image built locally and loaded into kind)"
run docker build -t kubeskippy-demo-app:0.1.0 "$REPO_ROOT/demo/apps"
run kind load docker-image kubeskippy-demo-app:0.1.0 --name "$CLUSTER_NAME"
run kubectl apply -f "$REPO_ROOT/demo/manifests/apps.yaml"

step "KubeSkippy: CRDs, RBAC, configuration, MinIO, Broker, Triggers, sources"
run kubectl apply -f "$REPO_ROOT/deploy/knative/crds.yaml"
run kubectl wait --for=condition=Established crd/healingpolicies.kubeskippy.io crd/healingactions.kubeskippy.io --timeout=60s
run kubectl apply -k "$REPO_ROOT/deploy/knative"

step "The four functions ($FUNCTIONS_VIA)"
run "$REPO_ROOT/scripts/vendor-core"
if [ "$FUNCTIONS_VIA" = func ]; then
  for fn in detect analyze remediate audit; do
    run func deploy --builder=host --path "$REPO_ROOT/functions/$fn" --registry "${FUNC_REGISTRY:-kind.local}"
  done
else
  echo "func not found: applying deploy/knative/services.yaml with the published images"
fi

step "Demo policies"
run kubectl apply -f "$REPO_ROOT/demo/policies/"

step "Done"
cat <<NEXT
Where to look next:
  demo/monitor.sh                     live HealingActions, outcomes and audit objects
  kubectl get hp,ha -A                policies and the actions they took
  kubectl get pods -n demo-apps -w    the workloads being healed
  $KS simulate demo                   what the simulator predicts for the same scenarios
  demo/teardown.sh                    remove the cluster
NEXT
