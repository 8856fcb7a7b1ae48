"""CPU-speed code, kept apart from the maths it computes.

- :mod:`.products`: matrix products with 2-8 result columns in the layout MKL runs fastest;
- :mod:`.lookahead`: Unrolled GAN's discriminator gradient written out for an MLP D;
- :mod:`.runtime`: process-wide settings (threads, oneDNN matmuls, the allocator);
- :mod:`.precision`: mixed precision and channels_last (``runtime.precision``, ``runtime.channels_last``).

The code routes of the first two are one switch, ``runtime.cpu_routes`` (default on). They act on
float32 CPU tensors only: a tensor on another device, or under autocast, always takes PyTorch's own route.
"""
from __future__ import annotations

import torch

_cpu_routes = True


def set_cpu_routes(enabled: bool) -> None:
    """Turn the CPU code routes on or off for this process (``runtime.cpu_routes``)."""
    global _cpu_routes
    _cpu_routes = bool(enabled)


def cpu_routes(*tensors: torch.Tensor | None) -> bool:
    """Whether the CPU routes may take these tensors: switched on, all of them on the CPU, and
    float32 arithmetic (under ``runtime.precision`` bf16's autocast, PyTorch's own route)."""
    return (_cpu_routes and all(t is None or t.device.type == "cpu" for t in tensors)
            and not torch.is_autocast_enabled("cpu"))
