"""The user's own table as a dataset: read (:mod:`.table_files`), checked, split into training
and held-out rows with a fixed seed, and encoded (:mod:`.table_encoding`). Training draws
encoded training rows; evaluation scores samples against the held-out rows, which no network
ever sees, beside the training rows themselves (:mod:`veegan.evaluation.table_metrics`)."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import VeeganError
from ..table_config import TableConfig
from .base import Dataset, draw
from .table_encoding import TableEncoding, is_categorical_dtype, is_constant
from .table_files import read_table

MIN_HELD_OUT = 5  # rows; fewer cannot score anything


def select_columns(frame: pd.DataFrame, table: TableConfig, source: Path) -> tuple[pd.DataFrame, pd.Series | None]:
    """(the columns to train on, the labels column or None), every check done: unknown column
    names, missing cells (refused, or their rows dropped), only constant columns (a constant
    column among others is kept: its value is given back in every sample), categories with too
    many levels."""
    wanted = list(table.columns) if table.columns is not None else [c for c in frame.columns if c != table.labels]
    named = wanted + [n for n in (table.labels, *table.categorical) if n is not None]
    unknown = [name for name in dict.fromkeys(named) if name not in frame.columns]
    if unknown:
        raise VeeganError(f"data file {source} has no column {', '.join(map(repr, unknown))}; its columns: {_listing(frame.columns)}")
    if table.train_labels and table.labels not in wanted:
        wanted.append(table.labels)
    if not wanted:
        raise VeeganError(f"data file {source}: no column left to train on (the only column is the labels column)")
    used = list(dict.fromkeys(wanted + ([table.labels] if table.labels else [])))
    frame = frame[used]
    empty = frame.isna()
    if empty.to_numpy().any():
        if table.missing == "error":
            row, col = np.argwhere(empty.to_numpy())[0]
            raise VeeganError(f"data file {source} has {int(empty.to_numpy().sum())} missing (empty or NaN) cells (the first in column "
                              f"{frame.columns[col]!r}, data row {row + 1}): fill them, or drop their rows with "
                              "--set table.missing=drop")
        frame = frame[~empty.to_numpy().any(axis=1)].reset_index(drop=True)
    if len(frame) < 2 * MIN_HELD_OUT:
        raise VeeganError(f"data file {source} has {len(frame)} complete rows: at least {2 * MIN_HELD_OUT} are needed")
    for name in wanted:
        frame[name] = _modelled(frame[name], name in table.categorical, source)
    if all(is_constant(frame[name]) for name in wanted):
        raise VeeganError(f"every column of {source} to train on is constant: there is nothing to learn")
    for name in wanted:
        series = frame[name]
        if not (name in table.categorical or is_categorical_dtype(series)):
            continue
        distinct = series.nunique()
        if distinct > table.max_levels:
            raise VeeganError(f"column {name!r} of {source} has {distinct:,} distinct values, more than table.max_levels "
                              f"({table.max_levels}) categories: an identifier or free text? leave it out with --columns")
    return frame[wanted], (frame[table.labels] if table.labels else None)


UNMODELLED_KINDS = {"M": "dates or times", "m": "durations", "c": "complex numbers"}


def _modelled(series: pd.Series, categorical: bool, source: Path) -> pd.Series:
    """The column as the encoding takes it: numbers kept as Python objects (a Parquet file's
    decimals) become float64, and a column of a kind that is neither numbers nor categories
    (dates, durations, periods, lists or dicts in cells) is refused in one line."""
    what = UNMODELLED_KINDS.get(series.dtype.kind)
    if what is None and isinstance(series.dtype, (pd.PeriodDtype, pd.IntervalDtype)):
        what = "periods or intervals"
    if what is not None:
        raise VeeganError(f"column {series.name!r} of {source} holds {what} ({series.dtype}), which are neither numbers nor "
                          "categories: convert it (e.g. to days since a date) or leave it out with --columns")
    if series.dtype.kind == "O":
        nested = series.map(lambda value: isinstance(value, (list, tuple, dict, set, np.ndarray))).to_numpy()
        if nested.any():
            row = int(np.flatnonzero(nested)[0])
            raise VeeganError(f"column {series.name!r} of {source} holds a nested value ({type(series.iloc[row]).__name__}) in "
                              f"data row {row + 1}, not a number or a category: leave it out with --columns")
        number = series.map(lambda value: pd.api.types.is_number(value) and not isinstance(value, (bool, np.bool_)))
        if not categorical and number.all():
            return series.astype(np.float64)
    _check_values(series, categorical, source)
    return series


def _check_values(series: pd.Series, categorical: bool, source: Path) -> None:
    """Refuse infinite numbers, and a text column that is mostly numbers (a typo in one cell)."""
    if series.dtype.kind in "iuf":
        bad = ~np.isfinite(series.to_numpy(dtype=np.float64))
        if bad.any():
            raise VeeganError(f"column {series.name!r} of {source} holds {int(bad.sum())} infinite value(s), the first in "
                              f"data row {int(np.flatnonzero(bad)[0]) + 1}")
    elif not categorical and series.dtype.kind != "b":
        numbers = pd.to_numeric(series, errors="coerce").notna().to_numpy()
        if 0.5 <= numbers.mean() < 1:  # all of them numbers written as text (postcodes such as "02139"): categories
            row = int(np.flatnonzero(~numbers)[0])
            raise VeeganError(f"column {series.name!r} of {source} mixes numbers and text ({series.iloc[row]!r} in data row "
                              f"{row + 1}): fix that cell, or list the column in table.categorical to make every value a category")


def split_rows(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows): a seeded permutation of range(n), the last
    ``ceil(holdout * n)`` (at least 5) rows held out; each part sorted."""
    held = min(n - MIN_HELD_OUT, max(MIN_HELD_OUT, int(np.ceil(holdout * n))))
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n - held]), np.sort(order[n - held:])


def _listing(names: Any, limit: int = 20) -> str:
    names = list(names)
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


class TableDataset(Dataset):
    """A user's table: training rows drawn uniformly with replacement, encoded; the held-out
    rows and the labels column kept for evaluation."""

    device_tensors = ("data",)

    def __init__(self, path: str | Path, table: TableConfig | None = None) -> None:
        from ..evaluation.table_metrics import TableScorer  # the evaluation imports data, not the reverse

        self.path, self.table = Path(path), table or TableConfig()
        self.name = self.path.stem
        self.notes: list[str] = []  # what reading changed, then the constant columns
        frame = read_table(self.path, self.table.header, self.table.delimiter, notes=self.notes)
        features, labels = select_columns(frame, self.table, self.path)
        self.train_rows, self.holdout_rows = split_rows(len(features), self.table.holdout, self.table.split_seed)
        self.encoding = TableEncoding.fit(features, self.train_rows, self.table.categorical)
        self.data = torch.from_numpy(self.encoding.encode(features, self.train_rows))
        self.holdout = torch.from_numpy(self.encoding.encode(features, self.holdout_rows))
        self.labels = None if labels is None else labels.to_numpy()
        self.dim = self.encoding.width
        self.notes += [f"{self.name}: column {name!r} is constant ({value!r}): it is left out of the networks and "
                       "every sample gets that value" for name, value in self.encoding.constant_columns.items()]
        self.scorer = TableScorer()

    @property
    def categorical_spans(self) -> list[tuple[int, int]]:
        return self.encoding.categorical_spans

    @property
    def train_labels(self) -> np.ndarray | None:
        return None if self.labels is None else self.labels[self.train_rows]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.on_device("data")[draw(torch.randint, len(self.data), (n,), generator=generator, device=self.device)]

    def scored_count(self, n: int) -> int:
        """Every metric compares equal counts: at most as many samples as held-out rows."""
        return min(n, len(self.holdout))

    def real_rows(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """The real-data row: ``n`` training rows, drawn without replacement (a model that
        reproduced its training rows exactly would score this against the held-out rows)."""
        return self.data[torch.randperm(len(self.data), generator=generator)[:n]]

    @cached_property
    def coverage(self) -> Any:
        """The fitted references of the coverage metrics (k-means bins, classifier, mixture)."""
        from ..evaluation.table_metrics import CoverageReference

        return CoverageReference(self)

    def reference_scores(self, n: int) -> dict[str, dict[str, Any]]:
        """The baseline row: a Gaussian mixture fitted to the training rows, scored the same way."""
        return {"baseline": self.coverage.baseline_scores(n)}
