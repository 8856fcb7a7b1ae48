"""Seeing whether a model covered a user's table: real held-out rows against each method's
samples, on the two leading principal components of the encoded rows, and on column pairs
the user names, in the table's own units."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from ..data.table_columns import CATEGORICAL  # noqa: E402
from ..data.table_encoding import TableEncoding  # noqa: E402

REAL_STYLE = {"s": 7, "color": "0.55", "alpha": 0.55, "lw": 0}
SAMPLE_STYLE = {"s": 7, "color": "tab:red", "alpha": 0.55, "lw": 0}


def _numeric(frame: pd.DataFrame, name: str, encoding: TableEncoding, rng: np.random.Generator) -> np.ndarray:
    """A column as numbers to plot: a category as its index, jittered so that its points spread; a
    date as its units since 1970."""
    code = next(c for c in encoding.columns if c.name == name)
    if code.kind != CATEGORICAL:
        return code.numbers(frame[name])
    index = pd.Index(code.levels).get_indexer(frame[name].to_numpy())
    return index + rng.uniform(-0.25, 0.25, len(index))


def _label_categories(ax: plt.Axes, axis: str, name: str, encoding: TableEncoding) -> None:
    """A categorical column's axis: a tick per category, named by its label."""
    code = next(c for c in encoding.columns if c.name == name)
    if code.kind == CATEGORICAL:
        getattr(ax, f"set_{axis}ticks")(range(len(code.levels)), [str(level) for level in code.levels])


def plot_table_comparison(
    panels: Mapping[str, np.ndarray], real: np.ndarray, encoding: TableEncoding, pairs: Sequence[tuple[str, str]],
    path: str | Path, subtitles: Mapping[str, str] | None = None,
) -> Path:
    """One column per method; the first row the principal components (fitted on the real rows),
    then a row per column pair. Grey: held-out real rows; red: the method's samples."""
    subtitles = subtitles or {}
    pca = PCA(n_components=min(2, real.shape[1]), random_state=0).fit(real)
    ratio = pca.explained_variance_ratio_
    frames = {name: encoding.decode(rows) for name, rows in panels.items()}
    real_frame = encoding.decode(real)
    rows = 1 + len(pairs)
    fig, axes = plt.subplots(rows, len(panels), figsize=(3.6 * len(panels), 3.3 * rows), squeeze=False)
    real_pc = pca.transform(real)
    for col, (name, samples) in enumerate(panels.items()):
        ax = axes[0, col]
        pc = pca.transform(samples)
        ax.scatter(real_pc[:, 0], real_pc[:, -1], label="real (held out)", **REAL_STYLE)
        ax.scatter(pc[:, 0], pc[:, -1], label="generated", **SAMPLE_STYLE)
        ax.set_title(f"{name}\n{subtitles.get(name, '')}", fontsize=9)
        ax.set_xlabel(f"PC 1 ({100 * ratio[0]:.0f} % of the variance)", fontsize=8)
        ax.set_ylabel(f"PC 2 ({100 * ratio[-1]:.0f} %)", fontsize=8)
        for row, (a, b) in enumerate(pairs, start=1):
            ax = axes[row, col]
            rng = np.random.default_rng(0)
            ax.scatter(_numeric(real_frame, a, encoding, rng), _numeric(real_frame, b, encoding, rng), **REAL_STYLE)
            ax.scatter(_numeric(frames[name], a, encoding, rng), _numeric(frames[name], b, encoding, rng), **SAMPLE_STYLE)
            ax.set_xlabel(a, fontsize=8)
            ax.set_ylabel(b, fontsize=8)
            _label_categories(ax, "x", a, encoding)
            _label_categories(ax, "y", b, encoding)
    for ax in axes.flat:
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    # the axes of a row share one range, so that methods compare by eye
    for row in axes:
        for axis in ("x", "y"):
            limits = np.array([getattr(ax, f"get_{axis}lim")() for ax in row])
            for ax in row:
                getattr(ax, f"set_{axis}lim")(limits[:, 0].min(), limits[:, 1].max())
    # above the panels, not on one, so that it hides none of the points
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", ncol=len(names), fontsize=8, markerscale=2, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
