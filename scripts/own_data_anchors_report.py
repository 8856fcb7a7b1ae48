"""The tables of docs/own-data.md's comparison with the outside anchors, from the runs kept by
scripts/own_data_anchors.sh: for each table, veegan's default and each anchor (mean ± std over
the seeds kept, the number of seeds beside it), veegan's metrics from metrics.json and SDMetrics'
quality score from quality.json, then the real data's row: the k-NN metrics of as many training
rows (scored against the held-out rows, as every run's ``real`` row) and the quality of the
held-out rows (scored against the training rows, as every row's quality is).

    .venv/bin/python scripts/own_data_anchors_report.py docs/results/own-data-anchors > /tmp/anchors.md
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from veegan.experiments.tables import format_mean_std

# veegan's own-data default first, then the anchors in benchmarks/anchors.py's order
ROWS = (("gan", "veegan default (GAN, --preset best)"), ("gan-100k-steps", "the same at 100,000 steps (the default before epochs)"),
        ("gaussian_copula", "SDV GaussianCopula"), ("ctgan", "SDV CTGAN"),
        ("tvae", "SDV TVAE"), ("forest_diffusion", "ForestDiffusion"),
        ("forest_diffusion+duplicate_K=10", "ForestDiffusion (duplicate_K 10)"), ("mostlyai", "MOSTLY AI engine"))
# (key, title, where it is read: metrics.json or quality.json, digits)
COLUMNS = (("coverage", "coverage", "metrics", 2), ("recall", "recall", "metrics", 2), ("precision", "precision", "metrics", 2),
           ("score", "SDMetrics quality", "quality", 3), ("column_shapes", "column shapes", "quality", 3),
           ("column_pair_trends", "pair trends", "quality", 3), ("dcr_share", "DCR share", "metrics", 3),
           ("exact_copies", "exact copies", "metrics", 3), ("classes_produced", "classes", "metrics", 2),
           ("seconds", "training s", "metrics", 0))


def seed_records(method_dir: Path) -> list[dict[str, Any]]:
    """One record per kept seed: its metrics.json and quality.json side by side."""
    records = []
    for seed_dir in sorted(method_dir.glob("seed*")):
        if not (seed_dir / "metrics.json").is_file():
            continue
        metrics = json.loads((seed_dir / "metrics.json").read_text())
        metrics["seconds"] = metrics.get("wall_time_s", metrics.get("fit_seconds"))
        quality = seed_dir / "quality.json"
        records.append({"metrics": metrics, "quality": json.loads(quality.read_text()) if quality.is_file() else {}})
    return records


def cells(records: list[dict[str, Any]]) -> list[str]:
    """Each column's mean ± std over ``records``, with its count where some seeds lack it."""
    out = []
    for key, _, source, digits in COLUMNS:
        values = [r[source].get(key) for r in records if r[source].get(key) is not None]
        cell = format_mean_std(values, digits) if values else "—"
        out.append(cell if not values or len(values) == len(records) else f"{cell} ({len(values)})")
    return out


def table_report(table_dir: Path) -> str:
    """The Markdown table of one study table, or '' when nothing is kept for it."""
    lines = ["| method | seeds | " + " | ".join(title for _, title, _, _ in COLUMNS) + " |", "|---" * (len(COLUMNS) + 2) + "|"]
    kept = [(title, seed_records(table_dir / key)) for key, title in ROWS]
    kept = [(title, records) for title, records in kept if records]
    if not kept:
        return ""
    for title, records in kept:
        lines.append(f"| {title} | {len(records)} | " + " | ".join(cells(records)) + " |")
    real = [{"metrics": r["metrics"]["real"], "quality": {}} for _, records in kept for r in records[:1] if "real" in r["metrics"]]
    heldout = table_dir / "heldout" / "quality.json"
    real_record = {"metrics": real[0]["metrics"] if real else {}, "quality": json.loads(heldout.read_text()) if heldout.is_file() else {}}
    real_cells = cells([real_record])
    for index, (key, *_rest) in enumerate(COLUMNS):
        if key in ("dcr_share", "exact_copies", "seconds"):
            real_cells[index] = "—"
    lines.append("| real data | — | " + " | ".join(real_cells) + " |")
    first = kept[0][1][0]["metrics"]
    return (f"#### {table_dir.name}\n\n{first.get('samples', '?')} samples per run against as many held-out rows; "
            "training s: a veegan run's wall time (its evaluations included), an anchor's fit time\n\n" + "\n".join(lines) + "\n")


def main(root: str) -> None:
    for table_dir in sorted(p for p in Path(root).iterdir() if p.is_dir()):
        report = table_report(table_dir)
        if report:
            print(report)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/results/own-data-anchors")
