"""Whether a model covered a user's table, whose modes nobody knows. Samples are scored in the
encoded space (standardised continuous columns, one-hot categories), with equal counts: as
many samples as held-out rows (:mod:`.coverage` holds the metrics):

- k-NN precision, recall (Kynkaanniemi et al. 2019), density and coverage (Naeem et al. 2020),
  k = 5, against the held-out rows, which no network has seen;
- NDB/K (Richardson and Weiss 2018) on k-means bins of the training rows, and the bins the
  samples leave near empty: the analogue of modes captured;
- with a labels column: the classes produced and KL over classes, from a logistic regression
  trained on the training rows (as Stacked MNIST's mode count uses its classifier);
- with categorical columns: the combinations of categories in the training rows that the
  samples produce.

As many training rows are scored the same way (the real-data row, the ceiling: a model that
reproduced its training rows exactly would score that; copying them cannot beat it), and so are
samples of a Gaussian mixture fitted to the training rows, its components chosen by BIC (the
baseline row)."""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .coverage import (LabelScorer, NdbBins, class_scores, combinations_produced, default_bins, fit_baseline_mixture, prdc,
                       sample_mixture)

if TYPE_CHECKING:
    from ..data.own_table import TableDataset

NEAREST_K = 5
REFERENCE_SEED = 0  # the held-out rows' order, the k-means and classifier fits, the baseline mixture's default seed


def hard_categories(rows: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """``rows`` with each categorical block made one-hot at its largest value (what a sample
    decodes to)."""
    rows = rows.copy()
    for start, end in spans:
        block = rows[:, start:end]
        rows[:, start:end] = np.eye(end - start, dtype=rows.dtype)[block.argmax(1)]
    return rows


class CoverageReference:
    """What the metrics compare samples with, fitted once per dataset on its training rows."""

    def __init__(self, dataset: TableDataset) -> None:
        self.dataset = dataset
        self.train, self.holdout = dataset.data.numpy(), dataset.holdout.numpy()
        self.encoding = dataset.encoding
        self.spans = dataset.categorical_spans
        labels = dataset.train_labels
        self.trained_labels = dataset.table.train_labels and labels is not None
        self.labels = None
        if labels is not None and not self.trained_labels:
            self.labels = LabelScorer.fit(self.train, np.asarray(labels).astype(str), seed=REFERENCE_SEED)
        self.train_codes = self.encoding.category_codes(self.train) if self.spans else None

    @lru_cache(maxsize=4)
    def bins(self, n: int) -> NdbBins:
        """k-means bins of the training rows, as many as ``n`` samples can test."""
        return NdbBins.fit(self.train, bins=default_bins(n), seed=REFERENCE_SEED)

    @lru_cache(maxsize=4)
    def reference_rows(self, n: int) -> np.ndarray:
        """``n`` held-out rows (all of them, as a run scores), the same ones for every scoring."""
        pick = np.random.default_rng(REFERENCE_SEED).permutation(len(self.holdout))[:n]
        return self.holdout[np.sort(pick)]

    def score(self, samples: np.ndarray) -> dict[str, Any]:
        """Every metric of ``samples`` (encoded rows, categories one-hot)."""
        n = len(samples)
        result: dict[str, Any] = dict(prdc(self.reference_rows(n), samples, k=min(NEAREST_K, n - 1)))
        result.update(self.bins(n).score(samples))
        if self.labels is not None:
            result.update(self.labels.score(samples))
        elif self.trained_labels:
            result.update(self._trained_label_scores(samples))
        if self.spans:
            result.update(combinations_produced(self.train_codes, self.encoding.category_codes(samples)))
        return result

    def _trained_label_scores(self, samples: np.ndarray) -> dict[str, Any]:
        """Classes produced and KL over classes, read from the generated labels column itself."""
        name = self.dataset.table.labels
        produced = self.encoding.decode(samples)[name].astype(str).to_numpy()
        classes, counts = np.unique(np.asarray(self.dataset.train_labels).astype(str), return_counts=True)
        return class_scores(classes, counts / counts.sum(), produced)

    @lru_cache(maxsize=8)
    def baseline_scores(self, n: int, seed: int = REFERENCE_SEED) -> dict[str, Any]:
        """The Gaussian mixture's row: ``n`` samples of the mixture fitted with ``seed``,
        categories made one-hot."""
        mixture = self._mixture(seed)
        samples = hard_categories(sample_mixture(mixture, n, seed=seed).astype(np.float32), self.spans)
        return {**self.score(samples), "components": int(mixture.n_components)}

    @lru_cache(maxsize=4)
    def _mixture(self, seed: int) -> Any:
        return fit_baseline_mixture(self.train, seed=seed)


class TableScorer:
    """The scorer of a user's table (:class:`veegan.data.base.Scorer`)."""

    description = ("k-NN precision/recall/density/coverage (k = 5), NDB/K on k-means bins, classes produced with "
                   "--labels, category combinations; against held-out rows and a Gaussian-mixture baseline")

    def ready(self, dataset: Any) -> bool:
        return True

    def __call__(self, dataset: Any, samples: torch.Tensor) -> dict[str, Any]:
        return dataset.coverage.score(samples.detach().cpu().float().numpy())
