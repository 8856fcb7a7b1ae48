"""The user's own table as a dataset: read (:mod:`.table_files`), checked, split into training
and held-out rows with a fixed seed, and encoded (:mod:`.table_encoding`). Training draws
encoded training rows; evaluation scores samples against the held-out rows, which no network
ever sees, beside the training rows themselves (:mod:`veegan.evaluation.table_metrics`)."""
from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import VeeganError
from ..table_config import TableConfig
from .base import Dataset, draw
from .table_columns import CATEGORICAL, ColumnRules, date_cells, distinct_map, is_constant
from .table_encoding import TableEncoding
from .table_files import read_table, release_arrow_memory

MIN_HELD_OUT = 5  # rows; fewer cannot score anything


def select_columns(frame: pd.DataFrame, table: TableConfig, source: Path) -> tuple[pd.DataFrame, pd.Series | None]:
    """(the columns to train on, the labels column or None), every check done: unknown column
    names, missing cells (refused, or their rows dropped), only constant columns (a constant
    column among others is kept: its value is given back in every sample). The labels column is
    among the columns to train on with ``table.train_labels`` (the default)."""
    check_names(frame, table, source)
    trained_labels = table.labels is not None and table.train_labels
    if table.columns is not None:
        wanted = list(table.columns)
    else:  # every column in the file's order, so that samples come back in it (the labels in their place)
        wanted = [c for c in frame.columns if c != table.labels or (trained_labels and table.labels_in_place)]
    wanted = [name for name in wanted if name not in table.exclude]
    if trained_labels and table.labels not in wanted:
        wanted.append(table.labels)
    if not wanted:
        scored = f" (the labels column {table.labels!r} is scored only, table.train_labels=false)" if table.labels else ""
        raise VeeganError(f"data file {source}: --columns and --exclude leave no column to train on{scored}: keep at least one "
                          "column")
    used = list(dict.fromkeys(wanted + ([table.labels] if table.labels else [])))
    frame = frame[used]  # no copy: pandas copies on write, and a column is replaced only where it changes
    empty = frame.isna().to_numpy()
    if empty.any():
        if table.missing == "error":
            row, col = np.argwhere(empty)[0]
            raise VeeganError(f"data file {source} has {int(empty.sum())} missing (empty or NaN) cells (the first in column "
                              f"{frame.columns[col]!r}, data row {row + 1}): fill them, or drop their rows with "
                              "--set table.missing=drop")
        frame = frame[~empty.any(axis=1)].reset_index(drop=True)
    del empty
    if len(frame) < 2 * MIN_HELD_OUT:
        raise VeeganError(f"data file {source} has {len(frame)} complete rows: at least {2 * MIN_HELD_OUT} are needed")
    for name in wanted:
        series = frame[name]
        modelled = _modelled(series, name in categorical_columns(table), table, source)
        if modelled is not series:
            frame[name] = modelled
    if table.labels is not None and frame[table.labels].nunique() < 2:
        raise VeeganError(f"the labels column {table.labels!r} of {source} holds one class ({frame[table.labels].iloc[0]!r}): "
                          "there are no classes to score; name a column of classes with --labels, or leave --labels out")
    if all(is_constant(frame[name]) for name in wanted):
        raise VeeganError(f"every column of {source} to train on is constant ({_listing(wanted)}): there is nothing to learn; "
                          "train on a column that varies (--columns)")
    return frame[wanted], (frame[table.labels] if table.labels else None)


def check_names(frame: pd.DataFrame, table: TableConfig, source: Path) -> None:
    """Every column that the table's options name is one of the file's, or one line naming the
    column, the option and the fix."""
    options = {"--columns": table.columns or (), "--exclude": table.exclude, "--labels": (table.labels,) if table.labels else (),
               "table.categorical": table.categorical}
    for option, names in options.items():
        unknown = [name for name in dict.fromkeys(names) if name not in frame.columns]
        if unknown:
            raise VeeganError(f"data file {source} has no column {', '.join(map(repr, unknown))} (named by {option}): correct "
                              f"the name in {option}; its columns: {_listing(frame.columns)}")


def categorical_columns(table: TableConfig) -> tuple[str, ...]:
    """The columns encoded as categories whatever their values: those listed in
    ``table.categorical``, and the labels column (its classes), when it is trained on."""
    return (*table.categorical, *([table.labels] if table.labels is not None and table.train_labels else []))


def column_rules(table: TableConfig) -> ColumnRules:
    """The plain facts that the table's encoding keeps (``table.clip``, ``round``, ``point_mass``, ``dates``)."""
    return ColumnRules(clip=table.clip, round=table.round, dates=table.dates,
                       point_mass_share=table.point_mass_share if table.point_mass else None)


def check_levels(encoding: TableEncoding, table: TableConfig, source: Path) -> None:
    """Refuse a categorical column with more than ``table.max_levels`` categories, naming the fix."""
    for code in encoding.columns:
        if code.kind != CATEGORICAL or len(code.levels) <= table.max_levels:
            continue
        fix = (f"a labels column is trained as classes: raise --set table.max_levels={len(code.levels)}, or score it without "
               "training on it with --set table.train_labels=false") if code.name == table.labels else \
            (f"an identifier or free text? leave it out with --exclude {code.name} (or raise --set "
             f"table.max_levels={len(code.levels)})")
        raise VeeganError(f"column {code.name!r} of {source} has {len(code.levels):,} distinct values, more than "
                          f"table.max_levels ({table.max_levels}) categories: {fix}")


UNMODELLED_KINDS = {"m": "durations", "c": "complex numbers"}


def _modelled(series: pd.Series, categorical: bool, table: TableConfig, source: Path) -> pd.Series:
    """The column as the encoding takes it: numbers kept as Python objects (a Parquet file's
    decimals) become float64; dates are kept (the encoding counts days or seconds since 1970)
    unless ``table.dates`` is off; a column of a kind that is neither numbers, dates nor
    categories (durations, periods, lists or dicts in cells) is refused in one line."""
    what = UNMODELLED_KINDS.get(series.dtype.kind)
    if what is None and isinstance(series.dtype, (pd.PeriodDtype, pd.IntervalDtype)):
        what = "periods or intervals"
    fix = f"convert it (e.g. to numbers of days) or leave it out with --exclude {series.name}"
    if what is not None:
        raise VeeganError(f"column {series.name!r} of {source} holds {what} ({series.dtype}), which are neither numbers nor "
                          f"categories: {fix}")
    if series.dtype.kind == "M" and not table.dates:
        raise VeeganError(f"column {series.name!r} of {source} holds dates or times ({series.dtype}), which this run's "
                          f"table.dates=false refuses: --set table.dates=true, or {fix}")
    if series.dtype.kind == "O" and not isinstance(series.dtype, pd.StringDtype):  # text cells are neither lists nor numbers
        nested = series.map(lambda value: isinstance(value, (list, tuple, dict, set, np.ndarray))).to_numpy()
        if nested.any():
            row = int(np.flatnonzero(nested)[0])
            raise VeeganError(f"column {series.name!r} of {source} holds a nested value ({type(series.iloc[row]).__name__}) in "
                              f"data row {row + 1}, not a number or a category: leave it out with --exclude {series.name}")
        number = series.map(lambda value: pd.api.types.is_number(value) and not isinstance(value, (bool, np.bool_)))
        if not categorical and number.all():
            return series.astype(np.float64)
    _check_values(series, categorical, source)
    if table.dates and not categorical:
        _check_dates(series, source)
    return series


def _check_values(series: pd.Series, categorical: bool, source: Path) -> None:
    """Refuse infinite numbers, and a text column that is mostly numbers (a typo in one cell)."""
    if series.dtype.kind in "iuf":
        bad = ~np.isfinite(series.to_numpy(dtype=np.float64))
        if bad.any():
            raise VeeganError(f"column {series.name!r} of {source} holds {int(bad.sum())} infinite value(s), the first in "
                              f"data row {int(np.flatnonzero(bad)[0]) + 1}: replace them, or leave the column out with "
                              f"--exclude {series.name}")
    elif not categorical and series.dtype.kind not in "bM":
        def readable(values: pd.Series) -> np.ndarray:
            return pd.to_numeric(values, errors="coerce").notna().to_numpy()

        numbers = distinct_map(series, readable) if isinstance(series.dtype, pd.StringDtype) else readable(series)
        if 0.5 <= numbers.mean() < 1:  # all of them numbers written as text (postcodes such as "02139"): categories
            row = int(np.flatnonzero(~numbers)[0])
            raise VeeganError(f"column {series.name!r} of {source} mixes numbers and text ({series.iloc[row]!r} in data row "
                              f"{row + 1}): fix that cell, or list the column in table.categorical to make every value a category")


def _check_dates(series: pd.Series, source: Path) -> None:
    """Refuse a text column whose cells are dates but for a few (a typo in one cell)."""
    guessed, parsed = date_cells(series)
    if parsed is not None and 0.5 <= parsed.mean() < 1:
        row = int(np.flatnonzero(~parsed)[0])
        raise VeeganError(f"column {series.name!r} of {source} mixes dates ({guessed}) and other text ({series.iloc[row]!r} in "
                          f"data row {row + 1}): fix that cell, or list the column in table.categorical to make every value a "
                          "category")


def split_rows(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows): a seeded permutation of range(n), the last
    ``ceil(holdout * n)`` (at least 5) rows held out; each part sorted."""
    held = min(n - MIN_HELD_OUT, max(MIN_HELD_OUT, int(np.ceil(holdout * n))))
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n - held]), np.sort(order[n - held:])


def _listing(names: Any, limit: int = 20) -> str:
    names = list(names)
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


@dataclass
class EncodedTable:
    """A table read, checked, split and encoded (float32 rows), as the datasets of one file read
    with the same options share it."""

    encoding: TableEncoding
    data: torch.Tensor  # the training rows, encoded
    holdout: torch.Tensor  # the held-out rows, encoded
    labels: np.ndarray | None  # the labels column, every row
    train_rows: np.ndarray
    holdout_rows: np.ndarray
    notes: list[str]  # what reading changed


_READ: weakref.WeakValueDictionary[tuple[Any, ...], EncodedTable] = weakref.WeakValueDictionary()


def encoded_table(path: Path, table: TableConfig) -> EncodedTable:
    """``path`` read as ``table`` says, checked, split and encoded; read once while a dataset of
    it lives and the file is unchanged (:func:`_file_key`): a run trained, then loaded in the
    same process (``veegan.train``, ``veegan train``) holds one copy of a large table, not two.
    The DataFrame is dropped once the rows are encoded, and Arrow's allocator told to hand back
    the memory it held."""
    key = _file_key(path, table)
    if key is not None and (found := _READ.get(key)) is not None:
        return found
    read = _read_encoded(path, table)
    release_arrow_memory()  # the DataFrame is gone
    if key is not None:
        _READ[key] = read
    return read


def _read_encoded(path: Path, table: TableConfig) -> EncodedTable:
    """Read, check, split and encode, the DataFrame dropped on return."""
    notes: list[str] = []
    frame = read_table(path, table.header, table.delimiter, notes=notes, drop_index=table.drop_index,
                       comma_numbers=table.comma_numbers)
    features, labels = select_columns(frame, table, path)
    del frame
    train_rows, holdout_rows = split_rows(len(features), table.holdout, table.split_seed)
    encoding = TableEncoding.fit(features, train_rows, categorical_columns(table), column_rules(table))
    check_levels(encoding, table, path)
    return EncodedTable(encoding, torch.from_numpy(encoding.encode(features, train_rows)),
                        torch.from_numpy(encoding.encode(features, holdout_rows)), None if labels is None else labels.to_numpy(),
                        train_rows, holdout_rows, notes)


def _file_key(path: Path, table: TableConfig, edge: int = 64 * 1024) -> tuple[Any, ...] | None:
    """What tells a file's contents and how it is read: its path, size, inode, modification
    time and first and last 64 KiB (a rewrite within the clock's tick), and ``table``."""
    if not path.is_file():
        return None
    stat = path.stat()
    digest = hashlib.blake2b()
    with path.open("rb") as handle:
        digest.update(handle.read(edge))
        handle.seek(max(0, stat.st_size - edge))
        digest.update(handle.read(edge))
    return (str(path.resolve()), stat.st_size, stat.st_ino, stat.st_mtime_ns, digest.hexdigest(), repr(table))


class TableDataset(Dataset):
    """A user's table: training rows drawn uniformly with replacement, encoded; the held-out
    rows and the labels column kept for evaluation."""

    device_tensors = ("data",)

    def __init__(self, path: str | Path, table: TableConfig | None = None) -> None:
        from ..evaluation.table_metrics import TableScorer  # the evaluation imports data, not the reverse

        self.path, self.table = Path(path), table or TableConfig()
        self.name = self.path.stem
        self.encoded = read = encoded_table(self.path, self.table)  # shared while it lives
        self.encoding, self.data, self.holdout, self.labels = read.encoding, read.data, read.holdout, read.labels
        self.train_rows, self.holdout_rows = read.train_rows, read.holdout_rows
        self.dim = self.encoding.width
        self.notes = read.notes + [f"{self.name}: column {name!r} is constant ({value!r}): it is left out of the networks "
                                   "and every sample gets that value" for name, value in self.encoding.constant_columns.items()]
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
