"""Real tables that nobody here made, written as a practitioner exports them from pandas
(``to_csv(index=False)``, a header row), for docs/own-data.md. All install offline:

- wine.csv: scikit-learn's wine recognition data (178 rows, 13 chemical measurements from 0.1 to
  1,680, and the cultivar as ``target``);
- penguins.csv: the palmerpenguins package (Gorman et al. 2014), the 11 rows with a missing cell
  dropped with ``dropna()`` as a practitioner would; species, island and sex stay text;
- digits.csv: scikit-learn's 8 x 8 handwritten digits (1,797 rows, 64 pixel counts 0-16, some
  columns constant, and the digit as ``target``);
- breast_cancer.csv: scikit-learn's Wisconsin breast cancer data (569 rows, 30 features, ``target``).

    .venv/bin/python benchmarks/own_data_tables.py --out /tmp/tables

Prints each file's shape and sha256 (docs/own-data.md lists those the study used).
"""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pandas as pd


def tables() -> dict[str, pd.DataFrame]:
    from palmerpenguins import load_penguins
    from sklearn.datasets import load_breast_cancer, load_digits, load_wine

    return {"wine.csv": load_wine(as_frame=True).frame, "penguins.csv": load_penguins().dropna(),
            "digits.csv": load_digits(as_frame=True).frame, "breast_cancer.csv": load_breast_cancer(as_frame=True).frame}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables().items():
        path = args.out / name
        frame.to_csv(path, index=False)
        print(f"{path}: {frame.shape[0]} rows x {frame.shape[1]} columns, sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:16]}")


if __name__ == "__main__":
    main()
