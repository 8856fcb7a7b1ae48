#!/usr/bin/env bash
# Table 2's Stacked MNIST columns at the `digits` budget (docs/table2.md), both blocks: every method
# with the paper's settings, then with --preset best (each method's pick, R3GAN's image gamma).
# Resumable across sessions: each finished run's small files are kept in
# docs/results/table2-digits/<block>/, and the same command continues from them.
# Needs `veegan classifier train --mnist DIR` once.
#   bash scripts/table2_digits.sh                 (MNIST=DIR, WORKERS=2, BLOCKS="paper best", RUNS=runs)
# METHODS="gan ali ..." trains those methods only (e.g. the cheap ones first: Unrolled GAN's step
# costs about nine of the GAN's); the tables then show every method kept so far.
set -euo pipefail
cd "$(dirname "$0")/.."
MNIST=${MNIST:-../shared/data/mnist}
for block in ${BLOCKS:-paper best}; do
  methods=${METHODS:-gan ali unrolled veegan veegan_dae pacgan}
  [ "$block" = best ] && methods=${methods//veegan_dae/}  # VEEGAN+DAE has no pick (docs/recipe.md)
  # shellcheck disable=SC2086  # methods is a list
  .venv/bin/veegan reproduce table2 --budget digits --preset "$block" --datasets stacked_mnist --methods $methods \
    --mnist "$MNIST" --results "docs/results/table2-digits/$block" --out "${RUNS:-runs}/table2-digits/$block" \
    --workers "${WORKERS:-2}" --quiet
  cp "${RUNS:-runs}/table2-digits/$block/table2.md" "${RUNS:-runs}/table2-digits/$block/table2.csv" \
    "docs/results/table2-digits/$block/"
  cp "${RUNS:-runs}/table2-digits/$block/"*.png "docs/results/table2-digits/$block/" 2>/dev/null || true
done
