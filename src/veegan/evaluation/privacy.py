"""Does the synthetic data leak the training rows? Distance to closest record (DCR), in the
space the coverage metrics score rows in (standardised numeric columns, one-hot categories).

A sample's DCR is its Euclidean distance to the closest training row. Rows that no model saw,
the held-out rows, say how close a new row of the same data falls: a model that learnt the
distribution, not its rows, makes samples whose DCRs look like the held-out rows' DCRs; a model
that copies makes samples at distance 0 (or, with a little noise, far closer than new rows).
:meth:`ClosestRecords.score` gives

- ``dcr_share``: the share of samples closer to a training row than 95 % of the held-out rows
  are (below ``dcr_q05``, the j-th smallest held-out DCR, j = round(0.05 (m + 1)) of m held-out
  rows); ``dcr_expected`` = j / (m + 1), about 0.05, is its expectation for a model that does
  not copy;
- ``exact_copies``: the share of samples equal to a training row, value for value as scored
  (numeric columns clipped and rounded as ``veegan sample`` writes them, so a copy is exact);
  ``exact_copies_holdout``: the share of held-out rows equal to a training row (repeated rows
  of the data itself);
- ``dcr_median`` and ``dcr_holdout_median``, for reading; ``privacy_p`` and ``copying``, the rule.

**The rule** (fixed from statistics, not from results). If the samples were as new to the
training rows as the held-out rows are (exchangeable with them), the number of the n samples
whose DCR falls below the j-th smallest of m held-out DCRs follows a beta-binomial
distribution with parameters (n, j, m - j + 1), whatever the data (the j-th smallest of m draws
sits at a Beta(j, m - j + 1) quantile of their distribution; ties only make the count smaller).
This accounts for the uncertainty of the threshold itself, which a plain binomial test around
5 % ignores: at p < 0.05 that would flag a model that does not copy one time in ten with 70 or
200 held-out rows and as many samples (8.5 % with 5,000 and 2,500). Two one-sided tests:
``dcr_p`` for the samples below ``dcr_q05``, and ``copies_p`` for the exact copies (with c of
the m held-out rows exact copies, the copies among the samples are at most the samples below
the (c + 1)-th smallest held-out DCR: parameters (n, c + 1, m - c)). ``privacy_p`` is the
smaller p-value times 2 (Bonferroni), and ``copying`` is ``privacy_p < 0.01``: a model that
does not copy is flagged in at most 1 % of evaluations. A model whose samples crowd the dense
parts of the data more than new rows do can be flagged without copying any row: the verdict
says which test fired.

**Cost.** Exact copies are found for every training row by 64-bit row hashes (pandas'
``hash_pandas_object``; a false match has odds of about one in 10^10 per evaluation), and take
no distance search; the other rows' DCRs come from scikit-learn's ``NearestNeighbors`` (a k-d
tree up to 15 columns, else its chunked brute-force search: on 2,500 x 100,000 rows of 50
columns, one thread, 0.9 s against 2.0 s for ``torch.cdist`` in float64 blocks as
:mod:`.coverage` does, and within 4e-7 of it), searched among at most ``TRAIN_ROWS_SEARCHED`` =
100,000 training rows, a subset drawn once with the reference seed. Beyond that many rows the DCRs are distances to the subset, for the held-out rows and
the samples alike, so the test stays exact; a model copying rows uniformly from N training
rows then shows 100,000 / N of its copies at distance 0 in ``dcr_share`` (the rest look like
new rows), but ``exact_copies`` still counts every copy of any training row. The held-out
DCRs are computed once, for at most ``HOLDOUT_ROWS`` = 5,000 held-out rows (a seeded subset).
Measured on 800,000 training rows of 70 scored columns, one thread of a busy 2-core EPYC: 4-5 s
once, then 1.5-2.3 s per 2,500 samples (13 s with all 800,000 rows searched)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import betabinom
from sklearn.neighbors import NearestNeighbors

from .coverage import seeded_subset

TRAIN_ROWS_SEARCHED = 100_000  # training rows the distance search covers (exact copies: all of them)
HOLDOUT_ROWS = 5_000  # held-out rows whose DCRs set the threshold
CLOSE_SHARE = 0.05  # the threshold: the held-out DCRs' 5th percentile
FALSE_ALARM = 0.01  # privacy_p below this flags the samples (both tests together)


def row_keys(rows: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of float32 values (pandas' row hash): equal rows, equal keys."""
    frame = pd.DataFrame(np.asarray(rows, dtype=np.float32))
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def excess_p(count: int, n: int, rank: int, m: int) -> float:
    """The chance that ``count`` or more of ``n`` samples fall below the ``rank``-th smallest of
    ``m`` held-out values if samples and held-out rows were exchangeable (beta-binomial
    (n, rank, m - rank + 1) tail); 1 when no sample can exceed (rank beyond m)."""
    if count <= 0 or rank > m:
        return 1.0
    return float(betabinom.sf(count - 1, n, rank, m - rank + 1))


@dataclass
class ClosestRecords:
    """The training rows a sample must not copy, and how far from them the held-out rows fall;
    fitted once per dataset by :meth:`fit`."""

    search: NearestNeighbors  # over at most TRAIN_ROWS_SEARCHED training rows
    train_keys: np.ndarray  # sorted row keys of every training row, scored as a sample is
    holdout_dcr: np.ndarray  # sorted DCRs of at most HOLDOUT_ROWS held-out rows
    holdout_copies: int  # how many of them equal a training row

    @classmethod
    def fit(cls, train: np.ndarray, train_keys: np.ndarray, holdout: np.ndarray, seed: int = 0) -> ClosestRecords:
        """``train``: the training rows to search (a subset of at most 100,000 is drawn with
        ``seed``); ``train_keys``: :func:`row_keys` of every training row scored as a sample is;
        ``holdout``: the held-out rows scored as a sample is (at most 5,000 drawn with ``seed``)."""
        searched = seeded_subset(np.asarray(train, dtype=np.float32), TRAIN_ROWS_SEARCHED, seed)
        records = cls(NearestNeighbors(n_neighbors=1).fit(searched), np.sort(train_keys), np.empty(0), 0)
        dcr, copies = records.distances(seeded_subset(np.asarray(holdout, dtype=np.float32), HOLDOUT_ROWS, seed))
        records.holdout_dcr, records.holdout_copies = np.sort(dcr), int(copies.sum())
        return records

    def is_copy(self, rows: np.ndarray) -> np.ndarray:
        """Whether each row equals a training row, value for value."""
        keys = row_keys(rows)
        at = np.minimum(np.searchsorted(self.train_keys, keys), len(self.train_keys) - 1)
        return self.train_keys[at] == keys

    def distances(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(each row's DCR, whether it is an exact copy): 0 for a copy, else the distance to the
        closest training row searched."""
        rows = np.asarray(rows, dtype=np.float32)
        copies = self.is_copy(rows)
        dcr = np.zeros(len(rows))
        if not copies.all():
            dcr[~copies] = self.search.kneighbors(rows[~copies], return_distance=True)[0][:, 0]
        return dcr, copies

    def score(self, rows: np.ndarray) -> dict[str, Any]:
        """The DCR metrics of ``rows`` (scored as :meth:`TableEncoding.scored_rows` gives a
        sample) and the rule's verdict (see the module's docstring)."""
        dcr, copies = self.distances(rows)
        n, m = len(dcr), len(self.holdout_dcr)
        rank = max(1, round(CLOSE_SHARE * (m + 1)))
        threshold = self.holdout_dcr[rank - 1]
        close, copied = int((dcr < threshold).sum()), int(copies.sum())
        dcr_p, copies_p = excess_p(close, n, rank, m), excess_p(copied, n, self.holdout_copies + 1, m)
        privacy_p = min(1.0, 2 * min(dcr_p, copies_p))
        return {"dcr_share": close / n, "dcr_expected": rank / (m + 1), "dcr_q05": float(threshold),
                "dcr_median": float(np.median(dcr)), "dcr_holdout_median": float(np.median(self.holdout_dcr)),
                "exact_copies": copied / n, "exact_copies_holdout": self.holdout_copies / m,
                "dcr_p": dcr_p, "copies_p": copies_p, "privacy_p": privacy_p, "copying": privacy_p < FALSE_ALARM}


def privacy_verdict(result: dict[str, Any]) -> str:
    """One line: 'privacy: 4.8 % of samples closer to a training row than 95 % of held-out rows
    are (expected 5.0 %), 0.00 % exact copies (held-out rows: 0.00 %): no sign of
    copying', or the flag (:class:`ClosestRecords`' rule) saying which of the two is too high."""
    share, expected = 100 * result["dcr_share"], 100 * result["dcr_expected"]
    copies, held = 100 * result["exact_copies"], 100 * result["exact_copies_holdout"]
    text = (f"privacy: {share:.1f} % of samples closer to a training row than 95 % of held-out rows are (expected "
            f"{expected:.1f} %), {copies:.2f} % exact copies (held-out rows: {held:.2f} %)")
    if not result["copying"]:
        return f"{text}: no sign of copying"
    reasons = [reason for reason, key in (("exact copies", "copies_p"), ("samples this close", "dcr_p"))
               if 2 * result[key] < FALSE_ALARM]
    p = f"p = {result['privacy_p']:.2g}" if result["privacy_p"] >= 1e-10 else "p < 1e-10"
    return f"{text}: FLAGGED, more {' and '.join(reasons)} than new rows show ({p}): the samples copy training rows"
