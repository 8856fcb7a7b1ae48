"""What keeps a large table's memory and evaluation time in bounds gives what the plain
computation gives: a table read once while a dataset of it lives (and again once the file
changes), k-means bins counted in chunks, the label classifier on a subset that holds every
class, category combinations counted on integer keys. benchmarks/scale_table.py measures them
on 1,000,000 rows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from veegan.data.own_table import TableDataset
from veegan.evaluation import coverage
from veegan.evaluation.coverage import LabelScorer, NdbBins, combinations_produced


def _table(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=rows).round(3), "n": rng.integers(0, 9, rows),
                         "kind": rng.choice(["a", "b", "c"], rows)})


def test_a_table_is_read_once_while_a_dataset_of_it_lives_and_again_once_it_changes(tmp_path):
    path = tmp_path / "t.parquet"
    _table(200, seed=0).to_parquet(path)
    first = TableDataset(path)
    again = TableDataset(str(path))
    assert again.data is first.data and again.encoding is first.encoding
    assert TableDataset(path, first.table.__class__(holdout=0.3)).data is not first.data  # read otherwise: read again
    _table(200, seed=1).to_parquet(path)  # the same size, rewritten at once
    changed = TableDataset(path)
    assert changed.data is not first.data and not np.array_equal(changed.data.numpy(), first.data.numpy())


def test_bins_counted_in_chunks_are_the_bins_of_all_rows(monkeypatch):
    rows = np.random.default_rng(0).normal(size=(3000, 5)).astype(np.float32)
    whole = NdbBins.fit(rows, bins=12, seed=0)
    monkeypatch.setattr(coverage, "PREDICT_ROWS", 256)  # 12 chunks, the last one short
    chunked = NdbBins.fit(rows, bins=12, seed=0)
    assert np.array_equal(chunked.train_share, whole.train_share)
    assert np.array_equal(whole.train_share, np.bincount(whole.kmeans.predict(rows.astype(np.float64)), minlength=12) / len(rows))


def test_the_label_classifier_beyond_its_rows_reads_every_class_with_the_shares_of_all_rows(monkeypatch):
    rng = np.random.default_rng(0)
    labels = np.where(rng.random(2000) < 0.002, "rare", rng.choice(["a", "b"], 2000))
    labels[1999] = "rare"  # at least one, wherever the subset falls
    features = np.eye(3)[pd.factorize(labels, sort=True)[0]] + rng.normal(0, 0.1, (2000, 3))
    monkeypatch.setattr(coverage, "CLASSIFIER_ROWS", 100)
    scorer = LabelScorer.fit(features, labels, seed=0)
    assert list(scorer.classes) == ["a", "b", "rare"]
    shares = pd.Series(labels).value_counts(normalize=True).sort_index().to_numpy()
    assert np.allclose(scorer.data_share, shares)
    assert scorer.score(features[:50])["classes"] == 3


@pytest.mark.parametrize("high", [3, 2**40])  # keys of one integer, and too wide for one (the sets of tuples)
def test_category_combinations_count_as_sets_of_rows_do(high):
    rng = np.random.default_rng(1)
    reference, samples = rng.integers(0, min(high, 4), (500, 3)), rng.integers(0, min(high, 4) + 1, (80, 3))
    reference[0, 0] = samples[0, 0] = high - 1
    known, produced = set(map(tuple, reference.tolist())), set(map(tuple, samples.tolist()))
    assert combinations_produced(reference, samples) == {"combinations": len(known), "combinations_produced": len(known & produced),
                                                         "combinations_invented": len(produced - known)}
    assert combinations_produced(reference[:, :0], samples[:, :0])["combinations"] == 1
