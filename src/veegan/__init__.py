"""veegan: VEEGAN (Srivastava et al., NeurIPS 2017) and the GAN baselines it is compared with."""
from __future__ import annotations

from .api import Run, load, resolve_config, train
from .version import __version__

__all__ = ["Run", "load", "resolve_config", "train", "__version__"]
