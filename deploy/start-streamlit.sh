#!/bin/sh
# Start the Streamlit lab: the Docker Space's CMD. PORT and ADDRESS default to what a Space expects
# (app_port 8501 on every interface); the recipe test points them at a free local port.
set -eu
cd "$(dirname "$0")/.."
exec python -m streamlit run dashboard/server.py \
    --server.port="${PORT:-8501}" --server.address="${ADDRESS:-0.0.0.0}" \
    --server.headless=true --browser.gatherUsageStats=false
