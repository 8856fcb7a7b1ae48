"""Rows of one kind (``veegan sample --where``, docs/usage.md): how fast conditional sampling is
beside plain sampling, and how far the conditional rows' other columns are from the real rows
that hold the value. The run is

    OMP_NUM_THREADS=1 .venv/bin/veegan train --data ~/.cache/veegan/tables/penguins.csv --labels species \\
        --steps 5000 --out /work/exp/where/penguins

and this prints markdown tables and writes OUT/where_sampling.json and OUT/where_sampling.md:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/where_sampling.py --run /work/exp/where/penguins \\
        --out docs/results/where-sampling

Speed: rows per second of ``Run.sample(n, seed, where=...)`` (decoded DataFrames, the median of
``--repeats`` calls after one warm-up) against ``Run.sample(n, seed)``. Distance: for each of
``--seeds`` seeds, as many conditional rows as the table (training and held-out rows) has rows
with the value, scored against those rows with k-NN precision, recall, density and coverage
(veegan.evaluation.coverage.prdc, k = 5) in the space the run scores in (numeric columns
standardised with the training rows' mean and std, categories one-hot); beside them the same
count of plain samples filtered by hand on the decoded DataFrame (the check: the same
distribution, so the same figures up to noise), and plain samples not filtered (the contrast).
Then each numeric column's mean and std, and each categorical column's shares, side by side; and
how long a search for rows that no real row holds takes to give up."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import veegan
from veegan.errors import VeeganError
from veegan.evaluation.coverage import prdc

CASES = {"common": {"species": "Adelie"}, "rare": {"island": "Torgersen"},
         "combination": {"species": "Chinstrap", "sex": "female"}}
NEVER = {"island": "Torgersen", "species": "Gentoo"}  # no real row: the search gives up after its draws
KEYS = ("precision", "recall", "density", "coverage")


def holding(frame: pd.DataFrame, where: dict[str, str]) -> pd.DataFrame:
    """The rows of a decoded frame whose columns hold ``where``'s values, compared as text."""
    keep = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        keep &= (frame[column].astype(str) == value).to_numpy()
    return frame[keep].reset_index(drop=True)


def speed(run: veegan.Run, where: dict[str, str], n: int, repeats: int) -> dict[str, float]:
    """Rows per second of conditional and plain sampling, and the share of plain rows that hold ``where``."""
    def rate(condition: dict[str, str] | None) -> float:
        run.sample(n, seed=0, where=condition)  # warm-up
        times = []
        for repeat in range(repeats):
            start = time.perf_counter()
            run.sample(n, seed=repeat + 1, where=condition)
            times.append(time.perf_counter() - start)
        return n / statistics.median(times)

    share = len(holding(run.sample(100_000, seed=0), where)) / 100_000
    return {"conditional_rows_per_s": rate(where), "plain_rows_per_s": rate(None), "generator_share": share}


def give_up(run: veegan.Run, where: dict[str, str]) -> dict[str, Any]:
    """Seconds until a search for rows the model (almost) never makes gives up, and its line."""
    start = time.perf_counter()
    try:
        run.sample(1000, seed=0, where=where)
        line = "(found them)"
    except VeeganError as exc:
        line = str(exc)
    return {"where": where, "seconds": time.perf_counter() - start, "message": line}


def scored(run: veegan.Run, frame: pd.DataFrame) -> np.ndarray:
    """Decoded rows in the run's scoring space."""
    return run.encoding.scored_rows(run.encoding.encode(frame), facts=False)


def distances(run: veegan.Run, where: dict[str, str], real: pd.DataFrame, seeds: int) -> dict[str, Any]:
    """PRDC of conditional, hand-filtered and plain samples against the real rows with the value
    (mean and std over seeds), and the columns' summaries side by side."""
    reference = holding(real, where)
    m = len(reference)
    kinds: dict[str, list[pd.DataFrame]] = {"conditional": [], "filtered by hand": [], "plain, not filtered": []}
    for seed in range(seeds):
        kinds["conditional"].append(run.sample(m, seed=seed, where=where))
        plain = run.sample(max(200 * m, 20_000), seed=1000 + seed)
        kinds["filtered by hand"].append(holding(plain, where)[:m])
        kinds["plain, not filtered"].append(plain[:m])
    assert all(len(f) == m for f in kinds["filtered by hand"]), "too few plain rows hold the value"
    ref = scored(run, reference)
    scores = {}
    for kind, frames in kinds.items():
        values = [prdc(ref, scored(run, f), k=5) for f in frames]
        scores[kind] = {key: [float(np.mean([v[key] for v in values])), float(np.std([v[key] for v in values]))]
                        for key in KEYS}
    columns = {"real rows": reference, "conditional": pd.concat(kinds["conditional"]),
               "filtered by hand": pd.concat(kinds["filtered by hand"])}
    return {"real_rows": m, "scores": scores, "columns": summaries(columns, where)}


def summaries(frames: dict[str, pd.DataFrame], where: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per column (the conditioned ones left out): numbers' mean ± std, categories' shares in %."""
    out: dict[str, dict[str, str]] = {}
    first = next(iter(frames.values()))
    for column in first.columns:
        if column in where:
            continue
        out[column] = {}
        for kind, frame in frames.items():
            values = frame[column]
            if values.dtype.kind in "iuf":
                out[column][kind] = f"{values.mean():.4g} ± {values.std():.3g}"
            else:
                shares = values.astype(str).value_counts(normalize=True).sort_index()
                out[column][kind] = ", ".join(f"{level} {100 * share:.0f}" for level, share in shares.items())
    return out


def markdown(results: dict[str, Any]) -> str:
    """The tables of the results."""
    lines = [f"Run {results['run']} (GAN, step {results['step']}); {results['machine']}", "",
             "| rows of | generator's share | conditional rows/s | plain rows/s | conditional / plain |", "|---|---|---|---|---|"]
    for name, case in results["cases"].items():
        s = case["speed"]
        lines.append(f"| {case['label']} ({name}) | {100 * s['generator_share']:.1f} % | {s['conditional_rows_per_s']:,.0f} | "
                     f"{s['plain_rows_per_s']:,.0f} | {s['conditional_rows_per_s'] / s['plain_rows_per_s']:.2f} |")
    never = results["give_up"]
    lines += ["", f"1,000 rows with {', '.join(f'{k}={v}' for k, v in never['where'].items())} (no real row): gave up after "
              f"{never['seconds']:.1f} s: {never['message']}"]
    lines += ["", f"PRDC against the table's rows with the value (k = 5, mean ± std over {results['seeds']} seeds):", "",
              "| rows of | real rows | samples | precision | recall | density | coverage |", "|---|---|---|---|---|---|---|"]
    for case in results["cases"].values():
        for kind, score in case["distance"]["scores"].items():
            cells = " | ".join(f"{score[key][0]:.2f} ± {score[key][1]:.2f}" for key in KEYS)
            lines.append(f"| {case['label']} | {case['distance']['real_rows']} | {kind} | {cells} |")
    for case in results["cases"].values():
        lines += ["", f"Columns of the rows with {case['label']} (numbers: mean ± std; categories: % of rows):", "",
                  "| column | real rows | conditional | filtered by hand |", "|---|---|---|---|"]
        for column, cells in case["distance"]["columns"].items():
            lines.append(f"| {column} | {' | '.join(cells.values())} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("/work/exp/where/penguins"))
    parser.add_argument("--out", type=Path, default=Path("docs/results/where-sampling"))
    parser.add_argument("-n", type=int, default=10_000, help="rows per timed call")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    run = veegan.load(args.run, device="cpu")
    dataset = run.dataset
    real = run.encoding.decode(np.concatenate([dataset.data.numpy(), dataset.holdout.numpy()]))  # training + held-out rows
    machine = (f"CPU shared with other jobs (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores), "
               f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, n = {args.n:,} rows per call")
    results: dict[str, Any] = {"run": str(args.run), "step": run.step, "machine": machine, "seeds": args.seeds, "cases": {}}
    for name, where in CASES.items():
        label = ", ".join(f"{k}={v}" for k, v in where.items())
        results["cases"][name] = {"label": label, "where": where, "speed": speed(run, where, args.n, args.repeats),
                                  "distance": distances(run, where, real, args.seeds)}
    results["give_up"] = give_up(run, NEVER)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "where_sampling.json").write_text(json.dumps(results, indent=1))
    text = markdown(results)
    (args.out / "where_sampling.md").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
