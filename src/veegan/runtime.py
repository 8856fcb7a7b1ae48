"""Process-wide arithmetic settings: thread count and the oneDNN route for fp32 matmuls."""
from __future__ import annotations

import torch

from .config import RuntimeConfig


def onednn_matmul_is_exact() -> bool:
    """True when oneDNN computes fp32 matmuls in fp32 here. On CPUs with AMX, the "bf16"
    precision setting that routes matmuls to oneDNN really computes in bf16; we probe a
    product against float64 and keep the setting only if it is fp32-accurate."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 256, generator=g), torch.randn(256, 64, generator=g)
    exact = a.double() @ b.double()
    previous = torch.backends.mkldnn.matmul.fp32_precision
    torch.backends.mkldnn.matmul.fp32_precision = "bf16"
    try:
        error = ((a @ b).double() - exact).abs().max().item()
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = previous
    return error < 1e-3  # fp32 gives ~1e-5 here; bf16 gives ~1e-1


def apply(runtime: RuntimeConfig) -> None:
    """Set the thread count and, where it is exact, the oneDNN matmul route."""
    if runtime.threads:
        torch.set_num_threads(runtime.threads)
    if not hasattr(torch.backends.mkldnn, "matmul"):  # the setting exists from PyTorch 2.9
        return
    use_onednn = runtime.onednn_matmul and torch.backends.mkldnn.is_available() and onednn_matmul_is_exact()
    torch.backends.mkldnn.matmul.fp32_precision = "bf16" if use_onednn else "none"
