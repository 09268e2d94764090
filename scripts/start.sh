#!/usr/bin/env bash
# Install the app's dependencies into .venv (only when they changed) and start it.
#
# Usage: bash scripts/start.sh [extra streamlit options, e.g. --server.port 8600]
# Then open the printed URL (http://localhost:8501 by default).
# It listens on this machine only (localhost) unless you pass --server.address,
# e.g. --server.address 0.0.0.0 to share it on your network.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh
args=("$@")
if [[ " $* " != *" --server.address"* ]]; then
    args=(--server.address localhost "${args[@]}")
fi
# Per-user workspaces need sign-in configured: refuse to start without it, with one line saying why.
.venv/bin/python -m forecaster.ui.auth
# With FORECASTER_CLUSTER set, refuse to start when its scheduler cannot be reached (one line), rather than
# quietly training on this server instead.
.venv/bin/python -m forecaster.cluster
exec .venv/bin/streamlit run app.py "${args[@]}"
