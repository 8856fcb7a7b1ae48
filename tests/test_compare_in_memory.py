"""``compare(data=...)`` in Python takes a DataFrame or an N x D array as ``veegan.train``
does: written once to ``out/data.parquet``, which every run reads, with the metrics of the same
table given as a file."""
from __future__ import annotations

import json

import numpy as np
import yaml

from tests.test_own_table import penguin_like
from veegan.api import IN_MEMORY_DATA
from veegan.experiments.compare import compare
from veegan.experiments.sweep import Launch

SETS = ["batch_size=16", "model.latent_dim=3", "model.generator_hidden=8,8", "model.discriminator_hidden=8",
        "schedule.eval_samples=30", "schedule.eval_every=1000", "schedule.tensorboard=false", "runtime.threads=1"]


def _metrics(results: dict) -> dict:
    return {method: [{k: v for k, v in r.items() if k != "wall_time_s"} for r in runs] for method, runs in results.items()}


def test_compare_takes_a_dataframe_or_an_array_written_once_for_every_run(tmp_path):
    frame = penguin_like(200)
    args = dict(methods=["gan"], dataset="ring", seeds=2, steps=4, overrides=[*SETS, "table.labels=species"], workers=1,
                launch=Launch(quiet=True))
    in_memory = compare(out=tmp_path / "frame", data=frame, **args)
    written = tmp_path / "frame" / IN_MEMORY_DATA
    assert written.is_file()
    for seed in (0, 1):  # every run reads the one file
        config = yaml.safe_load((tmp_path / "frame" / "gan" / f"seed{seed}" / "config.yaml").read_text())
        assert config["data_file"] == str(written.resolve())
    (tmp_path / "table").mkdir()
    frame.to_parquet(tmp_path / "table" / IN_MEMORY_DATA, index=False)  # the same name: the same dataset name
    from_file = compare(out=tmp_path / "file", data=tmp_path / "table" / IN_MEMORY_DATA, **{**args, "seeds": 1})
    assert _metrics(from_file) == {"gan": _metrics(in_memory)["gan"][:1]}
    assert json.loads((tmp_path / "frame" / "comparison.json").read_text()).keys() == {"gan"}

    array = np.random.default_rng(0).normal(size=(120, 3))
    compare(out=tmp_path / "array", data=array, **{**args, "seeds": 1, "overrides": SETS})
    assert (tmp_path / "array" / "comparison.md").read_text().startswith("data: ")  # the table's name: its file's
