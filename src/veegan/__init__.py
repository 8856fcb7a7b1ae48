"""veegan: VEEGAN (Srivastava et al., NeurIPS 2017) and the GAN baselines it is compared with."""
from __future__ import annotations

__version__ = "0.1.0"

from .api import Run, load, train  # noqa: E402

__all__ = ["Run", "load", "train", "__version__"]
