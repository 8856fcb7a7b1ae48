"""veegan.evaluation.coverage checked where the truth is known: the paper's ring of 8 Gaussians,
its 25-mode grid and a 10-D mixture of 20 well-separated Gaussians (held-out real rows score at
the ceiling, samples collapsed onto one or two modes visibly below), and tiny cases computed by hand."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy.stats import norm

from veegan.evaluation import coverage
from veegan.evaluation.coverage import (LabelScorer, NdbBins, combinations_produced, default_bins, fit_baseline_mixture, prdc,
                                        sample_mixture)

TRAIN, N = 2000, 500  # training rows; held-out rows, samples and reference rows alike


def ring_means() -> np.ndarray:
    angles = np.arange(8) * 2 * np.pi / 8
    return 2 * np.stack([np.cos(angles), np.sin(angles)], 1)


def grid_means() -> np.ndarray:
    return np.stack(np.meshgrid(np.arange(-4, 5, 2.0), np.arange(-4, 5, 2.0)), -1).reshape(-1, 2)


def spread_means() -> np.ndarray:
    return np.random.default_rng(10).normal(0, 3, size=(20, 10))  # about 13 apart, std 0.3


KNOWN = {"ring": (ring_means, 0.02), "grid": (grid_means, 0.05), "mix-d10-k20": (spread_means, 0.3)}


def draw(means: np.ndarray, std: float, n: int, seed: int, modes: int | None = None) -> np.ndarray:
    """``n`` rows from the first ``modes`` of the equal-weight mixture (all of them by default)."""
    rng = np.random.default_rng(seed)
    picked = rng.integers(0, modes or len(means), n)
    return means[picked] + rng.normal(0, std, size=(n, means.shape[1]))


@dataclass
class Known:
    means: np.ndarray
    std: float
    train: np.ndarray
    reference: np.ndarray  # N of the training rows, the k-NN metrics' reference
    held_out: np.ndarray
    bins: NdbBins

    def scores(self, samples: np.ndarray) -> dict:
        return {**prdc(self.reference, samples), **self.bins.score(samples)}

    def chance_empty_bins(self) -> float:
        """How many bins N rows of the training distribution leave empty by chance (a bin expecting
        e >= 1 of them is empty with Poisson probability exp(-e)): bins expecting 1 to 5 are common."""
        expected = N * self.bins.train_share
        return float(np.exp(-expected[expected >= 1]).sum())


@pytest.fixture(scope="module", params=list(KNOWN))
def known(request) -> Known:
    make_means, std = KNOWN[request.param]
    means = make_means()
    train = draw(means, std, TRAIN, seed=0)
    return Known(means, std, train, train[:N], draw(means, std, N, seed=1), NdbBins.fit(train, default_bins(N), seed=0))


def test_held_out_rows_score_at_the_ceiling(known):
    real = known.scores(known.held_out)
    assert min(real["precision"], real["recall"], real["coverage"]) > 0.9, real
    assert 0.8 < real["density"] < 1.2, real
    # a true null: about alpha K bins differ by chance, and a few small bins are left empty (3 standard deviations of slack)
    assert real["bins"] == 100 and real["different_bins"] <= 0.05 * 100 + 3 * np.sqrt(0.05 * 100), real
    chance = known.chance_empty_bins()
    assert real["empty_bins"] <= chance + 3 * np.sqrt(chance) + 1 and real["bin_js"] < 0.05, (real, chance)


def test_fresh_draws_of_every_mode_score_like_held_out_rows(known):
    real, every = known.scores(known.held_out), known.scores(draw(known.means, known.std, N, seed=2))
    for key in ("precision", "recall", "coverage"):
        assert abs(every[key] - real[key]) < 0.05, (key, every, real)
    slack = 3 * np.sqrt(2 * known.chance_empty_bins()) + 1  # both fill all but a few small bins by chance
    assert abs(every["filled_bins"] - real["filled_bins"]) <= slack and every["ndb_k"] <= 0.15, (every, real)


@pytest.mark.parametrize("modes", [1, 2])
def test_collapsed_samples_score_visibly_lower(known, modes):
    real, collapsed = known.scores(known.held_out), known.scores(draw(known.means, known.std, N, seed=3, modes=modes))
    share = modes / len(known.means)  # of the modes the collapsed samples cover
    assert collapsed["coverage"] < share + 0.1 < real["coverage"] - 0.5, (collapsed, real)
    assert collapsed["recall"] < share + 0.1 < real["recall"] - 0.5, (collapsed, real)
    assert collapsed["empty_bins"] >= 0.5 * collapsed["bins"] > real["empty_bins"] + 40, (collapsed, real)
    assert collapsed["filled_bins"] == collapsed["bins"] - collapsed["empty_bins"]
    assert collapsed["ndb_k"] > real["ndb_k"] + 0.5 and collapsed["bin_js"] > real["bin_js"] + 0.3, (collapsed, real)
    assert collapsed["precision"] > 0.9  # what a collapsed model makes is realistic: only coverage shows the collapse


def test_samples_equal_to_the_reference_score_one():
    reference = draw(ring_means(), 0.02, N, seed=4)
    same = prdc(reference, reference.copy(), k=5)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    # duplicated rows (radius 0, as one-hot rows often are) still hold themselves
    categories = np.random.default_rng(0).integers(0, 3, 60)
    codes = np.eye(3)[categories]
    # each copy lies in the balls of all the rows of its category: density = sum of n_c^2 / (k * 60)
    density = (np.bincount(categories) ** 2).sum() / (5 * 60)
    assert prdc(codes, codes.copy(), k=5) == {"precision": 1.0, "recall": 1.0, "density": pytest.approx(density), "coverage": 1.0}


def test_prdc_blocks_add_up(monkeypatch):
    reference, samples = draw(ring_means(), 0.02, 300, seed=5), draw(ring_means(), 0.02, 300, seed=6, modes=3)
    whole = prdc(reference, samples)
    monkeypatch.setattr(coverage, "BLOCK_ROWS", 7)  # 43 blocks, the last one of 6 rows
    assert prdc(reference, samples) == whole


def test_prdc_by_hand():
    # 1-D, k = 1. Reference radii: 0 -> 1, 1 -> 1, 3 -> 2, 10 -> 7; sample radii: 0.5 -> 1, 1.5 -> 0.5, 2.0 -> 0.4, 2.4 -> 0.4
    result = prdc(np.array([[0.0], [1.0], [3.0], [10.0]]), np.array([[0.5], [1.5], [2.0], [2.4]]), k=1)
    assert result["precision"] == 1.0  # each sample lies in the ball of 0, 1 or 3 (2.0 on the surface of 1's)
    assert result["recall"] == 0.5  # 0 and 1 lie in the ball of 0.5; 3 and 10 in no sample ball
    assert result["density"] == pytest.approx((2 + 2 + 2 + 1) / 4)  # balls holding 0.5: 0, 1; 1.5: 1, 3; 2.0: 1, 3; 2.4: 3
    assert result["coverage"] == 0.75  # the ball of 10 (radius 7) holds no sample
    with pytest.raises(ValueError):
        prdc(np.zeros((3, 1)), np.zeros((3, 1)), k=3)  # a k-th neighbour needs k + 1 rows


def two_bins() -> NdbBins:
    """Bins of 500 training rows at 0 and 500 at 10 (1-D)."""
    return NdbBins.fit(np.repeat([[0.0], [10.0]], 500, axis=0), bins=2)


def at_zero_and_ten(zeros: int, tens: int) -> np.ndarray:
    return np.repeat([[0.0], [10.0]], [zeros, tens], axis=0)


def test_ndb_z_test_by_hand():
    bins = two_bins()
    np.testing.assert_allclose(bins.train_share, [0.5, 0.5])
    # 60 of 100 samples at 0, 500 of 1000 training rows: pooled p = 560 / 1100,
    # z = 0.1 / sqrt(p (1 - p) (1/100 + 1/1000)) = 1.9072, two-sided p-value 0.05649
    p = 560 / 1100
    assert 2 * norm.sf(0.1 / np.sqrt(p * (1 - p) * 0.011)) == pytest.approx(0.05649, abs=1e-5)
    sixty = at_zero_and_ten(60, 40)
    assert bins.score(sixty, alpha=0.0564)["different_bins"] == 0
    assert bins.score(sixty, alpha=0.0566) == {**bins.score(sixty), "ndb_k": 1.0, "different_bins": 2}
    assert bins.score(sixty)["ndb_k"] == 0.0  # alpha 0.05
    assert bins.score(at_zero_and_ten(61, 39))["ndb_k"] == 1.0  # z = 2.098, p = 0.036
    assert bins.score(at_zero_and_ten(50, 50))["bin_js"] == 0.0


def test_ndb_empty_bins_and_js_by_hand():
    bins = two_bins()
    # a bin expecting 50 of 100 samples is near empty below 5 of them
    assert bins.score(at_zero_and_ten(96, 4))["empty_bins"] == 1
    assert bins.score(at_zero_and_ten(95, 5))["empty_bins"] == 0
    collapsed = bins.score(at_zero_and_ten(100, 0))
    assert (collapsed["empty_bins"], collapsed["filled_bins"], collapsed["bins"]) == (1, 1, 2)
    # JS([1, 0], [1/2, 1/2]), middle [3/4, 1/4]: (ln(4/3) + (ln(2/3) + ln 2) / 2) / 2
    assert collapsed["bin_js"] == pytest.approx((np.log(4 / 3) + (np.log(2 / 3) + np.log(2)) / 2) / 2)
    # one sample expects half a row in each bin: below one, so no bin counts as empty
    assert bins.score(at_zero_and_ten(1, 0))["empty_bins"] == 0


def test_ndb_fits_a_subsample_and_counts_every_row(monkeypatch):
    train = draw(grid_means(), 0.05, 400, seed=0)
    train = train[np.argsort(train[:, 0])]  # the first 100 rows are the grid's left column
    monkeypatch.setattr(coverage, "KMEANS_ROWS", 100)
    first, again, other = (NdbBins.fit(train, bins=10, seed=s) for s in (0, 0, 1))
    assert np.ptp(first.kmeans.cluster_centers_[:, 0]) > 6  # a subsample of all the rows, not the first ones
    np.testing.assert_array_equal(first.kmeans.cluster_centers_, again.kmeans.cluster_centers_)
    assert not np.array_equal(first.kmeans.cluster_centers_, other.kmeans.cluster_centers_)
    assert first.train_rows == 400 and first.kmeans.n_features_in_ == 2
    np.testing.assert_allclose(first.train_share, np.bincount(first.kmeans.predict(train), minlength=10) / 400)


def test_ndb_bins_never_outnumber_distinct_rows():
    train = np.repeat(np.eye(3), 30, axis=0)
    assert NdbBins.fit(train, bins=10).bins == 3
    assert NdbBins.fit(draw(ring_means(), 0.02, 60, seed=0)).bins == default_bins(60) == 12
    assert (default_bins(3), default_bins(200), default_bins(10**6)) == (4, 40, 100)


def test_baseline_mixture_finds_the_ring_and_samples_reproducibly():
    train = draw(ring_means(), 0.02, TRAIN, seed=0)
    mixture = fit_baseline_mixture(train, seed=0)
    assert mixture.n_components == 8 and mixture.covariance_type == "full"
    first, again, other = (sample_mixture(mixture, N, seed=s) for s in (5, 5, 6))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert sample_mixture(mixture, 4, seed=5).shape == (4, 2)
    # its samples cover the ring as held-out rows do
    assert prdc(train[:N], first)["coverage"] > 0.9


def test_baseline_mixture_on_few_rows_and_singular_columns(monkeypatch):
    assert fit_baseline_mixture(draw(ring_means(), 0.02, 25, seed=0)).n_components <= 2  # one component per 10 rows
    monkeypatch.setattr(coverage, "MIXTURE_ROWS", 30)  # a subsample of 30 rows: at most 3 components
    assert fit_baseline_mixture(draw(ring_means(), 0.02, TRAIN, seed=0)).n_components <= 3
    # two identical columns of scale 1e6: a full covariance stays singular even regularised; diagonal ones do not
    t = np.random.default_rng(0).normal(size=(200, 1)) * 1e6
    assert fit_baseline_mixture(np.hstack([t, t]), max_components=2).covariance_type == "diag"


def three_classes(n: int, seed: int, only: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows of 3 separable classes in 4-D (class c at 5 e_c), class ``only`` if given."""
    rng = np.random.default_rng(seed)
    labels = np.full(n, only) if only is not None else rng.integers(0, 3, n)
    return 5 * np.eye(4)[labels] + rng.normal(0, 0.5, size=(n, 4)), labels


def test_label_scorer_counts_the_classes_produced():
    features, labels = three_classes(600, seed=0)
    scorer = LabelScorer.fit(features, labels, seed=0)
    real = scorer.score(three_classes(600, seed=1)[0])
    assert (real["classes_produced"], real["classes"], real["classifier_accuracy"]) == (3, 3, 1.0)
    assert real["class_kl"] < 0.01
    one = scorer.score(three_classes(100, seed=2, only=1)[0])
    assert (one["classes_produced"], one["classes"]) == (1, 3)
    # KL(p_data || p_model) with p_model = (1e-10, 1, 1e-10)
    p = scorer.data_share
    assert one["class_kl"] == pytest.approx(p[0] * np.log(p[0] / 1e-10) + p[1] * np.log(p[1]) + p[2] * np.log(p[2] / 1e-10))


def test_combinations_by_hand():
    reference = np.array([[0, 0], [0, 1], [1, 0], [0, 1], [2, 2]])
    samples = np.array([[0, 1], [0, 1], [1, 1], [2, 2], [3, 0]])
    assert combinations_produced(reference, samples) == {"combinations": 4, "combinations_produced": 2,
                                                         "combinations_invented": 2}
