"""Checkpoints: one dict, written atomically (temp file, fsync, rename), read with weights_only;
and what a training checkpoint holds: everything needed to continue a run exactly."""
from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..backend import device
from ..errors import VeeganError
from ..version import __version__

CHECKPOINT_NAME = "checkpoint.pt"
FORMAT_VERSION = 1


def save_atomic(state: dict[str, Any], path: Path) -> None:
    """Write ``state`` so that ``path`` always holds either the old or the new checkpoint."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format_version": FORMAT_VERSION, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_atomic`; a damaged file gets a one-line error."""
    path = Path(path)
    if not path.is_file():
        raise VeeganError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise VeeganError(f"checkpoint {path} is unreadable (truncated or corrupt?): {reason}") from None
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise VeeganError(f"{path} is not a veegan checkpoint (format {FORMAT_VERSION})")
    return state


def training_state(
    config: Any, method: torch.nn.Module, optimizer: torch.optim.Optimizer, step: int, average: Any = None,
    grad_scaler: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything needed to continue exactly: networks, optimizer, step, RNG, configuration, the
    generator average (``ema.decay``) and fp16's loss scale (``grad_scaler``) when there are."""
    extra = {} if average is None else {"generator_average": device.to_cpu(average.state_dict())}
    if grad_scaler:
        extra["grad_scaler"] = grad_scaler
    return {
        "veegan_version": __version__,
        "config": config.to_dict(),
        "step": step,
        # tensors on the CPU, so that the checkpoint loads on any machine; the random state of
        # the CPU and of the run's device
        "method": device.to_cpu(method.state_dict()),
        "optimizer": device.to_cpu(optimizer.state_dict()),
        "rng": device.rng_state(next(method.parameters()).device),
        **extra,
    }


def restore(state: dict[str, Any], method: torch.nn.Module, optimizer: torch.optim.Optimizer, max_step: int) -> int:
    """Load a training checkpoint into fresh objects and return its step; a checkpoint beyond
    ``max_step`` or of another model gets a one-line error. (Whether it is a run of the same
    configuration is :func:`veegan.training.run_dir.check_same_run`'s question.)"""
    if int(state.get("step", 0)) > max_step:
        raise VeeganError(f"the checkpoint is at step {state['step']}, beyond the {max_step} steps asked for (a table trains "
                          "its epochs' passes over its rows unless --steps N says otherwise)")
    try:
        saved = [group.get("name") for group in state["optimizer"]["param_groups"]]
        built = [group.get("name") for group in optimizer.param_groups]
        if saved != built:  # the optimizer's state is matched by position: the networks must line up
            raise VeeganError(f"the checkpoint does not fit this model: its networks are {saved}, this model's {built}")
        method.load_state_dict(state["method"])
        optimizer.load_state_dict(state["optimizer"])  # moves the moments to the parameters' device
        device.set_rng_state(state["rng"], next(method.parameters()).device)
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise VeeganError(f"the checkpoint does not fit this model: {str(exc).splitlines()[0]}") from None
    return int(state["step"])
