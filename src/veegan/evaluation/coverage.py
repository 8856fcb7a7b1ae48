"""Coverage metrics for data whose modes nobody knows: rows of numbers already in a transformed
space (standardised continuous columns, one-hot categorical columns), scored against a user's
training rows.

- :class:`NdbBins`: NDB/K on k-means bins (Richardson and Weiss 2018);
- :func:`prdc`: k-NN precision and recall (Kynkaanniemi et al. 2019), density and coverage
  (Naeem et al. 2020);
- :func:`fit_baseline_mixture`, :func:`sample_mixture`: a Gaussian-mixture baseline;
- :class:`LabelScorer`, :func:`class_scores`: classes produced and KL over a class column;
- :func:`combinations_produced`: combinations of categories produced and invented.

Built on scikit-learn (KMeans, NearestNeighbors, GaussianMixture, LogisticRegression). :func:`prdc`
is this module's own, not the ``prdc`` package (0.2), which holds three full N x N distance
matrices: here the k-th neighbour radii come from NearestNeighbors and the real-against-generated
distances are computed in blocks of 2,048 rows with ``torch.cdist``, in float64 (float32 rounding
is a visible share of the squared distances within a tight mode). ``benchmarks/coverage_speed.py``
on 10,000 x 10,000 rows of 100 columns, one thread of a shared AMD EPYC: 5.0 s and a process peak
of 0.7 GB here, 6.9 s and 1.8 GB with the package, whose memory grows with N^2. Equal sample
counts (as many samples as reference rows) are the caller's job: the k-NN metrics and NDB's test
depend on them."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from scipy.stats import norm
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

BLOCK_ROWS = 2048  # rows of one block of the real-against-generated distances
KMEANS_ROWS = 20_000  # k-means is fitted on at most this many training rows
MIXTURE_ROWS = 10_000  # and the mixture baseline on at most this many
CLASSIFIER_ROWS = 50_000  # and the label classifier on at most this many (and one row of each class)
PREDICT_ROWS = 256 * 256  # training rows given to their k-means bins at a time (a multiple of scikit-learn's 256)
MIXTURE_COMPONENTS = (1, 2, 3, 5, 8, 12, 20, 30, 50)  # the counts BIC chooses among
ROWS_PER_COMPONENT = 10  # the mixture has at most one component per this many rows
MIXTURE_REG = 1e-6  # added to covariance diagonals: keeps constant (one-hot) columns invertible
NEAR_EMPTY = 0.1  # a bin is near empty below this share of its expected sample count
TIE = 1e-9  # rounding allowance on squared distances: a point on a ball's surface is inside it
CLASS_FLOOR = 1e-10  # the model's share of a class it never produces, in class_kl
CLASSIFIER_ITERATIONS = 5000


def _rows(x: Any) -> np.ndarray:
    """``x`` as a float64 matrix of rows."""
    rows = np.asarray(x, dtype=np.float64)
    if rows.ndim != 2:
        raise ValueError(f"expected rows x features, got shape {rows.shape}")
    return rows


def seeded_subset(rows: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """At most ``limit`` of ``rows``, drawn without replacement by ``seed``, in their order (``rows``
    itself when no more; the same for the same length; ``seeded_subset(np.arange(n), ...)``: their indices)."""
    return rows if (pick := _subsample_index(len(rows), limit, seed)) is None else rows[pick]


def _subsample_index(n: int, limit: int, seed: int, keep: np.ndarray = np.zeros(0, np.int64)) -> np.ndarray | None:
    """The sorted indices of :func:`seeded_subset`'s rows and of ``keep`` (when drawn), None for all rows."""
    return None if n <= limit else np.union1d(np.random.default_rng(seed).choice(n, limit, replace=False), keep)


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) in nats, with 0 log 0 = 0."""
    held = p > 0
    return float(np.sum(p[held] * np.log(p[held] / q[held])))


# --- k-NN precision, recall, density, coverage ---------------------------------------------------

def _kth_neighbour_radii(points: np.ndarray, k: int) -> np.ndarray:
    """Each point's distance to its k-th nearest other point (the point itself excluded)."""
    distances, _ = NearestNeighbors(n_neighbors=k).fit(points).kneighbors()  # no query: each point skips itself
    return distances[:, -1]


def _ball_hits(centres: np.ndarray, radii: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(for each point, how many of the closed balls (centres, radii) hold it; for each ball,
    whether it holds any point), from the distances of ``BLOCK_ROWS`` points at a time."""
    c = torch.from_numpy(centres)
    reach = torch.from_numpy(np.sqrt(radii ** 2 + TIE * (1 + radii ** 2)))
    counts, held = np.zeros(len(points), dtype=np.int64), torch.zeros(len(centres), dtype=torch.bool)
    for start in range(0, len(points), BLOCK_ROWS):
        inside = torch.cdist(torch.from_numpy(points[start:start + BLOCK_ROWS]), c) <= reach  # block x balls
        counts[start:start + len(inside)] = inside.sum(1).numpy()
        held |= inside.any(0)
    return counts, held.numpy()


def prdc(reference: np.ndarray, samples: np.ndarray, k: int = 5) -> dict[str, float]:
    """k-NN precision and recall (Kynkaanniemi et al. 2019, "Improved precision and recall metric
    for assessing generative models") and density and coverage (Naeem et al. 2020, "Reliable
    fidelity and diversity metrics for generative models").

    Each of the N reference rows X_i and M samples Y_j has a closed ball whose radius is the
    distance to its k-th nearest neighbour in its own set, itself excluded. precision: the share
    of samples inside at least one reference ball; recall: the share of reference rows inside at
    least one sample ball; density: (1 / kM) times the number of (sample, reference ball) pairs
    with the sample inside the ball; coverage: the share of reference balls holding at least one
    sample. Distances are Euclidean, in float64 with a rounding allowance of 1e-9 (1 + r^2) on
    squared distances. Use as many samples as reference rows (the caller's job)."""
    reference, samples = _rows(reference), _rows(samples)
    if not 1 <= k < min(len(reference), len(samples)):
        raise ValueError(f"k = {k} needs 1 <= k < the rows of each set ({len(reference)}, {len(samples)})")
    centre = reference.mean(0)  # distances do not change; rounding shrinks with the norms
    reference, samples = reference - centre, samples - centre
    in_real_balls, real_balls_hit = _ball_hits(reference, _kth_neighbour_radii(reference, k), samples)
    in_sample_balls, _ = _ball_hits(samples, _kth_neighbour_radii(samples, k), reference)
    return {"precision": float((in_real_balls > 0).mean()), "recall": float((in_sample_balls > 0).mean()),
            "density": float(in_real_balls.sum() / (k * len(samples))), "coverage": float(real_balls_hit.mean())}


# --- NDB/K ---------------------------------------------------------------------------------------

def default_bins(n_samples: int) -> int:
    """NDB's number of k-means bins when ``n_samples`` samples will be scored: one bin per five
    samples, so that a bin's expected count is large enough to test, between 4 and the paper's 100."""
    return min(100, max(4, n_samples // 5))


def _proportions_differ(p1: np.ndarray, n1: int, p2: np.ndarray, n2: int, alpha: float) -> np.ndarray:
    """Whether proportions p1 (of n1 draws) and p2 (of n2) differ: pooled two-proportion z-test,
    two-sided p-value below alpha. A bin empty in both never differs."""
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = np.divide(np.abs(p1 - p2), se, out=np.zeros_like(se), where=se > 0)
    return 2 * norm.sf(z) < alpha


@dataclass
class NdbBins:
    """NDB/K (Richardson and Weiss 2018, "On GANs and GMMs"): the training rows cut into K
    k-means bins, against which a set of samples is tested bin by bin."""

    kmeans: KMeans
    train_share: np.ndarray  # each bin's share of all the training rows
    train_rows: int

    @classmethod
    def fit(cls, train: np.ndarray, bins: int | None = None, seed: int = 0) -> NdbBins:
        """k-means (3 starts, ``random_state=seed``) with ``bins`` centres on at most 20,000 of
        the training rows (a subsample drawn by ``seed``), and each bin's share of all of them.
        Pass ``bins=default_bins(number of samples to score)``; ``None`` takes
        ``default_bins(len(train))``. There are never more bins than distinct fitted rows. The
        rows are read in their own dtype: only the fitted ones, and 65,536 rows at a time given
        to their bins, are made float64 (a million rows are never copied whole)."""
        train = np.asarray(train)
        fitted = _rows(seeded_subset(train, KMEANS_ROWS, seed))
        bins = min(default_bins(len(train)) if bins is None else bins, len(np.unique(fitted, axis=0)))
        kmeans = KMeans(n_clusters=bins, n_init=3, random_state=seed).fit(fitted)
        counts = sum(np.bincount(kmeans.predict(_rows(train[start:start + PREDICT_ROWS])), minlength=bins)
                     for start in range(0, len(train), PREDICT_ROWS))
        return cls(kmeans, counts / len(train), len(train))

    @property
    def bins(self) -> int:
        """K, the number of bins."""
        return len(self.train_share)

    def score(self, samples: np.ndarray, alpha: float = 0.05) -> dict[str, Any]:
        """Each sample goes to its nearest centre; with m samples and n training rows:

        - different_bins: bins whose share of the samples differs from their share of the training
          rows (pooled two-proportion z-test, two-sided p < ``alpha``, as in the paper); ndb_k:
          different_bins / K;
        - empty_bins: bins the samples leave near empty: fewer samples than 10 % of the expected
          m * p_train, counted among the bins that expect at least one sample (m * p_train >= 1);
          filled_bins: K - empty_bins, the analogue of modes captured;
        - bin_js: the Jensen-Shannon divergence (natural log) of the two bin-share vectors."""
        m = len(samples)
        counts = np.bincount(self.kmeans.predict(_rows(samples)), minlength=self.bins)
        share, expected = counts / m, m * self.train_share
        different = _proportions_differ(share, m, self.train_share, self.train_rows, alpha)
        empty = int(((expected >= 1) & (counts < NEAR_EMPTY * expected)).sum())
        middle = (share + self.train_share) / 2
        return {"ndb_k": float(different.mean()), "bins": self.bins, "different_bins": int(different.sum()),
                "empty_bins": empty, "filled_bins": self.bins - empty,
                "bin_js": (_kl(share, middle) + _kl(self.train_share, middle)) / 2}


# --- Gaussian-mixture baseline -------------------------------------------------------------------

def _fit_mixture(rows: np.ndarray, components: int, seed: int) -> GaussianMixture:
    """A mixture of ``components`` full-covariance Gaussians, or diagonal ones if the full
    covariances cannot be fitted (scikit-learn's ValueError for an ill-defined covariance)."""
    try:
        return GaussianMixture(components, covariance_type="full", reg_covar=MIXTURE_REG, random_state=seed).fit(rows)
    except ValueError:
        return GaussianMixture(components, covariance_type="diag", reg_covar=MIXTURE_REG, random_state=seed).fit(rows)


def fit_baseline_mixture(train: np.ndarray, seed: int = 0, max_components: int = 50) -> GaussianMixture:
    """A Gaussian mixture fitted to at most 10,000 training rows (a subsample drawn by ``seed``),
    its number of components the one of lowest BIC (Schwarz 1978) among 1, 2, 3, 5, 8, 12, 20,
    30, 50 up to ``max_components`` (at most one component per 10 rows); the search stops once
    BIC has risen twice in a row. Full covariances with 1e-6 added to their diagonals (constant
    one-hot columns stay invertible); diagonal ones for a count where full fails."""
    rows = _rows(seeded_subset(np.asarray(train), MIXTURE_ROWS, seed))  # float64: the subsample alone
    largest = max(1, min(max_components, len(rows) // ROWS_PER_COMPONENT))
    best, best_bic, rises = None, np.inf, 0
    for components in [c for c in MIXTURE_COMPONENTS if c <= largest]:
        mixture = _fit_mixture(rows, components, seed)
        bic = mixture.bic(rows)
        best, best_bic, rises = (mixture, bic, 0) if bic < best_bic else (best, best_bic, rises + 1)
        if rises == 2:  # more components would not pay for themselves
            break
    return best


def sample_mixture(mixture: GaussianMixture, n: int, seed: int) -> np.ndarray:
    """``n`` samples of ``mixture`` in random order, the same for the same seed; the mixture
    itself is left as it was (a copy draws from ``RandomState(seed)``)."""
    rng = np.random.RandomState(seed)
    seeded = copy.copy(mixture)
    seeded.random_state = rng
    rows, _ = seeded.sample(n)  # grouped by component: shuffled below
    return rows[rng.permutation(n)]


# --- class column and category combinations ------------------------------------------------------

def class_scores(classes: np.ndarray, data_share: np.ndarray, produced: np.ndarray) -> dict[str, Any]:
    """The mode count of Stacked MNIST (Metz et al. 2017; Srivastava et al. 2017), for a class
    column: classes_produced, how many of ``classes`` at least one of the ``produced`` labels
    has; classes, len(classes); class_kl, KL(p_data || p_model) in nats over ``classes``, p_model
    the produced labels' shares with each floored at 1e-10 (a class never produced costs
    p_data ln(p_data / 1e-10), about 23 p_data nats, not infinity)."""
    share = (np.asarray(produced)[:, None] == np.asarray(classes)[None]).mean(0)
    return {"classes_produced": int((share > 0).sum()), "classes": len(share),
            "class_kl": _kl(np.asarray(data_share, dtype=np.float64), np.maximum(share, CLASS_FLOOR))}


@dataclass
class LabelScorer:
    """Reads a class for each sample with a logistic regression trained on the training rows'
    features and labels, and scores the classes read with :func:`class_scores`."""

    classifier: LogisticRegression
    data_share: np.ndarray  # the training rows' share of each class, in ``classes`` order
    accuracy: float  # the classifier's accuracy on the training rows it was fitted to

    @property
    def classes(self) -> np.ndarray:
        """The classes of the training labels, sorted."""
        return self.classifier.classes_

    @classmethod
    def fit(cls, train_features: np.ndarray | Callable, train_labels: np.ndarray, seed: int = 0) -> LabelScorer:
        """A logistic regression (lbfgs, up to 5,000 iterations) of the labels on the features,
        the labels' class shares, and the classifier's accuracy on the rows it was fitted to: every
        training row, or beyond 50,000 a subset drawn by ``seed`` with the first row of each class
        added (every class is read; the shares are all the rows'). ``train_features``: every row's, or
        a function giving those of the rows at the sorted indices passed (None: all): only they are made."""
        labels = np.asarray(train_labels)
        _, first, counts = np.unique(labels, return_index=True, return_counts=True)  # sorted, as classifier.classes_ is
        pick = _subsample_index(len(labels), CLASSIFIER_ROWS, seed, keep=first)
        at = slice(None) if pick is None else pick  # every row, or the subset
        features, labels = _rows(train_features(pick) if callable(train_features) else np.asarray(train_features)[at]), labels[at]
        classifier = LogisticRegression(max_iter=CLASSIFIER_ITERATIONS, random_state=seed).fit(features, labels)
        return cls(classifier, counts / counts.sum(), float(classifier.score(features, labels)))

    def score(self, samples: np.ndarray) -> dict[str, Any]:
        """classes_produced, classes and class_kl (:func:`class_scores`) of the classes predicted
        for ``samples``, and classifier_accuracy (on the training rows)."""
        produced = self.classifier.predict(_rows(samples))
        return {**class_scores(self.classes, self.data_share, produced), "classifier_accuracy": self.accuracy}


def combinations_produced(reference_codes: np.ndarray, sample_codes: np.ndarray) -> dict[str, int]:
    """Combinations of categories, from integer codes (rows x categorical columns): combinations,
    the distinct reference rows; combinations_produced, how many of them some sample row equals;
    combinations_invented, the distinct sample rows that no reference row equals. Counted on one
    integer per row where the codes fit in 63 bits (a million reference rows in a second)."""
    reference, samples = np.asarray(reference_codes), np.asarray(sample_codes)
    keys = _row_keys(reference, samples)
    if keys is None:
        known = set(map(tuple, reference.tolist()))
        produced = set(map(tuple, samples.tolist()))
        return {"combinations": len(known), "combinations_produced": len(known & produced),
                "combinations_invented": len(produced - known)}
    known, produced = (k[np.r_[True, k[1:] != k[:-1]]] if len(k) else k for k in map(np.sort, keys))  # np.unique: 100x slower
    shared = len(np.intersect1d(known, produced, assume_unique=True))
    return {"combinations": len(known), "combinations_produced": shared, "combinations_invented": len(produced) - shared}


def _row_keys(*codes: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """Each row of arrays of non-negative integer codes (the same columns) as one int64, equal
    for equal rows; None for other codes, or where their ranges' product exceeds 62 bits."""
    if any(c.ndim != 2 or c.dtype.kind not in "iub" or (c.size and c.min() < 0) for c in codes) or len({c.shape[1] for c in codes}) != 1:
        return None
    sizes = np.max([c.max(0) if len(c) else np.zeros(c.shape[1], np.int64) for c in codes], axis=0).astype(np.int64) + 1
    if np.log2(sizes.astype(np.float64)).sum() >= 62:
        return None
    places = np.cumprod(np.concatenate([[1], sizes]))[:-1].astype(np.int64)
    return tuple((c.astype(np.int64) * places).sum(1) for c in codes)
