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
Gaussian mixture fitted to the training rows, its components chosen by BIC (the baseline row).

Memory: beyond 100,000 training rows (``privacy.TRAIN_ROWS_SEARCHED``) only a seeded subset of
that many is held scored, the rows the distance search covers (the subset it drew from all of
them before). The k-means bins, the mixture and the label classifier draw their rows from every
training row as before and score only those; the bins' shares, the category combinations and the
exact copies read every training row scored a chunk at a time: the figures are those of scoring
every row at once, at any size."""
from __future__ import annotations

import inspect
from collections import OrderedDict
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np
import torch

from ..data.table_columns import plain_value
from ..data.table_encoding import category_codes
from . import coverage, privacy
from .coverage import (LabelScorer, NdbBins, class_scores, combinations_produced, default_bins, fit_baseline_mixture, prdc,
                       sample_mixture, seeded_subset)
from .privacy import ClosestRecords, row_keys

if TYPE_CHECKING:
    from ..data.own_table import TableDataset

NEAREST_K = 5
REFERENCE_SEED = 0  # the held-out rows' order, the k-means and classifier fits, the baseline mixture's default seed
CHUNK_ROWS = 64 * 1024  # training rows scored at a time (row keys, category codes, bin shares)


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


def instance_cache(maxsize: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``functools.lru_cache(maxsize)`` for a method, its cache held on the instance and freed
    with it (a class-level lru_cache keeps every instance it has seen alive, and through a
    :class:`CoverageReference` its whole dataset). Calls are keyed by their arguments, defaults
    filled in."""
    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        signature, store = inspect.signature(method), f"_{method.__name__}_cache"

        @wraps(method)
        def cached(self: Any, *args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            key, cache = tuple(bound.arguments.values())[1:], self.__dict__.setdefault(store, OrderedDict())
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
            value = cache[key] = method(self, *args, **kwargs)
            if len(cache) > maxsize:
                cache.popitem(last=False)  # the least recently used
            return value
        return cached
    return decorate


class CoverageReference:
    """What the metrics compare samples with, fitted once per dataset on its training rows. Rows
    are scored as :meth:`TableEncoding.scored_rows` gives them: a numeric column as its
    standardised value (a point mass's value exactly; a sample's clipped and rounded as ``veegan
    sample`` writes it, the real rows as they are), a category one-hot. ``train``: the training
    rows scored, or beyond ``privacy.TRAIN_ROWS_SEARCHED`` of them those the distance search
    covers, drawn with the reference seed (``subset``: their indices; None for every row)."""

    def __init__(self, dataset: TableDataset) -> None:
        self.dataset = dataset
        self.encoding = dataset.encoding
        data = dataset.data.numpy()
        pick = seeded_subset(np.arange(len(data)), privacy.TRAIN_ROWS_SEARCHED, REFERENCE_SEED)
        self.subset = None if len(pick) == len(data) else pick
        self.train = self._train_rows(self.subset)
        self.spans = self.encoding.scored_spans
        labels = dataset.train_labels
        name = dataset.table.labels
        self.label_span = self.encoding.scored_span(name) if labels is not None and name in self.encoding.names else None
        self.labels = None
        if labels is not None:
            self.labels = LabelScorer.fit(self._train_features, label_text(labels), seed=REFERENCE_SEED)
        self.train_codes = np.concatenate([category_codes(rows, self.spans) for rows in self._scored_train()]) if self.spans else None

    def _scored_train(self, facts: bool = False) -> Iterator[np.ndarray]:
        """Every training row scored (with ``facts``: as a sample is), ``CHUNK_ROWS`` at a time."""
        data = self.dataset.data.numpy()
        for start in range(0, len(data), CHUNK_ROWS):
            yield self.encoding.scored_rows(data[start:start + CHUNK_ROWS], facts=facts)

    def _train_rows(self, pick: np.ndarray | None) -> np.ndarray:
        """The training rows at ``pick`` (None: every row), scored."""
        data = self.dataset.data.numpy()
        return self.encoding.scored_rows(data if pick is None else data[pick], facts=False)

    def _drawn_rows(self, limit: int, seed: int) -> np.ndarray:
        """The scored training rows of a fit that draws at most ``limit`` of them with ``seed``
        (:func:`seeded_subset`): those rows alone, drawn from every training row."""
        if self.subset is None:
            return self.train
        return self._train_rows(seeded_subset(np.arange(len(self.dataset.data)), limit, seed))

    def _train_features(self, pick: np.ndarray | None) -> np.ndarray:
        """The classifier's features of the training rows at ``pick`` (None: every row)."""
        return self._features(self.train if self.subset is None and pick is None else self._train_rows(pick))

    def _features(self, rows: np.ndarray) -> np.ndarray:
        """What the classifier reads a class from: the rows without the labels column, if trained
        on; one constant column where nothing else varies (it then reads the commonest class)."""
        features = rows if self.label_span is None else np.delete(rows, slice(*self.label_span), axis=1)
        return features if features.shape[1] else np.zeros((len(rows), 1), dtype=rows.dtype)

    @instance_cache(maxsize=4)
    def bins(self, n: int) -> NdbBins:
        """k-means bins of the training rows, as many as ``n`` samples can test."""
        bins = NdbBins.fit(self._drawn_rows(coverage.KMEANS_ROWS, REFERENCE_SEED), bins=default_bins(n), seed=REFERENCE_SEED)
        if self.subset is None:
            return bins
        counts = sum(np.bincount(bins.kmeans.predict(rows.astype(np.float64)), minlength=bins.bins) for rows in self._scored_train())
        return NdbBins(bins.kmeans, counts / len(self.dataset.data), len(self.dataset.data))  # each bin's share of every row

    @instance_cache(maxsize=4)
    def reference_rows(self, n: int) -> np.ndarray:
        """``n`` held-out rows (all of them, as a run scores), the same ones for every scoring."""
        holdout = self.dataset.holdout.numpy()
        pick = np.random.default_rng(REFERENCE_SEED).permutation(len(holdout))[:n]
        return self.encoding.scored_rows(holdout[np.sort(pick)], facts=False)

    @cached_property
    def closest_records(self) -> ClosestRecords:
        """The training and held-out rows of the privacy check (:mod:`.privacy`), scored as a
        sample is (clipped and rounded), so that a sample copying a training row equals it: the
        keys of every training row, the distance search over ``train``, and only the held-out rows
        it reads (a seeded subset of ``privacy.HOLDOUT_ROWS``)."""
        keys = np.concatenate([row_keys(rows) for rows in self._scored_train(facts=True)])
        holdout = seeded_subset(self.dataset.holdout.numpy(), privacy.HOLDOUT_ROWS, REFERENCE_SEED)
        return ClosestRecords.fit(self.train, keys, self.encoding.scored_rows(holdout), seed=REFERENCE_SEED)

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

    @instance_cache(maxsize=8)
    def baseline_scores(self, n: int, seed: int = REFERENCE_SEED) -> dict[str, Any]:
        """The Gaussian mixture's row: ``n`` samples of the mixture fitted with ``seed`` to the
        training rows as scored, categories made one-hot."""
        mixture = self._mixture(seed)
        samples = hard_categories(sample_mixture(mixture, n, seed=seed).astype(np.float32), self.spans)
        return {**self.score_rows(samples), "components": int(mixture.n_components)}

    @instance_cache(maxsize=4)
    def _mixture(self, seed: int) -> Any:
        return fit_baseline_mixture(self._drawn_rows(coverage.MIXTURE_ROWS, seed), seed=seed)


class TableScorer:
    """The scorer of a user's table (:class:`veegan.data.base.Scorer`)."""

    description = ("k-NN precision/recall/density/coverage (k = 5), NDB/K on k-means bins, classes produced with "
                   "--labels, category combinations, distance to the closest training row; against held-out rows and "
                   "a Gaussian-mixture baseline")

    def ready(self, dataset: Any) -> bool:
        return True

    def __call__(self, dataset: Any, samples: torch.Tensor) -> dict[str, Any]:
        return dataset.coverage.score(samples.detach().cpu().float().numpy())
