"""How a run's configuration is resolved, in layers (a later layer wins):

1. the defaults of :mod:`veegan.config` (the authors' synthetic-data settings);
2. the dataset's preset (:class:`veegan.data.base.DatasetSpec`: the paper's DCGAN settings for
   image datasets; nothing for the synthetic ones or the user's own array);
   for the user's own data, the training length in passes over its rows (``epochs``:
   :data:`veegan.training_length.OWN_DATA_EPOCHS`; given ``steps`` alone, the steps decide);
3. the named preset (:mod:`veegan.presets`): ``paper`` (nothing) for a built-in dataset; for
   the user's own array ``best`` (the recipe study's pick) with the study's method, which is
   then the default method, and ``robust`` with any other; unless ``--preset`` names another;
4. a stored run configuration (``--resume``), a configuration file, explicit arguments, ``--set``.

Every key, type and value is checked, ``method_options`` against the method's own ``Options``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping

from .config import TrainConfig
from .config_values import build_dataclass, coerce, merge, parse_assignments, plain, read_yaml
from .data.catalog import DATASETS
from .methods import method_class
from .methods.external import canonical_name
from .presets import default_method, default_preset, preset_values
from .training_length import OWN_DATA_EPOCHS, length_given_in_steps, with_training_length


def dataset_preset(dataset: str, method: str) -> dict[str, Any]:
    """The configuration defaults that ``dataset`` brings for ``method``."""
    return DATASETS.get(dataset).defaults(method)


def build_config(*layers: Mapping[str, Any], preset: str | None = None) -> TrainConfig:
    """Merge the layers (later wins) onto the defaults, the dataset's preset and the named
    ``preset`` (default: :func:`veegan.presets.default_preset`), and check the result."""
    values: dict[str, Any] = {}
    for layer in layers:
        values = merge(values, layer)
    defaults = TrainConfig()
    own_data = coerce(values.get("data_file"), str | None, "data_file") is not None
    method = str(values.setdefault("method", default_method(own_data)))
    # an own table keeps the synthetic defaults but trains a number of passes over its rows
    below = {"epochs": OWN_DATA_EPOCHS} if own_data else dataset_preset(str(values.get("dataset", defaults.dataset)), method)
    values = merge(merge(below, preset_values(preset or default_preset(own_data, method), method)), values)
    if length_given_in_steps(layers):
        values["epochs"] = None
    config = build_dataclass(TrainConfig, values)
    config.method = canonical_name(config.method)
    options = build_dataclass(method_class(config.method).Options, config.method_options, prefix="method_options.")
    config.method_options = plain(dataclasses.asdict(options))
    return config


def resolve_config(
    *, method: str | None = None, dataset: str | None = None, data: str | Path | None = None,
    data_dir: str | Path | None = None, steps: int | None = None, seed: int | None = None, config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | list[str] | None = None, base: Mapping[str, Any] | None = None,
    preset: str | None = None,
) -> TrainConfig:
    """Defaults <- the dataset's preset <- the named ``preset`` (paper, robust or best; by default
    :func:`veegan.presets.default_preset`) <- ``base`` <- config file <- explicit arguments <-
    overrides (``key=value`` strings or a nested mapping); ``epochs`` turned into ``steps`` on the
    data file's training rows (:func:`veegan.training_length.with_training_length`)."""
    explicit = {k: v for k, v in {"method": method, "dataset": dataset, "steps": steps, "seed": seed}.items() if v is not None}
    if data is not None:
        explicit["data_file"] = str(Path(data).resolve())  # later commands may run elsewhere
    if data_dir is not None:
        explicit["data_dir"] = str(Path(data_dir).resolve())
    if isinstance(overrides, list):
        overrides = parse_assignments(overrides)
    layers = [base or {}, read_yaml(config_file) if config_file else {}, explicit, overrides or {}]
    return with_training_length(build_config(*layers, preset=preset))
