"""``veegan compare``: several methods x seeds on one dataset, then a side-by-side density plot
and a metrics table (mean +- std over seeds, with the real-data row)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import torch

from ..api import data_file_for, load
from ..config_values import parse_assignments
from ..configure import resolve_config
from ..errors import VeeganError
from ..evaluation.evaluate import is_scored, short_summary
from ..evaluation.grids import plot_sample_grids
from ..evaluation.plots import plot_densities
from ..evaluation.table_plots import plot_table_comparison
from ..methods import method_labels
from ..nets import is_image
from ..training.checkpoint import CHECKPOINT_NAME
from .curves import write_curves
from .result_store import ResultStore
from .sweep import Job, Launch, run_jobs
from .tables import distinct_rows, format_mean_std, real_rows

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# metric keys and their column titles; a table shows those its dataset's metrics have
COLUMNS = (("high_quality_pct", "% high quality"), ("reverse_kl", "reverse KL"), ("kl", "KL"), ("digits_pct", "digits %"))
# a user's table: (key, title, the key of its maximum or None)
TABLE_COLUMNS = (("coverage", "coverage", None), ("recall", "recall", None), ("precision", "precision", None),
                 ("density", "density", None), ("ndb_k", "NDB/K", None), ("filled_bins", "bins filled", "bins"),
                 ("classes_produced", "classes", "classes"), ("class_kl", "KL over classes", None),
                 ("label_agreement", "label agreement", None),
                 ("combinations_produced", "category combinations", "combinations"), ("dcr_share", "DCR share", None),
                 ("exact_copies", "exact copies", None))


def compare(
    methods: Sequence[str], dataset: str, *, out: str | Path, data: str | Path | pd.DataFrame | np.ndarray | None = None,
    pairs: Sequence[str] = (), seeds: int = 1, steps: int | None = None, overrides: list[str] | None = None,
    workers: int | None = None, launch: Launch = Launch(), results: str | Path | None = None, preset: str | None = None,
    train: bool = True,
) -> dict[str, list[dict[str, Any]]]:
    """Run every (method, seed) under ``out/<method>/seed<k>``, on the built-in ``dataset`` or
    the user's table ``data`` (a file, or a DataFrame or N x D array, written once to
    ``out/data.parquet`` that every run reads); write ``out/comparison.md``, ``out/comparison.json``,
    ``out/comparison.png`` (for a table: principal components and the column ``pairs``, "A:B")
    and ``out/curves.png``. Returns the final metrics by method. See :func:`.sweep.run_jobs` for
    ``workers`` and ``launch``; ``results`` keeps every finished run's small files there, and
    counts the runs kept there as finished (the figure then needs seed 0's runs in ``out``);
    ``preset``: every run's (default: each method's own, :func:`veegan.presets.default_preset`);
    ``train=False`` trains nothing and tabulates the runs finished so far."""
    out = Path(out)
    data = data_file_for(data, out, replaces_run=False)  # a table in memory: one file that every run reads
    extra = parse_assignments(overrides or [])
    labels = method_labels(methods)  # a method of your own by its class name
    jobs = [Job((label, seed), resolve_config(method=method, dataset=dataset, data=data, steps=steps, seed=seed, overrides=extra,
                                                preset=preset),
                out / label / f"seed{seed}")
            for label, method in labels.items() for seed in range(seeds)]
    if data is not None:
        dataset = Path(data).stem
        check_pairs(pairs, jobs[0].config)
    out.mkdir(parents=True, exist_ok=True)
    store = ResultStore(results, out) if results is not None else None
    finals, wall = run_jobs(jobs, workers, store=store, train=train, launch=launch)
    if not finals:
        raise VeeganError(f"no finished runs to tabulate in {out}" + (f" or {results}" if results else "")
                          + " (trained with the same --steps, --set and --preset?)")
    by_method = {label: [finals[(label, seed)] for seed in range(seeds) if (label, seed) in finals] for label in labels}

    table = metrics_table(by_method, dataset)
    if len(finals) < len(jobs):
        table = f"Partial: {len(finals)} of the {len(jobs)} runs have finished.\n\n" + table
    (out / "comparison.md").write_text(table)
    (out / "comparison.json").write_text(json.dumps(by_method, indent=2) + "\n")
    written = [out / "comparison.md"]
    if all((label, 0) in finals and (out / label / "seed0" / CHECKPOINT_NAME).is_file() for label in labels):
        _plot(list(labels), out, pairs)
        written.append(out / "comparison.png")
    else:
        print(f"comparison.png not drawn: it needs every method's finished seed-0 run, with its checkpoint, in {out}"
              + (f" (runs kept in {results} have none)" if results else ""))
    places = {job.key: store.log_place(job.run_dir) if store else job.run_dir for job in jobs if job.key in finals}
    write_curves(places, finals, {job.key: dataset for job in jobs}, out / "curves.png")
    print(table)
    print(f"wrote {', '.join(map(str, written))} and {out / 'curves.png'}; wall time {wall:.0f} s")
    return by_method


def metrics_table(results: dict[str, list[dict[str, Any]]], dataset: str) -> str:
    """A Markdown table, one row per method and a last row for the real data."""
    if any("coverage" in r for rs in results.values() for r in rs):
        return table_metrics_table(results, dataset)
    first = next((r for rs in results.values() for r in rs if "modes" in r), None)
    if first is None:
        return f"No mode metrics for {dataset} (its modes are unknown).\n"
    columns = [("modes", f"modes (max {first['max_modes']})")] + [(k, title) for k, title in COLUMNS if k in first]
    lines = ["| method | runs | " + " | ".join(title for _, title in columns) + " |", "|---" * (len(columns) + 2) + "|"]
    rows = list(results.items()) + [("real data", real_rows(r for rs in results.values() for r in rs))]
    for name, rs in rows:
        cells = [format_mean_std([r.get(key) for r in rs]) for key, _ in columns]
        lines.append(f"| {name} | {len(rs)} | " + " | ".join(cells) + " |")
    rule = (f", {first['hq_rule']} high-quality rule (radius {first['hq_radius']:.3g}; `veegan evaluate --hq-rule paper` "
            "for the paper's)") if "hq_rule" in first else ""
    return f"{dataset}: mean ± std over seeds, {first['samples']} samples per run{rule}\n\n" + "\n".join(lines) + "\n"


def table_metrics_table(results: dict[str, list[dict[str, Any]]], dataset: str,
                        baseline: list[dict[str, Any]] | None = None) -> str:
    """A user's table: a row per method, then the real training rows and the Gaussian mixture
    (the runs' own baseline rows, each distinct one once, or ``baseline``: one per mixture seed)."""
    runs = [r for rs in results.values() for r in rs]
    columns = [c for c in TABLE_COLUMNS if any(c[0] in r for r in runs)]
    lines = ["| method | runs | " + " | ".join(title for _, title, _ in columns) + " |", "|---" * (len(columns) + 2) + "|"]
    baseline = baseline if baseline is not None else distinct_rows(r["baseline"] for r in runs if "baseline" in r)
    rows = list(results.items()) + [("real data (training rows)", real_rows(runs)),
                                    ("Gaussian mixture (BIC)", baseline)]
    for name, rs in rows:
        cells = []
        for key, _, top in columns:
            cell = format_mean_std([r.get(key) for r in rs])
            cells.append(f"{cell} of {rs[0][top]}" if top and rs and rs[0].get(top) is not None else cell)
        lines.append(f"| {name} | {len(rs)} | " + " | ".join(cells) + " |")
    first = runs[0]
    return (f"{dataset}: mean ± std over seeds; {first['samples']} samples per run, k-NN metrics (k = 5) against as many "
            f"held-out rows, NDB/K on {first['bins']} k-means bins of the training rows; the real-data row scores as many "
            f"training rows the same way{_privacy_note(results)}\n\n" + "\n".join(lines) + "\n" + _copying_runs(results))


def _privacy_note(results: dict[str, list[dict[str, Any]]]) -> str:
    """What the DCR share and exact-copy columns mean, when the runs have them."""
    expected = [r["dcr_expected"] for rs in results.values() for r in rs if "dcr_expected" in r]
    if not expected:
        return ""
    return ("; DCR share: the share of samples closer to a training row than 95 % of the held-out rows are (about "
            f"{expected[0]:.2f} for a model that does not copy), exact copies: the share equal to a training row (the "
            "real-data row is training rows, so both are 1: what copying looks like)")


def _copying_runs(results: dict[str, list[dict[str, Any]]]) -> str:
    """A line below the table for each method with runs the privacy check flagged."""
    flagged = {name: sum(bool(r.get("copying")) for r in rs) for name, rs in results.items()}
    return "".join(f"\n{name}: {count} of {len(results[name])} runs flagged as copying training rows (`veegan evaluate` "
                   "says why)\n" for name, count in flagged.items() if count)


def check_pairs(pairs: Sequence[str], config: Any) -> None:
    """Every ``A:B`` of ``--pairs`` names two columns that the runs train on."""
    from ..data.catalog import make_dataset

    names = make_dataset(config.dataset, config.data_file, config.data_dir, config.table).encoding.names
    for pair in pairs:
        parts = pair.split(":")
        if len(parts) != 2 or any(p not in names for p in parts):
            raise VeeganError(f"--pairs {pair!r}: expected A:B, two of the trained columns ({', '.join(names)})")


def _plot(methods: Sequence[str], out: Path, pairs: Sequence[str] = ()) -> None:
    """Seed 0 of every method beside the real data: the samples its final evaluation scored."""
    panels, subtitles = {}, {}
    for method in methods:
        run = load(out / method / "seed0")
        result = run.evaluate()
        panels[method], real = run.evaluation_samples()
        if is_scored(result):
            subtitles[method], subtitles["real data"] = short_summary(result), short_summary(result["real"])
    if run.encoding is not None:  # a table: principal components and column pairs, real against generated
        held_out = run.dataset.holdout.numpy()  # what the metrics compare the samples with
        plot_table_comparison(panels, held_out, run.encoding, [tuple(p.split(":")) for p in pairs], out / "comparison.png",
                              subtitles)
        return
    panels["real data"] = real
    if is_image(run.dataset.shape):  # images: grids of samples
        plot_sample_grids({k: torch.from_numpy(v) for k, v in panels.items()}, out / "comparison.png", subtitles)
        return
    means = run.dataset.means
    plot_densities(panels, out / "comparison.png", means=None if means is None else means.numpy(), subtitles=subtitles)
