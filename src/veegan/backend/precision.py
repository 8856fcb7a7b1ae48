"""Mixed precision and memory format of a training step (``runtime.precision``,
``runtime.channels_last``): speed settings that change the arithmetic's rounding, not the maths.

- ``fp32`` (the default): everything in float32, as the paper's code ran.
- ``bf16``: the method's forward pass (its loss terms) under :func:`torch.autocast` with
  bfloat16, on CUDA and on the CPU (oneDNN runs bf16 convolutions and matrix products natively
  on CPUs with AVX512-BF16 or AMX). Parameters, gradients and Adam's state stay in float32; bf16
  has float32's range, so no loss scaling is needed. On a CPU without native bf16, oneDNN
  emulates it 7-20x slower than fp32 (docs/performance.md), so the step keeps fp32 there and
  says so.
- ``fp16``: the same with float16, CUDA only, with a :class:`torch.amp.GradScaler` that scales
  the loss so that small gradients do not underflow and skips a step whose gradients overflowed.

``channels_last`` stores the convolutional networks' weights and the image batches in NHWC
order, which cuDNN's tensor cores and oneDNN's convolutions prefer; it changes nothing for the
MLP networks. Evaluation and sampling never run under autocast: metrics are always float32.
"""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import torch
from torch import nn

from ..errors import VeeganError

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def check_precision_name(name: str) -> None:
    """A one-line error for a precision that is not fp32, bf16 or fp16."""
    if name not in PRECISIONS:
        raise VeeganError(f"runtime.precision must be fp32, bf16 or fp16, not {name!r}")


NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}  # x86 (AVX512-BF16, AMX), Arm (FEAT_BF16)


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether oneDNN can run bf16 arithmetic natively on this CPU: a bf16 instruction set among
    the CPU's flags, and not excluded by ``ONEDNN_MAX_CPU_ISA``. False where it cannot tell."""
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    if isa and isa != "ALL" and "BF16" not in isa and "AMX" not in isa:
        return False
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    flags = re.search(r"^(?:flags|Features)\s*:(.*)$", text, flags=re.M)  # x86's line, Arm's line
    return bool(flags and NATIVE_BF16_FLAGS & set(flags.group(1).split()))


class StepPrecision:
    """How one training step runs its arithmetic on ``device``: :meth:`autocast` around the
    forward pass, :meth:`backward_and_step` for the update, :meth:`batch` for the data."""

    def __init__(self, precision: str = "fp32", device: torch.device | str = "cpu", channels_last: bool = False,
                 emulated_bf16: bool = False) -> None:
        """``emulated_bf16``: run bf16 on a CPU without native support too (tests; slow)."""
        check_precision_name(precision)
        device = torch.device(device)
        if precision == "fp16" and device.type != "cuda":
            raise VeeganError(f"runtime.precision fp16 needs a CUDA device, not {device.type}: on the CPU, bf16 is "
                              "the half-precision format with hardware support")
        if precision == "bf16" and device.type not in ("cpu", "cuda"):
            raise VeeganError(f"runtime.precision bf16 runs on the CPU and on CUDA, not on {device.type}")
        if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise VeeganError(f"runtime.precision bf16: {torch.cuda.get_device_name(device)} has no bf16 support; use fp16")
        self.note = ""  # said once by the session where the step keeps another precision than asked
        if precision == "bf16" and device.type == "cpu" and not emulated_bf16 and not cpu_has_native_bf16():
            self.note = ("runtime.precision bf16: this CPU has no native bf16 (AVX512-BF16 or AMX), where oneDNN "
                         "emulates it 7-20x slower than fp32; the step keeps fp32")
            precision = "fp32"
        self.name, self.device_type, self.channels_last = precision, device.type, channels_last
        self.dtype = PRECISIONS[precision]
        self.scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None

    @property
    def is_mixed(self) -> bool:
        """Whether the forward pass runs in a half-precision format."""
        return self.dtype != torch.float32

    def autocast(self) -> contextlib.AbstractContextManager:
        """Where the loss terms are computed: autocast to the half format, or nothing for fp32."""
        if not self.is_mixed:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def batch(self, x: torch.Tensor) -> torch.Tensor:
        """A data batch in the memory format of the networks (images only)."""
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last and x.dim() == 4 else x

    def prepare(self, module: nn.Module) -> nn.Module:
        """The networks in the memory format of the step (4-D weights only; in place)."""
        return module.to(memory_format=torch.channels_last) if self.channels_last else module

    def backward_and_step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """One backward pass of ``loss`` and one optimizer step; with fp16, scaled (a step whose
        gradients overflowed is skipped and the scale lowered, as GradScaler does)."""
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def state_dict(self) -> dict:
        """What a checkpoint keeps: the fp16 loss scale and its growth tracker (else nothing)."""
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)


FP32 = StepPrecision()  # the default step: float32, contiguous
