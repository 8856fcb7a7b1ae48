"""A table as the networks see it, and back: continuous columns standardised (mean and std of
the training rows), categorical ones one-hot. The encoding is fitted once, stored in the run
(``table.json``) and inverted by ``veegan sample``: samples come back with the user's column
names, units, integer columns as integers and categories as their labels."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import VeeganError

CONTINUOUS, CATEGORICAL, CONSTANT = "continuous", "categorical", "constant"


def is_categorical_dtype(series: pd.Series) -> bool:
    """Text, booleans and pandas categories are categorical; numbers are continuous."""
    return series.dtype.kind not in "iuf" or isinstance(series.dtype, pd.CategoricalDtype)


def is_constant(series: pd.Series) -> bool:
    """Whether every value of the column is the same (numbers: min == max, without hashing)."""
    if series.dtype.kind in "iuf":
        values = series.to_numpy()
        return bool(values.min() == values.max())
    return series.nunique() < 2


def _plain(value: Any) -> Any:
    """A level as a JSON value: numpy scalars become Python ones."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass
class ColumnCode:
    """How one column is encoded: ``mean``/``std`` for a continuous column, ``levels`` (in
    one-hot order) for a categorical one, and for a constant one its value (``levels[0]``), which
    takes no place in an encoded row; ``dtype`` is the source column's, restored on decode."""

    name: str
    kind: str
    dtype: str
    mean: float = 0.0
    std: float = 1.0
    levels: list[Any] = field(default_factory=list)

    @property
    def width(self) -> int:
        return {CATEGORICAL: len(self.levels), CONSTANT: 0}.get(self.kind, 1)


class TableEncoding:
    """Encodes DataFrames to float32 rows and decodes rows to DataFrames."""

    def __init__(self, columns: Sequence[ColumnCode]) -> None:
        self.columns = list(columns)
        starts = np.cumsum([0] + [c.width for c in self.columns])
        self.offsets = [(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:])]

    @classmethod
    def fit(cls, frame: pd.DataFrame, rows: np.ndarray, categorical: Sequence[str] = ()) -> TableEncoding:
        """Means and stds from ``rows`` of ``frame`` (the training rows); every category of a
        column from all of ``frame``, so that a level seen only in held-out rows still encodes."""
        codes = []
        for name in frame.columns:
            series = frame[name]
            if is_constant(series):  # nothing to learn: the value is given back in every sample
                codes.append(ColumnCode(name, CONSTANT, str(series.dtype), levels=[_plain(series.iloc[0])]))
            elif name in categorical or is_categorical_dtype(series):
                levels = sorted(pd.unique(series.to_numpy()).tolist(), key=lambda v: (str(type(v)), v))
                codes.append(ColumnCode(name, CATEGORICAL, str(series.dtype), levels=[_plain(v) for v in levels]))
            else:
                values = series.to_numpy(dtype=np.float64)[rows]
                std = float(values.std())
                codes.append(ColumnCode(name, CONTINUOUS, str(series.dtype), float(values.mean()), std if std > 0 else 1.0))
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
        """[start, end) of each categorical column's one-hot block in an encoded row."""
        return [span for code, span in zip(self.columns, self.offsets) if code.kind == CATEGORICAL]

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
            values = frame[code.name].to_numpy()
            values = values if rows is None else values[rows]
            if code.kind == CONTINUOUS:
                out[:, start] = (values.astype(np.float64) - code.mean) / code.std
                continue
            index = pd.Index(code.levels).get_indexer(values)
            if (index < 0).any():
                unknown = values[np.flatnonzero(index < 0)[0]]
                raise VeeganError(f"column {code.name!r} holds {unknown!r}, which is not one of its {len(code.levels)} categories")
            out[np.arange(n), start + index] = 1.0
        return out

    def category_codes(self, encoded: np.ndarray) -> np.ndarray:
        """The index of each row's category in every categorical column (n x columns, int64)."""
        spans = self.categorical_spans
        return np.stack([encoded[:, a:b].argmax(1) for a, b in spans], axis=1) if spans else np.zeros((len(encoded), 0), np.int64)

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
                values = encoded[:, start].astype(np.float64) * code.std + code.mean
                if np.dtype(code.dtype).kind in "iu":
                    info = np.iinfo(code.dtype)
                    values = np.clip(np.rint(values), info.min, info.max)
                columns[code.name] = pd.Series(values.astype(code.dtype))
        return pd.DataFrame(columns)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [asdict(c) for c in self.columns]}

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
