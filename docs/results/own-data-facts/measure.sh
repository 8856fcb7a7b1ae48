#!/usr/bin/env bash
# The measurement of docs/own-data.md's "Rows you can use as is": one veegan compare per SETTING:TABLE,
# one single-thread worker, resumable (--results). As run (2026-12-07):
#   bash docs/results/own-data-facts/measure.sh old:wine labels:wine facts:wine old:penguins labels:penguins facts:penguins \
#       new:wine new:penguins old:digits labels:digits facts:digits new:digits          (2 seeds each)
#   SEEDS=5 bash docs/results/own-data-facts/measure.sh old:wine labels:wine facts:wine old:penguins labels:penguins facts:penguins
# then: .venv/bin/python benchmarks/own_data_facts.py > docs/results/own-data-facts/rescored.md
cd "$(dirname "$0")/../../.."
declare -A LABELS=([wine]=target [penguins]=species [digits]=target)
declare -A SETS=(
  [old]="--set table.train_labels=false --set table.clip=false --set table.round=false --set table.point_mass=false"
  [labels]="--set table.clip=false --set table.round=false --set table.point_mass=false"
  [facts]="--set table.train_labels=false"
  [new]="")
for pair in "$@"; do
  config=${pair%%:*}; table=${pair##*:}
  for try in 1 2 3 4 5; do
    start=$(date +%s)
    if .venv/bin/veegan compare --data /tmp/tables/$table.csv --labels ${LABELS[$table]} --methods gan --seeds ${SEEDS:-2} --steps 5000 \
        --workers 1 --set runtime.threads=1 ${SETS[$config]} --quiet \
        --results docs/results/own-data-facts/$config/$table --out runs/own-data-facts/$config/$table \
        > runs/own-data-facts/$config-$table.log 2>&1; then
      echo "$config $table done in $(( $(date +%s) - start )) s"; break
    fi
    echo "$config $table failed (try $try): $(tail -1 runs/own-data-facts/$config-$table.log)"; sleep 30
  done
done
