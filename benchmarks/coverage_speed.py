"""How long veegan.evaluation.coverage takes at a practitioner's size: k-NN precision, recall,
density and coverage of 10,000 samples against 10,000 reference rows of 100 columns, NDB/K's
k-means fit and scoring, and the Gaussian-mixture baseline on 10,000 rows.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/coverage_speed.py [--rows 10000] [--columns 100]

Prints a markdown table of seconds, with the CPU model, the thread counts and the load average
(run it with the machine otherwise idle). With the ``prdc`` package (0.2) importable it also times
that package's compute_prdc, which this module's prdc replaces."""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import time
from typing import Callable

import numpy as np
import sklearn
import torch
from threadpoolctl import threadpool_info

from veegan.evaluation.coverage import NdbBins, default_bins, fit_baseline_mixture, prdc


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo."""
    with open("/proc/cpuinfo") as cpuinfo:
        return next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown")


def threads() -> str:
    """torch's intra-op threads and those of the BLAS and OpenMP pools scikit-learn uses."""
    pools = ", ".join(f"{pool['internal_api']} {pool['num_threads']}" for pool in threadpool_info())
    return f"torch {torch.get_num_threads()}; scikit-learn {sklearn.__version__}: {pools}"


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def row(step: str, fn: Callable[[], object]) -> object:
    """Runs ``fn`` once and prints its table row: seconds and the process's peak memory after it."""
    started = time.perf_counter()
    result = fn()
    print(f"| {step} | {time.perf_counter() - started:.2f} | {peak_mb():,.0f} |", flush=True)
    return result


def clustered(rng: np.random.Generator, means: np.ndarray, rows: int) -> np.ndarray:
    """``rows`` draws of unit-variance Gaussians around ``means``, equally weighted."""
    return (means[rng.integers(0, len(means), rows)] + rng.normal(size=(rows, means.shape[1]))).astype(np.float32)


def package_prdc(reference: np.ndarray, samples: np.ndarray) -> object:
    """The ``prdc`` package's compute_prdc (it prints the row counts: silenced)."""
    from prdc import compute_prdc

    with contextlib.redirect_stdout(io.StringIO()):
        return compute_prdc(reference, samples, nearest_k=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--columns", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    means = 2 * rng.normal(size=(20, args.columns))
    reference, samples = clustered(rng, means, args.rows), clustered(rng, means[:10], args.rows)  # samples: half the modes
    print(f"{args.rows:,} reference rows and {args.rows:,} samples of {args.columns} columns (20 Gaussian clusters; "
          f"the samples from 10 of them)\n\nCPU: {cpu_model()}, {os.cpu_count()} cores; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\nthreads: {threads()}\n")
    print("| step | seconds | process peak memory after (MB) |\n|---|---|---|")
    row("prdc (k = 5): precision, recall, density, coverage", lambda: prdc(reference, samples, k=5))
    bins = row(f"NdbBins.fit ({default_bins(args.rows)} bins, k-means, 3 starts)",
               lambda: NdbBins.fit(reference, default_bins(args.rows), seed=0))
    row(f"NdbBins.score ({args.rows:,} samples)", lambda: bins.score(samples))
    mixture = row("fit_baseline_mixture (BIC among 1, 2, 3, 5, 8, ... 50 components, full covariance)",
                  lambda: fit_baseline_mixture(reference))
    try:
        row("for comparison: the prdc package's compute_prdc (0.2)", lambda: package_prdc(reference, samples))
    except ImportError:
        print("\n(the prdc package is not installed: its comparison row is left out)")
    print(f"\nThe mixture chose {mixture.n_components} components ({mixture.covariance_type} covariance).")


if __name__ == "__main__":
    main()
