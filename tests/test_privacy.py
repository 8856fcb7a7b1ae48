"""The privacy check (veegan.evaluation.privacy) where the truth is known: a "model" that hands
back training rows, or training rows plus a little noise, is flagged; fresh draws from the
distribution the training rows came from are not, and the rule's false-alarm rate holds over
many draws; exact copies are counted right on a table with categorical and integer columns;
and the keys reach `veegan evaluate`, `veegan compare` and the curves of an own-data run."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests import test_figures
from tests.test_cli_errors import cli
from tests.test_own_table import QUICK, penguin_like
from veegan.data.own_table import TableDataset
from veegan.evaluation.privacy import ClosestRecords, excess_p, privacy_verdict, row_keys
from veegan.experiments.curves import evaluation_curve, plot_curves
from veegan.table_config import TableConfig

saved = test_figures.saved  # the figures the code under test saves (a fixture)
CENTRES = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 1.0], [0.0, 3.0, -1.0]])


def draw(n: int, rng: np.random.Generator) -> np.ndarray:
    """Rows of a known distribution, as the metrics score them: three numeric columns from a
    mixture of three Gaussians, and a one-hot category that the component makes likelier."""
    component = rng.integers(0, 3, n)
    numeric = CENTRES[component] + rng.normal(0, 0.7, (n, 3))
    category = np.where(rng.random(n) < 0.7, component, rng.integers(0, 3, n))
    return np.hstack([numeric, np.eye(3)[category]]).astype(np.float32)


def fitted(seed: int, train: int = 1000, held: int = 250) -> tuple[ClosestRecords, np.ndarray, np.random.Generator]:
    """(the reference fitted to ``train`` drawn training rows and ``held`` held-out rows, the
    training rows, the generator to draw more from)."""
    rng = np.random.default_rng(seed)
    rows = draw(train, rng)
    return ClosestRecords.fit(rows, row_keys(rows), draw(held, rng)), rows, rng


@pytest.mark.parametrize("seed", range(3))
def test_a_model_that_hands_back_training_rows_is_flagged(seed):
    records, train, rng = fitted(seed)
    copies = records.score(train[rng.choice(len(train), 250)])
    assert copies["copying"] and copies["exact_copies"] == 1.0 and copies["dcr_share"] == 1.0, copies
    assert copies["dcr_median"] == 0.0 and copies["exact_copies_holdout"] == 0.0
    assert "FLAGGED, more exact copies and samples this close" in privacy_verdict(copies)
    noisy = records.score(train[rng.choice(len(train), 250)] + rng.normal(0, 0.01, (250, 6)).astype(np.float32))
    assert noisy["copying"] and noisy["exact_copies"] == 0.0 and noisy["dcr_share"] > 0.9, noisy
    assert "FLAGGED, more samples this close than new rows show" in privacy_verdict(noisy)
    # a fifth of the samples copied, the rest new: still flagged, the share well above 5 %
    part = np.vstack([train[rng.choice(len(train), 50)], draw(200, rng)])
    some = records.score(part)
    assert some["copying"] and some["exact_copies"] == 0.2 and some["dcr_share"] > 0.2, some


@pytest.mark.parametrize("seed", range(6))
def test_fresh_draws_of_the_same_distribution_are_not_flagged(seed):
    records, _, rng = fitted(seed)
    fresh = records.score(draw(250, rng))
    assert not fresh["copying"] and fresh["exact_copies"] == 0.0, fresh
    assert fresh["dcr_share"] < 0.12 and abs(fresh["dcr_expected"] - 0.05) < 0.005
    assert abs(fresh["dcr_median"] / fresh["dcr_holdout_median"] - 1) < 0.25
    assert privacy_verdict(fresh).endswith(": no sign of copying")


def test_the_false_alarm_rate_holds_with_few_held_out_rows():
    """A 5 % threshold read off 40 held-out rows is itself uncertain: the rule's beta-binomial
    accounts for that, so over 400 tables a model that does not copy (100 samples) is flagged in
    at most 1 % of them (0.5 % in theory). A plain binomial test around 5 % at the same level
    would flag about 7 % of them (27 tables)."""
    flagged = 0
    for seed in range(400):
        records, _, rng = fitted(1000 + seed, train=150, held=40)
        flagged += records.score(draw(100, rng))["copying"]
    assert flagged <= 10  # at a rate of 1 %, 11 or more has odds of 1 in 300


def test_the_tail_is_the_exchangeable_rank_distribution():
    assert excess_p(1, 1, 1, 1) == pytest.approx(0.5)  # one sample below the one held-out value: even odds
    assert excess_p(2, 2, 1, 1) == pytest.approx(1 / 3)  # both below: 1 of the 3 orders
    assert excess_p(0, 10, 1, 5) == 1.0 and excess_p(3, 10, 6, 5) == 1.0  # nothing to exceed


def test_repeated_rows_of_the_data_itself_are_not_copying():
    """Rows that only take a few values repeat in any draw: the held-out rows equal training
    rows as often as new samples do, and that is no sign of copying."""
    rng = np.random.default_rng(0)
    few = lambda n: np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, 2))].reshape(n, 8)  # noqa: E731
    train = few(500)
    records = ClosestRecords.fit(train, row_keys(train), few(100))
    fresh = records.score(few(100))
    assert fresh["exact_copies"] == 1.0 and fresh["exact_copies_holdout"] == 1.0 and not fresh["copying"], fresh


@pytest.fixture
def penguins(tmp_path) -> TableDataset:
    path = tmp_path / "penguins.csv"
    penguin_like(600).to_csv(path, index=False)
    return TableDataset(path, TableConfig(labels="species"))


def test_exact_copies_are_counted_as_sample_writes_them(penguins):
    """Categorical, boolean, integer and rounded columns: a training row whose numbers are off by
    less than their rounding is a copy as ``veegan sample`` writes it; a row with another
    category, or another year, or a held-out row, is not."""
    encoding, data = penguins.encoding, penguins.data.numpy()
    numeric = np.ones(encoding.width, dtype=bool)
    for start, end in encoding.categorical_spans:
        numeric[start:end] = False
    rng = np.random.default_rng(0)
    copies = data[:40] + numeric * rng.normal(0, 1e-4, (40, encoding.width)).astype(np.float32)
    species = data[40:50].copy()
    species[:, :3] = np.roll(species[:, :3], 1, axis=1)  # another species
    year = encoding.columns[encoding.names.index("year")]
    later = data[50:60].copy()
    start, end = encoding.offsets[encoding.names.index("year")]
    other_year = np.where(encoding.decode(later)["year"] == 2007, 2008, 2007)  # within the range: not clipped back
    later[:, start:end] = encoding.encode(penguin_like(10).assign(year=other_year), np.arange(10))[:, start:end]
    assert year.kind == "mixed" and (encoding.decode(later)["year"] == other_year).all()
    samples = np.vstack([copies, species, later, penguins.holdout.numpy()[:40]])
    result = penguins.coverage.score(samples)
    assert result["exact_copies"] == 40 / 100 and result["copying"], result
    real = penguins.coverage.score(data[:100])  # the real-data row: training rows, each a copy
    assert real["exact_copies"] == 1.0 and real["dcr_share"] == 1.0 and real["copying"]
    held = penguins.coverage.score(penguins.holdout.numpy())
    assert held["exact_copies"] == 0.0 and not held["copying"], held


def test_the_keys_reach_evaluate_compare_and_the_curves(capsys, tmp_path, saved):
    data = tmp_path / "penguins.csv"
    penguin_like().to_csv(data, index=False)
    out = tmp_path / "cmp"
    rc, _, err = cli(capsys, "compare", "--data", data, "--methods", "gan", "--labels", "species", "--workers", "1",
                     "--out", out, *QUICK)
    assert rc == 0, err
    table = (out / "comparison.md").read_text()
    header, real = [line for line in table.splitlines() if line.startswith(("| method", "| real data"))]
    assert "| DCR share | exact copies |" in header and real.endswith("| 1.00 | 1.00 |"), table
    assert "what copying looks like" in table
    final = json.loads((out / "gan" / "seed0" / "metrics.json").read_text())
    for row in (final, final["real"], final["baseline"]):
        assert {"dcr_share", "dcr_expected", "exact_copies", "dcr_median", "copying"} <= set(row), row
    assert final["real"]["exact_copies"] == 1.0 and final["real"]["copying"]
    assert all(r["dcr_share"] is not None for r in evaluation_curve(out / "gan" / "seed0"))
    rc, stdout, err = cli(capsys, "evaluate", out / "gan" / "seed0")
    assert rc == 0 and "DCR share" in stdout and "\n  privacy: " in stdout, stdout
    title = "penguins: DCR share (samples closer than new rows)"
    panel, = [ax for fig, _ in saved for ax in fig.axes if ax.get_title() == title]
    dashed, = [line for line in panel.get_lines() if line.get_linestyle() == "--"]  # the model's expectation, not 1
    assert dashed.get_ydata()[0] == pytest.approx(final["dcr_expected"]), dashed.get_ydata()


def test_curves_of_runs_from_before_the_check_have_no_dcr_panel(tmp_path, saved):
    old = [{"step": 1000 * i, "coverage": 0.5, "ndb_k": 0.2} for i in (1, 2)]
    new = [{**r, "dcr_share": 0.06} for r in old]
    plot_curves({"old": {"gan": [old]}, "new": {"gan": [new]}}, {"new": {"dcr_share": 0.05}}, tmp_path / "c.png")
    (fig, _), = saved
    assert [ax.get_title() for ax in fig.axes] == ["old: coverage (k-NN, k = 5)", "old: NDB/K (0 is best)",
                                                   "new: coverage (k-NN, k = 5)", "new: NDB/K (0 is best)",
                                                   "new: DCR share (samples closer than new rows)"]
    dashed = [line for line in fig.axes[-1].get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_ydata()[0] == 0.05 and dashed[0].get_label() == "expected without copying"
