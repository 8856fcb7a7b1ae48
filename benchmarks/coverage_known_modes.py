"""The own-data metrics where the truth is known: draws of the paper's ring and grid and of a
mixture-family member, written to a .npy file and read as a user's table; samples that cover
1, a quarter or all of the modes are scored as a run's are, beside the real-data row and the
Gaussian-mixture baseline. Prints one markdown table (mean +- std over seeds).

    .venv/bin/python benchmarks/coverage_known_modes.py [--seeds 3] [--rows 2500]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from veegan.data.catalog import make_dataset
from veegan.data.own_table import TableDataset
from veegan.evaluation.evaluate import score
from veegan.evaluation.modes import nearest_mode
from veegan.experiments.tables import format_mean_std

DATASETS = ("ring", "grid", "mix-d10-k20-equal-s4")
KEYS = ("coverage", "recall", "precision", "ndb_k", "filled_bins")


def from_modes(mixture, n: int, modes: int, seed: int) -> torch.Tensor:
    """``n`` draws of the mixture from its first ``modes`` modes (a model that captured those)."""
    g, kept = torch.Generator().manual_seed(seed), []
    while sum(map(len, kept)) < n:
        x = mixture.sample(4 * n, g)
        kept.append(x[nearest_mode(x, mixture.means)[0] < modes])
    return torch.cat(kept)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=2500, help="rows of each table (20 %% held out)")
    args = parser.parse_args()
    print("| data | samples from | " + " | ".join(KEYS) + " |\n|---" * 1 + "|---" * (len(KEYS) + 1) + "|")
    for name in DATASETS:
        mixture = make_dataset(name)
        rows: dict[str, list[dict]] = {}
        for seed in range(args.seeds):
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / f"{name}.npy"
                np.save(path, mixture.sample(args.rows, torch.Generator().manual_seed(seed)).numpy())
                table = TableDataset(path)
            n, k = len(table.holdout), len(mixture.means)
            real = table.real_rows(n, torch.Generator().manual_seed(seed))
            for modes in (1, max(2, k // 4), k):
                x = from_modes(mixture, n, modes, seed=100 + seed)
                encoded = torch.from_numpy(table.encoding.encode(pd.DataFrame(x.numpy(), columns=table.encoding.names)))
                result = score(table, encoded, real)
                rows.setdefault(f"{modes} of {k} modes", []).append(result)
            rows.setdefault("real data (training rows)", []).append(result["real"])
            rows.setdefault("Gaussian mixture (BIC)", []).append(result["baseline"])
        for label, results in rows.items():
            cells = [format_mean_std([r[key] for r in results]) for key in KEYS]
            print(f"| {name} | {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
