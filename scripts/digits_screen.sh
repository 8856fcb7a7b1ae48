#!/usr/bin/env bash
# The screen for Table 2's `digits` budget (docs/table2-digits.md): a plain DCGAN (`gan`) on Stacked
# MNIST at base widths 16 and 32 for 10,000 steps of 64, evaluated every 1,000 steps, one seed.
# The budget is the smallest (width, steps) whose samples are digits by the classifier's own
# account: digits_pct >= 90 (channels labelled with confidence >= 0.9). Resumable: finished runs'
# small files are kept in docs/results/digits-screen/. Needs `veegan classifier train --mnist DIR` once.
#   bash scripts/digits_screen.sh            (MNIST=DIR, default ../shared/data/mnist)
# STEPS=20000 PRECISION=bf16 WIDTHS=32 continues the width-32 run to 20,000 steps in bf16 (a run's
# steps and precision may change when it resumes; its kept files then hold the longer run).
set -euo pipefail
cd "$(dirname "$0")/.."
MNIST=${MNIST:-../shared/data/mnist}
for width in ${WIDTHS:-16 32}; do
  .venv/bin/veegan compare --dataset stacked_mnist --methods gan --seeds 1 --steps "${STEPS:-10000}" \
    --set model.conv_width="$width" --set schedule.eval_every=1000 --set data_dir="$MNIST" \
    --set runtime.precision="${PRECISION:-fp32}" \
    --results "docs/results/digits-screen/w$width" --out "runs/digits-screen/w$width" --workers 1 --quiet
done
