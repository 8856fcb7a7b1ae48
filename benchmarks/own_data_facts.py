"""Issue 57's measurement (docs/own-data.md, "Rows you can use as is"): the GAN trained on a
real table with the labels column and the columns' facts (clip, round, point masses) each on
or off, every run scored again in one space so that the settings compare: the table's columns
without the labels column, standardised (categories one-hot), against the same held-out rows;
each run's samples as ``veegan sample`` gives them (its own clip, round and point masses). The
classes are then read by the classifier on the other columns for every setting, as they were
before the labels column was trained on. The runs are those of

    veegan compare --data /tmp/tables/TABLE.csv --labels COLUMN --methods gan --seeds 2 --steps 5000 \\
        --workers 1 --set runtime.threads=1 [--set table.KEY=false ...] \\
        --results docs/results/own-data-facts/SETTING/TABLE --out runs/own-data-facts/SETTING/TABLE

(SETTING old: --set table.train_labels=false --set table.clip=false --set table.round=false --set
table.point_mass=false, as before issue 57; labels: the labels column trained on, no facts; facts:
the facts, the labels column scored only; new: the defaults), and this prints one markdown table
and writes RESULTS/rescored.json:

    .venv/bin/python benchmarks/own_data_facts.py [--runs runs/own-data-facts] [--results docs/results/own-data-facts]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import veegan
from veegan.data.own_table import TableDataset
from veegan.experiments.tables import format_mean_std
from veegan.table_config import TableConfig

SETTINGS = ("old", "labels", "facts", "new")  # the order of the table's rows
KEYS = ("coverage", "recall", "precision", "ndb_k", "classes_produced")
OWN_KEYS = ("label_agreement", "classifier_accuracy")  # from the run's own evaluation (labels trained on)


def common_dataset(run: veegan.Run) -> TableDataset:
    """The run's table read with the labels column scored only and no facts: the shared space."""
    table = run.config.table
    plain = TableConfig(**{**table.__dict__, "train_labels": False, "clip": False, "round": False, "point_mass": False})
    return TableDataset(run.config.data_file, plain)


def rescored(run_dir: Path, common: dict[str, TableDataset]) -> dict:
    """The run's final evaluation draw scored in the shared space, beside its own metrics."""
    run = veegan.load(run_dir)
    dataset = common.setdefault(run.config.data_file, common_dataset(run))
    samples, real = run.evaluation_samples()

    def shared(encoded: np.ndarray, facts: bool) -> np.ndarray:
        rows = run.encoding.scored_rows(encoded, facts)
        if run.config.table.labels in run.encoding.names:
            start, end = run.encoding.scored_span(run.config.table.labels)
            rows = np.delete(rows, np.s_[start:end], axis=1)
        return rows

    own = json.loads((run_dir / "metrics.json").read_text())
    return {**dataset.coverage.score_rows(shared(samples, True)), **{key: own[key] for key in OWN_KEYS if key in own},
            "own_coverage": own["coverage"], "own_recall": own["recall"], "samples": len(samples),
            "real": dataset.coverage.score_rows(shared(real, False)),
            "unclipped": dataset.coverage.score_rows(shared(samples, False))}  # the same samples without clip and round


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("runs/own-data-facts"))
    parser.add_argument("--results", type=Path, default=Path("docs/results/own-data-facts"))
    args = parser.parse_args()
    common: dict[str, TableDataset] = {}
    results: dict[str, dict[str, list[dict]]] = {}
    for setting in SETTINGS:
        for table_dir in sorted((args.runs / setting).glob("*")):
            seeds = sorted(table_dir.glob("gan/seed*/metrics.json"))
            if seeds:
                results.setdefault(table_dir.name, {})[setting] = [rescored(p.parent, common) for p in seeds]
    lines = ["| table | setting | runs | coverage | recall | precision | NDB/K | classes (classifier) | label agreement |",
             "|---|---|---|---|---|---|---|---|---|"]
    for table, by_setting in results.items():
        for setting, rows in by_setting.items():
            cells = [format_mean_std([r.get(key) for r in rows]) for key in (*KEYS, "label_agreement")]
            lines.append(f"| {table} | {setting} | {len(rows)} | " + " | ".join(cells) + " |")
            if setting in ("facts", "new"):
                cells = [format_mean_std([r["unclipped"].get(key) for r in rows]) for key in (*KEYS, "label_agreement")]
                lines.append(f"| {table} | {setting}, samples not clipped or rounded | {len(rows)} | " + " | ".join(cells) + " |")
        real = [r["real"] for r in next(iter(by_setting.values()))]  # the same draws in every setting: once
        cells = [format_mean_std([r.get(key) for r in real]) for key in (*KEYS, "label_agreement")]
        lines.append(f"| {table} | real data (training rows) | {len(real)} | " + " | ".join(cells) + " |")
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "rescored.json").write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
