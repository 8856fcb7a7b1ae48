#!/usr/bin/env bash
# The venv of the own-data study's outside anchors (benchmarks/anchors.py) and of SDMetrics' quality
# score (benchmarks/sdmetrics_quality.py): SDV 2.x (GaussianCopula, CTGAN, TVAE), sdmetrics,
# ForestDiffusion and MOSTLY AI's engine, beside veegan itself. None of them is a veegan dependency:
# sdv, sdmetrics, rdt and copulas pin pandas < 3, which veegan's .venv does not hold, so they live in
# .venv-anchors (ignored by git). The versions are those installed and run on 2026-12-07.
#   bash benchmarks/anchors_setup.sh            (VENV=/elsewhere to build it there)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-anchors}
python3 -m venv "$VENV"
pip=("$VENV/bin/python" -m pip install --quiet)
"${pip[@]}" --upgrade pip
# torch first, exactly this spec: the local CPU build (any other spec pulls GBs of CUDA wheels)
"${pip[@]}" torch==2.13.0
"${pip[@]}" sdv==2.0.0 sdmetrics==0.32.0 rdt==2.0.0 copulas==0.14.1 ctgan==0.12.1 pandas==2.3.3
"${pip[@]}" forestdiffusion==1.0.6 xgboost==3.2.0
# mostlyai-engine 2.7.3 requires torchvision and torchaudio, and pip takes the CUDA builds of them from the
# registry, whose compiled operators do not load beside the CPU torch ("operator torchvision::nms does not
# exist", raised when transformers imports torchvision). The engine itself imports neither: removed.
"${pip[@]}" mostlyai-engine==2.7.3
"$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio
# what veegan imports (its own pins would lift pandas to 3), then veegan without its dependencies
"${pip[@]}" scikit-learn==1.9.1 pyarrow==26.0.1 pyyaml==6.0.4 tqdm==4.70.1 matplotlib==3.11.2 scipy==1.17.1 \
    tensorboard==2.21.0 pillow==13.0.0
"${pip[@]}" --no-deps -e .
"$VENV/bin/python" - <<'EOF'
import sdv.single_table, sdmetrics.reports, ForestDiffusion, mostlyai.engine, pandas, veegan
from importlib.metadata import version
print(f"{__import__('sys').prefix}: " + ", ".join(f"{name} {version(name)}" for name in
      ("torch", "pandas", "sdv", "sdmetrics", "rdt", "copulas", "ctgan", "forestdiffusion", "xgboost", "mostlyai-engine", "veegan")))
EOF
