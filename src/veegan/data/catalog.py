"""Every built-in dataset, registered, and :func:`make_dataset`: the entry point of the rest of
the package into ``veegan.data``."""
from __future__ import annotations

import torch

# each module registers its datasets; in this order, the synthetic ones first, the CLI lists them
from . import synthetic  # noqa: F401, I001
from . import images, stacked_mnist  # noqa: F401, E402
from ..table_config import TableConfig
from .arrays import load_array
from .base import DATASETS, Dataset, DatasetSpec
from .family import NAME_FORM, family_spec
from .own_table import TableDataset

DATASETS.add_resolver(family_spec, NAME_FORM)  # the mixture family: mix-d50-k20-unequal-s4 and the like

__all__ = ["DATASETS", "Dataset", "DatasetSpec", "TableDataset", "load_array", "make_dataset"]


def make_dataset(name: str, data_file: str | None = None, data_dir: str | None = None, table: TableConfig | None = None) -> Dataset:
    """The named dataset (reading its files from ``data_dir`` where it has files), or the
    user's table when ``data_file`` is given, read, split and encoded as ``table`` says."""
    if data_file is not None:
        return TableDataset(data_file, table)
    return DATASETS.get(name).build(data_dir)


def describe(name: str) -> str:
    """What ``veegan data describe`` prints: the dataset's definition, its modes and, for a
    mixture, the high-quality radius under each rule; its scorer and its preset."""
    spec = DATASETS.get(name)
    doc = " ".join((spec.factory.__doc__ or "").split())
    lines = [f"{name}: {doc}", f"  reads files: {'yes (data_dir)' if spec.reads_files else 'no, generated'}"]
    if not spec.reads_files:
        dataset = spec.build()
        equal = bool(torch.allclose(dataset.weights, dataset.weights[0]))
        lines.append(f"  a sample: {dataset.dim} values; modes: {len(dataset.means)}, "
                     + ("equal weights" if equal else f"weights {dataset.weights.min():.4f} to {dataset.weights.max():.4f}"))
        lines.append(f"  high-quality radius: calibrated {dataset.hq_radius:.4g} (holds 98.89 % of a mode's own samples), "
                     f"paper {dataset.paper_radius:.4g} ({dataset.paper_radius / dataset.std:g} std)")
    if spec.scorer is not None:
        lines.append(f"  scored by: {spec.scorer.description}")
    lines.append(f"  preset: {spec.preset or 'none (the synthetic defaults)'}")
    if spec.method_presets:
        lines.append(f"  method presets: {spec.method_presets}")
    return "\n".join(lines)
