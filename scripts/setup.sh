#!/usr/bin/env bash
# Create .venv in the repository root and install veegan into it (editable, with test tools).
# Installs the CPU build of PyTorch first so that pip never pulls the CUDA wheels here;
# set VEEGAN_TORCH to another requirement (e.g. "torch") on a machine with a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "${VEEGAN_TORCH:-torch==2.13.0}"
.venv/bin/python -m pip install --quiet -e ".[dev]"
