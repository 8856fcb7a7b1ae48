"""The tables of docs/own-data.md, from the runs kept by scripts/own_data_study.sh: for each table,
one row per method (mean +- std over the seeds kept), CTGAN's row from
benchmarks/ctgan_reference.py, the real training rows, and the Gaussian-mixture baseline fitted
here with seeds 0, 1, 2 (the data file must be where the runs read it).

    .venv/bin/python scripts/own_data_report.py docs/results/own-data > /tmp/own-data-tables.md
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from veegan.data.catalog import make_dataset
from veegan.data.own_table import TableDataset
from veegan.experiments.compare import table_metrics_table
from veegan.table_config import BEFORE_KEYS, TableConfig
from veegan.training.run_dir import read_run_config

METHODS = ("gan", "veegan", "pacgan", "ctgan")
BASELINE_SEEDS = (0, 1, 2)


def kept_results(table_dir: Path) -> dict[str, list[dict]]:
    """{method: [final metrics of each kept seed]} for the methods with at least one seed kept."""
    results = {}
    for method in METHODS:
        finals = [json.loads(p.read_text()) for p in sorted((table_dir / method).glob("seed*/metrics.json"))]
        if finals:
            results[method] = finals
    return results


def baseline_rows(table_dir: Path, samples: int) -> list[dict] | None:
    """The Gaussian mixture's row for each seed, scored as the runs were; None without a kept run."""
    configs = sorted(table_dir.glob("*/seed*/config.yaml"))
    if configs:
        config = read_run_config(configs[0].parent)
        dataset = make_dataset(config.dataset, config.data_file, config.data_dir, config.table)
    else:  # CTGAN's rows alone: they name the table and its labels column
        kept = sorted(table_dir.glob("ctgan/seed*/metrics.json"))
        if not kept:
            return None
        ctgan = json.loads(kept[0].read_text())
        dataset = TableDataset(ctgan["data_file"], TableConfig(labels=ctgan["labels"], **BEFORE_KEYS))
    return [dataset.coverage.baseline_scores(samples, seed) for seed in BASELINE_SEEDS]


def main(root: str) -> None:
    for table_dir in sorted(p for p in Path(root).iterdir() if p.is_dir()):
        results = kept_results(table_dir)
        if results:
            samples = next(iter(results.values()))[0]["samples"]
            print(f"### {table_dir.name}\n")
            print(table_metrics_table(results, table_dir.name, baseline_rows(table_dir, samples)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/results/own-data")
