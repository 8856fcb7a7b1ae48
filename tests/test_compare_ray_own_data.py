"""``veegan compare --data TABLE --engine ray``: the own-data comparison on a real Ray cluster
started here on 127.0.0.1, with the table and the output folder given as relative paths (a Ray
worker does not run in this process's working directory), gives the local engine's table; a
data file the workers cannot read is refused before any run starts."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veegan.errors import VeeganError
from veegan.experiments.compare import compare
from veegan.experiments.engines import RayEngine
from veegan.experiments.sweep import Launch

ray = pytest.importorskip("ray", reason="the Ray engine needs Ray: pip install 'veegan[ray]'")
from .test_ray_engine import cluster  # noqa: E402, F401 - `ray start --head` on 127.0.0.1, `ray stop` after

SETS = ["batch_size=16", "model.latent_dim=3", "model.generator_hidden=8,8", "model.reconstructor_hidden=8,8",
        "model.discriminator_hidden=8", "schedule.eval_samples=40", "schedule.eval_every=1000", "schedule.tensorboard=false",
        "runtime.threads=1", "table.labels=species"]
OWN_DATA_COLUMNS = ("coverage", "recall", "precision", "density", "NDB/K", "bins filled", "classes", "label agreement",
                    "category combinations")


def small_table(rows: int = 150, seed: int = 0) -> pd.DataFrame:
    """Two measurements, a text column and a class column, as a practitioner keeps them."""
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Gentoo", "Chinstrap"], rows)
    size = np.select([species == "Adelie", species == "Gentoo"], [38.0, 47.0], 49.0)
    return pd.DataFrame({"bill_mm": np.round(size + rng.normal(0, 2, rows), 1),
                         "mass_g": np.round(4000 + 40 * (size - 40) + rng.normal(0, 300, rows)).astype(int),
                         "island": rng.choice(["Biscoe", "Dream", "Torgersen"], rows), "species": species})


def _table(out: Path) -> str:
    """comparison.md without its wall-time line."""
    return (out / "comparison.md").read_text()


def test_compare_on_a_table_runs_on_ray_with_relative_paths(tmp_path, cluster, monkeypatch):
    monkeypatch.chdir(tmp_path)
    small_table().to_csv("birds.csv", index=False)
    args = dict(methods=["gan", "veegan"], dataset="ring", data="birds.csv", seeds=1, steps=30, overrides=SETS, workers=2)
    on_ray = compare(out="runs/ray", launch=Launch(engine="ray", ray_address=cluster, quiet=True), **args)
    local = compare(out="runs/local", launch=Launch(quiet=True), **args)

    table = _table(tmp_path / "runs" / "ray")
    header = table.splitlines()[2]
    assert all(f" {title} |" in header for title in OWN_DATA_COLUMNS), header
    for row in ("| gan | 1 |", "| veegan | 1 |", "| real data (training rows) |", "| Gaussian mixture (BIC) |"):
        assert row in table, table
    for method in ("gan", "veegan"):  # the workers wrote into this folder, not their own working directory
        assert (tmp_path / "runs" / "ray" / method / "seed0" / "metrics.json").is_file()
        assert {k: v for k, v in on_ray[method][0].items() if k != "wall_time_s"} == \
               {k: v for k, v in local[method][0].items() if k != "wall_time_s"}
    assert table == _table(tmp_path / "runs" / "local")
    print(table, file=sys.__stdout__)


def test_a_data_file_the_ray_workers_cannot_read_is_refused_in_one_line(tmp_path, cluster, monkeypatch):
    monkeypatch.setattr(RayEngine, "_check_shared", lambda self, shared_dir: None)
    with pytest.raises(VeeganError, match="the Ray workers cannot read the data file .*gone.csv: put it on storage"):
        RayEngine(cluster, 1, tmp_path, files=(tmp_path / "gone.csv",))
    assert not ray.is_initialized()  # a refused engine leaves the cluster
