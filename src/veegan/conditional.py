"""Rows of one kind: samples of a run on a user's table whose categorical columns hold given
values (``veegan sample RUN --where species=Gentoo``, ``Run.sample(n, where={...})``).

The generator is unconditional, so the rows are drawn by rejection: batches of G(z), each row
kept when every named column's one-hot block picks the asked level (the argmax that decoding
takes), until ``n`` rows are kept. The rows kept are draws from the model's own distribution
given the values, exactly, whatever the values' share; a rare value costs draws, and after a
bounded number of draws the search stops with one line that says what the model produced.
Values are matched exactly, as ``sample`` writes them in a CSV cell (``Gentoo``, ``True``, ``2``)."""
from __future__ import annotations

import difflib
import io
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .data.table_columns import CATEGORICAL, CONSTANT
from .data.table_encoding import TableEncoding
from .errors import VeeganError

WHERE_FORM = "COLUMN=VALUE"
MAX_DRAWS = 1_000_000  # the fewest draws a search may take before it gives up ...
DRAWS_PER_ROW = 100  # ... or this many per row asked, the larger: acceptance down to 1 % for large n
FIRST_BATCH = 4096  # rows; later batches are sized by the share of rows kept so far
MAX_BATCH = 65536
MAX_BATCH_VALUES = 2**24  # encoded values in one batch: a wide table draws fewer rows at a time
LISTED = 20  # levels listed in an error


@dataclass(frozen=True)
class Condition:
    """A column that must hold ``value``: the place ``index`` in its one-hot block ``span`` of an
    encoded row (``span`` None: a constant column, which always holds it)."""

    column: str
    value: str
    span: tuple[int, int] | None
    index: int = 0

    def __str__(self) -> str:
        return f"{self.column}={self.value}"


def parse_where(items: Sequence[str]) -> dict[str, str]:
    """``--where COLUMN=VALUE`` options as {column: value}, split at the first ``=``."""
    where: dict[str, str] = {}
    for item in items:
        column, equals, value = item.partition("=")
        if not equals or not column:
            raise VeeganError(f"--where expects {WHERE_FORM} (e.g. --where species=Gentoo), got {item!r}")
        if where.get(column, value) != value:
            raise VeeganError(f"--where names column {column!r} twice ({where[column]}, {value}): a row holds one value; "
                              "sample each value separately")
        where[column] = value
    return where


def written_levels(encoding: TableEncoding, column: str) -> list[str]:
    """A categorical (or constant) column's levels, in one-hot order, as ``sample`` writes them in
    a CSV cell: each level's one-hot row decoded, written and read back as text."""
    code = encoding.columns[encoding.names.index(column)]
    start, end = encoding.offsets[encoding.names.index(column)]
    rows = np.zeros((max(end - start, 1), encoding.width), dtype=np.float32)
    rows[np.arange(end - start), start + np.arange(end - start)] = 1.0
    text = encoding.decode(rows)[[code.name]].to_csv(index=False)
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).iloc[:, 0].tolist()


def conditions(encoding: TableEncoding | None, where: Mapping[str, Any], source: str,
               scored_labels: str | None = None) -> list[Condition]:
    """The checked conditions of ``where`` ({column: value}; a value not text is matched as its
    ``str``) on a run's table, refused in one line each: a run not on a table (``source``: what it
    was trained on), an unknown column, a numeric one, a value the column never holds.
    ``scored_labels``: a labels column scored only (``table.train_labels=false``)."""
    if not where:
        return []
    if encoding is None:
        raise VeeganError(f"--where picks rows of your own table (a run trained with --data FILE), and {source} is not "
                          "one: sample it without --where")
    found = []
    for column, value in where.items():
        if column not in encoding.names:
            why = (f"the labels column {column!r} is scored only (table.train_labels=false): samples do not hold it"
                   if column == scored_labels else f"the run's table has no column {column!r}")
            raise VeeganError(f"--where {column}={value}: {why}; its columns: {_listing(encoding.names)}")
        code = encoding.columns[encoding.names.index(column)]
        if code.kind not in (CATEGORICAL, CONSTANT) or (code.kind == CONSTANT and np.dtype(_numpy_dtype(code.dtype)).kind in "iuf"):
            raise VeeganError(f"--where takes categorical columns (text, booleans, the labels column, table.categorical), and "
                              f"{column!r} is a numeric column: filter the samples on it yourself")
        text = value if isinstance(value, str) else str(value)
        levels = written_levels(encoding, column)
        if text not in levels:
            raise VeeganError(f"--where {column}={text}: column {column!r} never holds {text!r} in the run's table; its "
                              f"values: {_listing(levels)}{_closest(text, levels)}")
        span = encoding.offsets[encoding.names.index(column)] if code.kind == CATEGORICAL else None
        found.append(Condition(column, text, span, levels.index(text)))
    return found


def _numpy_dtype(dtype: str) -> str:
    """A column's stored dtype as NumPy takes it (pandas' own dtypes, category and the like, as object)."""
    try:
        return str(np.dtype(dtype))
    except TypeError:
        return "object"


def _closest(text: str, levels: list[str]) -> str:
    """A hint naming the level that ``text`` was most likely meant as, or nothing."""
    same = [level for level in levels if level.strip().casefold() == text.strip().casefold()]
    near = same or difflib.get_close_matches(text, levels, n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}? values match exactly, case included)" if near else ""


def _listing(names: Sequence[str]) -> str:
    names = list(names)
    return ", ".join(names[:LISTED]) + (f", ... ({len(names)} in all)" if len(names) > LISTED else "")


def matches(encoded: np.ndarray, found: Sequence[Condition]) -> np.ndarray:
    """Which encoded rows meet every condition (a one-hot block's argmax, as decoding reads it)."""
    keep = np.ones(len(encoded), dtype=bool)
    for condition in found:
        if condition.span is not None:
            start, end = condition.span
            keep &= encoded[:, start:end].argmax(1) == condition.index
    return keep


def draw_where(draw: Callable[[int], np.ndarray], n: int, found: Sequence[Condition], width: int,
               max_draws: int | None = None, training_share: Callable[[], float] | None = None) -> np.ndarray:
    """``n`` encoded rows that meet ``found``, from batches of ``draw(size)`` (seeded by the
    caller: the batch sizes depend on nothing else, so a seeded draw repeats), kept in draw
    order. After ``max_draws`` draws (default: 1,000,000 or 100 per row, the larger) without
    ``n`` rows, one line: what the model produced, beside ``training_share()`` (the share of
    training rows that meet ``found``)."""
    budget = max_draws if max_draws is not None else max(MAX_DRAWS, DRAWS_PER_ROW * n)
    if budget < 1:
        raise VeeganError("--max-draws must be >= 1")
    largest = max(1, min(MAX_BATCH, MAX_BATCH_VALUES // max(width, 1)))
    kept: list[np.ndarray] = [np.zeros((0, width), dtype=np.float32)]
    found_rows = drawn = 0
    while found_rows < n and drawn < budget:
        rate = (found_rows + 1) / (drawn + 1)  # the share kept so far, never 0
        size = int(min(max(np.ceil(1.2 * (n - found_rows) / rate), min(FIRST_BATCH, largest)), largest, budget - drawn))
        rows = draw(size)
        keep = matches(rows, found)
        kept.append(rows[keep])
        found_rows, drawn = found_rows + int(keep.sum()), drawn + size
    if found_rows < n:
        raise VeeganError(_too_rare(found, found_rows, drawn, n, training_share))
    return np.concatenate(kept)[:n]


def _too_rare(found: Sequence[Condition], rows: int, drawn: int, n: int,
              training_share: Callable[[], float] | None) -> str:
    """The one line of a search that gave up."""
    what = ", ".join(map(str, found))
    share = training_share() if training_share is not None else None
    real = "" if share is None else ("; no training row has it, so a model that learnt the table rarely makes it"
                                     if share == 0 else f"; {100 * share:.3g} % of the training rows have it")
    return (f"the model produced {rows:,} rows with {what} in {drawn:,} draws ({100 * rows / drawn:.2g} %{real}), fewer "
            f"than the {n:,} asked: ask for fewer rows (-n), allow more draws (--max-draws), or train longer or with "
            "another seed")
