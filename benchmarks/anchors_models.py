"""The anchors of benchmarks/anchors.py: each a function of (the training rows of the columns that
vary, their kinds as veegan reads them, the seed, constructor options) that fits the anchor with its
own defaults and returns a sampler of n rows. Their packages are imported when one is fitted, so
that this module loads without them (in veegan's .venv too)."""
from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from veegan.data.table_columns import CATEGORICAL


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _sdv(name: str) -> Callable[..., Callable[[int], pd.DataFrame]]:
    def fit(train: pd.DataFrame, kinds: dict[str, str], seed: int, options: dict[str, Any]) -> Callable[[int], pd.DataFrame]:
        import sdv.single_table
        from sdv.metadata import Metadata

        columns = {c: {"sdtype": "categorical" if k == CATEGORICAL else "numerical"} for c, k in kinds.items()}
        metadata = Metadata.load_from_dict({"tables": {"table": {"columns": columns}}})
        synthesizer = getattr(sdv.single_table, name)(metadata, **options)
        seed_everything(seed)
        synthesizer.fit({"table": train})

        def sample(n: int) -> pd.DataFrame:
            synthesizer._set_random_state(seed)  # SDV samples with its fixed seed 73251 unless given one
            drawn = synthesizer.sample(n)
            return drawn["table"] if isinstance(drawn, dict) else drawn
        return sample
    return fit


def _forest_diffusion(train, kinds, seed, options):
    from ForestDiffusion import ForestDiffusionModel

    levels = {c: sorted(train[c].unique(), key=lambda v: (str(type(v)), v)) for c, k in kinds.items() if k == CATEGORICAL}
    x = np.column_stack([pd.Index(levels[c]).get_indexer(train[c]) if c in levels else train[c].to_numpy(float) for c in kinds])
    index = {c: i for i, c in enumerate(kinds)}
    options = {"n_jobs": 1, "nthread": 1, **options}  # one process, one XGBoost thread (its default: every core)
    seed_everything(seed)
    model = ForestDiffusionModel(x.astype(float), seed=seed, **options,
                                 cat_indexes=[index[c] for c in levels if len(levels[c]) > 2],
                                 bin_indexes=[index[c] for c in levels if len(levels[c]) == 2],
                                 int_indexes=[index[c] for c, k in kinds.items() if k == "integer"])

    def sample(n: int) -> pd.DataFrame:
        drawn = pd.DataFrame(model.generate(batch_size=n), columns=list(kinds))
        for c in levels:
            drawn[c] = np.asarray(levels[c], dtype=object)[drawn[c].round().astype(int).clip(0, len(levels[c]) - 1)]
        return drawn
    return sample


def _mostlyai(train, kinds, seed, options):
    from mostlyai.engine import TabularARGN

    workspace = tempfile.TemporaryDirectory(prefix="mostlyai-")
    types = {c: "TABULAR_CATEGORICAL" if k == CATEGORICAL else "TABULAR_NUMERIC_AUTO" for c, k in kinds.items()}
    seed_everything(seed)
    model = TabularARGN(tgt_encoding_types=types, random_state=seed, device="cpu", workspace_dir=workspace.name, **options)
    model.fit(train)

    def sample(n: int) -> pd.DataFrame:
        drawn = model.sample(n_samples=n)
        for c, k in kinds.items():  # categories come back as text: the training rows' own values where they match
            if k == CATEGORICAL:
                by_text = {str(v): v for v in train[c].unique()}
                drawn[c] = drawn[c].map(lambda v: by_text.get(str(v), v)).astype(object)
        return drawn
    sample.workspace = workspace  # the model's files live as long as its sampler
    return sample


@dataclass(frozen=True)
class Anchor:
    """One anchor: how it is fitted, what it is (recorded), the packages whose versions are recorded."""

    fit: Callable[..., Callable[[int], pd.DataFrame]]
    what: str
    packages: tuple[str, ...]


ANCHORS = {
    "gaussian_copula": Anchor(_sdv("GaussianCopulaSynthesizer"), "SDV GaussianCopulaSynthesizer", ("sdv", "copulas", "rdt")),
    "ctgan": Anchor(_sdv("CTGANSynthesizer"), "SDV CTGANSynthesizer", ("sdv", "ctgan", "rdt", "torch")),
    "tvae": Anchor(_sdv("TVAESynthesizer"), "SDV TVAESynthesizer", ("sdv", "ctgan", "rdt", "torch")),
    "forest_diffusion": Anchor(_forest_diffusion, "ForestDiffusionModel (flow, XGBoost)", ("forestdiffusion", "xgboost")),
    "mostlyai": Anchor(_mostlyai, "mostlyai.engine.TabularARGN", ("mostlyai-engine", "torch")),
}
