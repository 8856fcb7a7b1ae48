"""How a user's own table is read, split and encoded: the ``table`` section of a run's
configuration (``--set table.holdout=0.1``, ``--columns``, ``--labels``, ``--header``). It acts
only on a data file (``--data``); the built-in datasets ignore it."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import VeeganError

HEADER_CHOICES = ("auto", "yes", "no")
MISSING_CHOICES = ("error", "drop")
CATEGORICAL_OUTPUTS = ("gumbel", "softmax")


@dataclass
class TableConfig:
    """Reading, splitting and encoding a table (CSV, TSV, Parquet, .npy, .npz)."""

    columns: tuple[str, ...] | None = None  # the columns to train on; None: all (but ``labels``)
    header: str = "auto"  # CSV only: auto (detected), yes or no (columns named c0, c1, ...)
    delimiter: str | None = None  # CSV only; None: sniffed from the file (",", tab, ";", "|", " ")
    categorical: tuple[str, ...] = ()  # numeric columns to treat as categories (text and booleans always are)
    labels: str | None = None  # a class column: scored as classes produced, not trained on (see train_labels)
    train_labels: bool = False  # train on the ``labels`` column too (as one more categorical column)
    holdout: float = 0.2  # the share of rows held out for evaluation, drawn with ``split_seed``
    split_seed: int = 0  # the same split for every method and seed, so their scores compare
    missing: str = "error"  # a row with an empty cell: "error" (say where), or "drop" the row
    max_levels: int = 100  # a categorical column with more distinct values is refused (an identifier?)
    categorical_output: str = "gumbel"  # how G emits a category in training: Gumbel-softmax or plain softmax
    gumbel_temperature: float = 0.2  # tau of the Gumbel-softmax (CTGAN's 0.2)

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
            (not self.train_labels or self.labels is not None, "table.train_labels needs table.labels (--labels COLUMN)"),
        ]
        for ok, message in checks:
            if not ok:
                raise VeeganError(message)
