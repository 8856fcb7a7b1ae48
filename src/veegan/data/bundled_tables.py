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
  island and sex stay text (``species`` is the class column);
- ``anes96``, ``fair``, ``randhie``: three data sets bundled with statsmodels
  (``pip install statsmodels``; ``statsmodels.datasets.<name>.NOTE`` documents them), their
  coded columns decoded into the labels that documentation gives them:

  - ``anes96``: the American National Election Studies of 1996 (944 respondents): party
    identification, education, household income bracket, expected vote and the three 7-point
    left-right scales as text (7 categorical columns, the vote as ``vote``, Clinton or Dole);
    population, TV news per week and age as numbers; ``logpopul`` (log(popul + 0.1), derived)
    left out;
  - ``fair``: Fair's (1978) extramarital affairs survey (6,366 women): the rating of the marriage,
    religiousness, education and the two occupations as text (5 categorical columns, the
    marriage's rating as ``rate_marriage``); ``affairs`` is zero on 68 % of the rows and skewed
    (up to 57.6);
  - ``randhie``: the RAND Health Insurance Experiment (20,190 observations, Cameron and Trivedi
    2005): outpatient visits (``mdvis``, zero on 31 %, up to 77) and the plan's terms as numbers,
    ``idp`` and ``physlm`` as the 0/1 (and 0-1) numbers they are; the three health dummies
    ``hlthg``, ``hlthf``, ``hlthp`` (excellent when all three are 0) become one text column
    ``health`` in their place (the class column).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
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


def _statsmodels(name: str) -> pd.DataFrame:
    try:
        import statsmodels.datasets
    except ImportError:
        raise VeeganError(f"the {name} table needs the statsmodels package: pip install statsmodels") from None
    return getattr(statsmodels.datasets, name).load_pandas().data


def _decoded(frame: pd.DataFrame, codes: dict[str, dict[int, str]]) -> pd.DataFrame:
    """``frame`` with each column of ``codes`` mapped from its integer codes to their labels
    (text), the whole-number columns as integers."""
    frame = frame.copy()
    for name in frame.columns:
        if name in codes:
            frame[name] = frame[name].astype(int).map(codes[name]).astype(object)
        elif (frame[name] % 1 == 0).all():
            frame[name] = frame[name].astype("int64")
    return frame


LEFT_RIGHT = dict(enumerate(("extremely liberal", "liberal", "slightly liberal", "moderate", "slightly conservative",
                             "conservative", "extremely conservative"), start=1))
INCOME = ["none or less than $2,999", "$3,000-$4,999", "$5,000-$6,999", "$7,000-$8,999", "$9,000-$9,999",
          *(f"${k},000-${k},999" for k in range(10, 15)), "$15,000-$16,999", "$17,000-$19,999", "$20,000-$21,999",
          "$22,000-$24,999", "$25,000-$29,999", "$30,000-$34,999", "$35,000-$39,999", "$40,000-$44,999", "$45,000-$49,999",
          "$50,000-$59,999", "$60,000-$74,999", "$75,000-$89,999", "$90,000-$104,999", "$105,000 and over"]
ANES96 = {"PID": dict(enumerate(("strong Democrat", "weak Democrat", "independent-Democrat", "independent-independent",
                                 "independent-Republican", "weak Republican", "strong Republican"))),
          "educ": dict(enumerate(("1-8 grades", "some high school", "high school graduate", "some college", "college degree",
                                  "master's degree", "PhD"), start=1)),
          "income": dict(enumerate(INCOME, start=1)), "vote": {0: "Clinton", 1: "Dole"},
          "selfLR": LEFT_RIGHT, "ClinLR": LEFT_RIGHT, "DoleLR": LEFT_RIGHT}
OCCUPATION = dict(enumerate(("student", "farming, agriculture; semi-skilled or unskilled worker", "white-collar",
                             "teacher, counselor, social worker, nurse; artist, writer; technician, skilled worker",
                             "managerial, administrative, business", "professional with advanced degree"), start=1))
FAIR = {"rate_marriage": dict(enumerate(("very poor", "poor", "fair", "good", "very good"), start=1)),
        "religious": dict(enumerate(("not", "mildly", "fairly", "strongly"), start=1)),
        "educ": {9: "grade school", 12: "high school", 14: "some college", 16: "college graduate", 17: "some graduate school",
                 20: "advanced degree"},
        "occupation": OCCUPATION, "occupation_husb": OCCUPATION}


def _anes96() -> pd.DataFrame:
    return _decoded(_statsmodels("anes96").drop(columns="logpopul"), ANES96)


def _fair() -> pd.DataFrame:
    return _decoded(_statsmodels("fair"), FAIR)


def _randhie() -> pd.DataFrame:
    frame = _statsmodels("randhie")
    dummies = frame[["hlthg", "hlthf", "hlthp"]].to_numpy()
    health = np.where(dummies.any(axis=1), np.array(["good", "fair", "poor"])[dummies.argmax(axis=1)], "excellent")
    frame.insert(frame.columns.get_loc("hlthg"), "health", pd.Series(health, dtype=object))
    return frame.drop(columns=["hlthg", "hlthf", "hlthp"])


# name: (how to load it, its class column)
BUNDLED_TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "wine": (_sklearn("wine"), "target"),
    "breast_cancer": (_sklearn("breast_cancer"), "target"),
    "digits": (_sklearn("digits"), "target"),
    "penguins": (_penguins, "species"),
    "anes96": (_anes96, "vote"),
    "fair": (_fair, "rate_marriage"),
    "randhie": (_randhie, "health"),
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
