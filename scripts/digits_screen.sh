#!/usr/bin/env bash
# The screen for Table 2's `digits` budget (docs/table2.md): a plain GAN (`gan`) on Stacked MNIST,
# evaluated every 1,000 steps, one seed (seed 0). The budget is the smallest number of steps at
# which its samples are digits by the classifier's own account: the first evaluation from which
# digits_pct (channels labelled with confidence >= 0.9) stays >= 90 at every later evaluation
# (the amended rule of docs/table2.md; none: the screen's 20,000 steps).
# Resumable: finished runs' small files are kept in docs/results/digits-screen/.
# Needs `veegan classifier train --mnist DIR` once.
#   bash scripts/digits_screen.sh            the budget's screen: NET=dcgan_mnist WIDTHS=64 STEPS=20000 PRECISION=bf16
#   NET=dcgan WIDTHS="16 32" STEPS=10000 PRECISION=fp32 bash scripts/digits_screen.sh
#                                            the earlier screen of the four-stage network
# A run's steps and precision may change when it resumes; its kept files then hold the longer run.
set -euo pipefail
cd "$(dirname "$0")/.."
MNIST=${MNIST:-../shared/data/mnist}
NET=${NET:-dcgan_mnist}
for width in ${WIDTHS:-64}; do
  name="w$width"
  [ "$NET" = dcgan ] || name="$NET-w$width"
  .venv/bin/veegan compare --dataset stacked_mnist --methods gan --seeds 1 --steps "${STEPS:-20000}" \
    --set model.image_net="$NET" --set model.conv_width="$width" --set schedule.eval_every=1000 \
    --set data_dir="$MNIST" --set runtime.precision="${PRECISION:-bf16}" --set runtime.threads=1 \
    --results "docs/results/digits-screen/$name" --out "${RUNS:-runs}/digits-screen/$name" --workers 1 --quiet
done
