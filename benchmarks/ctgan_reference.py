"""CTGAN (Xu et al. 2019, pip ``ctgan``), the tabular GAN practitioners reach for first, as an
outside reference for docs/own-data.md: the ``ctgan`` package itself (not SDV's wrapper, which
benchmarks/anchors.py fits as ``--anchor ctgan``) with its own defaults, fitted on exactly the
training rows that veegan trains on and scored by veegan's own metrics against the same held-out
rows, as benchmarks/anchors.py does every anchor (this is its alias for the kept study: the table
read as that study read it, ``--before-keys``, and the results under ``ctgan``).

It runs in the anchors' venv (``bash benchmarks/anchors_setup.sh``; the kept runs were made with
ctgan 0.12.1 in a venv of its own), resumable (a seed whose metrics.json exists is skipped):

    OMP_NUM_THREADS=1 .venv-anchors/bin/python benchmarks/ctgan_reference.py --data wine.csv --labels target \\
        --seeds 0 1 2 --results docs/results/own-data

writes RESULTS/<table>/ctgan/seed<k>/metrics.json (veegan's metrics, fit and sample seconds,
versions, the CPU model and torch's thread count), and the samples and their quality.json as
benchmarks/anchors.py does (the samples in /work/exp/anchor-samples when RESULTS is in the
repository). A seed repeats its metrics exactly at the same thread count, but one thread and two
give different fits: run with OMP_NUM_THREADS=1 to compare.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.anchors import run_anchor, table_config  # noqa: E402
from benchmarks.anchors_models import Anchor, seed_everything  # noqa: E402
from veegan.data.table_columns import CATEGORICAL  # noqa: E402


def _ctgan(train: pd.DataFrame, kinds: dict[str, str], seed: int, options: dict[str, Any]) -> Callable[[int], pd.DataFrame]:
    from ctgan import CTGAN

    seed_everything(seed)
    model = CTGAN(**options)
    model.set_random_state(seed)
    model.fit(train, discrete_columns=[c for c, k in kinds.items() if k == CATEGORICAL])
    return model.sample


CTGAN_PACKAGE = Anchor(_ctgan, "ctgan.CTGAN (the ctgan package)", ("ctgan", "torch"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--labels", help="the class column (not trained on), as veegan's --labels")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=300, help="CTGAN's default: 300")
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--samples", type=Path, help="where the samples' CSVs go (as benchmarks/anchors.py's --samples)")
    args = parser.parse_args(argv)
    run_anchor("ctgan", args.data, table_config(args.labels, before_keys=True), args.seeds, args.results, args.samples,
               {"epochs": args.epochs}, name="ctgan", anchor=CTGAN_PACKAGE)


if __name__ == "__main__":
    main()
