"""The sweeps' figures as a reader sees them: every legend lies outside the panels (so that it
hides no curve) and inside the saved picture (so that it is not cut off)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from veegan.data.table_encoding import TableEncoding
from veegan.evaluation.table_plots import plot_table_comparison
from veegan.experiments.beyond2d import plot_beyond2d
from veegan.experiments.curves import plot_curves

METHODS = ("gan", "veegan (rpgan_r1_r2_g1+ema)", "pacgan (rpgan_r1_r2_g1+ema)", "unrolled", "ali (r1+ema)")


@pytest.fixture
def saved(monkeypatch):
    """Every (figure, savefig keyword arguments) the code under test saves."""
    figures: list[tuple[Figure, dict]] = []
    original = Figure.savefig

    def keep(fig, *args, **kwargs):
        figures.append((fig, kwargs))
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    return figures


def _check_legends(fig: Figure, savefig_kwargs: dict) -> int:
    """Asserts the two properties for each legend of ``fig``; returns how many it checked."""
    canvas = FigureCanvasAgg(fig)  # a closed pyplot figure keeps no drawing canvas of its own
    canvas.draw()
    renderer = canvas.get_renderer()
    picture = fig.bbox
    if savefig_kwargs.get("bbox_inches") == "tight":  # what savefig keeps, in display units
        picture = Bbox(fig.get_tightbbox(renderer).get_points() * fig.dpi)
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), f"a legend covers the panel {ax.get_title()!r}"
        assert picture.x0 - 1 <= box.x0 and box.x1 <= picture.x1 + 1, "a legend is cut off at the side"
        assert picture.y0 - 1 <= box.y0 and box.y1 <= picture.y1 + 1, "a legend is cut off at the top or bottom"
    return len(legends)


def _curve(rng: np.random.Generator, steps: int) -> list[dict]:
    return [{"step": 1000 * (i + 1), "modes": float(rng.integers(0, 9)), "high_quality_pct": float(rng.uniform(0, 100)),
             "coverage": None, "ndb_k": None} for i in range(steps)]


def test_curves_legends_sit_beside_the_panels(tmp_path, saved):
    rng = np.random.default_rng(0)
    curves = {dataset: {m: [_curve(rng, 12) for _ in range(3)] for m in METHODS} for dataset in ("ring", "grid", "hd1200")}
    real = {dataset: {"modes": 8.0, "high_quality_pct": 99.0} for dataset in curves}
    plot_curves(curves, real, tmp_path / "curves.png")
    (fig, kwargs), = saved
    assert _check_legends(fig, kwargs) == 3  # one per row


def test_the_familys_legend_sits_below_the_panels(tmp_path, saved):
    rows = [{"method": method, "weights": weights, "separation": separation, "dim": dim, "max_modes": 20,
             "modes_mean": 18.0, "modes_std": 1.0, "high_quality_pct_mean": 60.0, "high_quality_pct_std": 5.0}
            for method in (*METHODS, "real data") for weights in ("equal", "unequal")
            for separation in (2.0, 4.0, 8.0) for dim in (2, 5, 10, 50, 200)]
    plot_beyond2d(rows, list(METHODS), tmp_path / "family.png")
    (fig, kwargs), = saved
    assert _check_legends(fig, kwargs) == 1


def test_the_table_comparisons_legend_sits_above_the_panels(tmp_path, saved):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"length": rng.normal(40, 5, 300), "mass": rng.normal(4000, 800, 300),
                          "species": rng.choice(["Adelie", "Gentoo", "Chinstrap"], 300)})
    encoding = TableEncoding.fit(frame, np.arange(300), categorical=["species"])
    real = encoding.encode(frame)
    panels = {"gan": real + rng.normal(0, 0.3, real.shape), "veegan": real[::-1].copy()}
    plot_table_comparison(panels, real, encoding, [("length", "mass"), ("species", "mass")], tmp_path / "comparison.png")
    (fig, kwargs), = saved
    assert _check_legends(fig, kwargs) == 1


@pytest.mark.parametrize("where, message", [({"loc": "upper left"}, "covers the panel"),
                                             ({"loc": "upper left", "bbox_to_anchor": (1.3, 1.0)}, "cut off")])
def test_the_check_sees_a_hidden_curve_or_a_cut_legend(saved, tmp_path, where, message):
    """The check itself can fail: a legend on the panel's curve, or one outside the picture."""
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="a curve")
    ax.legend(**where)
    fig.savefig(tmp_path / "legend.png")
    (fig, kwargs), = saved
    with pytest.raises(AssertionError, match=message):
        _check_legends(fig, kwargs)
