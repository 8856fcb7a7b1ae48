"""Datasets (ring, grid, hd1200, the user's arrays) and the mode-collapse metrics."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from veegan.config import ModelConfig
from veegan.data.arrays import load_array
from veegan.data.base import Dataset
from veegan.data.own_table import TableDataset
from veegan.data.catalog import DATASETS, make_dataset
from veegan.data.synthetic import grid, hd1200, high_quality_radius, ring
from veegan.errors import VeeganError
from veegan.evaluation.evaluate import evaluate, format_metrics
from veegan.methods import build_method
from veegan.evaluation.modes import METRIC_KEYS, mode_histogram, mode_metrics, nearest_mode, reverse_kl


@pytest.fixture(scope="module")
def datasets():
    return {name: DATASETS.get(name).build() for name in EXPECTED}


MEMBER = "mix-d50-k20-equal-s4"  # a member of the mixture family (veegan.data.family), tested as the others
EXPECTED = {"ring": (8, 2), "grid": (25, 2), "hd1200": (10, 1200), MEMBER: (20, 50)}


# --------------------------------------------------------------------------------------------
# datasets


@pytest.mark.parametrize("name", ["ring", "grid", "hd1200", MEMBER])
def test_shapes_and_modes(datasets, name):
    ds = datasets[name]
    n_modes, dim = EXPECTED[name]
    assert ds.name == name
    assert ds.dim == dim
    assert ds.means.shape == (n_modes, dim)
    assert ds.weights.shape == (n_modes,)
    assert torch.allclose(ds.weights, torch.full((n_modes,), 1.0 / n_modes))
    g = torch.Generator().manual_seed(0)
    x = ds.sample(37, g)
    assert x.shape == (37, dim)
    assert x.dtype == torch.float32
    assert torch.isfinite(x).all()


def test_registry_names_and_unknown():
    assert {"ring", "grid", "hd1200"} <= set(DATASETS.names())
    with pytest.raises(VeeganError, match="ring"):
        DATASETS.get("moons")


def test_ring_means():
    means = ring().means.double()
    assert torch.allclose(means.norm(dim=1), torch.full((8,), 2.0, dtype=torch.float64), atol=1e-6)
    angles = torch.atan2(means[:, 1], means[:, 0]) % (2 * math.pi)
    expected = torch.tensor([2 * math.pi * k / 8 for k in range(8)], dtype=torch.float64)
    # the k-th mean sits at angle 2*pi*k/8 (mod 2*pi, tolerant to rounding at 0 vs 2*pi)
    diff = (angles - expected + math.pi) % (2 * math.pi) - math.pi
    assert diff.abs().max() < 1e-6
    # 8 distinct means, at least a chord of 2*2*sin(pi/8) apart
    distances = torch.cdist(means, means) + 100 * torch.eye(8, dtype=torch.float64)
    assert distances.min() == pytest.approx(4 * math.sin(math.pi / 8), abs=1e-5)


def test_grid_means():
    means = grid().means
    points = {(round(float(a), 6), round(float(b), 6)) for a, b in means}
    axis = (-4.0, -2.0, 0.0, 2.0, 4.0)
    assert points == {(a, b) for a in axis for b in axis}
    assert len(means) == 25


def test_hd1200_is_the_public_construction(datasets):
    """PacGAN's VEEGAN1200DPackingMixture (docs/protocol.md, "1200-D mixture"): means c_k (1, ..., 1),
    N(0, 1) noise on the first 700 coordinates only, a fixed set of 100,000 from a fixed seed."""
    data = datasets["hd1200"]
    levels = torch.tensor([-1, -0.5, 0, 0.5, -2, -2.5, 10, 0.25, -13, -5.5])
    assert torch.equal(data.means, levels.unsqueeze(1).expand(10, 1200))
    assert data.data.shape == (100_000, 1200)
    assert torch.equal(data.data[:, 700:], data.means[data.labels][:, 700:])  # no noise past coordinate 700
    noise = data.data[:, :700] - data.means[data.labels][:, :700]
    assert abs(noise.mean().item()) < 0.01 and abs(noise.std().item() - 1) < 0.01
    counts = torch.bincount(data.labels, minlength=10)
    assert counts.min() > 9_500 and counts.max() < 10_500  # uniform labels
    again = hd1200()
    assert torch.equal(again.data, data.data)  # the fixed set, again from its seed
    assert not torch.equal(hd1200(size=1_000, seed=1).data, data.data[:1_000])
    batch = data.sample(64, torch.Generator().manual_seed(0))
    rows = torch.randint(100_000, (64,), generator=torch.Generator().manual_seed(0))
    assert torch.equal(batch, data.data[rows])  # a batch is rows of the set, drawn by index


def test_both_high_quality_rules_on_real_data(datasets):
    """Real data is the ceiling of each rule: the paper's 10 std counts none of hd1200's real
    samples (they lie about 26.5 from their mean), the calibrated radius about 99 %; in 2-D the
    two rules are one."""
    from veegan.evaluation.modes import under_rule

    data = datasets["hd1200"]
    result = data.score(data.sample(5_000, torch.Generator().manual_seed(1)))
    assert result["hq_rule"] == "calibrated" and result["high_quality_pct"] > 98 and result["modes"] == 10
    paper = under_rule(result, "paper")
    assert paper["hq_rule"] == "paper" and paper["hq_radius"] == 10 and paper["high_quality_pct"] == 0
    assert paper["modes"] == 0 and paper["reverse_kl"] is None
    ring = datasets["ring"]
    both = ring.score(ring.sample(2_000, torch.Generator().manual_seed(1)))
    assert both["paper_rule"]["high_quality_pct"] == both["high_quality_pct"]


def test_the_earlier_hd1200_is_hd1200_embedded():
    from veegan.data.synthetic import hd1200_embedded

    again = hd1200_embedded()
    assert torch.equal(again.means, hd1200_embedded().means)
    assert torch.equal(again.basis, hd1200_embedded().basis)
    assert again.paper_radius == 10 and 26 < again.hq_radius < 30
    # the basis has orthonormal columns: 700-D modes embedded in 1200-D
    assert again.basis.shape == (1200, 700)
    gram = again.basis.T.double() @ again.basis.double()
    assert torch.allclose(gram, torch.eye(700, dtype=torch.float64), atol=1e-4)


def test_hq_radius(datasets):
    assert datasets["ring"].hq_radius == pytest.approx(3 * 0.02, rel=1e-9)
    assert datasets["grid"].hq_radius == pytest.approx(3 * 0.05, rel=1e-9)
    assert high_quality_radius(1.0, 2) == pytest.approx(3.0, rel=1e-9)
    # in 700-D the radius keeps the same coverage, far beyond 3 std
    assert 26 < datasets["hd1200"].hq_radius < 30


def test_sampling_is_reproducible_with_a_generator(datasets):
    a = datasets["grid"].sample(50, torch.Generator().manual_seed(7))
    b = datasets["grid"].sample(50, torch.Generator().manual_seed(7))
    c = datasets["grid"].sample(50, torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


# --------------------------------------------------------------------------------------------
# metrics


@pytest.mark.parametrize("name", ["ring", "grid", "hd1200", MEMBER])
def test_real_samples_score_all_modes(datasets, name):
    ds = datasets[name]
    x = ds.sample(2500, torch.Generator().manual_seed(0))
    m = mode_metrics(x, ds.means, ds.hq_radius, ds.weights)
    assert set(m) == set(METRIC_KEYS)
    assert m["max_modes"] == len(ds.means)
    assert m["modes"] == len(ds.means)
    assert m["high_quality_pct"] >= 97.5
    assert 0 <= m["reverse_kl"] < 0.05


@pytest.mark.parametrize("name", ["ring", "grid", "hd1200", MEMBER])
def test_collapse_to_one_mode(datasets, name):
    ds = datasets[name]
    k = len(ds.means)
    x = ds.means[k // 2].repeat(2500, 1)
    m = mode_metrics(x, ds.means, ds.hq_radius, ds.weights)
    assert m["modes"] == 1
    assert m["max_modes"] == k
    assert m["high_quality_pct"] == 100.0
    assert m["reverse_kl"] == pytest.approx(math.log(k), rel=1e-6)  # weights are float32


@pytest.mark.parametrize("name", ["ring", "grid", "hd1200", MEMBER])
def test_far_points_score_nothing(datasets, name):
    ds = datasets[name]
    x = torch.full((100, ds.dim), 1000.0)
    m = mode_metrics(x, ds.means, ds.hq_radius, ds.weights)
    assert m["modes"] == 0
    assert m["high_quality_pct"] == 0.0
    assert m["reverse_kl"] is None


def test_reverse_kl_by_hand():
    uniform = torch.full((4,), 0.25)
    # p = (3/4, 1/4, 0, 0): 3/4 log(3) + 1/4 log(1)
    assert reverse_kl(torch.tensor([3, 1, 0, 0]), uniform) == pytest.approx(0.75 * math.log(3), rel=1e-12)
    # matching the weights exactly gives zero
    assert reverse_kl(torch.tensor([5, 5, 5, 5]), uniform) == pytest.approx(0.0, abs=1e-15)
    # non-uniform weights: p = (1/2, 1/2), w = (0.8, 0.2) -> 1/2 log(0.625) + 1/2 log(2.5) = log(1.25)
    assert reverse_kl(torch.tensor([2, 2]), torch.tensor([0.8, 0.2])) == pytest.approx(math.log(1.25), rel=1e-6)
    assert reverse_kl(torch.tensor([0, 0, 0]), torch.full((3,), 1 / 3)) is None


def test_mode_metrics_hand_made_histogram():
    ds = ring()
    means = ds.means
    x = torch.cat([
        means[0].repeat(30, 1),
        means[1].repeat(10, 1),
        torch.full((10, 2), 50.0),  # not high quality: no part in the histogram
    ])
    m = mode_metrics(x, means, ds.hq_radius)
    assert m["modes"] == 2
    assert m["max_modes"] == 8
    assert m["high_quality_pct"] == pytest.approx(80.0)
    # p = (3/4, 1/4) against w = 1/8 each
    expected = 0.75 * math.log(0.75 * 8) + 0.25 * math.log(0.25 * 8)
    assert m["reverse_kl"] == pytest.approx(expected, rel=1e-9)


def test_high_quality_radius_is_the_boundary():
    ds = ring()
    centre = ds.means[2].double()
    direction = torch.tensor([1.0, 1.0], dtype=torch.float64) / math.sqrt(2)
    inside = (centre + 0.05 * direction).float().unsqueeze(0)
    outside = (centre + 0.07 * direction).float().unsqueeze(0)
    counts, hq = mode_histogram(torch.cat([inside, outside]), ds.means, ds.hq_radius)
    assert hq.tolist() == [True, False]
    assert counts.tolist() == [0, 0, 1, 0, 0, 0, 0, 0]


def test_nearest_mode():
    means = grid().means
    x = means[[3, 17, 17, 0]] + torch.tensor([[0.1, 0.0], [0.0, -0.2], [0.3, 0.3], [-0.9, 0.0]])
    index, distance = nearest_mode(x, means)
    assert index.tolist() == [3, 17, 17, 0]
    assert distance.tolist() == pytest.approx([0.1, 0.2, math.hypot(0.3, 0.3), 0.9], abs=1e-6)


# --------------------------------------------------------------------------------------------
# veegan.evaluation


class _Fixed(torch.nn.Module):
    """A stand-in generator that always returns the same points."""

    def __init__(self, points: torch.Tensor) -> None:
        super().__init__()
        self.points = points
        self.seen_training = []

    def sample(self, n, generator=None):
        self.seen_training.append(self.training)
        return self.points[torch.arange(n) % len(self.points)]


@pytest.mark.parametrize("name", ["ring", "grid", "hd1200", MEMBER])
def test_evaluate_collapsed_generator(datasets, name):
    ds = datasets[name]
    k = len(ds.means)
    method = _Fixed(ds.means[:1])
    method.train()
    result = evaluate(method, ds, n=2500, seed=3)
    assert result["samples"] == 2500
    assert result["modes"] == 1 and result["max_modes"] == k
    assert result["high_quality_pct"] == 100.0
    assert result["reverse_kl"] == pytest.approx(math.log(k), rel=1e-6)
    real = result["real"]
    assert real["modes"] == k and real["max_modes"] == k
    assert real["high_quality_pct"] >= 97.5
    # sampled in eval mode, and the training mode restored afterwards
    assert method.seen_training == [False]
    assert method.training


def test_evaluate_real_row_is_seeded(datasets):
    ds = datasets["ring"]
    method = _Fixed(ds.means)
    a = evaluate(method, ds, n=500, seed=1)
    b = evaluate(method, ds, n=500, seed=1)
    c = evaluate(method, ds, n=500, seed=2)
    assert a == b
    assert a["real"]["reverse_kl"] != c["real"]["reverse_kl"]
    # an evaluation does not touch the global random stream
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    evaluate(method, ds, n=100, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_evaluate_real_method_and_format(datasets):
    ds = datasets["ring"]
    model = ModelConfig(latent_dim=3, generator_hidden=(8, 8), reconstructor_hidden=(8, 8), discriminator_hidden=(8,))
    method = build_method("veegan", ds.dim, model, {})
    result = evaluate(method, ds, n=200, seed=0)
    assert set(METRIC_KEYS) <= result.keys() and set(METRIC_KEYS) <= result["real"].keys()
    text = format_metrics(result)
    assert "real data: modes 8/8" in text
    assert text.startswith(f"modes {result['modes']}/8")


def test_evaluate_without_known_modes():
    class Unscored(Dataset):  # a dataset without a scorer (an image folder without a classifier)
        name, dim = "points", 2

        def sample(self, n, generator=None):
            return torch.randn(n, 2, generator=generator)

    ds = Unscored()
    assert ds.means is None
    result = evaluate(_Fixed(torch.zeros(1, 2)), ds, n=50, seed=0)
    assert result == {"samples": 50}
    assert "skipped" in format_metrics(result)


# --------------------------------------------------------------------------------------------
# load_array and make_dataset


def test_load_npy_round_trip(tmp_path):
    x = np.random.default_rng(0).normal(size=(30, 4))
    np.save(tmp_path / "x.npy", x)
    y = load_array(tmp_path / "x.npy")
    assert y.shape == (30, 4)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, x, rtol=1e-6)
    # integers are numbers too
    np.save(tmp_path / "i.npy", np.arange(6).reshape(3, 2))
    np.testing.assert_array_equal(load_array(tmp_path / "i.npy"), [[0, 1], [2, 3], [4, 5]])


def test_load_csv_round_trip(tmp_path):
    x = np.random.default_rng(1).normal(size=(25, 3))
    np.savetxt(tmp_path / "x.csv", x, delimiter=",")
    y = load_array(tmp_path / "x.csv")
    assert y.shape == (25, 3)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, x, rtol=1e-6)
    # a single column stays N x 1
    np.savetxt(tmp_path / "c.csv", x[:, :1], delimiter=",")
    assert load_array(tmp_path / "c.csv").shape == (25, 1)


def _write(tmp_path, name, make):
    path = tmp_path / name
    make(path)
    return path


BAD_FILES = [
    pytest.param("absent.npy", lambda p: None, "does not exist", id="missing"),
    pytest.param("s.npy", lambda p: np.save(p, np.array([["a", "b"], ["c", "d"]])), "not real numbers", id="strings"),
    pytest.param("o.npy", lambda p: np.save(p, np.array([[1, "a"], [2, "b"]], dtype=object), allow_pickle=True),
                 "not a numeric array", id="objects"),
    pytest.param("b.npy", lambda p: np.save(p, np.ones((3, 2), dtype=bool)), "not real numbers", id="bool"),
    pytest.param("c.npy", lambda p: np.save(p, np.ones((3, 2), dtype=complex)), "not real numbers", id="complex"),
    pytest.param("t.csv", lambda p: p.write_text("1,2\n3,x\n"), "not a numeric array", id="csv-text"),
    pytest.param("h.csv", lambda p: p.write_text("a,b\n1,2\n3,4\n"), "not a numeric array", id="csv-header"),
    pytest.param("n.npy", lambda p: np.save(p, np.array([[1.0, np.nan], [0.0, 1.0]])), "NaN", id="nan"),
    pytest.param("n.csv", lambda p: p.write_text("1,2\nnan,3\n"), "NaN", id="csv-nan"),
    pytest.param("i.npy", lambda p: np.save(p, np.array([[1.0, np.inf], [0.0, 1.0]])), "infinite", id="inf"),
    pytest.param("r1.npy", lambda p: np.save(p, np.arange(5.0)), "N x D", id="rank-1"),
    pytest.param("r3.npy", lambda p: np.save(p, np.zeros((2, 2, 2))), "N x D", id="rank-3"),
    pytest.param("one.npy", lambda p: np.save(p, np.zeros((1, 2))), "at least 2 rows", id="one-row"),
    pytest.param("x.txt", lambda p: p.write_text("1,2\n3,4\n"), ".npy or .csv", id="txt"),
    pytest.param("cut.npy", lambda p: p.write_bytes(b"\x93NUMPY\x01\x00v\x00{'descr'"), "truncated or corrupt",
                 id="truncated"),
]


@pytest.mark.parametrize("name, make, needle", BAD_FILES)
def test_load_array_errors(tmp_path, name, make, needle):
    path = _write(tmp_path, name, make)
    with pytest.raises(VeeganError) as info:
        load_array(path)
    message = str(info.value)
    assert name in message
    assert needle in message
    assert "\n" not in message


def test_load_array_rejects_values_that_overflow_float32(tmp_path):
    np.save(tmp_path / "big.npy", np.array([[1e300, 0.0], [0.0, 1.0]]))
    with pytest.raises(VeeganError, match=r"big.npy contains NaN or infinite values \(or values beyond float32's range\)"):
        load_array(tmp_path / "big.npy")


def test_make_dataset_from_file(tmp_path):
    x = np.random.default_rng(0).normal(size=(40, 3))
    np.save(tmp_path / "points.npy", x)
    ds = make_dataset("ring", str(tmp_path / "points.npy"))
    assert isinstance(ds, TableDataset)
    assert ds.name == "points" and ds.dim == 3
    assert ds.means is None and ds.hq_radius is None
    batch = ds.sample(500, torch.Generator().manual_seed(0))
    assert batch.shape == (500, 3)
    # batches are the training rows (standardised), never a held-out one
    encoded = ds.encoding.encode(pd.DataFrame(x, columns=["c0", "c1", "c2"]))
    rows = {tuple(r) for r in encoded[ds.train_rows].tolist()}
    assert {tuple(r) for r in batch.tolist()} <= rows
    assert not {tuple(r) for r in encoded[ds.holdout_rows].tolist()} & rows
    # without a file the name picks the built-in dataset
    assert make_dataset("grid").name == "grid"


def test_means_on_a_line_are_plotted_with_the_samples_spread_across_it():
    """hd1200's means all lie on the line through (1, ..., 1): the density plot's second direction
    is then the samples' widest spread across that line, not an arbitrary one."""
    import numpy as np

    from veegan.evaluation.plots import projection_basis

    means = np.outer(np.arange(10.0), np.ones(5))
    rng = np.random.default_rng(0)
    samples = means[rng.integers(10, size=500)] + np.outer(rng.normal(size=500), [0, 0, 0, 3, -3])
    basis = projection_basis(means, samples)
    np.testing.assert_allclose(basis.T @ basis, np.eye(2), atol=1e-9)
    np.testing.assert_allclose(np.abs(basis[:, 0]), np.ones(5) / np.sqrt(5), atol=1e-9)
    np.testing.assert_allclose(np.abs(basis[:, 1]), np.array([0, 0, 0, 1, 1]) / np.sqrt(2), atol=1e-6)

