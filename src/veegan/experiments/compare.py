"""``veegan compare``: several methods x seeds on one dataset, then a side-by-side density plot
and a metrics table (mean +- std over seeds, with the real-data row)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import torch

from ..api import load
from ..config import parse_assignments
from ..configure import resolve_config
from ..evaluation.evaluate import short_summary
from ..evaluation.grids import plot_sample_grids
from ..evaluation.plots import plot_densities
from ..methods import method_labels
from ..nets import is_image
from .curves import write_curves
from .sweep import Job, Launch, run_jobs
from .tables import format_mean_std

# metric keys and their column titles; a table shows those its dataset's metrics have
COLUMNS = (("high_quality_pct", "% high quality"), ("reverse_kl", "reverse KL"), ("kl", "KL"))


def compare(
    methods: Sequence[str], dataset: str, *, out: str | Path, seeds: int = 1, steps: int | None = None,
    overrides: list[str] | None = None, workers: int | None = None, launch: Launch = Launch(),
) -> dict[str, list[dict[str, Any]]]:
    """Run every (method, seed) under ``out/<method>/seed<k>``; write ``out/comparison.md``,
    ``out/comparison.json``, ``out/comparison.png`` and ``out/curves.png``. Returns the final
    metrics by method. See :func:`.sweep.run_jobs` for ``workers`` and ``launch``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    extra = parse_assignments(overrides or [])
    labels = method_labels(methods)  # a method of your own by its class name
    jobs = [Job((label, seed), resolve_config(method=method, dataset=dataset, steps=steps, seed=seed, overrides=extra),
                out / label / f"seed{seed}")
            for label, method in labels.items() for seed in range(seeds)]
    finals, wall = run_jobs(jobs, workers, launch=launch)
    results = {label: [finals[(label, seed)] for seed in range(seeds)] for label in labels}

    table = metrics_table(results, dataset)
    (out / "comparison.md").write_text(table)
    (out / "comparison.json").write_text(json.dumps(results, indent=2) + "\n")
    _plot(list(labels), out)
    write_curves({job.key: job.run_dir for job in jobs}, finals, {job.key: dataset for job in jobs}, out / "curves.png")
    print(table)
    print(f"wrote {out / 'comparison.md'}, {out / 'comparison.png'} and {out / 'curves.png'}; wall time {wall:.0f} s")
    return results


def metrics_table(results: dict[str, list[dict[str, Any]]], dataset: str) -> str:
    """A Markdown table, one row per method and a last row for the real data."""
    first = next((r for rs in results.values() for r in rs if "modes" in r), None)
    if first is None:
        return f"No mode metrics for {dataset} (its modes are unknown).\n"
    columns = [("modes", f"modes (max {first['max_modes']})")] + [(k, title) for k, title in COLUMNS if k in first]
    lines = ["| method | runs | " + " | ".join(title for _, title in columns) + " |", "|---" * (len(columns) + 2) + "|"]
    rows = list(results.items()) + [("real data", [r["real"] for rs in results.values() for r in rs if "real" in r])]
    for name, rs in rows:
        cells = [format_mean_std([r.get(key) for r in rs]) for key, _ in columns]
        lines.append(f"| {name} | {len(rs)} | " + " | ".join(cells) + " |")
    rule = (f", {first['hq_rule']} high-quality rule (radius {first['hq_radius']:.3g}; `veegan evaluate --hq-rule paper` "
            "for the paper's)") if "hq_rule" in first else ""
    return f"{dataset}: mean ± std over seeds, {first['samples']} samples per run{rule}\n\n" + "\n".join(lines) + "\n"


def _plot(methods: Sequence[str], out: Path) -> None:
    """Seed 0 of every method beside the real data: the samples its final evaluation scored."""
    panels, subtitles = {}, {}
    for method in methods:
        run = load(out / method / "seed0")
        result = run.evaluate()
        panels[method], real = run.evaluation_samples()
        if "modes" in result:
            subtitles[method], subtitles["real data"] = short_summary(result), short_summary(result["real"])
    panels["real data"] = real
    if is_image(run.dataset.shape):  # images: grids of samples
        plot_sample_grids({k: torch.from_numpy(v) for k, v in panels.items()}, out / "comparison.png", subtitles)
        return
    means = run.dataset.means
    plot_densities(panels, out / "comparison.png", means=None if means is None else means.numpy(), subtitles=subtitles)
