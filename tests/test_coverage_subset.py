"""The references of a user's table (veegan.evaluation.table_metrics.CoverageReference) hold
every training row scored up to ``privacy.TRAIN_ROWS_SEARCHED`` of them, and beyond it (here a
cap of 100 rows, monkeypatched) only the seeded subset that the distance search covers, scoring
the rows each other fit draws and reading every row a chunk at a time for the counts: either way
every figure is the plain computation on all rows scored at once, byte for byte. The references'
caches go with them."""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from tests.test_own_table import penguin_like
from veegan.data.own_table import TableDataset
from veegan.data.table_encoding import category_codes
from veegan.evaluation import coverage, privacy, table_metrics
from veegan.evaluation.coverage import (LabelScorer, NdbBins, combinations_produced, default_bins, fit_baseline_mixture, prdc,
                                        seeded_subset)
from veegan.evaluation.privacy import ClosestRecords, row_keys
from veegan.evaluation.table_metrics import CoverageReference, label_text
from veegan.table_config import TableConfig

ROWS = 500  # 400 training rows, 100 held out


@pytest.fixture
def penguins(tmp_path) -> TableDataset:
    """Categorical, boolean, a mixed (integer) and two float columns; the labels scored by a
    classifier (not trained on), so that every part of the references is fitted."""
    path = tmp_path / "penguins.parquet"
    penguin_like(ROWS).to_parquet(path, index=False)
    return TableDataset(path, TableConfig(labels="species", train_labels=False))


def samples_of(dataset: TableDataset, n: int = 80) -> np.ndarray:
    """Encoded rows: some training rows, the others held-out rows with a little noise."""
    rng = np.random.default_rng(1)
    data, held = dataset.data.numpy(), dataset.holdout.numpy()
    noisy = held[rng.choice(len(held), n - 20)] + rng.normal(0, 0.05, (n - 20, data.shape[1])).astype(np.float32)
    return np.vstack([data[rng.choice(len(data), 20, replace=False)], noisy])


def plain_scores(dataset: TableDataset, samples: np.ndarray) -> dict:
    """What the references computed before the cap: every training and held-out row scored."""
    encoding, n = dataset.encoding, len(samples)
    train, holdout = (encoding.scored_rows(d.numpy(), facts=False) for d in (dataset.data, dataset.holdout))
    rows, spans = encoding.scored_rows(samples), encoding.scored_spans
    result = dict(prdc(holdout[np.sort(np.random.default_rng(0).permutation(len(holdout))[:n])], rows, k=5))
    result.update(NdbBins.fit(train, bins=default_bins(n), seed=0).score(rows))
    result.update(LabelScorer.fit(train, label_text(dataset.train_labels), seed=0).score(rows))
    result.update(combinations_produced(category_codes(train, spans), category_codes(rows, spans)))
    keys = row_keys(encoding.scored_rows(dataset.data.numpy()))
    result.update(ClosestRecords.fit(train, keys, encoding.scored_rows(dataset.holdout.numpy()), seed=0).score(rows))
    return result


def test_below_the_cap_every_figure_is_the_plain_computation_on_all_rows(penguins, monkeypatch):
    samples = samples_of(penguins)
    monkeypatch.setattr(table_metrics, "CHUNK_ROWS", 64)  # 7 chunks, the last one short
    reference = CoverageReference(penguins)
    assert reference.subset is None and len(reference.train) == len(penguins.data)
    assert reference.score(samples) == plain_scores(penguins, samples)
    train = penguins.encoding.scored_rows(penguins.data.numpy(), facts=False)
    assert np.array_equal(reference._mixture(0).means_, fit_baseline_mixture(train, seed=0).means_)
    monkeypatch.setattr(privacy, "TRAIN_ROWS_SEARCHED", len(penguins.data))  # at the cap: still every row
    at_cap = CoverageReference(penguins)
    assert at_cap.subset is None and at_cap.score(samples) == reference.score(samples)


def test_above_the_cap_only_the_searched_subset_is_held_and_every_figure_is_unchanged(penguins, monkeypatch):
    for module, name, value in ((privacy, "TRAIN_ROWS_SEARCHED", 100), (privacy, "HOLDOUT_ROWS", 30),
                                (coverage, "CLASSIFIER_ROWS", 50), (coverage, "KMEANS_ROWS", 150), (coverage, "MIXTURE_ROWS", 120),
                                (table_metrics, "CHUNK_ROWS", 64)):
        monkeypatch.setattr(module, name, value)  # every fit draws a subset of the 400 training rows
    reference, data, encoding = CoverageReference(penguins), penguins.data.numpy(), penguins.encoding
    everything = encoding.scored_rows(data, facts=False)
    assert np.array_equal(reference.subset, seeded_subset(np.arange(len(data)), 100, 0)) and len(reference.subset) == 100
    assert np.array_equal(reference.train, everything[reference.subset])  # the rows the search drew from all of them
    samples = samples_of(penguins)
    assert reference.score(samples) == plain_scores(penguins, samples)
    assert np.array_equal(reference._mixture(0).means_, fit_baseline_mixture(everything, seed=0).means_)
    assert np.array_equal(reference._mixture(3).means_, fit_baseline_mixture(everything, seed=3).means_)
    records = reference.closest_records
    assert records.search.n_samples_fit_ == 100 and len(records.holdout_dcr) == 30
    outside = np.setdiff1d(np.arange(len(data)), reference.subset)[:10]
    copied = reference.score(np.vstack([data[outside], data[outside]]))  # copies of rows the search never saw
    assert copied["exact_copies"] == 1.0 and copied["copying"]
    assert reference.bins(40).train_rows == len(data)


def test_the_label_classifier_makes_only_the_features_of_the_rows_it_fits(monkeypatch):
    rng = np.random.default_rng(0)
    labels = rng.choice(["a", "b", "c"], 600)
    features = np.eye(3)[np.searchsorted(["a", "b", "c"], labels)] + rng.normal(0, 0.3, (600, 3))
    asked = []
    monkeypatch.setattr(coverage, "CLASSIFIER_ROWS", 100)
    made = LabelScorer.fit(lambda pick: asked.append(pick) or features[pick], labels, seed=0)
    given = LabelScorer.fit(features, labels, seed=0)
    assert len(asked) == 1 and 100 <= len(asked[0]) <= 103 and np.all(np.diff(asked[0]) > 0)
    assert np.array_equal(made.classifier.coef_, given.classifier.coef_) and made.accuracy == given.accuracy
    monkeypatch.setattr(coverage, "CLASSIFIER_ROWS", 1000)  # every row: the function is asked for all (None)
    assert np.array_equal(LabelScorer.fit(lambda pick: asked.append(pick) or features, labels).classifier.coef_,
                          LabelScorer.fit(features, labels).classifier.coef_) and asked[-1] is None


def test_the_caches_are_the_references_own_and_go_with_them(penguins):
    reference = CoverageReference(penguins)
    assert reference.bins(40) is reference.bins(40) and reference.reference_rows(40) is reference.reference_rows(40)
    assert reference.baseline_scores(40) is reference.baseline_scores(40, 0)  # the default seed, one entry
    assert reference._mixture(0) is reference._mixture(seed=0)
    for n in range(5, 10):
        reference.bins(n)
    assert list(reference._bins_cache) == [(n,) for n in range(6, 10)]  # at most 4, the least recently used dropped
    other = CoverageReference(penguins)
    assert other.bins(40) is not reference.bins(40)
    gone = weakref.ref(reference)
    del reference
    gc.collect()
    assert gone() is None  # no cache outside it keeps it (or its dataset) alive
