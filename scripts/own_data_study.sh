#!/usr/bin/env bash
# The own-data study of docs/own-data.md: GAN, VEEGAN and PacGAN with --preset robust, the own-data
# default when the study ran (no --set; today --data alone trains the GAN with --preset best)
# on real tables that nobody here made, read as when it ran (labels scored only, samples neither
# clipped nor rounded: the --set table.* below), 3 seeds each, then CTGAN on the same split as an outside
# reference. Resumable: each finished run's small files are kept in docs/results/own-data/<table>/,
# and the same command continues from them (in another session too).
#   bash scripts/own_data_study.sh [TABLE ...]      (default: wine penguins digits)
set -euo pipefail
cd "$(dirname "$0")/.."
TABLES_DIR=${TABLES_DIR:-/tmp/tables}  # the kept runs record this path: keep it to continue them
SEEDS=${SEEDS:-3}
declare -A LABELS=([wine]=target [penguins]=species [digits]=target [breast_cancer]=target)
declare -A FILES=([wine]=wine.csv [penguins]=penguins.csv [digits]=digits.csv [breast_cancer]=breast_cancer.csv)
[ -f "$TABLES_DIR/wine.csv" ] || .venv/bin/python benchmarks/own_data_tables.py --out "$TABLES_DIR"
seeds=$(seq 0 $((SEEDS - 1)))
for table in "${@:-wine penguins digits}"; do
  for name in $table; do
    data="$TABLES_DIR/${FILES[$name]}"
    .venv/bin/veegan compare --data "$data" --labels "${LABELS[$name]}" --methods gan veegan pacgan --seeds "$SEEDS" --preset robust \
      --set table.train_labels=false --set table.clip=false --set table.round=false --set table.point_mass=false \
      --set table.dates=false --results "docs/results/own-data/$name" --out "runs/own-data/$name" --workers 2 --quiet
    cp "runs/own-data/$name/comparison.md" "runs/own-data/$name/comparison.json" "docs/results/own-data/$name/"
    cp "runs/own-data/$name/comparison.png" "runs/own-data/$name/curves.png" "docs/results/own-data/$name/" 2>/dev/null || true
    ctgan_python=${CTGAN_PYTHON:-.venv-anchors/bin/python}  # the anchors venv: bash benchmarks/anchors_setup.sh
    if [ -x "$ctgan_python" ]; then
      OMP_NUM_THREADS=1 "$ctgan_python" benchmarks/ctgan_reference.py --data "$data" --labels "${LABELS[$name]}" \
        --seeds $seeds --results docs/results/own-data
    else
      echo "CTGAN skipped for $name: no $ctgan_python (kept CTGAN runs stay as they are)" >&2
    fi
  done
done
