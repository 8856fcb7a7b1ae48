#!/usr/bin/env bash
# Create .venv in the repository root and install veegan into it (editable, with test tools).
# Installs the CPU build of PyTorch first so that pip never pulls the CUDA wheels here;
# elsewhere set VEEGAN_TORCH to other pip arguments, e.g.
#   VEEGAN_TORCH="torch --index-url https://download.pytorch.org/whl/cpu"   (CPU build from pytorch.org)
#   VEEGAN_TORCH=torch                                                       (the default build, with CUDA)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# shellcheck disable=SC2086  # VEEGAN_TORCH may hold several pip arguments
.venv/bin/python -m pip install --quiet ${VEEGAN_TORCH:-torch==2.13.0}
.venv/bin/python -m pip install --quiet -e ".[dev]"
