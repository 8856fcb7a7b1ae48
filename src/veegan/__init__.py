"""veegan: VEEGAN (Srivastava et al., NeurIPS 2017) and the GAN baselines it is compared with.

The Python API (``veegan.train``, ``veegan.load``, ``veegan.Run``, ``veegan.resolve_config``)
is imported on first use, so that importing the package (and starting the command line,
:mod:`veegan.console`) does not import torch before it can answer a Ctrl-C."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .api import Run, load, resolve_config, train

__all__ = ["Run", "load", "resolve_config", "train", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("Run", "load", "resolve_config", "train"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'veegan' has no attribute {name!r}")
