"""A run directory: its files, and the checks that keep one run from overwriting another."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

from ..backend.device import saved_device_kind
from ..config import RuntimeConfig, TrainConfig
from ..config_values import read_yaml
from ..configure import build_config
from ..data.catalog import DATASETS
from ..errors import VeeganError
from ..table_config import as_trained
from . import checkpoint
from .checkpoint import CHECKPOINT_NAME

CONFIG_NAME = "config.yaml"
METRICS_LOG_NAME = "metrics.jsonl"
FINAL_METRICS_NAME = "metrics.json"
DENSITY_NAME = "density.png"
SAMPLES_NAME = "samples.png"  # image datasets: samples beside real images, in place of the density plot
TABLE_NAME = "table.json"  # a user's table: its columns' encoding, which `veegan sample` inverts
IVOM_NAME = "ivom.json"  # written by `reproduce table2` for CIFAR-10 runs
TENSORBOARD_DIR = "tensorboard"
RUN_FILES = (CONFIG_NAME, CHECKPOINT_NAME, METRICS_LOG_NAME, FINAL_METRICS_NAME, DENSITY_NAME, SAMPLES_NAME, IVOM_NAME,
             TABLE_NAME, TENSORBOARD_DIR)

# Keys in which a resumed or kept run may differ and still be the same run: a longer or shorter
# run of the same configuration, and one on another device, thread count or code route (every
# runtime.* key: the same maths, rounded in another order)
RESUMABLE_CHANGES = {"steps", "epochs", *(f"runtime.{name}" for name in RuntimeConfig.__dataclass_fields__)}
# what `--resume` may also change, e.g. after a divergence: the run goes on from its checkpoint
# with the new values (and is, from then on, a run of the new configuration)
RESUME_ADJUSTABLE = {"optim.lr_generator", "optim.lr_reconstructor", "optim.lr_discriminator", "schedule.on_divergence"}


def read_run_config(run_dir: Path) -> TrainConfig:
    path = Path(run_dir) / CONFIG_NAME
    if not path.is_file():
        raise VeeganError(f"{run_dir} is not a veegan run directory (no {CONFIG_NAME})")
    return as_stored(read_yaml(path))


def as_stored(stored: Mapping[str, Any]) -> TrainConfig:
    """A stored configuration completed as it was trained: a key it lacks keeps today's default,
    except the ``table`` keys added since, which mean what the run did before they existed
    (:func:`veegan.table_config.as_trained`)."""
    config = build_config(stored, preset="paper")
    config.table = as_trained(config.table, stored.get("table") or {})
    return config


def holds_run(run_dir: Path) -> bool:
    return any((Path(run_dir) / name).exists() for name in RUN_FILES)


def prepare(run_dir: Path, config: TrainConfig, resume: bool, overwrite: bool) -> bool:
    """Make ``run_dir`` ready for ``config``; return True when a checkpoint is to be resumed.

    Refuses to touch an existing run unless ``overwrite``; with ``resume`` the stored
    configuration must equal ``config`` apart from RESUMABLE_CHANGES and RESUME_ADJUSTABLE."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise VeeganError(f"{run_dir} exists and is not a directory")
    if resume and overwrite:
        raise VeeganError("--resume and --overwrite exclude each other")
    if resume and (run_dir / CONFIG_NAME).is_file():
        check_same_run(read_run_config(run_dir).to_dict(), config, f"cannot resume {run_dir}: it was trained",
                       allowed=RESUMABLE_CHANGES | RESUME_ADJUSTABLE)
        return (run_dir / CHECKPOINT_NAME).is_file()
    if resume and holds_run(run_dir):
        raise VeeganError(f"cannot resume {run_dir}: it has no {CONFIG_NAME} to check the configuration against")
    if holds_run(run_dir) and not resume:
        if not overwrite:
            raise VeeganError(f"{run_dir} already holds a run; pass --resume to continue it or --overwrite to replace it")
        for name in RUN_FILES:
            target = run_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VeeganError(f"cannot create run directory {run_dir}: {exc.strerror}") from None
    return False


def check_same_run(
    stored: Mapping[str, Any], config: TrainConfig, context: str, allowed: set[str] = RESUMABLE_CHANGES,
) -> None:
    """Raise unless ``config`` equals the stored configuration apart from the ``allowed`` keys.
    The stored one is completed first (:func:`as_stored`), so that a run saved before a
    configuration key existed still matches a configuration that keeps that key's default. The
    ``table`` section reads a data file only, so without one its keys are not compared."""
    try:
        stored = as_stored(stored).to_dict()
    except VeeganError:
        pass  # a configuration that no longer builds: compare it as stored, key by key
    differences = config_differences(stored, config.to_dict())
    if config.data_file is None:
        differences = [d for d in differences if not d[0].startswith("table.")]
    blocking = [d for d in differences if d[0] not in allowed]
    if blocking:
        key, old, new = blocking[0]
        more = f" (and {len(blocking) - 1} more differences)" if len(blocking) > 1 else ""
        raise VeeganError(f"{context} with {key}={old!r}, now asked for {new!r}{more}")


def config_differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, old value, new value) for every leaf that differs."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += config_differences(a, b, prefix + key + ".")
        elif a != b:
            out.append((prefix + key, a, b))
    return out


def restore_checkpoint(
    run_dir: Path, config: TrainConfig, method: Any, optimizer: Any, warn: bool = True, average: Any = None,
    precision: Any = None,
) -> int:
    """Load the run's checkpoint into fresh ``method`` and ``optimizer`` (and the generator
    ``average`` of ``ema.decay`` and fp16's loss scale in ``precision``, if given) and return its step;
    refuse a checkpoint of another configuration or model with a one-line error. Training on
    from a checkpoint of another kind of device is allowed, with a one-line warning (``warn``)."""
    state = checkpoint.load(Path(run_dir) / CHECKPOINT_NAME)
    check_same_run(state.get("config", {}), config, "the checkpoint belongs to a run trained",
                   allowed=RESUMABLE_CHANGES | RESUME_ADJUSTABLE)
    check_data_definition(config, lambda: state)
    step = checkpoint.restore(state, method, optimizer, config.steps)
    if average is not None:
        average.load_state_dict(state.get("generator_average"))
    if precision is not None:
        precision.load_state_dict(state.get("grad_scaler", {}))
    saved, now = saved_device_kind(state.get("rng")), next(method.parameters()).device.type
    if warn and saved != now:
        print(f"veegan: warning: {run_dir} was trained on {saved} and continues on {now}: the continuation "
              "is not bit-identical to an uninterrupted run", file=sys.stderr)
    for group, configured in zip(optimizer.param_groups, method.parameter_groups(config.optim)):
        group["lr"] = configured["lr"]  # the configuration's rates: a resume may have lowered them
    return step


def check_data_definition(config: TrainConfig, checkpoint_state: Callable[[], Mapping[str, Any]]) -> None:
    """Refuse a run trained on an earlier definition of its dataset (hd1200 before 0.2.0): the
    same name no longer means the same data. ``checkpoint_state`` is read only for such datasets."""
    spec = None if config.data_file is not None else DATASETS.get(config.dataset)
    if spec is not None and spec.changed_in:
        spec.check_trained_with(str(checkpoint_state().get("veegan_version", "0")))
