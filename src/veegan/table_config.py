"""How a user's own table is read, split and encoded: the ``table`` section of a run's
configuration (``--set table.holdout=0.1``, ``--columns``, ``--exclude``, ``--labels``,
``--header``). It acts only on a data file (``--data``); the built-in datasets ignore it."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import VeeganError

HEADER_CHOICES = ("auto", "yes", "no")
MISSING_CHOICES = ("error", "drop")
CATEGORICAL_OUTPUTS = ("gumbel", "softmax")


@dataclass
class TableConfig:
    """Reading, splitting and encoding a table (CSV, TSV, Parquet, .npy, .npz)."""

    columns: tuple[str, ...] | None = None  # the columns to train on; None: all (but ``exclude``)
    exclude: tuple[str, ...] = ()  # columns left out, the others kept (with ``columns``: out of those)
    header: str = "auto"  # CSV only: auto (detected), yes or no (columns named c0, c1, ...)
    delimiter: str | None = None  # CSV only; None: sniffed from the file (",", tab, ";", "|", " ")
    categorical: tuple[str, ...] = ()  # numeric columns to treat as categories (text and booleans always are)
    labels: str | None = None  # a class column: scored as classes produced (see train_labels)
    train_labels: bool = True  # train on the ``labels`` column too (a categorical column, given back by sample)
    holdout: float = 0.2  # the share of rows held out for evaluation, drawn with ``split_seed``
    split_seed: int = 0  # the same split for every method and seed, so their scores compare
    missing: str = "error"  # a row with an empty cell: "error" (say where), or "drop" the row
    max_levels: int = 100  # a categorical column with more distinct values is refused (an identifier?)
    categorical_output: str = "gumbel"  # how G emits a category in training: Gumbel-softmax or plain softmax
    gumbel_temperature: float = 0.2  # tau of the Gumbel-softmax (CTGAN's 0.2)
    clip: bool = True  # a numeric column's samples are clipped to its training rows' range
    round: bool = True  # ... and rounded to the decimals its values have (at most 6)
    point_mass: bool = True  # a value held by point_mass_share of a numeric column's rows is generated exactly
    point_mass_share: float = 0.25  # the share of training rows that makes a value a point mass
    dates: bool = True  # text columns of dates (2021-03-04, 2021-03-04 12:00, ...) are dates, not categories
    drop_index: bool = True  # a CSV's leading pandas index column (df.to_csv() without index=False) is left out
    comma_numbers: bool = True  # CSV cells such as 3,5 (a decimal comma) or 1,000 (thousands) are numbers
    labels_in_place: bool = True  # a trained labels column keeps its place among the columns (False: last)

    def __post_init__(self) -> None:
        if self.delimiter in ("\\t", "tab", "TAB"):  # a tab is hard to type in --set
            self.delimiter = "\t"
        checks = [
            (self.header in HEADER_CHOICES, f"table.header must be one of {', '.join(HEADER_CHOICES)}"),
            (self.missing in MISSING_CHOICES, f"table.missing must be one of {', '.join(MISSING_CHOICES)}"),
            (self.categorical_output in CATEGORICAL_OUTPUTS,
             f"table.categorical_output must be one of {', '.join(CATEGORICAL_OUTPUTS)}"),
            (0 < self.holdout < 1, "table.holdout must be in (0, 1)"),
            (self.max_levels >= 2, "table.max_levels must be >= 2"),
            (0 <= self.split_seed < 2**31, "table.split_seed must be in [0, 2^31)"),
            (self.gumbel_temperature > 0, "table.gumbel_temperature must be > 0"),
            (self.delimiter is None or len(self.delimiter) == 1, "table.delimiter must be one character"),
            (0 < self.point_mass_share <= 1, "table.point_mass_share must be in (0, 1] (or turn point masses off with "
                                             "table.point_mass=false)"),
            (self.labels is None or self.labels not in self.exclude,
             f"column {self.labels!r} is both --labels and --exclude: to keep the labels column out of training, "
             "use --set table.train_labels=false instead of --exclude"),
        ]
        for ok, message in checks:
            if not ok:
                raise VeeganError(message)


# What a run's configuration meant before these keys existed: a stored configuration without one of
# them was trained that way (the labels column scored only, samples unclipped and unrounded, no point
# masses, dates refused or categories), and loads so (:func:`as_trained`).
BEFORE_KEYS = {"train_labels": False, "clip": False, "round": False, "point_mass": False, "dates": False,
               "drop_index": False, "comma_numbers": False, "labels_in_place": False}


def as_trained(table: TableConfig, stored: Mapping[str, Any]) -> TableConfig:
    """``table`` (a stored run's ``table`` section ``stored``, completed with today's defaults)
    with the keys that ``stored`` lacks set as the run was trained: the defaults of their time."""
    return dataclasses.replace(table, **{key: value for key, value in BEFORE_KEYS.items() if key not in stored})
