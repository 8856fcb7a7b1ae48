"""The tabular synthesizers practitioners use, as outside anchors for the own-data study: each
fitted with ITS OWN defaults on exactly the training rows veegan trains on (the same read, columns
and seeded split: :mod:`veegan.data.own_table`), sampled as many rows as veegan scores, and scored
by veegan's own metrics (:func:`veegan.evaluation.evaluate.score`) against the same held-out rows,
then by SDMetrics' quality report (benchmarks/sdmetrics_quality.py).

``--anchor``: ``gaussian_copula``, ``ctgan``, ``tvae`` (SDV 2.x's single-table synthesizers),
``forest_diffusion`` (Jolicoeur-Martineau et al. 2024, pip ``forestdiffusion``) or ``mostlyai``
(MOSTLY AI's TabularARGN, pip ``mostlyai-engine``). None is a veegan dependency (SDV pins
pandas < 3): they live in a venv of their own, built by ``bash benchmarks/anchors_setup.sh``.

    OMP_NUM_THREADS=1 .venv-anchors/bin/python benchmarks/anchors.py --anchor tvae \\
        --data /tmp/tables/penguins.csv --labels species --seeds 0 1 2 --results /work/exp/anchors/results

writes, resumably (a seed whose metrics.json and quality.json exist is skipped; one whose
metrics.json exists and whose samples are kept gets its quality.json only),
RESULTS/<table>/<anchor>/seed<k>/metrics.json (veegan's metrics, fit and sample seconds, the
versions, the CPU model and thread counts) and quality.json, and the samples, as a CSV in the
table's own columns, to SAMPLES/<table>/<anchor>/seed<k>/samples.csv: beside the metrics when
RESULTS lies outside the repository, else under /work/exp/anchor-samples (never in the repository).

What each anchor is told: the columns' kinds as veegan reads them (categorical, or numbers and
whether whole), nothing else; constant columns are left out of the fit and given back in every
sample, as veegan does. Only resource settings are set beyond that (one thread or job, the CPU,
a temporary workspace) and the seed. ``--option KEY=VALUE`` passes a constructor argument (a cap
on a slow anchor, say): it is recorded, and the results go to ``<anchor>+KEY=VALUE``.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.anchors_models import ANCHORS, Anchor  # noqa: E402
from veegan.data.own_table import TableDataset, select_columns  # noqa: E402
from veegan.data.table_columns import CATEGORICAL, CONSTANT  # noqa: E402
from veegan.data.table_files import read_table  # noqa: E402
from veegan.table_config import BEFORE_KEYS, TableConfig  # noqa: E402

EVAL_SAMPLES = 2500  # as a veegan run's schedule.eval_samples: capped at the held-out rows
SCRATCH_SAMPLES = Path("/work/exp/anchor-samples")


@dataclass
class StudyTable:
    """A table as the study reads it: the dataset veegan scores with, the columns it trains on
    (all rows), and ``n``, the number of rows every row of the study is scored on."""

    dataset: TableDataset
    features: pd.DataFrame

    @property
    def train(self) -> pd.DataFrame:
        return self.features.iloc[self.dataset.train_rows].reset_index(drop=True)

    @property
    def heldout(self) -> pd.DataFrame:
        return self.features.iloc[self.dataset.holdout_rows].reset_index(drop=True)

    @property
    def n(self) -> int:
        return self.dataset.scored_count(EVAL_SAMPLES)

    @property
    def kinds(self) -> dict[str, str]:
        """{column: categorical | integer | float} for the columns that vary (those an anchor fits)."""
        kinds = {}
        for code in self.dataset.encoding.columns:
            if code.unit is not None:
                raise SystemExit(f"column {code.name!r} holds dates, which the anchors here are not told how to read")
            if code.kind != CONSTANT:
                kinds[code.name] = CATEGORICAL if code.kind == CATEGORICAL else \
                    "integer" if np.dtype(code.dtype).kind in "iu" else "float"
        return kinds


def table_config(labels: str | None, before_keys: bool) -> TableConfig:
    """veegan's defaults for a data file with ``--labels``; with ``before_keys``, as the kept
    own-data study read its tables (labels scored only, no clip, round or point masses)."""
    return TableConfig(labels=labels, **(BEFORE_KEYS if before_keys else {}))


def as_written(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its float32 columns (veegan reads a CSV's decimals so) as float64 of their
    shortest decimals: 39.1, not 39.0999985, as pandas' own reader gives an anchor the file's values."""
    return frame.assign(**{c: frame[c].astype(str).astype(np.float64) for c in frame.columns if frame[c].dtype == np.float32})


def read_columns(path: Path, table: TableConfig) -> pd.DataFrame:
    """A CSV (or other file) as veegan reads it, the decimals as written."""
    return as_written(read_table(path, table.header, table.delimiter, drop_index=table.drop_index,
                                 comma_numbers=table.comma_numbers))


def study_table(data: Path, table: TableConfig) -> StudyTable:
    """``data`` read, checked and split exactly as ``veegan train --data`` does."""
    return StudyTable(TableDataset(data, table), select_columns(read_columns(data, table), table, data)[0])


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo."""
    with open("/proc/cpuinfo") as cpuinfo:
        return next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), platform.processor())


def versions(*packages: str) -> dict[str, str]:
    found = {}
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


# --- fitting, scoring, writing
def encode_samples(study: StudyTable, samples: pd.DataFrame) -> tuple[np.ndarray, int]:
    """(the samples encoded as veegan's rows, the number of cells holding a category the table
    does not have): such a cell (an anchor's rare-category token) encodes as an all-zero block,
    a value of no real row."""
    encoding, samples, unknown = study.dataset.encoding, samples.copy(), {}
    for code in encoding.columns:
        if code.kind == CATEGORICAL:
            known = pd.Index(code.levels).get_indexer(samples[code.name].to_numpy()) >= 0
            unknown[code.name] = ~known
            samples.loc[~known, code.name] = code.levels[0]
    rows = encoding.encode(samples)
    for code, (start, end) in zip(encoding.columns, encoding.offsets):
        if code.name in unknown:
            rows[unknown[code.name], start:end] = 0.0
    return rows, int(sum(mask.sum() for mask in unknown.values()))


def fit_and_sample(anchor: Anchor, study: StudyTable, seed: int, options: dict[str, Any]) -> tuple[pd.DataFrame, dict]:
    """(n samples in the table's columns, the fit's and the draw's seconds)."""
    kinds = study.kinds
    started = time.perf_counter()
    sampler = anchor.fit(study.train[list(kinds)], kinds, seed, options)
    fitted = time.perf_counter()
    drawn = sampler(study.n)
    sampled = time.perf_counter()
    if len(drawn) != study.n or drawn[list(kinds)].isna().any().any():
        raise RuntimeError(f"{anchor.what} gave {len(drawn)} rows (asked {study.n}), {int(drawn.isna().sum().sum())} empty cells")
    samples = pd.DataFrame({c: drawn[c] if c in kinds else [study.dataset.encoding.constant_columns[c]] * study.n
                            for c in study.features.columns})
    return samples, {"fit_seconds": round(fitted - started, 2), "sample_seconds": round(sampled - fitted, 2)}


def score_samples(study: StudyTable, samples: pd.DataFrame, seed: int) -> dict:
    """veegan's metrics of ``samples`` (its real-data row and Gaussian-mixture baseline beside)."""
    import torch

    from veegan.evaluation.evaluate import evaluation_seed, score

    rows, unknown = encode_samples(study, samples)
    g = torch.Generator().manual_seed(evaluation_seed(seed, 0))
    return {"unknown_categories": unknown, **score(study.dataset, torch.from_numpy(rows), study.dataset.real_rows(len(rows), g))}


def write_json(path: Path, values: dict) -> None:
    """Written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(values, indent=2, default=str) + "\n")
    tmp.replace(path)


def run_name(anchor: str, options: dict[str, Any]) -> str:
    return "+".join([anchor, *(f"{k}={v}" for k, v in sorted(options.items()))])


def samples_root(results: Path, samples: Path | None) -> Path:
    """Where the samples go: ``samples``, else beside the metrics when RESULTS is outside the
    repository, else the scratch folder; never inside the repository."""
    root = samples or (results if not results.resolve().is_relative_to(ROOT) else SCRATCH_SAMPLES)
    if root.resolve().is_relative_to(ROOT):
        raise SystemExit(f"--samples {root}: the samples are not kept in the repository; name a scratch folder (e.g. {SCRATCH_SAMPLES})")
    return root


def plan(results: Path, samples: Path, table: str, name: str, seeds: list[int]) -> list[tuple[int, str]]:
    """[(seed, what to do)]: ``fit`` (no metrics.json), ``quality`` (metrics kept, samples kept,
    no quality.json), ``kept`` (both kept, or metrics kept without samples to score)."""
    steps = []
    for seed in seeds:
        out = results / table / name / f"seed{seed}"
        sample_file = samples / table / name / f"seed{seed}" / "samples.csv"
        if not (out / "metrics.json").is_file():
            steps.append((seed, "fit"))
        elif not (out / "quality.json").is_file() and sample_file.is_file():
            steps.append((seed, "quality"))
        else:
            steps.append((seed, "kept"))
    return steps


def run_anchor(anchor_name: str, data: Path, table: TableConfig, seeds: list[int], results: Path, samples: Path | None,
               options: dict[str, Any], name: str | None = None, anchor: Anchor | None = None) -> None:
    """Each seed of ``plan``: fit, sample, score and write (metrics.json, samples.csv, quality.json)."""
    from benchmarks.sdmetrics_quality import quality_of_file

    anchor, name = anchor or ANCHORS[anchor_name], name or run_name(anchor_name, options)
    samples = samples_root(results, samples)
    study = None
    for seed, step in plan(results, samples, data.stem, name, seeds):
        out, sample_file = results / data.stem / name / f"seed{seed}", samples / data.stem / name / f"seed{seed}" / "samples.csv"
        if step == "kept":
            print(f"{out}: kept, skipped" + ("" if (out / "quality.json").is_file() else " (no samples kept: no quality.json)"))
            continue
        study = study or study_table(data, table)
        if step == "fit":
            drawn, seconds = fit_and_sample(anchor, study, seed, options)
            sample_file.parent.mkdir(parents=True, exist_ok=True)
            drawn.to_csv(sample_file, index=False)
            import torch

            result = {"method": name, "anchor": anchor.what, "options": options, "dataset": data.stem,
                      "data_file": str(data.resolve()), "labels": table.labels, "table": asdict(table),
                      **seconds, "versions": versions(*anchor.packages, "pandas", "numpy"), "cpu": cpu_model(),
                      "torch_threads": torch.get_num_threads(), "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                      **score_samples(study, drawn, seed)}
            write_json(out / "metrics.json", result)
            print(f"{out}: coverage {result['coverage']:.3f}, recall {result['recall']:.3f}, precision {result['precision']:.3f}, "
                  f"fit {seconds['fit_seconds']} s, sample {seconds['sample_seconds']} s")
        quality = quality_of_file(study, sample_file)
        write_json(out / "quality.json", quality)
        print(f"{out}: SDMetrics quality {quality['score']:.3f} ({quality['seconds']} s)")


def option(text: str) -> tuple[str, Any]:
    """KEY=VALUE, the value a Python literal where it reads as one (epochs=100), else text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: expected KEY=VALUE")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--anchor", required=True, choices=list(ANCHORS))
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--labels", help="the class column, as veegan's --labels")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--results", type=Path, required=True)
    p.add_argument("--samples", type=Path, help="where the samples' CSVs go (default: beside the metrics, or "
                   f"{SCRATCH_SAMPLES} when RESULTS is in the repository)")
    p.add_argument("--before-keys", action="store_true", help="read the table as the kept own-data study did "
                   "(veegan.table_config.BEFORE_KEYS); default: veegan's defaults for a data file")
    p.add_argument("--option", type=option, action="append", default=[], metavar="KEY=VALUE",
                   help="a constructor argument of the anchor (not its default: recorded, and in the results' folder name)")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    run_anchor(args.anchor, args.data, table_config(args.labels, args.before_keys), args.seeds, args.results, args.samples,
               dict(args.option))


if __name__ == "__main__":
    main()
