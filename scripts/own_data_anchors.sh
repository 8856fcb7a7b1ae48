#!/usr/bin/env bash
# The own-data study against the tabular synthesizers practitioners use (docs/own-data.md): on six
# real tables that install offline, veegan's own-data default (`veegan compare --data` with no
# --preset or --set: the GAN with --preset best, trained its default number of passes over the
# training rows, veegan.training_length) and each outside anchor
# with its own defaults (benchmarks/anchors.py: SDV's GaussianCopula, CTGAN and TVAE,
# ForestDiffusion, MOSTLY AI's engine), 3 seeds each, all scored by veegan's metrics (coverage,
# recall, precision, the privacy check) against the same held-out rows, and by SDMetrics' quality
# score (benchmarks/sdmetrics_quality.py), with the held-out real rows as the ceiling.
# Resumable: each finished run's small files are kept in docs/results/own-data-anchors/<table>/,
# and the same command continues from them (in another session too).
#   bash scripts/own_data_anchors.sh [TABLE ...]    (default: all six, smallest first)
#   PART=ours|anchors (default: both, ours first; run one of each side by side on two cores)
# Needs the anchors' venv: bash benchmarks/anchors_setup.sh (without it only veegan's runs are made).
set -euo pipefail
cd "$(dirname "$0")/.."
TABLES_DIR=${TABLES_DIR:-runs/tables}  # the kept runs record this path: keep it to continue them
RUNS=${RUNS:-runs}
RESULTS=docs/results/own-data-anchors
ANCHORS=${ANCHORS:-gaussian_copula tvae mostlyai ctgan forest_diffusion}  # the cheap ones first
# ForestDiffusion's defaults take 1.6-3.2 hours a seed on the four larger tables (one busy core;
# docs/lab/own-data-tables.md): there it runs with the cap its README names, duplicate_K=10, and
# its rows say so (kept under forest_diffusion+duplicate_K=10)
declare -A FOREST_OPTION=([anes96]=duplicate_K=10 [digits]=duplicate_K=10 [fair]=duplicate_K=10 [randhie]=duplicate_K=10)
ANCHOR_PYTHON=${ANCHOR_PYTHON:-.venv-anchors/bin/python}
declare -A LABELS=([wine]=target [penguins]=species [anes96]=vote [digits]=target [fair]=rate_marriage [randhie]=health)
[ -f "$TABLES_DIR/randhie.csv" ] || .venv/bin/python benchmarks/own_data_tables.py --out "$TABLES_DIR" --no-mnist
export OMP_NUM_THREADS=1

ours() {  # veegan's default, 3 seeds, then each run's samples scored by SDMetrics
  local name=$1 data=$2 n seed run
  .venv/bin/veegan compare --data "$data" --labels "${LABELS[$name]}" --methods gan --seeds 3 \
    --results "$RESULTS/$name" --out "$RUNS/own-data-anchors/$name" --workers 1 --quiet
  cp "$RUNS/own-data-anchors/$name/comparison.md" "$RUNS/own-data-anchors/$name/curves.png" "$RESULTS/$name/" 2>/dev/null || true
  [ -x "$ANCHOR_PYTHON" ] || { echo "SDMetrics skipped for $name: no $ANCHOR_PYTHON" >&2; return; }
  n=$("$ANCHOR_PYTHON" benchmarks/sdmetrics_quality.py --data "$data" --labels "${LABELS[$name]}" --print-n)
  for seed in 0 1 2; do
    run="$RUNS/own-data-anchors/$name/gan/seed$seed"
    [ -f "$RESULTS/$name/gan/seed$seed/quality.json" ] || [ ! -f "$run/checkpoint.pt" ] && continue
    .venv/bin/veegan sample "$run" -n "$n" --seed "$seed" --out "$run/samples.csv"
    "$ANCHOR_PYTHON" benchmarks/sdmetrics_quality.py --data "$data" --labels "${LABELS[$name]}" \
      --samples "$run/samples.csv" --out "$RESULTS/$name/gan/seed$seed/quality.json"
  done
}

anchors() {  # every anchor with its own defaults, 3 seeds, and the held-out rows' quality (the ceiling)
  local name=$1 data=$2 anchor
  [ -x "$ANCHOR_PYTHON" ] || { echo "anchors skipped: no $ANCHOR_PYTHON (bash benchmarks/anchors_setup.sh)" >&2; return; }
  [ -f "$RESULTS/$name/heldout/quality.json" ] || "$ANCHOR_PYTHON" benchmarks/sdmetrics_quality.py --data "$data" \
    --labels "${LABELS[$name]}" --heldout --out "$RESULTS/$name/heldout/quality.json"
  for anchor in $ANCHORS; do
    option=()
    [ "$anchor" = forest_diffusion ] && [ -n "${FOREST_OPTION[$name]:-}" ] && option=(--option "${FOREST_OPTION[$name]}")
    "$ANCHOR_PYTHON" benchmarks/anchors.py --anchor "$anchor" "${option[@]}" --data "$data" --labels "${LABELS[$name]}" \
      --seeds 0 1 2 --results "$RESULTS" || echo "$anchor on $name failed (its log above); going on" >&2
  done
}

for name in ${@:-wine penguins anes96 digits fair randhie}; do
  data="$(realpath "$TABLES_DIR/$name.csv")"
  case ${PART:-both} in
    ours) ours "$name" "$data" ;;
    anchors) anchors "$name" "$data" ;;
    both) ours "$name" "$data"; anchors "$name" "$data" ;;
    *) echo "PART must be ours, anchors or both, got ${PART}" >&2; exit 2 ;;
  esac
done
