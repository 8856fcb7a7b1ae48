"""``veegan reproduce stabilisers``: each adversarial method plain and with each stabiliser alone
(EMA of the generator, spectral normalisation of D, the R1 penalty), on the synthetic mixtures,
mean +- std over seeds beside the real data. One setting per stabiliser, fixed here for every
method and dataset, never tuned per case."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..configure import resolve_config
from ..config_values import merge
from ..errors import VeeganError
from ..methods import method_label, method_labels
from .figures import density_figure
from .result_store import ResultStore
from .sweep import Job, Launch, run_jobs
from .table1 import BUDGETS
from .tables import csv_text, format_row_stats, metric_rows, wall_time_note

STABILISER_METHODS = ("gan", "ali", "unrolled", "veegan", "veegan_dae", "pacgan")
STABILISER_DATASETS = ("ring", "grid")
# the one setting of each stabiliser, chosen before any run (not tuned): decay 0.999 averages over
# about the last 1,000 steps of a 10,000-step run; spectral norm with torch's one power iteration
# per step; R1 with gamma 1, the middle of the range Mescheder et al. (2018) use
STABILISERS: dict[str, dict[str, Any]] = {
    "plain": {},
    "ema": {"ema": {"decay": 0.999}},
    "spectral_norm": {"model": {"spectral_norm": True}},
    "r1": {"loss": {"r1_gamma": 1.0}},
}
DEFAULT_SETTINGS = tuple(STABILISERS)  # each stabiliser alone
# on request: every stabiliser at once; R3GAN's objective alone, with R1 and R2 at every step, and
# with them lazily (every 16th step, StyleGAN2's interval)
STABILISERS["all"] = merge(merge(STABILISERS["ema"], STABILISERS["spectral_norm"]), STABILISERS["r1"])
STABILISERS["rpgan"] = {"loss": {"objective": "rpgan"}}
STABILISERS["rpgan_r1_r2"] = {"loss": {"objective": "rpgan", "r1_gamma": 1.0, "r2_gamma": 1.0}}
STABILISERS["rpgan_r1_r2_lazy"] = merge(STABILISERS["rpgan_r1_r2"], {"loss": {"penalty_every": 16}})


def stabiliser_jobs(
    methods: Sequence[str], datasets: Sequence[str], settings: Sequence[str], seeds: int, budget: str, out: Path,
) -> list[Job]:
    """One job per (method, setting, dataset, seed) in ``out/<dataset>/<method>/<setting>/seed<k>``."""
    spec = BUDGETS[budget]
    return [Job((label, setting, dataset, seed),
                resolve_config(method=method, dataset=dataset, seed=seed, steps=spec["steps"][dataset],
                               overrides=merge(spec["overrides"], STABILISERS[setting])),
                out / dataset / label / setting / f"seed{seed}")
            for dataset in datasets for label, method in method_labels(methods).items()
            for setting in settings for seed in range(seeds)]


def reproduce_stabilisers(
    *, out: str | Path, methods: Sequence[str] = STABILISER_METHODS, datasets: Sequence[str] = STABILISER_DATASETS,
    settings: Sequence[str] = DEFAULT_SETTINGS, seeds: int = 3, budget: str = "quick", workers: int | None = None,
    results: str | Path | None = None, train: bool = True, launch: Launch = Launch(),
) -> list[dict[str, Any]]:
    """Train every (method, setting, dataset, seed), then write stabilisers.md and stabilisers.csv.
    ``results`` and ``train`` as for :func:`.table1.reproduce_table1`."""
    unknown = [s for s in settings if s not in STABILISERS]
    if unknown:
        raise VeeganError(f"unknown stabiliser setting {unknown[0]!r}; choose from {', '.join(STABILISERS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = stabiliser_jobs(methods, datasets, settings, seeds, budget, out)
    store = ResultStore(results, out) if results is not None else None
    finals, wall = run_jobs(jobs, workers, store=store, train=train, launch=launch)
    if not finals:
        raise VeeganError(f"no finished runs to tabulate in {out}" + (f" or {results}" if results else ""))
    rows = stabiliser_rows(finals)
    (out / "stabilisers.csv").write_text(csv_text(rows))
    steps = {job.config.dataset: job.config.steps for job in jobs}
    partial = "" if len(finals) == len(jobs) else f"Partial: {len(finals)} of the {len(jobs)} runs have finished.\n"
    markdown = stabiliser_markdown(rows, [method_label(m) for m in methods], settings, steps) + "\n" + partial
    (out / "stabilisers.md").write_text(markdown + wall_time_note(wall, finals))
    figures = [stabiliser_figure(out, jobs, store, dataset) for dataset in datasets]
    print(markdown)
    written = ", ".join(str(path) for path in [out / "stabilisers.md", out / "stabilisers.csv", *figures] if path)
    print(f"wrote {written}", file=sys.stderr)
    return rows


def stabiliser_figure(out: Path, jobs: Sequence[Job], store: ResultStore | None, dataset: str) -> Path | None:
    """``stabilisers-<dataset>.png``: density plots, methods down and settings across, seed 0
    of each (the lowest finished seed where seed 0 is not at hand)."""
    return density_figure([job for job in jobs if job.key[2] == dataset], store or ResultStore(out, out),
                          out / f"stabilisers-{dataset}.png", row=lambda job: job.key[0],
                          column=lambda job: job.key[1], seed=lambda job: job.key[3])


def stabiliser_rows(finals: Mapping[tuple, dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per (method, setting, dataset) with the mean and std of each metric over the
    seeds that finished, and one real-data record per dataset."""
    return metric_rows(finals, group=lambda key: (key[0], key[2], key[1]), real_group=lambda key: ("real data", key[2], ""))


def stabiliser_markdown(
    rows: Sequence[dict[str, Any]], methods: Sequence[str], settings: Sequence[str], steps: Mapping[str, int],
) -> str:
    """Per dataset, methods down and settings across; each cell 'modes / % high quality' as mean ±
    std over seeds (runs that finished, where fewer than asked)."""
    found = {(r["method"], r["setting"], r["dataset"]): r for r in rows}
    out = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        real = found[("real data", "", dataset)]
        out.append(f"\n**{dataset}** ({steps[dataset]:,} steps; max {real['max_modes']} modes; "
                   f"each cell: modes, % high quality, mean ± std over seeds)\n")
        out.append("| method | " + " | ".join(settings) + " |")
        out.append("|---|" + "---|" * len(settings))
        for method in methods:
            cells = [_cell(found.get((method, setting, dataset))) for setting in settings]
            if any(cell != "—" for cell in cells):
                out.append(f"| {method} | " + " | ".join(cells) + " |")
        out.append(f"| real data | {_cell(real)} |" + " |" * (len(settings) - 1))
    return "\n".join(out).lstrip("\n") + "\n"


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "—"
    runs = "" if row["method"] == "real data" else f" ({row['runs']})"
    return f"{format_row_stats(row, 'modes', 1)}, {format_row_stats(row, 'high_quality_pct', 1)}{runs}"
