"""Train the runs that scripts/beyond2d-screen.txt lists (skipping finished ones), each with one
thread, WORKERS at a time, and print a markdown table of their final metrics.

    python scripts/beyond2d_screen.py OUT_DIR [--workers 2] [--spec scripts/beyond2d-screen.txt]

Then `veegan diagnose OUT_DIR/v-def OUT_DIR/v-mse-r1-rad1 ...` looks inside any of them."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

VEEGAN = [sys.executable, "-m", "veegan"]


def train(line: str, out: Path) -> str:
    name, method, dataset, steps, seed, *sets = line.split()
    run = out / name
    if not (run / "metrics.json").is_file():
        command = [*VEEGAN, "train", "--method", method, "--dataset", dataset, "--steps", steps, "--seed", seed,
                   "--out", str(run), "--quiet", "--overwrite", "--set", "runtime.threads=1",
                   "--set", "schedule.tensorboard=false", *(a for s in sets for a in ("--set", s))]
        done = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True)
        if done.returncode:
            return f"| {name} | {method} | {dataset} | {steps} | {seed} | failed: {done.stderr.strip()[-200:]} | | | |"
    final = json.loads((run / "metrics.json").read_text())
    rkl = "" if final.get("reverse_kl") is None else f"{final['reverse_kl']:.3f}"
    return (f"| {name} | {method} | {dataset} | {steps} | {seed} | {' '.join(sets) or '(defaults)'} | "
            f"{final['modes']}/{final['max_modes']} | {final['high_quality_pct']:.1f} | {rkl} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--spec", type=Path, default=Path(__file__).with_name("beyond2d-screen.txt"))
    args = parser.parse_args()
    lines = [line for line in args.spec.read_text().splitlines() if line.strip() and not line.startswith("#")]
    print("| run | method | dataset | steps | seed | settings | modes | % HQ | rKL |\n|---|---|---|---|---|---|---|---|---|")
    with ThreadPoolExecutor(args.workers) as pool:
        for row in pool.map(lambda line: train(line, args.out), lines):
            print(row, flush=True)


if __name__ == "__main__":
    main()
