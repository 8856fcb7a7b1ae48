"""Whether a model covered a user's table, whose modes nobody knows. Samples are scored in the
encoded space (standardised continuous columns, one-hot categories), with equal counts: as
many samples as held-out rows (:mod:`.coverage` holds the metrics):

- k-NN precision, recall (Kynkaanniemi et al. 2019), density and coverage (Naeem et al. 2020),
  k = 5, against the held-out rows, which no network has seen;
- NDB/K (Richardson and Weiss 2018) on k-means bins of the training rows, and the bins the
  samples leave near empty: the analogue of modes captured;
- with a labels column: the classes produced and KL over classes, read from the generated labels
  column when it is trained on (the default; with label_agreement, the share of samples whose
  other columns a logistic regression trained on the training rows reads as their label), else
  by that classifier (as Stacked MNIST's mode count uses its classifier);
- with categorical columns: the combinations of categories in the training rows that the
  samples produce;
- whether the samples copy training rows (:mod:`.privacy`): the share of samples closer to a
  training row than 95 % of the held-out rows are, and the share of exact copies.

As many training rows are scored the same way (the real-data row, the ceiling: a model that
reproduced its training rows exactly would score that; copying them cannot beat it, and its
privacy keys show what copying looks like: every row an exact copy), and so are samples of a
Gaussian mixture fitted to the training rows, its components chosen by BIC (the baseline row)."""
from __future__ import annotations

from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..data.table_columns import plain_value
from ..data.table_encoding import category_codes
from .coverage import (LabelScorer, NdbBins, class_scores, combinations_produced, default_bins, fit_baseline_mixture, prdc,
                       sample_mixture)
from .privacy import ClosestRecords, row_keys

if TYPE_CHECKING:
    from ..data.own_table import TableDataset

NEAREST_K = 5
REFERENCE_SEED = 0  # the held-out rows' order, the k-means and classifier fits, the baseline mixture's default seed
KEY_CHUNK = 100_000  # training rows scored at a time for their row keys


def hard_categories(rows: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """``rows`` with each categorical block made one-hot at its largest value (what a sample
    decodes to)."""
    rows = rows.copy()
    for start, end in spans:
        block = rows[:, start:end]
        rows[:, start:end] = np.eye(end - start, dtype=rows.dtype)[block.argmax(1)]
    return rows



def label_text(values: Any) -> np.ndarray:
    """Class labels as text, the same text for a training label and for the level it was encoded
    as (a float32 0.1 and its stored level 0.10000000149011612 alike)."""
    return np.asarray([str(plain_value(value)) for value in np.asarray(values, dtype=object)])

class CoverageReference:
    """What the metrics compare samples with, fitted once per dataset on its training rows. Rows
    are scored as :meth:`TableEncoding.scored_rows` gives them: a numeric column as its
    standardised value (a point mass's value exactly; a sample's clipped and rounded as ``veegan
    sample`` writes it, the real rows as they are), a category one-hot."""

    def __init__(self, dataset: TableDataset) -> None:
        self.dataset = dataset
        self.encoding = dataset.encoding
        self.train = self.encoding.scored_rows(dataset.data.numpy(), facts=False)
        self.holdout = self.encoding.scored_rows(dataset.holdout.numpy(), facts=False)
        self.spans = self.encoding.scored_spans
        labels = dataset.train_labels
        name = dataset.table.labels
        self.label_span = self.encoding.scored_span(name) if labels is not None and name in self.encoding.names else None
        self.labels = None
        if labels is not None:
            self.labels = LabelScorer.fit(self._features(self.train), label_text(labels), seed=REFERENCE_SEED)
        self.train_codes = category_codes(self.train, self.spans) if self.spans else None

    def _features(self, rows: np.ndarray) -> np.ndarray:
        """What the classifier reads a class from: the rows without the labels column, if trained
        on; one constant column where nothing else varies (it then reads the commonest class)."""
        features = rows if self.label_span is None else np.delete(rows, slice(*self.label_span), axis=1)
        return features if features.shape[1] else np.zeros((len(rows), 1), dtype=rows.dtype)

    @lru_cache(maxsize=4)
    def bins(self, n: int) -> NdbBins:
        """k-means bins of the training rows, as many as ``n`` samples can test."""
        return NdbBins.fit(self.train, bins=default_bins(n), seed=REFERENCE_SEED)

    @lru_cache(maxsize=4)
    def reference_rows(self, n: int) -> np.ndarray:
        """``n`` held-out rows (all of them, as a run scores), the same ones for every scoring."""
        pick = np.random.default_rng(REFERENCE_SEED).permutation(len(self.holdout))[:n]
        return self.holdout[np.sort(pick)]

    @cached_property
    def closest_records(self) -> ClosestRecords:
        """The training and held-out rows of the privacy check (:mod:`.privacy`), scored as a
        sample is (clipped and rounded), so that a sample copying a training row equals it."""
        data = self.dataset.data.numpy()
        keys = np.concatenate([row_keys(self.encoding.scored_rows(data[start:start + KEY_CHUNK]))
                               for start in range(0, len(data), KEY_CHUNK)])
        holdout = self.encoding.scored_rows(self.dataset.holdout.numpy())
        return ClosestRecords.fit(self.train, keys, holdout, seed=REFERENCE_SEED)

    def score(self, samples: np.ndarray) -> dict[str, Any]:
        """Every metric of ``samples`` (encoded rows, categories one-hot)."""
        return self.score_rows(self.encoding.scored_rows(samples))

    def score_rows(self, rows: np.ndarray) -> dict[str, Any]:
        """Every metric of ``rows`` as scored (:meth:`TableEncoding.scored_rows`)."""
        n = len(rows)
        result: dict[str, Any] = dict(prdc(self.reference_rows(n), rows, k=min(NEAREST_K, n - 1)))
        result.update(self.bins(n).score(rows))
        if self.labels is not None:
            result.update(self.labels.score(self._features(rows)) if self.label_span is None else self._trained_label_scores(rows))
        if self.spans:
            result.update(combinations_produced(self.train_codes, category_codes(rows, self.spans)))
        result.update(self.closest_records.score(rows))
        return result

    def _trained_label_scores(self, rows: np.ndarray) -> dict[str, Any]:
        """With the labels column trained on: classes produced and KL over classes read from the
        generated labels column itself, and label_agreement, the share of rows whose other
        columns the classifier reads as their own label (classifier_accuracy: its share on the
        training rows, the real data's ceiling)."""
        code = self.encoding.columns[self.encoding.names.index(self.dataset.table.labels)]
        start, end = self.label_span
        produced = label_text(code.levels)[rows[:, start:end].argmax(1)]
        read = self.labels.classifier.predict(self._features(rows))
        return {**class_scores(self.labels.classes, self.labels.data_share, produced),
                "label_agreement": float(np.mean(read == produced)), "classifier_accuracy": self.labels.accuracy}

    @lru_cache(maxsize=8)
    def baseline_scores(self, n: int, seed: int = REFERENCE_SEED) -> dict[str, Any]:
        """The Gaussian mixture's row: ``n`` samples of the mixture fitted with ``seed`` to the
        training rows as scored, categories made one-hot."""
        mixture = self._mixture(seed)
        samples = hard_categories(sample_mixture(mixture, n, seed=seed).astype(np.float32), self.spans)
        return {**self.score_rows(samples), "components": int(mixture.n_components)}

    @lru_cache(maxsize=4)
    def _mixture(self, seed: int) -> Any:
        return fit_baseline_mixture(self.train, seed=seed)


class TableScorer:
    """The scorer of a user's table (:class:`veegan.data.base.Scorer`)."""

    description = ("k-NN precision/recall/density/coverage (k = 5), NDB/K on k-means bins, classes produced with "
                   "--labels, category combinations, distance to the closest training row; against held-out rows and "
                   "a Gaussian-mixture baseline")

    def ready(self, dataset: Any) -> bool:
        return True

    def __call__(self, dataset: Any, samples: torch.Tensor) -> dict[str, Any]:
        return dataset.coverage.score(samples.detach().cpu().float().numpy())
