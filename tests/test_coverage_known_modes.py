"""The own-data metrics checked where the truth is known: the paper's ring and grid and a member
of the mixture family, written to a file and read as a user's table would be. Samples that
cover k of the modes must score coverage, recall and filled bins that rise with k, a collapsed
model visibly below one that covers every mode, and held-out real rows at the ceiling."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from veegan.data.catalog import make_dataset
from veegan.data.own_table import TableDataset
from veegan.evaluation.coverage import NdbBins, class_scores, combinations_produced, prdc
from veegan.evaluation.evaluate import score
from veegan.evaluation.modes import nearest_mode

TRAIN_ROWS = 2500


def draw_from_modes(mixture, n: int, modes: list[int], seed: int) -> torch.Tensor:
    """``n`` samples of the mixture from the listed modes only (a model that captured those)."""
    g = torch.Generator().manual_seed(seed)
    kept = []
    while sum(len(k) for k in kept) < n:
        x = mixture.sample(4 * n, g)
        kept.append(x[torch.isin(nearest_mode(x, mixture.means)[0], torch.tensor(modes))])
    return torch.cat(kept)[:n]


def encoded(table: TableDataset, x: torch.Tensor) -> torch.Tensor:
    """Rows of the mixture as the table encodes them (standardised columns c0, c1, ...)."""
    return torch.from_numpy(table.encoding.encode(pd.DataFrame(x.numpy(), columns=table.encoding.names)))


@pytest.fixture(scope="module", params=["ring", "grid", "mix-d10-k20-equal-s4"])
def known(request, tmp_path_factory):
    """(the mixture, its draws read back as a user's table)."""
    mixture = make_dataset(request.param)
    path = tmp_path_factory.mktemp("known") / f"{request.param}.npy"
    np.save(path, mixture.sample(TRAIN_ROWS, torch.Generator().manual_seed(0)).numpy())
    return mixture, TableDataset(path)


def test_coverage_tracks_the_modes_captured(known):
    mixture, table = known
    n, modes = len(table.holdout), len(mixture.means)
    real = table.real_rows(n, torch.Generator().manual_seed(1))
    results = {k: score(table, encoded(table, draw_from_modes(mixture, n, list(range(k)), seed=k)), real)
               for k in (1, max(2, modes // 4), modes)}
    one, some, every = results.values()
    for key in ("coverage", "recall", "filled_bins"):
        assert one[key] < some[key] < every[key], (key, {k: r[key] for k, r in results.items()})
    assert every["coverage"] > one["coverage"] + 0.5 and every["recall"] > one["recall"] + 0.5
    assert one["ndb_k"] > every["ndb_k"] + 0.3
    # all modes is as good as held-out real data, the ceiling (same counts, same references)
    assert abs(every["coverage"] - every["real"]["coverage"]) < 0.1
    assert abs(every["filled_bins"] - every["real"]["filled_bins"]) <= 0.05 * every["bins"]
    assert every["real"]["ndb_k"] <= 0.2 and every["real"]["precision"] > 0.9
    # the Gaussian-mixture baseline of a separable mixture covers it too
    assert every["baseline"]["coverage"] > one["coverage"] + 0.3


def test_prdc_by_hand():
    # 1-D, k = 1: reference radii are distances to the nearest other point
    reference = np.array([[0.0], [1.0], [3.0]])  # radii 1, 1, 2
    samples = np.array([[0.5], [10.0], [2.0]])  # radii 1.5, 8, 1.5
    result = prdc(reference, samples, k=1)
    assert result["precision"] == pytest.approx(2 / 3)  # 0.5 and 2.0 lie in reference balls; 10 does not
    assert result["recall"] == pytest.approx(1.0)  # every reference point lies in some sample ball (10's radius 8)
    assert result["coverage"] == pytest.approx(1.0)  # 0.5 in balls of 0 and 1; 2.0 in the ball of 3
    assert result["density"] == pytest.approx((2 + 0 + 2) / 3)  # 0.5 in balls 0, 1; 2.0 in balls 1 (|1-2| <= 1), 3
    same = prdc(reference, reference, k=1)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0


def test_ndb_z_test_and_empty_bins_by_hand():
    train = np.concatenate([np.zeros((500, 1)), np.full((500, 1), 10.0)])
    bins = NdbBins.fit(train, bins=2)
    np.testing.assert_allclose(bins.train_share, [0.5, 0.5])
    balanced = bins.score(np.concatenate([np.zeros((50, 1)), np.full((50, 1), 10.0)]))
    assert balanced["ndb_k"] == 0 and balanced["empty_bins"] == 0 and balanced["filled_bins"] == 2
    # 100 samples all in one bin: z = 0.5 / sqrt(p(1-p)(1/100 + 1/1000)) with p = 0.5 ~ 9.5, p << 0.05
    collapsed = bins.score(np.zeros((100, 1)))
    assert collapsed["ndb_k"] == 1 and collapsed["empty_bins"] == 1 and collapsed["filled_bins"] == 1
    # 60 / 40 of 100 against 50 / 50 of 1000: z = 0.1 / sqrt(0.2482 * 0.011) = 1.91, p = 0.056: not different
    slight = bins.score(np.concatenate([np.zeros((60, 1)), np.full((40, 1), 10.0)]))
    assert slight["ndb_k"] == 0
    # JS([1, 0], [0.5, 0.5]) with M = [0.75, 0.25]: 0.5 (ln(4/3)) + 0.5 (0.5 ln(2/3) + 0.5 ln 2)
    assert collapsed["bin_js"] == pytest.approx(0.5 * np.log(4 / 3) + 0.25 * (np.log(2 / 3) + np.log(2)))


def test_class_scores_and_combinations_by_hand():
    classes, share = np.array(["a", "b", "c"]), np.array([0.5, 0.25, 0.25])
    assert class_scores(classes, share, np.array(["a", "a", "b", "c"]))["class_kl"] == pytest.approx(0.0)
    missing = class_scores(classes, share, np.array(["a", "b"]))
    assert missing["classes_produced"] == 2 and missing["class_kl"] > 5
    combos = combinations_produced(np.array([[0, 0], [0, 1], [1, 0]]), np.array([[0, 0], [0, 0], [1, 1]]))
    assert combos == {"combinations": 3, "combinations_produced": 1, "combinations_invented": 1}
