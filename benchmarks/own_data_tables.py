"""Real tables that nobody here made, written as a practitioner exports them from pandas
(``to_csv(index=False)`` with a header row, or ``to_parquet``), for docs/own-data.md. All install offline:

- wine.csv, penguins.csv, digits.csv, breast_cancer.csv, anes96.csv, fair.csv, randhie.csv: the
  tables of ``veegan.data.bundled_tables`` (its docstring says what each holds; the last three
  need statsmodels, the penguins palmerpenguins: ``pip install -e ".[tables]"``);
- mnist-pca50.parquet: MNIST's 70,000 train and test images (LeCun et al. 1998, the IDX files in
  --mnist), flattened, scaled to [0, 1] and projected on 50 principal components fitted on the
  60,000 training images (scikit-learn's PCA), as columns pc1..pc50 beside the digit as ``label``.

    .venv/bin/python benchmarks/own_data_tables.py --out /tmp/tables [--mnist /work/shared/data/mnist] [--no-mnist]

Prints each file's shape and sha256 (docs/own-data.md and docs/lab/own-data-tables.md list those the
studies used).
"""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from veegan.data.bundled_tables import BUNDLED_TABLES, bundled_frame
from veegan.data.mnist import load_mnist

MNIST_COMPONENTS = 50


def tables() -> dict[str, pd.DataFrame]:
    return {f"{name}.csv": bundled_frame(name) for name in BUNDLED_TABLES}


def mnist_pca(root: Path) -> pd.DataFrame:
    """MNIST train then test images in [0, 1], on the principal components of the train images."""
    from sklearn.decomposition import PCA

    splits = [load_mnist(root, split) for split in ("train", "test")]
    pixels = [images.reshape(len(images), -1).astype(np.float32) / 255 for images, _ in splits]
    pca = PCA(MNIST_COMPONENTS, random_state=0).fit(pixels[0])
    frame = pd.DataFrame(pca.transform(np.concatenate(pixels)), columns=[f"pc{i + 1}" for i in range(MNIST_COMPONENTS)])
    frame["label"] = np.concatenate([labels for _, labels in splits])
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mnist", type=Path, default=Path("/work/shared/data/mnist"), help="MNIST's IDX files (raw or .gz)")
    parser.add_argument("--no-mnist", action="store_true", help="the bundled tables only")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in {**tables(), **({} if args.no_mnist else {"mnist-pca50.parquet": mnist_pca(args.mnist)})}.items():
        path = args.out / name
        if path.suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
        print(f"{path}: {frame.shape[0]} rows x {frame.shape[1]} columns, sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:16]}")


if __name__ == "__main__":
    main()
