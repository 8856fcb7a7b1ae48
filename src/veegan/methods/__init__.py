"""Training methods, one module each. Every module in this package is imported here, so a new
method file registers itself without an edit elsewhere; a method outside the package is named
as ``path/to/file.py:ClassName`` or ``module.path:ClassName`` (:mod:`.external`)."""
from __future__ import annotations

import importlib
import pkgutil

from .base import METHODS, Method, NoOptions, frozen, register
from .external import build_method, method_class, method_label, method_labels, method_names

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["METHODS", "Method", "NoOptions", "build_method", "frozen", "method_class", "method_label", "method_labels", "method_names", "register"]
