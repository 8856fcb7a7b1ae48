"""Every built-in dataset, registered, and :func:`make_dataset`: the entry point of the rest of
the package into ``veegan.data``."""
from __future__ import annotations

from pathlib import Path

# each module registers its datasets; in this order, the synthetic ones first, the CLI lists them
from . import synthetic  # noqa: F401, I001
from . import images, stacked_mnist  # noqa: F401, E402
from .arrays import ArrayDataset, load_array
from .base import DATASETS, Dataset, DatasetSpec

__all__ = ["DATASETS", "ArrayDataset", "Dataset", "DatasetSpec", "load_array", "make_dataset"]


def make_dataset(name: str, data_file: str | None = None, data_dir: str | None = None) -> Dataset:
    """The named dataset (reading its files from ``data_dir`` where it has files), or the
    user's array when ``data_file`` is given."""
    if data_file is not None:
        return ArrayDataset(load_array(data_file), name=Path(data_file).stem)
    return DATASETS.get(name).build(data_dir)
