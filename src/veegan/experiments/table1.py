"""``veegan reproduce table1``: the paper's Table 1 and Figure 2 (Section 5.1) with one command,
mean +- std over seeds beside the paper's own numbers."""
from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..configure import resolve_config
from ..data.catalog import DATASETS
from ..errors import VeeganError
from ..evaluation.modes import under_rule
from ..methods import method_label
from .curves import write_curves
from .figures import density_figure
from .result_store import ResultStore
from .sweep import Job, Launch, grid_jobs, run_jobs
from .tables import csv_text, format_row_stats, mean_std, real_rows, wall_time_note

TABLE1_METHODS = ("gan", "ali", "unrolled", "veegan", "pacgan")
TABLE1_DATASETS = ("ring", "grid", "hd1200")

# Training budgets: steps per dataset, and configuration overrides for every run.
BUDGETS: dict[str, dict[str, Any]] = {
    # the paper's protocol as the authors' code runs it: 100,000 iterations, batch 500 (docs/protocol.md)
    "paper": {"steps": {"ring": 100_000, "grid": 100_000, "hd1200": 100_000}, "overrides": {"batch_size": 500}},
    # sized so that 5 methods x 3 datasets x 5 seeds finish in under an hour on 2 cores
    "quick": {"steps": {"ring": 10_000, "grid": 10_000, "hd1200": 2_500}, "overrides": {"batch_size": 500}},
}

# Table 1 of the paper: (modes captured, % high-quality samples), means over 5 runs.
PAPER_TABLE1: dict[str, dict[str, tuple[float, float]]] = {
    "gan": {"ring": (1, 99.3), "grid": (3.3, 0.5), "hd1200": (1.6, 2.0)},
    "ali": {"ring": (2.8, 0.13), "grid": (15.8, 1.6), "hd1200": (3, 5.4)},
    "unrolled": {"ring": (7.6, 35.6), "grid": (23.6, 16), "hd1200": (0, 0.0)},
    "veegan": {"ring": (8, 52.9), "grid": (24.6, 40), "hd1200": (5.5, 28.29)},
}


def table1_jobs(
    methods: Sequence[str], datasets: Sequence[str], seeds: int, budget: str, out: Path,
    steps: Mapping[str, int] | None = None,
) -> list[Job]:
    """One job per (method, dataset, seed) at ``budget``; ``steps`` overrides its steps per dataset."""
    spec = BUDGETS[budget]
    steps = {**spec["steps"], **(steps or {})}
    return grid_jobs(methods, datasets, seeds, out, lambda method, dataset, seed: resolve_config(
        method=method, dataset=dataset, seed=seed, steps=steps[dataset], overrides=spec["overrides"]))


def reproduce_table1(
    *, out: str | Path, methods: Sequence[str] = TABLE1_METHODS, datasets: Sequence[str] = TABLE1_DATASETS,
    seeds: int = 5, budget: str = "quick", workers: int | None = None, steps: Mapping[str, int] | None = None,
    results: str | Path | None = None, train: bool = True, launch: Launch = Launch(),
) -> list[dict[str, Any]]:
    """Train every (method, dataset, seed), then write table1.md, table1.csv, figure2.png and
    curves.png (see :func:`.sweep.run_jobs` for ``workers`` and ``launch``).
    ``results``: a folder that keeps every finished run's small files and counts the runs kept
    there as finished (docs/results/table1-paper is one). ``train=False``: tabulate the runs
    finished so far and train nothing."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for dataset in datasets:
        DATASETS.get(dataset)  # a clear error before any work
    unknown = set(steps or {}) - set(datasets)
    if unknown:
        raise VeeganError(f"--steps names {', '.join(sorted(unknown))}, which this table does not train")
    store = ResultStore(results, out) if results is not None else None
    jobs = table1_jobs(methods, datasets, seeds, budget, out, steps)
    finals, wall = run_jobs(jobs, workers, store=store, train=train, launch=launch)
    if not finals:
        raise VeeganError(f"no finished runs to tabulate in {out}" + (f" or {results}" if results else ""))
    methods = [method_label(method) for method in methods]
    rows = table1_rows(finals, methods, datasets)
    (out / "table1.csv").write_text(csv_text(rows))
    markdown = table1_markdown(rows, datasets, budget, {job.config.dataset: job.config.steps for job in jobs})
    partial = "" if len(finals) == len(jobs) else f"Partial: {len(finals)} of the {len(jobs)} runs have finished.\n"
    (out / "table1.md").write_text(markdown + "\n" + partial + wall_time_note(wall, finals))
    done = [job for job in jobs if job.key in finals]
    figure2(out, done, store)
    places = {job.key: store.log_place(job.run_dir) if store else job.run_dir for job in done}
    write_curves(places, finals, {job.key: job.config.dataset for job in done}, out / "curves.png")
    print(markdown + partial)
    print(f"wrote {out / 'table1.md'}, {out / 'table1.csv'}, {out / 'figure2.png'} and {out / 'curves.png'}",
          file=sys.stderr)
    print(f"total wall time: {wall:.0f} s ({wall / 60:.1f} min)")
    return rows


def table1_rows(finals: dict, methods: Sequence[str], datasets: Sequence[str]) -> list[dict[str, Any]]:
    """One record per (method or real data, dataset, high-quality rule): mean and std of each
    metric over the seeds that finished, and the paper's figures where it has them. A dataset
    whose two rules differ (hd1200: 28.1 std against the paper's 10) gets its rows under each."""
    rows = []
    for dataset in [d for d in datasets if any(key[1] == d for key in finals)]:
        for rule in rules_of(finals, dataset):
            mine = {key: final for key, final in finals.items() if key[1] == dataset and key[0] in methods}
            by_method = {name: [under_rule(final, rule) for key, final in mine.items() if key[0] == name] for name in methods}
            by_method["real data"] = real_rows(mine.values(), rule)
            for name, seeds in by_method.items():
                if seeds:
                    rows.append(_row(name, dataset, rule, seeds))
    return rows


def _row(name: str, dataset: str, rule: str, seeds: list[dict[str, Any]]) -> dict[str, Any]:
    """One table record: ``seeds`` are the finished runs' metrics under ``rule``."""
    paper = PAPER_TABLE1.get(name, {}).get(dataset)
    row: dict[str, Any] = {"method": name, "dataset": dataset, "hq_rule": rule, "hq_radius": seeds[0].get("hq_radius"),
                           "runs": len(seeds), "max_modes": seeds[0]["max_modes"]}
    for key in ("modes", "high_quality_pct", "reverse_kl"):
        stats = mean_std([r[key] for r in seeds])
        row[f"{key}_mean"], row[f"{key}_std"] = stats if stats else (None, None)
    row["paper_modes"], row["paper_high_quality_pct"] = paper if paper else (None, None)
    wall = mean_std([r.get("wall_time_s") for r in seeds]) if name != "real data" else None
    row["wall_time_s_mean"] = wall[0] if wall else None
    return row


def rules_of(finals: dict, dataset: str) -> list[str]:
    """The high-quality rules to show for ``dataset``: both where their radii differ."""
    first = next(final for key, final in finals.items() if key[1] == dataset)
    paper = first.get("paper_rule")
    differ = paper and not math.isclose(paper["hq_radius"], first["hq_radius"], rel_tol=1e-9)
    return ["calibrated", "paper"] if differ else ["calibrated"]


def table1_markdown(rows: list[dict[str, Any]], datasets: Sequence[str], budget: str, steps: Mapping[str, int]) -> str:
    """Per dataset and rule: modes and % high quality (mean ± std over the runs that finished)
    beside the paper's."""
    out = [f"Table 1 reproduction, budget `{budget}`, mean ± std over seeds.\n"]
    for dataset, rule in dict.fromkeys((r["dataset"], r.get("hq_rule")) for r in rows if r["dataset"] in datasets):
        mine = [r for r in rows if (r["dataset"], r.get("hq_rule")) == (dataset, rule)]
        radius = "" if mine[0].get("hq_radius") is None else f", {rule} high-quality rule: radius {mine[0]['hq_radius']:.3g}"
        out.append(f"\n**{dataset}** ({steps[dataset]:,} steps; max {mine[0]['max_modes']} modes{radius})\n")
        out.append("| method | runs | modes | paper | % high quality | paper | reverse KL |")
        out.append("|---|---|---|---|---|---|---|")
        for r in mine:
            paper_modes = "—" if r["paper_modes"] is None else f"{r['paper_modes']:g}"
            paper_hq = "—" if r["paper_high_quality_pct"] is None else f"{r['paper_high_quality_pct']:g}"
            out.append(f"| {r['method']} | {r['runs']} | {format_row_stats(r, 'modes', 1)} | {paper_modes} | "
                       f"{format_row_stats(r, 'high_quality_pct', 1)} | {paper_hq} | {format_row_stats(r, 'reverse_kl', 3)} |")
    return "\n".join(out) + "\n"


def figure2(out: Path, jobs: Sequence[Job], store: ResultStore | None = None) -> Path | None:
    """Density plots, datasets x (real data, methods), like the paper's Figure 2: per method its
    lowest finished seed whose final samples are at hand (written from the checkpoint where
    needed, or kept in ``store``)."""
    return density_figure(jobs, store or ResultStore(out, out), out / "figure2.png", row=lambda job: job.config.dataset,
                          column=lambda job: job.key[0], seed=lambda job: job.key[2])
