"""CTGAN (Xu et al. 2019, pip ``ctgan``), the tabular GAN practitioners reach for first, as an
outside reference for docs/own-data.md: fitted with its own defaults on exactly the training rows
that veegan trains on (the same read, columns and seeded split), and scored by veegan's own
metrics against the same held-out rows.

CTGAN is not a dependency of veegan (its rdt pins pandas < 3), so it lives in a venv of its own:

    python3 -m venv /work/ctgan-venv
    /work/ctgan-venv/bin/pip install torch==2.13.0
    /work/ctgan-venv/bin/pip install ctgan==0.12.1 scikit-learn pyarrow pyyaml tqdm matplotlib scipy tensorboard pillow
    /work/ctgan-venv/bin/pip install --no-deps -e .

Then, resumable (a seed whose metrics.json exists is skipped):

    /work/ctgan-venv/bin/python benchmarks/ctgan_reference.py --data wine.csv --labels target \\
        --seeds 0 1 2 --results docs/results/own-data

writes RESULTS/<table>/ctgan/seed<k>/metrics.json (veegan's metrics, fit seconds, versions, the
CPU model and torch's thread count). A seed repeats its metrics exactly at the same thread
count, but one thread and two give different fits: run with OMP_NUM_THREADS=1 to compare.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from veegan.data.own_table import TableDataset, select_columns
from veegan.data.table_columns import CATEGORICAL
from veegan.data.table_files import read_table
from veegan.evaluation.evaluate import evaluation_seed, score
from veegan.table_config import BEFORE_KEYS, TableConfig

EVAL_SAMPLES = 2500  # as a veegan run's schedule.eval_samples: capped at the held-out rows


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo."""
    with open("/proc/cpuinfo") as cpuinfo:
        return next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown")


def fit_and_score(data: Path, table: TableConfig, seed: int, epochs: int) -> dict:
    """Fit CTGAN on the training rows of ``data`` and score its samples as a veegan run's."""
    from ctgan import CTGAN, __version__

    dataset = TableDataset(data, table)
    features, _ = select_columns(read_table(data, table.header, table.delimiter), table, data)
    train = features.iloc[dataset.train_rows].reset_index(drop=True)
    varying = [c for c in dataset.encoding.columns if c.kind != "constant"]
    discrete = [c.name for c in varying if c.kind == CATEGORICAL]
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = CTGAN(epochs=epochs)
    model.set_random_state(seed)
    started = time.perf_counter()
    model.fit(train[[c.name for c in varying]], discrete_columns=discrete)
    fit_seconds = time.perf_counter() - started
    n = dataset.scored_count(EVAL_SAMPLES)
    samples = model.sample(n)
    for name, value in dataset.encoding.constant_columns.items():
        samples[name] = value
    encoded = torch.from_numpy(dataset.encoding.encode(samples))
    g = torch.Generator().manual_seed(evaluation_seed(seed, 0))
    result = score(dataset, encoded, dataset.real_rows(n, g))
    return {"method": "ctgan", "dataset": dataset.name, "data_file": str(data.resolve()), "labels": table.labels,
            "epochs": epochs, "fit_seconds": round(fit_seconds, 1),
            "ctgan_version": __version__, "cpu": cpu_model(), "torch_threads": torch.get_num_threads(), **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--labels", help="the class column (not trained on), as veegan's --labels")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=300, help="CTGAN's default: 300")
    parser.add_argument("--results", type=Path, required=True)
    args = parser.parse_args()
    table = TableConfig(labels=args.labels, **BEFORE_KEYS)  # scored as the kept own-data study was
    for seed in args.seeds:
        out = args.results / args.data.stem / "ctgan" / f"seed{seed}" / "metrics.json"
        if out.is_file():
            print(f"{out}: kept, skipped")
            continue
        result = fit_and_score(args.data, table, seed, args.epochs)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"{out}: coverage {result['coverage']:.3f}, recall {result['recall']:.3f}, precision {result['precision']:.3f}, "
              f"fit {result['fit_seconds']} s")


if __name__ == "__main__":
    main()
