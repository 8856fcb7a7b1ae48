"""Train several methods x seeds on one dataset in parallel worker processes, then write a
side-by-side density plot and a metrics table (mean +- std over seeds, with the real-data row).

Re-running skips runs that finished and resumes runs that were cut off."""
from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import runs
from .api import load, resolve_config
from .config import parse_assignments
from .plots import plot_densities

COLUMNS = (("modes", "modes"), ("high_quality_pct", "% high quality"), ("reverse_kl", "reverse KL"))


def _train_one(config_dict: dict[str, Any], run_dir: str) -> dict[str, Any]:
    """Worker: one single-thread training run; returns its final metrics."""
    import torch

    from .config import build_config
    from .trainer import train

    torch.set_num_threads(1)
    start = time.perf_counter()
    resume = (Path(run_dir) / runs.CONFIG_NAME).is_file()
    train(build_config(config_dict), run_dir, resume=resume, progress=False)
    final = json.loads((Path(run_dir) / runs.FINAL_METRICS_NAME).read_text())
    final["wall_time_s"] = time.perf_counter() - start
    return final


def _finished(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / runs.FINAL_METRICS_NAME
    return json.loads(path.read_text()) if path.is_file() else None


def compare(
    methods: Sequence[str], dataset: str, *, out: str | Path, seeds: int = 1, steps: int | None = None,
    overrides: list[str] | None = None, workers: int | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Run every (method, seed) under ``out/<method>/seed<k>``; write ``out/comparison.md``,
    ``out/comparison.json`` and ``out/comparison.png``. Returns the final metrics by method."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    extra = parse_assignments(overrides or [])
    jobs, results = [], {m: [] for m in methods}
    for method in methods:
        for seed in range(seeds):
            config = resolve_config(method=method, dataset=dataset, steps=steps, seed=seed, overrides=extra)
            run_dir = out / method / f"seed{seed}"
            done = _finished(run_dir)
            if done is not None and done.get("step") == config.steps:
                results[method].append(done)
            else:
                jobs.append((method, config.to_dict(), str(run_dir)))

    total, started = len(jobs), time.perf_counter()
    workers = max(1, min(workers or os.cpu_count() or 1, max(total, 1)))
    print(f"{total} run(s) to train on {workers} worker(s); {sum(map(len, results.values()))} already done",
          file=sys.stderr)
    if jobs:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            pending = {pool.submit(_train_one, cfg, d): (m, d) for m, cfg, d in jobs}
            done_count = 0
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    method, run_dir = pending.pop(future)
                    final = future.result()
                    results[method].append(final)
                    done_count += 1
                    elapsed = time.perf_counter() - started
                    eta = elapsed / done_count * (total - done_count)
                    print(f"[{done_count}/{total}] {run_dir}: {_summary(final)}  "
                          f"({final['wall_time_s']:.0f} s; elapsed {elapsed:.0f} s, about {eta:.0f} s left)",
                          file=sys.stderr)
    wall = time.perf_counter() - started

    table = metrics_table(results, dataset)
    (out / "comparison.md").write_text(table)
    (out / "comparison.json").write_text(json.dumps(results, indent=2) + "\n")
    _plot(methods, out, dataset)
    print(table)
    print(f"wrote {out / 'comparison.md'} and {out / 'comparison.png'}; wall time {wall:.0f} s")
    return results


def _summary(final: dict[str, Any]) -> str:
    if "modes" not in final:
        return "done"
    return f"{final['modes']}/{final['max_modes']} modes, {final['high_quality_pct']:.1f} % high quality"


def mean_std(values: Sequence[float | None]) -> str:
    """'mean +- std' over seeds (sample std, ddof 1), ignoring undefined values."""
    vals = np.array([v for v in values if v is not None], dtype=float)
    if len(vals) == 0:
        return "n/a"
    std = vals.std(ddof=1) if len(vals) > 1 else 0.0
    return f"{vals.mean():.2f} ± {std:.2f}"


def metrics_table(results: dict[str, list[dict[str, Any]]], dataset: str) -> str:
    """A Markdown table, one row per method and a last row for the real data."""
    first = next((r for rs in results.values() for r in rs if "modes" in r), None)
    if first is None:
        return f"No mode metrics for {dataset} (its modes are unknown).\n"
    header = f"| method | runs | modes (max {first['max_modes']}) | % high quality | reverse KL |"
    lines = [header, "|---|---|---|---|---|"]
    rows = [(method, rs) for method, rs in results.items()]
    rows.append(("real data", [r["real"] for rs in results.values() for r in rs]))
    for name, rs in rows:
        cells = [mean_std([r[key] for r in rs]) for key, _ in COLUMNS]
        lines.append(f"| {name} | {len(rs)} | " + " | ".join(cells) + " |")
    return f"{dataset}: mean ± std over seeds, {first['samples']} samples per run\n\n" + "\n".join(lines) + "\n"


def _plot(methods: Sequence[str], out: Path, dataset: str) -> None:
    """Seed 0 of every method beside the real data."""
    panels, subtitles, means = {}, {}, None
    for method in methods:
        run = load(out / method / "seed0")
        result = run.evaluate()
        panels[method] = run.sample(result["samples"], seed=0)
        if "modes" in result:
            subtitles[method] = _summary(result)
        means = run.dataset.means
    panels["real data"] = run.dataset.sample(len(panels[methods[0]])).numpy()
    plot_densities(panels, out / "comparison.png", means=None if means is None else means.numpy(), subtitles=subtitles)
