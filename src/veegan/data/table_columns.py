"""One column of a user's table as the networks see it (:class:`ColumnCode`), with its plain
facts (:class:`ColumnRules`, from ``table.clip``, ``table.round``, ``table.point_mass`` and
``table.dates``): its samples are clipped to the training rows' range and rounded to the decimals
its values have; a value held by a large share of its rows (a point mass: 0 on half the rows of a
non-negative column) is generated exactly, as CTAB-GAN's mixed columns are (Zhao et al. 2021): a
one-hot block "which point value, or none" before the standardised value; and a column of dates
counts whole days, hours, minutes or seconds since 1970 and comes back in its text format (or as
datetimes). The whole table is :mod:`.table_encoding`."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from ..errors import VeeganError

CONTINUOUS, CATEGORICAL, CONSTANT, MIXED = "continuous", "categorical", "constant", "mixed"
MAX_DECIMALS = 6  # a column with more decimals than this (or than its precision holds) is not rounded
DATE_UNITS = {"D": 86400, "h": 3600, "min": 60, "s": 1}  # a date column counts the coarsest that holds its values
EPOCH = pd.Timestamp("1970-01-01")
OPTIONAL_FIELDS = ("low", "high", "decimals", "unit", "date_format")  # absent from a table.json before them


def is_categorical_dtype(series: pd.Series) -> bool:
    """Text, booleans and pandas categories are categorical; numbers are continuous."""
    return series.dtype.kind not in "iuf" or isinstance(series.dtype, pd.CategoricalDtype)


def is_constant(series: pd.Series) -> bool:
    """Whether every value of the column is the same (numbers: min == max, without hashing)."""
    if series.dtype.kind in "iuf":
        values = series.to_numpy()
        return bool(values.min() == values.max())
    return series.nunique() < 2


def text_date_format(series: pd.Series) -> str | None:
    """The strftime format of a text column whose every cell is a date in one format that pandas
    recognises (2021-03-04, 2021-03-04 12:00, 03/04/2021, 4 March 2021, ...), else None."""
    guessed, parsed = date_cells(series)
    return guessed if parsed is not None and parsed.all() else None


def date_cells(series: pd.Series) -> tuple[str | None, np.ndarray | None]:
    """(the date format guessed from a text column's first cell, which cells parse in it), or
    (None, None) when the first cell is no date. A format without a day, month and year (2021,
    12:00, 2021-03) is not taken for dates."""
    if series.dtype.kind not in "OUS" or len(series) == 0 or not isinstance(series.iloc[0], str):
        return None, None
    guessed = guess_datetime_format(series.iloc[0])
    directives = set(_directives(guessed or ""))
    if "%d" not in directives or not {"%m", "%b", "%B"} & directives or not {"%Y", "%y"} & directives:
        return None, None
    def parsed(values: pd.Series) -> np.ndarray:
        return pd.to_datetime(values, format=guessed, errors="coerce").notna().to_numpy()

    return guessed, distinct_map(series, parsed) if isinstance(series.dtype, pd.StringDtype) else parsed(series)


def distinct_map(series: pd.Series, test: Callable[[pd.Series], np.ndarray]) -> np.ndarray:
    """``test`` (a Series to a boolean array) of each row of ``series``, computed once for each
    distinct value: a text column of a million rows holds a few hundred."""
    codes, distinct = pd.factorize(series, use_na_sentinel=False)
    return np.asarray(test(pd.Series(distinct)), dtype=bool)[codes]


def _directives(fmt: str) -> list[str]:
    return [fmt[i:i + 2] for i in range(len(fmt) - 1) if fmt[i] == "%"]


def observed_decimals(values: np.ndarray) -> int | None:
    """The fewest decimals (up to :data:`MAX_DECIMALS`) that write every value, at the precision
    of its dtype (a CSV's decimals are read as float32: 13.05 is 13.0500002); None when the values
    need more, or when their dtype cannot tell (float32 beyond about 7 significant digits)."""
    eps = np.finfo(values.dtype).eps if values.dtype.kind == "f" else 0.0
    values = np.asarray(values, dtype=np.float64)
    for decimals in range(MAX_DECIMALS + 1):
        scaled = values * 10.0**decimals
        if 2 * eps * np.abs(scaled).max(initial=0.0) >= 0.05:
            return None
        if np.all(np.abs(scaled - np.rint(scaled)) <= 2 * eps * np.abs(scaled) + 1e-9):
            return decimals
    return None


def point_masses(values: np.ndarray, share: float) -> list[float]:
    """The values that at least ``share`` of ``values`` hold, sorted."""
    uniques, counts = np.unique(values, return_counts=True)
    return [float(v) for v in uniques[counts >= share * len(values)]]


def plain_value(value: Any) -> Any:
    """A level as a JSON value: numpy scalars become Python ones, timestamps ISO text."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class ColumnRules:
    """Which plain facts a fitted encoding keeps for numeric columns (the run's ``table.clip``,
    ``table.round``, ``table.point_mass`` with ``table.point_mass_share``, and ``table.dates``);
    all off: the plain standardised column of the first encodings."""

    clip: bool = False
    round: bool = False
    point_mass_share: float | None = None  # None: no point masses
    dates: bool = False  # text columns of dates are dates (else categories, as they were)


@dataclass
class ColumnCode:
    """How one column is encoded: ``mean``/``std`` for a numeric column, ``levels`` (in one-hot
    order) for a categorical one, and for a constant one its value (``levels[0]``), which takes no
    place in an encoded row; ``dtype`` is the source column's, restored on decode. A ``mixed``
    column's ``levels`` are its point values: its one-hot block has one more place (no point
    value) before the standardised value. ``low``/``high``: the training range samples are
    clipped to; ``decimals``: what they are rounded to; ``unit`` (D, h, min, s): a date column's
    numbers count these since 1970, written back in ``date_format`` (None: as datetimes)."""

    name: str
    kind: str
    dtype: str
    mean: float = 0.0
    std: float = 1.0
    levels: list[Any] = field(default_factory=list)
    low: float | None = None
    high: float | None = None
    decimals: int | None = None
    unit: str | None = None
    date_format: str | None = None

    @property
    def width(self) -> int:
        """Its width in an encoded row: a category's one-hot block, a mixed column's block and
        value, nothing for a constant, one value for a number."""
        return {CATEGORICAL: len(self.levels), CONSTANT: 0, MIXED: len(self.levels) + 2}.get(self.kind, 1)

    @property
    def scored_width(self) -> int:
        """Its width in the rows the metrics score: a number is one value, a mixed column's too."""
        return {CATEGORICAL: len(self.levels), CONSTANT: 0}.get(self.kind, 1)

    def to_dict(self) -> dict[str, Any]:
        """As stored in table.json; the optional facts only where the column has them."""
        return {k: v for k, v in asdict(self).items() if not (k in OPTIONAL_FIELDS and v is None)}

    def numbers(self, series: pd.Series) -> np.ndarray:
        """A numeric column's values as float64: a date column's as its units since 1970 (text
        parsed in its ``date_format``)."""
        if self.unit is None:
            return series.to_numpy(dtype=np.float64)
        stamps = series if series.dtype.kind == "M" else pd.to_datetime(series, format=self.date_format, errors="coerce")
        if stamps.isna().any():
            bad = series[stamps.isna()].iloc[0]
            raise VeeganError(f"column {self.name!r} holds {bad!r}, not a date in its format {self.date_format}: fix that "
                              "cell, or leave the column out with --exclude " + self.name)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        return (stamps - EPOCH).dt.total_seconds().to_numpy(dtype=np.float64) / DATE_UNITS[self.unit]

    def values(self, block: np.ndarray, facts: bool = True) -> np.ndarray:
        """A numeric column's values (float64, in its units) from its block of encoded rows: a
        mixed column's point value where its one-hot block picks one; with ``facts``, clipped to
        ``low``/``high`` and rounded to ``decimals`` where the column has them."""
        values = block[:, -1].astype(np.float64) * self.std + self.mean
        if self.kind == MIXED:
            pick = block[:, :-1].argmax(1)
            values = np.where(pick < len(self.levels), np.asarray([*self.levels, 0.0], dtype=np.float64)[pick], values)
        if facts and self.low is not None:
            values = np.clip(values, self.low, self.high)
        if facts and self.decimals is not None:
            values = np.round(values, self.decimals)
        return values

    def series(self, values: np.ndarray) -> pd.Series:
        """Numeric values (float64) as the source column: its dtype, integers rounded, dates
        written back as dates."""
        if self.unit is not None:
            seconds = np.clip(values * DATE_UNITS[self.unit], *_TIMESTAMP_SECONDS)
            stamps = pd.Series(EPOCH + pd.to_timedelta(seconds, unit="s"))
            if self.date_format is not None:
                return stamps.dt.strftime(self.date_format).astype(self.dtype)
            dtype = pd.api.types.pandas_dtype(self.dtype)
            if getattr(dtype, "tz", None) is not None:
                stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(dtype.tz)
            return stamps.astype(dtype)
        if np.dtype(self.dtype).kind in "iu":
            info = np.iinfo(self.dtype)
            values = np.clip(np.rint(values), info.min, info.max)
        return pd.Series(values.astype(self.dtype))


_TIMESTAMP_SECONDS = ((pd.Timestamp.min - EPOCH).total_seconds() + 1, (pd.Timestamp.max - EPOCH).total_seconds() - 1)


def numeric_code(name: str, series: pd.Series, rows: np.ndarray, rules: ColumnRules, date_format: str | None) -> ColumnCode:
    """The code of a numeric (or date) column, fitted on ``rows``: mean and std, and the facts
    that ``rules`` keep (range, decimals, point values)."""
    code = ColumnCode(name, CONTINUOUS, str(series.dtype), date_format=date_format)
    if series.dtype.kind == "M" or date_format is not None:
        code.unit = "s"
        seconds = code.numbers(series)
        code.unit = next((u for u, s in DATE_UNITS.items() if not np.any(seconds % s)), "s")  # the coarsest whole unit
        numbers = seconds[rows] / DATE_UNITS[code.unit]
    else:
        numbers = code.numbers(series)[rows]
    std = float(numbers.std())
    code.mean, code.std = float(numbers.mean()), std if std > 0 else 1.0
    if rules.point_mass_share is not None:
        code.levels = point_masses(numbers, rules.point_mass_share)
        code.kind = MIXED if code.levels else CONTINUOUS
    if rules.clip:
        code.low, code.high = float(numbers.min()), float(numbers.max())
    if rules.round:
        code.decimals = observed_decimals(numbers if code.unit else series.to_numpy()[rows])
    return code
