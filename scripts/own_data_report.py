"""The tables of docs/own-data.md, from the runs kept by scripts/own_data_study.sh: for each table,
one row per method (mean +- std over the seeds kept), CTGAN's row from
benchmarks/ctgan_reference.py, then the held-out real rows and the Gaussian-mixture baseline.

    .venv/bin/python scripts/own_data_report.py docs/results/own-data > /tmp/own-data-tables.md
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from veegan.experiments.compare import table_metrics_table

METHODS = ("gan", "veegan", "pacgan", "ctgan")


def kept_results(table_dir: Path) -> dict[str, list[dict]]:
    """{method: [final metrics of each kept seed]} for the methods with at least one seed kept."""
    results = {}
    for method in METHODS:
        finals = [json.loads(p.read_text()) for p in sorted((table_dir / method).glob("seed*/metrics.json"))]
        if finals:
            results[method] = finals
    return results


def main(root: str) -> None:
    for table_dir in sorted(p for p in Path(root).iterdir() if p.is_dir()):
        results = kept_results(table_dir)
        if results:
            print(f"### {table_dir.name}\n")
            print(table_metrics_table(results, table_dir.name))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/results/own-data")
