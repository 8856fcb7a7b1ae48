"""Process-wide arithmetic settings: thread count, the oneDNN route for fp32 matmuls, the
C allocator's reuse of freed memory, and the switch of the CPU code routes (:mod:`veegan.backend`)."""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

import torch

from ..config import RuntimeConfig
from . import set_cpu_routes


def onednn_matmul_is_exact() -> bool:
    """True when oneDNN computes fp32 matmuls in fp32 here. On CPUs with AMX, the "bf16"
    precision setting that routes matmuls to oneDNN really computes in bf16; we probe a
    product against float64 and keep the setting only if it is fp32-accurate."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 256, generator=g, device="cpu"), torch.randn(256, 64, generator=g, device="cpu")
    exact = a.double() @ b.double()
    previous = torch.backends.mkldnn.matmul.fp32_precision
    torch.backends.mkldnn.matmul.fp32_precision = "bf16"
    try:
        error = ((a @ b).double() - exact).abs().max().item()
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = previous
    return error < 1e-3  # fp32 gives ~1e-5 here; bf16 gives ~1e-1


# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
RETAINED_BYTES = 256 * 2**20


def retain_freed_memory(limit: int = RETAINED_BYTES) -> bool:
    """Ask glibc to serve blocks up to ``limit`` bytes from its heap and to keep freed memory
    instead of returning it to the system. A training step frees and re-allocates the same
    few hundred-kilobyte activations every step; by default glibc maps each one fresh, and the
    page faults of touching it again cost as much as the arithmetic (measured: about 20-30 %
    of a synthetic step, see docs/performance.md). Returns False where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, limit)) and bool(mallopt(M_TRIM_THRESHOLD, limit))


def apply(runtime: RuntimeConfig) -> None:
    """Set the thread count, the CPU code routes, the allocator's reuse of freed memory and,
    where it is exact, the oneDNN matmul route."""
    set_cpu_routes(runtime.cpu_routes)
    if torch.cuda.is_available():  # a CUDA-only setting: CPU and MPS arithmetic is unaffected
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = runtime.tf32
    if runtime.threads:
        torch.set_num_threads(runtime.threads)
    if runtime.retain_freed_memory:
        retain_freed_memory()
    if not hasattr(torch.backends.mkldnn, "matmul"):  # the setting exists from PyTorch 2.9
        return
    use_onednn = runtime.onednn_matmul and torch.backends.mkldnn.is_available() and onednn_matmul_is_exact()
    torch.backends.mkldnn.matmul.fp32_precision = "bf16" if use_onednn else "none"
