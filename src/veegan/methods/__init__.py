"""Training methods, registered by name. Importing this package registers all of them."""
from __future__ import annotations

from typing import Sequence

from ..config import ModelConfig
from ..registry import Registry
from .base import Method

METHODS: Registry = Registry("method")

from . import ali, gan, pacgan, unrolled, veegan, veegan_dae  # noqa: E402,F401  (registration side effect)


def build_method(name: str, data_shape: int | Sequence[int], model: ModelConfig, method_options: dict) -> Method:
    """The registered method ``name`` with its networks for samples of ``data_shape``: (D,) or
    D for vectors, (channels, height, width) for images."""
    cls = METHODS.get(name)
    shape = (data_shape,) if isinstance(data_shape, int) else tuple(data_shape)
    return cls(shape, model, cls.Options(**method_options))
