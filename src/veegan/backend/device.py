"""Which device a run uses (``runtime.device``): ``auto`` (CUDA if available, else Apple's MPS,
else the CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``; and the random state of that device,
which a checkpoint keeps beside the CPU's so that a resumed run continues exactly."""
from __future__ import annotations

import os
import re
from typing import Any

import torch

from ..errors import VeeganError

DEVICE_FORM = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def check_device_name(name: str) -> None:
    """A one-line error for a device name that is not one of the forms above."""
    if not DEVICE_FORM.match(name):
        raise VeeganError(f"runtime.device must be auto, cpu, cuda, cuda:N or mps, not {name!r}")


def mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def resolve_device(name: str) -> torch.device:
    """The torch device for ``name``; an unavailable one is a one-line error naming what is here."""
    check_device_name(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if mps_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            built = "has no CUDA support" if torch.version.cuda is None else f"has CUDA {torch.version.cuda} but sees no GPU"
            raise VeeganError(f"device {name} is not available: this PyTorch ({torch.__version__}) {built}")
        if device.index is not None and device.index >= count:
            raise VeeganError(f"device {name} is not available: {count} CUDA device(s) visible (cuda:0 to cuda:{count - 1})")
    if device.type == "mps" and not mps_available():
        raise VeeganError(f"device {name} is not available: Apple's MPS backend is not available here")
    return device


DATA_SHARE = 0.25  # the most of a GPU's free memory a dataset may take; larger ones stay on the host


def fits_on(device: torch.device, nbytes: int) -> bool:
    """Whether ``nbytes`` of data may be held on ``device`` (a CUDA GPU: a quarter of its free
    memory; the CPU and Apple's unified memory: always)."""
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return nbytes <= DATA_SHARE * free


def runs_per_gpu(gpus: int, cap: int, per_run_bytes: int = 1 << 30) -> int:
    """How many runs to train at once on each of ``gpus`` CUDA GPUs: at most ``cap``, one CPU
    core per run, and about 1 GiB of the GPU's free memory per run (a CUDA context and the
    paper's networks, which are far smaller)."""
    cores = max(1, (os.cpu_count() or 1) // max(gpus, 1))
    memory = min(torch.cuda.mem_get_info(i)[0] for i in range(gpus)) // per_run_bytes if gpus else cap
    return max(1, min(cap, cores, int(memory)))


def rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    """The CPU's random state, and the device's when it has its own (CUDA, MPS), on the CPU."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    elif device.type == "mps":
        state["mps"] = torch.mps.get_rng_state()
    return state


def set_rng_state(state: Any, device: torch.device) -> None:
    """Restore what :func:`rng_state` saved (a bare tensor: a checkpoint from before 0.3.0, CPU
    only). A device state saved on another kind of device is left alone."""
    if isinstance(state, torch.Tensor):
        state = {"cpu": state}
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
    elif device.type == "mps" and "mps" in state:
        torch.mps.set_rng_state(state["mps"])


def saved_device_kind(state: Any) -> str:
    """The kind of device a checkpoint's run used ('cpu', 'cuda' or 'mps')."""
    if isinstance(state, dict):
        return next((kind for kind in ("cuda", "mps") if kind in state), "cpu")
    return "cpu"


def to_cpu(value: Any) -> Any:
    """``value`` with every tensor in it (nested dicts, lists, tuples) moved to the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {key: to_cpu(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_cpu(item) for item in value)
    return value
