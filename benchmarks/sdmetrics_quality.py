"""SDMetrics' quality score (``QualityReport``: Column Shapes, Column Pair Trends and their mean,
the overall score) for every row of the own-data study, computed the same way for each: the
reference is always **the training rows** (all of them), and every row of the study brings the
same number of rows, ``n`` = as many as veegan scores (the held-out rows, at most 2,500):

- an anchor's or a veegan run's samples (a CSV in the table's own columns: its first ``n`` rows);
- the ceiling, ``--heldout``: the held-out real rows (a seeded draw of ``n`` of them where there
  are more), which no model saw.

The columns are those the model trains on (veegan's read of the table, ``--labels`` and
``--before-keys`` as in benchmarks/anchors.py), constant columns left out (they would score 1.0
for every row); a column's kind is veegan's (categorical, else numerical). The samples are read
with veegan's own reader, as the table is. Runs in the anchors' venv (sdmetrics pins pandas < 3):

    .venv/bin/veegan sample runs/penguins/gan/seed0 -n 67 --out /work/exp/q/gan-seed0.csv
    .venv-anchors/bin/python benchmarks/sdmetrics_quality.py --data /tmp/tables/penguins.csv --labels species \\
        --samples /work/exp/q/gan-seed0.csv --out RESULTS/penguins/gan/seed0/quality.json
    .venv-anchors/bin/python benchmarks/sdmetrics_quality.py --data /tmp/tables/penguins.csv --labels species \\
        --heldout --out RESULTS/penguins/heldout/quality.json

(``n`` for a table: ``--print-n``.) benchmarks/anchors.py writes each anchor's quality.json itself.
"""
from __future__ import annotations

import argparse
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.anchors import StudyTable, read_columns, study_table, table_config, write_json  # noqa: E402
from veegan.data.table_columns import CATEGORICAL  # noqa: E402

HELDOUT_DRAW_SEED = 0  # the ceiling's draw of n held-out rows, where there are more


def quality(study: StudyTable, rows: pd.DataFrame, what: str) -> dict:
    """SDMetrics' QualityReport of ``rows`` (exactly ``study.n``) against the training rows."""
    from sdmetrics.reports import QualityReport

    if len(rows) != study.n:
        raise SystemExit(f"{what}: {len(rows)} rows, but every row of the study is scored on {study.n}")
    kinds = study.kinds
    columns = list(kinds)
    metadata = {"tables": {"table": {"columns": {c: {"sdtype": "categorical" if k == CATEGORICAL else "numerical"}
                                                 for c, k in kinds.items()}}}}
    real, synthetic = study.train[columns], rows[columns].reset_index(drop=True)
    for c, k in kinds.items():  # the same types on both sides: SDMetrics compares values
        if k == CATEGORICAL:
            real, synthetic = real.assign(**{c: real[c].astype(str)}), synthetic.assign(**{c: synthetic[c].astype(str)})
        else:
            real, synthetic = real.assign(**{c: real[c].astype(float)}), synthetic.assign(**{c: synthetic[c].astype(float)})
    report = QualityReport()
    started = time.perf_counter()
    report.generate({"table": real}, {"table": synthetic}, metadata, verbose=False)
    seconds = time.perf_counter() - started
    properties = report.get_properties().set_index("Property")["Score"]
    return {"rows": what, "reference": "training rows", "reference_count": len(real), "count": len(synthetic),
            "columns": columns, "score": float(report.get_score()),
            "column_shapes": float(properties["Column Shapes"]), "column_pair_trends": float(properties["Column Pair Trends"]),
            "seconds": round(seconds, 2), "sdmetrics_version": version("sdmetrics"), "pandas_version": pd.__version__}


def read_samples(study: StudyTable, path: Path) -> pd.DataFrame:
    """The first ``study.n`` rows of a samples CSV, read as veegan reads the table; refused
    when it has fewer rows or lacks a column the model trains on."""
    frame = read_columns(path, study.dataset.table)
    missing = [c for c in study.kinds if c not in frame.columns]
    if missing:
        raise SystemExit(f"{path} has no column {', '.join(missing)}: samples of a model trained on these columns are needed")
    if len(frame) < study.n:
        raise SystemExit(f"{path} has {len(frame)} rows: {study.n} are needed (veegan sample -n {study.n})")
    return frame.iloc[: study.n]


def quality_of_file(study: StudyTable, path: Path) -> dict:
    return {**quality(study, read_samples(study, path), str(path)), "rows_in_file": len(pd.read_csv(path, usecols=[0]))}


def heldout_rows(study: StudyTable) -> pd.DataFrame:
    """The held-out rows: all of them, or a seeded draw of ``n`` where there are more."""
    heldout = study.heldout
    if len(heldout) > study.n:
        heldout = heldout.iloc[np.sort(np.random.default_rng(HELDOUT_DRAW_SEED).choice(len(heldout), study.n, replace=False))]
    return heldout


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--labels")
    p.add_argument("--before-keys", action="store_true", help="read the table as the kept own-data study did")
    rows = p.add_mutually_exclusive_group(required=True)
    rows.add_argument("--samples", type=Path, help="a CSV of samples in the table's columns")
    rows.add_argument("--heldout", action="store_true", help="the ceiling: the held-out real rows")
    rows.add_argument("--print-n", action="store_true", help="print how many rows each row of the study is scored on")
    p.add_argument("--out", type=Path, help="quality.json (default: print it)")
    args = p.parse_args(argv)
    study = study_table(args.data, table_config(args.labels, args.before_keys))
    if args.print_n:
        print(study.n)
        return
    result = quality(study, heldout_rows(study), "held-out rows") if args.heldout else quality_of_file(study, args.samples)
    if args.out:
        write_json(args.out, result)
    print(f"{args.out or ''} SDMetrics quality {result['score']:.4f} (column shapes {result['column_shapes']:.4f}, "
          f"pair trends {result['column_pair_trends']:.4f}; {result['count']} rows vs {result['reference_count']} training rows, "
          f"{result['seconds']} s)")


if __name__ == "__main__":
    main()
