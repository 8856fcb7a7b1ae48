#!/usr/bin/env bash
# The GPU check, in one call, on a machine with one CUDA GPU and torch already installed:
#   1. install this package without its dependencies;
#   2. the CUDA tests and the device tests (meta-device check, refusals);
#   3. the harness (benchmarks/steps.py --device cuda): every method on ring and hd1200, beside
#      the plain loop on the same GPU;
#   4. mixed precision (benchmarks/precision.py --device cuda): the DCGAN step and the 2-D VEEGAN
#      step in fp32, bf16 and fp16, contiguous and channels_last, as ratios to fp32;
#   5. Table 2 at the paper's budget (benchmarks/table2_projection.py): the first 500 steps of each
#      method in fp32 and bf16, and the projected time of the whole table (MNIST from MNIST_DIR if
#      set, else random pixels in MNIST's format: a step costs the same);
#   6. VEEGAN on the ring for the paper's 100,000 steps on CUDA: wall time and metrics;
#   7. with the time left, `reproduce table1 --budget paper --datasets ring --seeds 5` on the GPU,
#      runs kept as they finish, then the table of what finished (printed last).
# Logs go under $OUT when it is set (else ./gpu-check). Total budget: GPU_CHECK_SECONDS (480).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu-check}"
mkdir -p "$OUT"
BUDGET="${GPU_CHECK_SECONDS:-480}"
START=$(date +%s)
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
say() { echo "== $* ($(( $(date +%s) - START )) s)"; }

say "install"
python -m pip install --quiet --no-deps -e . 2>&1 | tail -2
python - <<'EOF'
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "devices", torch.cuda.device_count(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-")
EOF

say "CUDA and device tests"
python -m pytest -q -p no:cacheprovider tests/test_cuda.py tests/test_devices.py tests/test_precision.py 2>&1 | tail -6 | tee "$OUT/tests.log"

say "harness on CUDA: every method on ring and hd1200, beside the plain loop on the same GPU"
timeout 150 python benchmarks/steps.py --device cuda --datasets ring hd1200 --no-jax --repeats 3 --seconds 0.5 \
  --json "$OUT/steps-cuda.json" 2>&1 | tee "$OUT/steps-cuda.txt"

say "mixed precision on CUDA: fp32, bf16, fp16, contiguous and channels_last"
mnist=()
[ -n "${MNIST_DIR:-}" ] && mnist=(--mnist "$MNIST_DIR")
timeout 150 python benchmarks/precision.py --device cuda "${mnist[@]}" --repeats 3 --seconds 1 \
  --json "$OUT/precision-cuda.json" 2>&1 | tee "$OUT/precision-cuda.txt"

say "Table 2 at the paper's budget: 500 steps of each method in fp32 and bf16, and the projected time"
timeout 180 python benchmarks/table2_projection.py --device cuda --budget paper --steps 500 "${mnist[@]}" 2>&1 \
  | tee "$OUT/table2-projection.txt"

say "VEEGAN, ring, 100,000 steps on CUDA"
/usr/bin/time -f "wall %e s" veegan train --method veegan --dataset ring --device cuda --quiet --out "$OUT/veegan-ring" \
  --overwrite 2>&1 | tail -2 | tee "$OUT/veegan-ring.log"
veegan evaluate "$OUT/veegan-ring" --device cuda | tee -a "$OUT/veegan-ring.log"

seconds=$(( $(left) - 45 ))
say "Table 1, ring, paper budget, 5 seeds, for the $seconds s left"
if [ "$seconds" -gt 60 ]; then
  timeout -s INT -k 30 "$seconds" veegan reproduce table1 --budget paper --datasets ring --seeds 5 --device cuda \
    --results "$OUT/table1-kept" --out "$OUT/table1" > "$OUT/table1.log" 2>&1
  tail -3 "$OUT/table1.log"
fi
veegan reproduce table1 --budget paper --datasets ring --seeds 5 --results "$OUT/table1-kept" \
  --out "$OUT/table1" --no-train 2>/dev/null | tee "$OUT/table1-final.md"
say "done"
