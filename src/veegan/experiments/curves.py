"""Collapse over time, as a picture: ``curves.png``, modes captured and % high-quality samples
(on a user's table: k-NN coverage, NDB/K and, where the runs logged it, the privacy check's DCR
share) against training steps for each method of a sweep (mean over seeds, the min-max band
around it), with the real data's level as a dashed line (for the DCR share, the share expected
of a model that does not copy: the real-data row is training rows, which copy by construction).
Read from the evaluations the runs log."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Hashable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..evaluation.privacy import CLOSE_SHARE  # noqa: E402
from ..training import run_dir as runs  # noqa: E402

CURVE_NAME = "curve.json"  # a run's evaluations over training, as a result store keeps them
MODE_METRICS = (("modes", "modes captured"), ("high_quality_pct", "% high-quality samples"))
TABLE_METRICS = (("coverage", "coverage (k-NN, k = 5)"), ("ndb_k", "NDB/K (0 is best)"))
PRIVACY_METRIC = ("dcr_share", "DCR share (samples closer than new rows)")
METRICS = MODE_METRICS + TABLE_METRICS + (PRIVACY_METRIC,)
# drawn at the model's expected level, not the real data's: (the key of that level, its label, its default)
EXPECTED_LEVELS = {"dcr_share": ("dcr_expected", "expected without copying", CLOSE_SHARE)}
# kept in a curve where a dataset's evaluations have them (Stacked MNIST), not drawn
KEPT_EXTRAS = ("kl", "digits_pct")


def metrics_of(records: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """The curves a dataset's evaluations have: a table's (with the DCR share where logged: runs
    from before the privacy check have none) or the modes'."""
    if not any(r.get("coverage") is not None for r in records):
        return MODE_METRICS
    return TABLE_METRICS + ((PRIVACY_METRIC,) if any(r.get("dcr_share") is not None for r in records) else ())


def evaluation_curve(run_dir: Path) -> list[dict[str, Any]]:
    """The run's logged evaluations (step and mode metrics, and KL and digits % where logged), in
    step order; [] when it has none."""
    path = Path(run_dir) / runs.METRICS_LOG_NAME
    if not path.is_file():
        kept = Path(run_dir) / CURVE_NAME
        return json.loads(kept.read_text()) if kept.is_file() else []
    curve = {}
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn last line of a killed run
        if record.get("kind") == "eval" and any(key in record for key, _ in METRICS):
            curve[record["step"]] = {"step": record["step"], **{key: record.get(key) for key, _ in METRICS},
                                     **{key: record[key] for key in KEPT_EXTRAS if key in record}}
    return [curve[step] for step in sorted(curve)]


def plot_curves(
    curves: dict[str, dict[str, list[list[dict[str, Any]]]]], real: dict[str, dict[str, float]], path: str | Path,
) -> Path | None:
    """``curves[dataset][method]``: one curve per seed; ``real[dataset]``: the real data's
    metrics (for the DCR share, its expected level). One row per dataset, one column per metric.
    None when there is nothing to draw."""
    rows = [d for d, methods in curves.items() if any(c for seeds in methods.values() for c in seeds)]
    if not rows:
        return None
    records = {d: [r for seeds in curves[d].values() for c in seeds for r in c] for d in rows}
    width = max(len(metrics_of(records[d])) for d in rows)
    fig, axes = plt.subplots(len(rows), width, figsize=(5.2 * width, 3.4 * len(rows)), squeeze=False)
    for dataset, row_axes in zip(rows, axes):
        metrics = metrics_of(records[dataset])
        for ax in row_axes[len(metrics):]:
            ax.remove()
        row_axes = row_axes[:len(metrics)]
        for (key, title), ax in zip(metrics, row_axes):
            for method, seeds in curves[dataset].items():
                steps, values = _aligned([c for c in seeds if c], key)
                if steps is None:
                    continue
                (line,) = ax.plot(steps, values.mean(axis=0), label=f"{method} ({len(values)})", lw=1.4, marker="o", ms=2.5)
                ax.fill_between(steps, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.2, lw=0)
            level = real.get(dataset, {}).get(key, EXPECTED_LEVELS[key][2] if key in EXPECTED_LEVELS else None)
            if level is not None:
                ax.axhline(level, color="black", ls="--", lw=1,
                           label=EXPECTED_LEVELS[key][1] if key in EXPECTED_LEVELS else "real data")
            ax.set_title(f"{dataset}: {title}", fontsize=10)
            ax.set_xlabel("training step")
            ax.grid(alpha=0.3)
        # beside the row, not on a panel, so that no curve is hidden under it; every panel's lines
        entries: dict[str, Any] = {}
        for ax in row_axes:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                entries.setdefault(label, handle)
        row_axes[-1].legend(list(entries.values()), list(entries), fontsize=8, title="method (seeds)", title_fontsize=8,
                            loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def _aligned(seeds: list[list[dict[str, Any]]], key: str) -> tuple[np.ndarray | None, np.ndarray]:
    """The steps every seed evaluated at, and a (seeds x steps) array of ``key`` there."""
    if not seeds:
        return None, np.empty(0)
    common = sorted(set.intersection(*({r["step"] for r in c if r.get(key) is not None} for c in seeds)))
    if not common:
        return None, np.empty(0)
    values = np.array([[{r["step"]: r[key] for r in c}[step] for step in common] for c in seeds], dtype=float)
    return np.array(common), values


def write_curves(runs_by_key: dict[Hashable, Path], finals: dict[Hashable, dict[str, Any]],
                 dataset_of: dict[Hashable, str], path: str | Path) -> Path | None:
    """curves.png of a sweep: keys are (method label, ..., seed) tuples; ``runs_by_key`` says
    where each run's log is (its run directory, or its kept copy)."""
    curves: dict[str, dict[str, list]] = {}
    real: dict[str, dict[str, list[float]]] = {}
    for key, place in runs_by_key.items():
        dataset = dataset_of[key]
        curves.setdefault(dataset, {}).setdefault(key[0], []).append(evaluation_curve(place))
        final = finals.get(key, {})
        for metric, _ in METRICS:
            # the real row's level, or the model's own expected level (EXPECTED_LEVELS)
            expected = metric in EXPECTED_LEVELS
            source, name = (final, EXPECTED_LEVELS[metric][0]) if expected else (final.get("real", {}), metric)
            if source.get(name) is not None:
                real.setdefault(dataset, {}).setdefault(metric, []).append(source[name])
    levels = {d: {m: float(np.mean(v)) for m, v in metrics.items()} for d, metrics in real.items()}
    return plot_curves(curves, levels, path)

