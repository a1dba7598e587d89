#!/usr/bin/env bash
# The checks of deploy/ that `make lint` runs, from the [dev] extras (binaries shipped in PyPI wheels):
# hadolint (Dockerfile), yamllint (every YAML file), kubernetes-validate (the Kubernetes manifests, against the
# schemas it bundles: offline), shellcheck (the scripts), and systemd-analyze verify (the unit) where systemd
# is installed.
#   deploy/lint.sh [BIN]     BIN: the directory holding the tools (default .venv/bin)
set -euo pipefail
BIN=${1:-.venv/bin}
cd "$(dirname "${BASH_SOURCE[0]}")/.."

"$BIN/hadolint" deploy/Dockerfile
"$BIN/yamllint" --strict .
mapfile -t manifests < <(find deploy/k8s -name '*.yaml' ! -name kustomization.yaml | sort)
"$BIN/kubernetes-validate" --strict --quiet "${manifests[@]}"
"$BIN/shellcheck" -x deploy/scripts/*.sh deploy/lint.sh

# The unit as systemd would load it. Its ExecStart names the virtual environment of a real install, which
# this machine does not have: verify a copy whose ExecStart points at an executable that exists (the rest of
# the line kept), so every other directive is still checked.
if command -v systemd-analyze >/dev/null 2>&1; then
    unit_dir=$(mktemp -d)
    trap 'rm -rf "$unit_dir"' EXIT
    sed "s|^ExecStart=[^ ]*|ExecStart=$(command -v true)|" deploy/teamsretention.service \
        >"$unit_dir/teamsretention.service"
    # It exits 0 on a directive it cannot parse ("..., ignoring"): any line about the unit is a failure.
    found=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$unit_dir/teamsretention.service" 2>&1) || {
        printf '%s\n' "$found"; exit 1; }
    if grep -q "teamsretention.service" <<<"$found"; then
        printf 'deploy/teamsretention.service:\n%s\n' "$found"; exit 1
    fi
else
    echo "deploy/lint.sh: systemd-analyze is not installed here; deploy/teamsretention.service not verified"
fi
echo "deploy/: hadolint, yamllint, kubernetes-validate (${#manifests[@]} manifests), shellcheck, systemd-analyze: clean"
