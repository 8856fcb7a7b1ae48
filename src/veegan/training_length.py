"""How long a run trains: ``steps``, or ``epochs`` passes over a data file's training rows.

The user's own data trains :data:`OWN_DATA_EPOCHS` passes by default (at most ``steps``):
a fixed number of steps lets a GAN see each row of a small table hundreds of thousands of
times, and it then learns the rows rather than the distribution (the privacy check's DCR share
on wine: 0.84 at 100,000 steps, 0.18 at 10,000 passes). The value was chosen on a screen
(scripts/own_data_length_screen.sh; docs/own-data.md, "How long it trains").
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from .config import TrainConfig
from .errors import VeeganError
from .table_config import TableConfig

# passes over the training rows: the length screen's fallback (its rule picked none; on wine no
# length both covered and kept away from the rows), docs/own-data.md "How long it trains"
OWN_DATA_EPOCHS = 10_000.0

_ROW_COUNTS: dict[tuple[Any, ...], int] = {}  # training rows by file key: a count, never the table


def length_given_in_steps(layers: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the uppermost of ``layers`` that sets the length sets ``steps`` and not
    ``epochs``: the user asked for a number of steps, so a default ``epochs`` below gives way."""
    for layer in reversed(layers):
        if "epochs" in layer:
            return False
        if "steps" in layer:
            return True
    return False


def training_row_count(path: Path, table: TableConfig) -> int:
    """How many rows of the data file ``path`` a run trains on (``table`` says how it is read
    and split). Read once per file and options in a process, or taken from a live dataset."""
    from .data.own_table import _READ, _file_key, select_columns, split_rows
    from .data.table_files import read_table

    key = _file_key(path, table)
    if key is not None and key in _ROW_COUNTS:
        return _ROW_COUNTS[key]
    if key is not None and (live := _READ.get(key)) is not None:
        rows = len(live.train_rows)
    else:
        frame = read_table(path, table.header, table.delimiter, drop_index=table.drop_index, comma_numbers=table.comma_numbers)
        features, _ = select_columns(frame, table, path)
        rows = len(split_rows(len(features), table.holdout, table.split_seed)[0])
    if key is not None:
        _ROW_COUNTS[key] = rows
    return rows


def steps_for_epochs(epochs: float, rows: int, batch_size: int, cap: int) -> int:
    """ceil(epochs x rows / batch_size) steps (at least 1), at most ``cap``."""
    return min(cap, max(1, math.ceil(epochs * rows / batch_size)))


def with_training_length(config: TrainConfig) -> TrainConfig:
    """``config`` with ``steps`` set from ``epochs`` (unchanged when ``epochs`` is None)."""
    if config.epochs is None:
        return config
    if config.data_file is None:
        raise VeeganError("epochs counts passes over a data file's training rows (--data): for a built-in dataset, "
                          "give steps instead (--steps N, or --set epochs=null)")
    rows = training_row_count(Path(config.data_file), config.table)
    return dataclasses.replace(config, steps=steps_for_epochs(config.epochs, rows, config.batch_size, config.steps))


def length_note(config: TrainConfig, rows: int) -> str | None:
    """The line that says how a run's steps follow from its ``epochs``, if they do."""
    if config.epochs is None:
        return None
    return (f"training {config.steps:,} steps: {config.epochs:g} passes over the {rows:,} training rows at batch "
            f"{config.batch_size}, at most the steps asked for (--set epochs=E to change it, --steps N for steps alone)")
