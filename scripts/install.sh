#!/usr/bin/env bash
# Create .venv (if missing) and install the pinned requirements into it.
#
# Usage: bash scripts/install.sh [--dev]
#   (no flag)  runtime dependencies: requirements.txt
#   --dev      runtime + test tooling: requirements-dev.txt
#
# Idempotent and fast on re-runs: a stamp in .venv records a hash of the
# requirement files and the Python version; pip only runs when that changes.
# torch is installed first, on its own, at the exact version pinned in
# requirements.txt, so nothing later can make pip resolve another torch (an
# unpinned torch means a multi-GB CUDA download).
# Environment: PYTHON picks the interpreter used to create .venv
# (default: python3.11, else python3 when that is 3.11).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$(pwd)"
VENV="$REPO/.venv"

kind=runtime
req=requirements.txt
case "${1:-}" in
    --dev) kind=dev; req=requirements-dev.txt ;;
    "") ;;
    *) echo "usage: bash scripts/install.sh [--dev]" >&2; exit 2 ;;
esac

log() { echo "[install] $*"; }

pick_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        echo "$PYTHON"; return
    fi
    local cand
    for cand in python3.11 python3; do
        if command -v "$cand" >/dev/null 2>&1 &&
            "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$cand"; return
        fi
    done
    echo "error: Python 3.11 not found; install it or set PYTHON=/path/to/python3.11" >&2
    exit 1
}

# A venv whose interpreter is gone (e.g. copied from another machine) is rebuilt.
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    py="$(pick_python)"
    log "creating .venv with $py ($("$py" --version 2>&1))"
    rm -rf "$VENV"
    "$py" -m venv "$VENV"
fi

VPY="$VENV/bin/python"
pyver="$("$VPY" -c 'import sys; print(sys.version)')"

hash_of() {
    # Hash of the python version plus the given requirement files, in order.
    { echo "$pyver"; cat "$@"; } | sha256sum | cut -d' ' -f1
}
hash_runtime="$(hash_of requirements.txt)"
hash_dev="$(hash_of requirements.txt requirements-dev.txt)"
stamp_runtime="$VENV/.stamp-runtime"
stamp_dev="$VENV/.stamp-dev"

up_to_date() {
    # A dev install also covers the runtime requirements.
    if [[ -f "$stamp_dev" && "$(cat "$stamp_dev")" == "$hash_dev" ]]; then
        return 0
    fi
    [[ "$kind" == runtime && -f "$stamp_runtime" && "$(cat "$stamp_runtime")" == "$hash_runtime" ]]
}

if up_to_date; then
    log ".venv is up to date with $req"
    exit 0
fi

start=$SECONDS
torch_pin="$(grep -E '^torch==' requirements.txt | head -n1 | tr -d '[:space:]')"
if [[ -z "$torch_pin" ]]; then
    echo "error: requirements.txt must pin torch exactly (torch==X.Y.Z)" >&2
    exit 1
fi
log "installing $torch_pin first"
"$VPY" -m pip install --disable-pip-version-check -q "$torch_pin"
log "installing $req"
"$VPY" -m pip install --disable-pip-version-check -q -r "$req"

# Guard: the resolver must not have swapped torch for another release.
want="${torch_pin#torch==}"
have="$("$VPY" -c 'import importlib.metadata as m; print(m.version("torch"))')"
if [[ "${have%%+*}" != "$want" ]]; then
    echo "error: torch $have installed, but requirements.txt pins $want" >&2
    exit 1
fi

echo "$hash_runtime" > "$stamp_runtime"
if [[ "$kind" == dev ]]; then
    echo "$hash_dev" > "$stamp_dev"
fi
log "done in $((SECONDS - start)) s"
