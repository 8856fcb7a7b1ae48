#!/usr/bin/env bash
# The screen for Table 2's `digits` budget (docs/table2-digits.md): a plain DCGAN (`gan`) on Stacked
# MNIST at base widths 16 and 32 for 10,000 steps of 64, evaluated every 1,000 steps, one seed.
# The budget is the smallest (width, steps) whose samples are digits by the classifier's own
# account: digits_pct >= 90 (channels labelled with confidence >= 0.9). Resumable: finished runs'
# small files are kept in docs/results/digits-screen/. Needs `veegan classifier train --mnist DIR` once.
#   bash scripts/digits_screen.sh            (MNIST=DIR, default ../shared/data/mnist)
set -euo pipefail
cd "$(dirname "$0")/.."
MNIST=${MNIST:-../shared/data/mnist}
for width in ${WIDTHS:-16 32}; do
  .venv/bin/veegan compare --dataset stacked_mnist --methods gan --seeds 1 --steps 10000 \
    --set model.conv_width="$width" --set schedule.eval_every=1000 --set data_dir="$MNIST" \
    --results "docs/results/digits-screen/w$width" --out "runs/digits-screen/w$width" --workers 1 --quiet
done
