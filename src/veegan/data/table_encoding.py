"""A table as the networks see it, and back: continuous columns standardised (mean and std of
the training rows), categorical ones one-hot. The encoding is fitted once, stored in the run
(``table.json``) and inverted by ``veegan sample``: samples come back with the user's column
names, units, integer columns as integers and categories as their labels.

Beyond the dtypes, a numeric column keeps its plain facts: :mod:`.table_columns`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import VeeganError
from .table_columns import (CATEGORICAL, CONSTANT, MIXED, ColumnCode, ColumnRules, is_categorical_dtype, is_constant,
                            numeric_code, plain_value, text_date_format)

class TableEncoding:
    """Encodes DataFrames to float32 rows and decodes rows to DataFrames."""

    def __init__(self, columns: Sequence[ColumnCode]) -> None:
        self.columns = list(columns)
        self.offsets = _offsets([c.width for c in self.columns])
        self.scored_offsets = _offsets([c.scored_width for c in self.columns])

    @classmethod
    def fit(cls, frame: pd.DataFrame, rows: np.ndarray, categorical: Sequence[str] = (),
            rules: ColumnRules = ColumnRules()) -> TableEncoding:
        """Means and stds (and the facts ``rules`` keep) from ``rows`` of ``frame`` (the
        training rows); every category of a column from all of ``frame``, so that a level seen
        only in held-out rows still encodes."""
        codes = []
        for name in frame.columns:
            series = frame[name]
            date_format = text_date_format(series) if rules.dates and name not in categorical else None
            if is_constant(series):  # nothing to learn: the value is given back in every sample
                codes.append(ColumnCode(name, CONSTANT, str(series.dtype), levels=[plain_value(series.iloc[0])]))
            elif name in categorical or (is_categorical_dtype(series) and series.dtype.kind != "M" and date_format is None):
                distinct = series.unique().tolist() if isinstance(series.dtype, pd.StringDtype) else pd.unique(series.to_numpy()).tolist()
                levels = sorted(distinct, key=lambda v: (str(type(v)), v))
                codes.append(ColumnCode(name, CATEGORICAL, str(series.dtype), levels=[plain_value(v) for v in levels]))
            else:
                codes.append(numeric_code(name, series, rows, rules, date_format))
        return cls(codes)

    @property
    def width(self) -> int:
        """The number of values in one encoded row."""
        return self.offsets[-1][1] if self.offsets else 0

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def constant_columns(self) -> dict[str, Any]:
        """The columns with one value in every row, which the networks never see."""
        return {c.name: c.levels[0] for c in self.columns if c.kind == CONSTANT}

    @property
    def categorical_spans(self) -> list[tuple[int, int]]:
        """[start, end) of each one-hot block in an encoded row: a categorical column's, and a
        mixed column's choice among its point values or none."""
        return [(a, b - (c.kind == MIXED)) for c, (a, b) in zip(self.columns, self.offsets) if c.kind in (CATEGORICAL, MIXED)]

    @property
    def scored_spans(self) -> list[tuple[int, int]]:
        """[start, end) of each categorical column's one-hot block in a scored row (:meth:`scored_rows`)."""
        return [span for c, span in zip(self.columns, self.scored_offsets) if c.kind == CATEGORICAL]

    def scored_span(self, name: str) -> tuple[int, int]:
        """[start, end) of column ``name`` in a scored row (empty for a constant column)."""
        return self.scored_offsets[self.names.index(name)]

    def encode(self, frame: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
        """``frame``'s rows (all, or ``rows``) as an n x width float32 array, one column at a time
        (memory: the output and one column)."""
        missing = [name for name in self.names if name not in frame.columns]
        if missing:
            raise VeeganError(f"the table has no column {', '.join(map(repr, missing))} (it was trained on {', '.join(self.names)})")
        n = len(frame) if rows is None else len(rows)
        out = np.zeros((n, self.width), dtype=np.float32)
        for code, (start, end) in zip(self.columns, self.offsets):
            if code.kind == CONSTANT:
                continue
            series = frame[code.name] if rows is None else frame[code.name].iloc[rows]
            if code.kind == CATEGORICAL:
                _one_hot(out, start, code.levels, series, code.name)
                continue
            values = code.numbers(series)
            out[:, end - 1] = (values - code.mean) / code.std
            if code.kind == MIXED:
                index = pd.Index(code.levels, dtype=np.float64).get_indexer(values)
                out[np.arange(n), start + np.where(index < 0, len(code.levels), index)] = 1.0
        return out

    def scored_rows(self, encoded: np.ndarray, facts: bool = True) -> np.ndarray:
        """Encoded rows as the metrics score them, whatever the encoding's point masses: each
        numeric column one standardised value (a mixed column's point value where its block picks
        one; with ``facts``, clipped and rounded as :meth:`decode` gives it), each categorical
        column its one-hot block. Without point masses and facts, the encoded rows themselves."""
        encoded = np.asarray(encoded)
        out = np.zeros((len(encoded), self.scored_offsets[-1][1] if self.columns else 0), dtype=np.float32)
        for code, (start, end), (at, to) in zip(self.columns, self.offsets, self.scored_offsets):
            if code.kind == CATEGORICAL:
                out[:, at:to] = encoded[:, start:end]
            elif code.kind != CONSTANT:
                out[:, at] = (code.values(encoded[:, start:end], facts) - code.mean) / code.std
        return out

    def decode(self, encoded: np.ndarray) -> pd.DataFrame:
        """Encoded rows as a DataFrame in the user's units, names and types."""
        encoded = np.asarray(encoded)
        if encoded.ndim != 2 or encoded.shape[1] != self.width:
            raise VeeganError(f"expected rows of {self.width} encoded values, got shape {encoded.shape}")
        columns = {}
        for code, (start, end) in zip(self.columns, self.offsets):
            if code.kind == CONSTANT:
                columns[code.name] = pd.Series([code.levels[0]] * len(encoded)).astype(code.dtype)
            elif code.kind == CATEGORICAL:
                values = np.asarray(code.levels, dtype=object)[encoded[:, start:end].argmax(1)]
                columns[code.name] = pd.Series(values).astype(code.dtype if code.dtype != "category" else "object")
            else:
                columns[code.name] = code.series(code.values(encoded[:, start:end]))
        return pd.DataFrame(columns)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TableEncoding:
        return cls([ColumnCode(**c) for c in values["columns"]])

    def save(self, path: Path) -> None:
        """Written to a temporary file and renamed: never half a file."""
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TableEncoding:
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise VeeganError(f"{path} is not a readable table encoding: {exc}") from None


def _offsets(widths: Sequence[int]) -> list[tuple[int, int]]:
    starts = np.cumsum([0, *widths])
    return [(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:])]


def _one_hot(out: np.ndarray, start: int, levels: list[Any], values: pd.Series, name: str) -> None:
    """Set each row's place of its level in ``out[:, start:]``; a value that is no level is
    refused. Each distinct value is looked up once (a text column's cells are not turned into
    Python strings)."""
    if isinstance(values.dtype, pd.StringDtype):
        codes, distinct = pd.factorize(values, use_na_sentinel=False)
        index = pd.Index(levels).get_indexer(distinct)[codes]
    else:
        index = pd.Index(levels).get_indexer(values.to_numpy())
    if (index < 0).any():
        unknown = values.iloc[np.flatnonzero(index < 0)[0]]
        raise VeeganError(f"column {name!r} holds {unknown!r}, which is not one of its {len(levels)} categories")
    out[np.arange(len(values)), start + index] = 1.0


def category_codes(rows: np.ndarray, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """The index of each row's category in every one-hot block ``spans`` (n x blocks, int64)."""
    return np.stack([rows[:, a:b].argmax(1) for a, b in spans], axis=1) if spans else np.zeros((len(rows), 0), np.int64)
