#!/usr/bin/env bash
# Shared helpers for the demo scripts: step headings, dry run, prerequisite checks.
# shellcheck disable=SC2034  # variables here are used by the scripts that source this file

CLUSTER_NAME="${KUBESKIPPY_CLUSTER:-kubeskippy}"
KNATIVE_VERSION="${KNATIVE_VERSION:-knative-v1.16.0}"
KOURIER_VERSION="${KOURIER_VERSION:-knative-v1.16.0}"
DRY_RUN="${DRY_RUN:-0}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

step() { printf '\n==> %s\n' "$*"; }

# run CMD...: print it; execute it unless this is a dry run.
run() {
  printf '+ %s\n' "$*"
  if [ "$DRY_RUN" != 1 ]; then
    "$@"
  fi
}

# run_sh 'pipeline': the same for a shell pipeline.
run_sh() {
  printf '+ %s\n' "$1"
  if [ "$DRY_RUN" != 1 ]; then
    bash -c "$1"
  fi
}

# need TOOL HINT...: remember a missing prerequisite with how to get it.
MISSING=()
need() {
  local tool="$1"; shift
  if ! command -v "$tool" >/dev/null 2>&1; then
    MISSING+=("$tool: $*")
  fi
}

check_missing() {
  if [ "${#MISSING[@]}" -gt 0 ]; then
    printf 'Missing prerequisites:\n' >&2
    printf '  - %s\n' "${MISSING[@]}" >&2
    if [ "$DRY_RUN" = 1 ]; then
      printf '(dry run: continuing to print the steps)\n' >&2
    else
      exit 1
    fi
  fi
}

parse_common_flags() {
  for arg in "$@"; do
    case "$arg" in
      --dry-run) DRY_RUN=1 ;;
      -h|--help) usage; exit 0 ;;
      *) printf 'unknown option: %s\n' "$arg" >&2; usage; exit 2 ;;
    esac
  done
}
