"""Density-plot figures of a sweep's finished runs, like the paper's Figure 2: one row per group
of runs, the real data first, then one panel per column, each the lowest finished seed whose
final samples are at hand (kept in a result store, or written from the run's checkpoint)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from ..evaluation.evaluate import short_summary
from ..evaluation.plots import DensityRow, plot_density_grid
from .result_store import ResultStore
from .sweep import Job


def density_figure(
    jobs: Sequence[Job], store: ResultStore, path: Path, row: Callable[[Job], str],
    column: Callable[[Job], str], seed: Callable[[Job], int],
) -> Path | None:
    """Write the figure of ``jobs`` to ``path`` (None if no run is at hand): rows by ``row(job)``,
    columns by ``column(job)``; a panel from another seed than 0 says so in its title."""
    rows = []
    for name in dict.fromkeys(map(row, jobs)):
        mine = sorted((job for job in jobs if row(job) == name), key=seed)
        panels, subtitles, arrays = {}, {}, None
        for title in dict.fromkeys(map(column, mine)):
            found = next(((job, panel) for job in mine
                          if column(job) == title and (panel := store.figure_panel(job.run_dir))), None)
            if found is None:
                continue
            job, (arrays, final) = found
            if not panels:
                panels["real data"], subtitles["real data"] = arrays["real"], short_summary(final["real"])
            title = title if seed(job) == 0 else f"{title} (seed {seed(job)})"
            panels[title], subtitles[title] = arrays["generated"], short_summary(final)
        if arrays is not None:
            rows.append(DensityRow(name, panels, arrays.get("means"), subtitles, projected="basis" in arrays))
    return plot_density_grid(rows, path) if rows else None
