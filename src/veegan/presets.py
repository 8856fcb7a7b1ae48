"""Named presets: a layer of configuration values chosen by name (``--preset``).

- ``paper``: nothing on top of the defaults, i.e. the authors' settings (the default for the
  built-in datasets, which are the paper's or stand in for them);
- ``robust``: each method's ``robust_preset`` (declared in its own file), the setting that
  keeps its modes beyond two dimensions (docs/beyond-2d.md); the default for the user's own
  data (``--data``) with any method but the study's. A method that declares none trains as
  with ``paper``;
- ``best``: each method's ``best_preset`` (declared in its own file), its pick in the recipe
  study's screen (docs/recipe.md), made by a rule fixed before the screen ran. A method the
  study has not picked for (``best_preset`` is None) refuses it, rather than train with
  values nobody chose. With the study's method (:data:`BEST_METHOD`), the default for the
  user's own data: on the real tables it beat ``robust`` VEEGAN (docs/recipe.md, "The own-data
  default"), and own data trains that method unless another is named.

A preset sits above the dataset's own preset and below a stored run configuration, a
configuration file, explicit arguments and ``--set`` (:mod:`veegan.configure`), so any of its
values can still be overridden; what it set is written out in the run's ``config.yaml``.
"""
from __future__ import annotations

import copy
from typing import Any

from .errors import VeeganError

PRESETS = ("paper", "robust", "best")
# the method whose pick wins among the five picks by the same rule (docs/recipe.md): the one the
# docs recommend with ``best``, and the one the study evaluates first; a test checks it against
# the kept screen
BEST_METHOD = "gan"


def default_method(own_data: bool) -> str:
    """The method trained when none is named: the study's (:data:`BEST_METHOD`) on the user's
    own data, VEEGAN on a built-in dataset."""
    return BEST_METHOD if own_data else "veegan"


def default_preset(own_data: bool, method: str) -> str:
    """``paper`` for a built-in dataset; for the user's own data ``best`` with the study's method
    (the setting the study compared with ``robust`` on real tables) and ``robust`` with the others."""
    if not own_data:
        return "paper"
    return "best" if method == BEST_METHOD else "robust"


def preset_values(name: str, method: str) -> dict[str, Any]:
    """The configuration values that preset ``name`` brings for ``method``."""
    if name not in PRESETS:
        raise VeeganError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
    if name == "paper":
        return {}
    from .methods import method_class, method_label  # here: the command line's grammar imports PRESETS without torch
    values = method_class(method).robust_preset if name == "robust" else method_class(method).best_preset
    if values is None:
        raise VeeganError(f"--preset best: the recipe study (docs/recipe.md) made no pick for {method_label(method)} "
                          "(it screens the GAN, VEEGAN, PacGAN, ALI and Unrolled GAN); use --preset robust or paper")
    return copy.deepcopy(dict(values))
