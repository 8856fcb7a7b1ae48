"""How long the own-data metrics take at a practitioner's size: k-NN precision, recall, density
and coverage of 10,000 samples against 10,000 reference rows of 100 columns, NDB/K's k-means
fit and scoring, and the Gaussian-mixture baseline, on one thread and on all.

    .venv/bin/python benchmarks/coverage_speed.py [--rows 10000] [--columns 100]

Prints a markdown table of seconds with the CPU model; run it with the machine otherwise idle.
"""
from __future__ import annotations

import argparse
import time
from typing import Callable

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from veegan.evaluation.coverage import NdbBins, default_bins, fit_baseline_mixture, prdc


def cpu_model() -> str:
    """The CPU's model name and whether it has AVX-512."""
    text = open("/proc/cpuinfo").read()
    name = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "?")
    return f"{name}, {'AVX-512' if 'avx512f' in text else 'AVX2 only'}"


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--columns", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(args.rows, args.columns)).astype(np.float32)
    samples = (rng.normal(size=(args.rows, args.columns)) * 1.1 + 0.1).astype(np.float32)
    print(f"{args.rows:,} x {args.rows:,} rows of {args.columns} columns; {cpu_model()}\n")
    print("| step | 1 thread (s) | all threads (s) |\n|---|---|---|")
    for name, fn in (("precision/recall/density/coverage (k = 5)", lambda: prdc(reference, samples, k=5)),
                     ("NDB: k-means fit (100 bins)", lambda: NdbBins.fit(reference, default_bins(args.rows))),
                     ("Gaussian-mixture baseline (BIC)", lambda: fit_baseline_mixture(reference))):
        seconds = []
        for threads in (1, torch.get_num_threads()):
            torch.set_num_threads(threads)
            with threadpool_limits(threads):
                seconds.append(timed(fn))
        print(f"| {name} | {seconds[0]:.2f} | {seconds[1]:.2f} |")
    bins = NdbBins.fit(reference, default_bins(args.rows))
    print(f"| NDB: scoring {args.rows:,} samples | {timed(lambda: bins.score(samples)):.2f} | |")


if __name__ == "__main__":
    main()
