"""Real tables that install offline, written as a practitioner exports them from pandas
(``to_csv(index=False)``, a header row): the data nobody here made on which the studies score
the package (docs/own-data.md, docs/recipe.md).

- ``wine``: scikit-learn's wine recognition data (178 rows, 13 measurements from 0.1 to 1,680;
  the cultivar as ``target``);
- ``breast_cancer``: scikit-learn's Wisconsin breast cancer data (569 rows, 30 features, ``target``);
- ``digits``: scikit-learn's 8 x 8 handwritten digits (1,797 rows, 64 pixel counts 0-16, some
  columns constant; the digit as ``target``);
- ``penguins``: the palmerpenguins package (Gorman et al. 2014; ``pip install palmerpenguins``),
  the 11 rows with a missing cell dropped with ``dropna()`` as a practitioner would; species,
  island and sex stay text (``species`` is the class column).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import pandas as pd

from ..errors import VeeganError
from .download import default_cache_dir


def _sklearn(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import sklearn.datasets

        return getattr(sklearn.datasets, f"load_{name}")(as_frame=True).frame
    return load


def _penguins() -> pd.DataFrame:
    try:
        from palmerpenguins import load_penguins
    except ImportError:
        raise VeeganError("the penguins table needs the palmerpenguins package: pip install palmerpenguins") from None
    return load_penguins().dropna()


# name: (how to load it, its class column)
BUNDLED_TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "wine": (_sklearn("wine"), "target"),
    "breast_cancer": (_sklearn("breast_cancer"), "target"),
    "digits": (_sklearn("digits"), "target"),
    "penguins": (_penguins, "species"),
}


def _entry(name: str) -> tuple[Callable[[], pd.DataFrame], str]:
    if name not in BUNDLED_TABLES:
        raise VeeganError(f"unknown bundled table {name!r}; choose from {', '.join(BUNDLED_TABLES)}")
    return BUNDLED_TABLES[name]


def bundled_frame(name: str) -> pd.DataFrame:
    """The table ``name`` as a DataFrame."""
    return _entry(name)[0]()


def labels_column(name: str) -> str:
    """The class column of the table ``name``."""
    return _entry(name)[1]


def bundled_table(name: str, folder: str | Path | None = None) -> Path:
    """The table ``name`` as ``<folder>/<name>.csv`` (default folder: the cache's ``tables``),
    written atomically on first use and read from there after."""
    path = Path(folder or default_cache_dir() / "tables") / f"{name}.csv"
    if path.is_file():
        return path
    frame = bundled_frame(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{name}-", suffix=".csv")
    os.close(handle)
    try:
        frame.to_csv(temporary, index=False)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path
