"""A large table at the own-data defaults: a seeded synthetic table of 1,000,000 rows x 50
columns (40 numeric: decimals, a few integers, skewed ones and ones that are 0 on most rows; 10
text columns of 2 to 50 categories), written as Parquet (or CSV) outside the repository, then
``veegan train --data TABLE --steps S`` (GAN, ``--preset best``, batch 500) in a child process.

    .venv/bin/python -m benchmarks.scale_table --tag after [--rows 1000000] [--steps 300] \
        [--format parquet|csv] [--labels c0] [--workdir /work/exp/scale] [--results docs/results/scale]

Measured: the child's peak resident memory (``getrusage`` of the child, what ``/usr/bin/time -v``
reports), the table's size on disk and in memory (pandas ``memory_usage(deep=True)``), and, from
timers the child wraps around veegan's own functions before it runs the command line: reading,
checking and encoding seconds, training steps/s, and each evaluation's seconds with its parts
(scored rows, k-means bins, label classifier, k-NN metrics, Gaussian-mixture baseline) and the
peak memory inside each. Each tag's numbers go to ``scale_table.json`` in ``--results`` and the
table of every tag to ``README.md`` there, with the CPU model and its load (a shared machine:
the seconds move with the load, the memory does not).
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

LEVELS = (2, 3, 4, 5, 8, 12, 20, 30, 40, 50)  # the categories of the 10 text columns
CLUSTERS = 12  # the latent groups the rows come from (the table's modes)
SAMPLE_SECONDS = 0.1  # how often the child reads its resident memory
NOTES = "## Notes"  # the README's hand-written part, kept when the table above it is rewritten


def make_table(rows: int, seed: int = 0) -> pd.DataFrame:
    """40 numeric and 10 text columns whose values depend on a latent group of each row."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, CLUSTERS, rows)
    centres = rng.normal(0, 3, (CLUSTERS, 40))
    columns: dict[str, Any] = {}
    for j in range(40):
        values = centres[group, j] + rng.normal(0, 1 + j % 3, rows)
        if j < 28:  # decimals, written to 2 or 3 places
            columns[f"x{j}"] = np.round(values * 10 + 50, 2 + j % 2)
        elif j < 32:  # integers: counts and ages
            columns[f"x{j}"] = np.clip(np.rint(values * 5 + 40), 0, None).astype(np.int64)
        elif j < 36:  # skewed: amounts of money
            columns[f"x{j}"] = np.round(np.exp(values / 3 + 3), 2)
        else:  # 0 on most rows, else an amount
            columns[f"x{j}"] = np.where(rng.random(rows) < 0.6, 0.0, np.round(np.exp(values / 4 + 2), 1))
    for j, levels in enumerate(LEVELS):
        code = (group * (j + 1) + rng.integers(0, max(1, levels // 3), rows)) % levels
        names = np.asarray([f"c{j}_level{k:02d}" for k in range(levels)], dtype=object)
        columns[f"c{j}"] = pd.Series(names[code], dtype="str")
    return pd.DataFrame(columns)


def write_table(path: Path, rows: int) -> dict[str, Any]:
    """Write the table once (reused after), and return its sizes."""
    facts_path = path.with_suffix(".facts.json")
    if path.is_file() and facts_path.is_file():
        return json.loads(facts_path.read_text())
    started = time.perf_counter()
    frame = make_table(rows)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    facts = {"rows": len(frame), "columns": frame.shape[1], "file": str(path), "file_mib": path.stat().st_size / 2**20,
             "memory_mib": float(frame.memory_usage(deep=True).sum()) / 2**20,
             "dtypes": {str(k): int(v) for k, v in frame.dtypes.astype(str).value_counts().items()},
             "write_s": time.perf_counter() - started}
    facts_path.write_text(json.dumps(facts, indent=1))
    return facts


# --- in the child: timers around veegan's functions, then its command line ---------------------

class Phases:
    """Seconds and peak resident memory of each named phase (phases nest)."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.builds = 0  # the dataset builds so far
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.peak: dict[str, float] = {}
        self.marks: dict[str, float] = {"start": time.perf_counter()}
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            rss = rss_mib()
            for name in list(self.stack):
                self.peak[name] = max(self.peak.get(name, 0.0), rss)
            time.sleep(SAMPLE_SECONDS)

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        """Time every call of ``owner.attribute`` as phase ``name`` (nothing if it is absent); a
        name with ``#`` gets the number of the table's build it belongs to (the command line
        builds the dataset for training, then again in the run it returns)."""
        original = owner.__dict__.get(attribute) if isinstance(owner, type) else getattr(owner, attribute, None)
        if original is None:
            return
        function: Callable[..., Any] = original.__func__ if isinstance(original, classmethod) else original

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if name.startswith("dataset"):
                self.builds += 1
            label = name.replace("#", f"#{self.builds}")
            self.stack.append(label)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
                self.calls[label] = self.calls.get(label, 0) + 1
                self.peak[label] = max(self.peak.get(label, 0.0), rss_mib())
                self.stack.remove(label)
                self.marks.setdefault(f"{label} start", started)
                self.marks.setdefault(f"{label} end", time.perf_counter())  # the first call's

        setattr(owner, attribute, classmethod(timed) if isinstance(original, classmethod) else timed)


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(report: Path, argv: list[str]) -> int:
    """Run ``veegan argv`` with its phases timed; write them to ``report``."""
    from veegan import cli
    from veegan.data import own_table, table_encoding
    from veegan.evaluation import coverage, table_metrics
    from veegan.training import session

    phases = Phases()
    imports = rss_mib()  # veegan, torch, scikit-learn and pyarrow imported, nothing read
    for owner, attribute, name in [
            (own_table.TableDataset, "__init__", "dataset #: read to encoded"), (own_table, "read_table", "#: read"),
            (own_table, "select_columns", "#: check"), (table_encoding.TableEncoding, "fit", "#: encoding fit"),
            (table_encoding.TableEncoding, "encode", "#: encode"), (session, "evaluate", "evaluation (periodic)"),
            (session, "final_report", "evaluation (final)"), (table_metrics.CoverageReference, "__init__", "eval: references"),
            (coverage.NdbBins, "fit", "eval: k-means bins"), (coverage.LabelScorer, "fit", "eval: label classifier"),
            (table_metrics, "prdc", "eval: k-NN metrics"), (table_metrics, "fit_baseline_mixture", "eval: mixture fit"),
            (table_metrics.CoverageReference, "baseline_scores", "eval: baseline row")]:
        phases.wrap(owner, attribute, name)
    status = cli.main(argv)
    phases.marks["end"] = time.perf_counter()
    report.write_text(json.dumps({"status": status, "seconds": phases.seconds, "calls": phases.calls, "peak_mib": phases.peak,
                                  "marks": phases.marks, "rusage_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                  "imports_mib": imports}))
    return status


# --- in the parent ---------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    with open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown")
    return {"cpu": model, "cpus": os.cpu_count(), "load_average": os.getloadavg()[0],
            "threads": {name: os.environ.get(name, "unset") for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}}


def run(args: argparse.Namespace, facts: dict[str, Any]) -> dict[str, Any]:
    """The training command in a child process; its measured figures."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", args.tag).strip("-")
    out = args.workdir / f"run-{slug}"
    report = args.workdir / f"phases-{slug}.json"
    report.unlink(missing_ok=True)
    argv = ["train", "--data", facts["file"], "--steps", str(args.steps), "--out", str(out), "--overwrite", "--quiet",
            "--set", f"schedule.eval_every={args.eval_every or max(1, args.steps * 2 // 3)}",
            *(["--labels", args.labels] if args.labels else [])]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    before = machine()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "benchmarks.scale_table", "--child", str(report), "--", *argv], env=env,
                          timeout=args.timeout, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"veegan train failed ({done.returncode}):\n{done.stderr[-3000:]}")
    phases = json.loads(report.read_text())
    seconds, marks = phases["seconds"], phases["marks"]
    evaluations = seconds.get("evaluation (periodic)", 0.0)
    training = marks["evaluation (final) start"] - marks["dataset #1: read to encoded end"] - evaluations
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    from veegan.data.table_encoding import TableEncoding

    width = TableEncoding.load(out / "table.json").width
    return {"command": "veegan " + " ".join(argv), "wall_s": wall, "peak_rss_mib": peak, "peak_over_table": peak / facts["memory_mib"],
            "imports_mib": phases["imports_mib"], "encoded_width": width, "encoded_mib": facts["rows"] * width * 4 / 2**20,
            "read_encode_s": seconds["dataset #1: read to encoded"], "steps_per_s": args.steps / training,
            "evaluation_s": {"first (fits the references)": evaluations, "final": seconds.get("evaluation (final)", 0.0)},
            "phases_s": seconds, "phase_peak_mib": phases["peak_mib"], "machine_before": before, "load_after": os.getloadavg()[0]}


def markdown(results: dict[str, Any]) -> str:
    """Every tag's figures as one table."""
    last = list(results.values())[-1]
    lines = ["# A 1,000,000 x 50 table at the own-data defaults (`benchmarks/scale_table.py`)", "",
             f"GAN, `--preset best`, batch 500, one thread, on {last['machine_before']['cpus']} CPU cores shared with other "
             "work (a background training; each run's load average as it started ends its line below): the seconds move "
             "with the load, the memory does not. Peak RSS: the whole `veegan train` process, of which "
             f"{last.get('imports_mib', 0):,.0f} MiB are the imports (veegan, torch, scikit-learn, pyarrow) before anything "
             f"is read; the table's encoded float32 rows ({last.get('encoded_width', 0)} values a row) take "
             f"{last.get('encoded_mib', 0):,.0f} MiB.", "",
             "| run | table in memory (MiB) | file (MiB) | peak RSS (MiB) | x table | x table beyond the imports | "
             "read+encode (s) | steps/s | first evaluation (s) | final evaluation (s) |", "|---" * 10 + "|"]
    for tag, r in results.items():
        t, imports = r["table"], r.get("imports_mib", last.get("imports_mib", 0))
        lines.append(f"| {tag} | {t['memory_mib']:,.0f} | {t['file_mib']:,.0f} | {r['peak_rss_mib']:,.0f} | {r['peak_over_table']:.1f} | "
                     f"{(r['peak_rss_mib'] - imports) / t['memory_mib']:.1f} | "
                     f"{r['read_encode_s']:.1f} | {r['steps_per_s']:.1f} | {r['evaluation_s']['first (fits the references)']:.1f} | "
                     f"{r['evaluation_s']['final']:.1f} |")
    lines += ["", "Phases (seconds; peak MiB inside):", ""]
    for tag, r in results.items():
        parts = ", ".join(f"{name} {s:.1f} s ({r['phase_peak_mib'].get(name, 0):,.0f})" for name, s in r["phases_s"].items())
        lines.append(f"- {tag}: {parts}; CPU {r['machine_before']['cpu']}, load {r['machine_before']['load_average']:.1f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    if "--child" in sys.argv:
        at = sys.argv.index("--child")
        raise SystemExit(child(Path(sys.argv[at + 1]), sys.argv[sys.argv.index("--") + 1:]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", required=True, help="the name of this measurement (before, after, ...)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--eval-every", type=int, help="default: two thirds of --steps (one evaluation, then the final)")
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--labels", help="a column to pass as --labels (default: none, as the own-data defaults)")
    parser.add_argument("--workdir", type=Path, default=Path("/work/exp/scale"))
    parser.add_argument("--results", type=Path, default=Path("docs/results/scale"))
    parser.add_argument("--timeout", type=float, default=3 * 3600)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    facts = write_table(args.workdir / f"table-{args.rows}.{args.format}", args.rows)
    print(f"table: {facts['rows']:,} x {facts['columns']}, {facts['memory_mib']:,.0f} MiB in memory, {facts['file_mib']:,.0f} MiB on disk",
          flush=True)
    result = {"table": facts, **run(args, facts)}
    args.results.mkdir(parents=True, exist_ok=True)
    store = args.results / "scale_table.json"
    results = json.loads(store.read_text()) if store.is_file() else {}
    results[args.tag] = result
    store.write_text(json.dumps(results, indent=1) + "\n")
    readme = args.results / "README.md"
    kept = readme.read_text().partition(NOTES)[1:] if readme.is_file() else ("", "")
    readme.write_text(markdown(results) + ("\n" + "".join(kept) if kept[0] else ""))  # the notes below the table stay
    print(markdown({args.tag: result}))


if __name__ == "__main__":
    main()
