"""How long a run trains (veegan.training_length): the user's own data trains a number of passes
over its training rows unless steps are asked for; ``epochs`` resolves to steps before training,
so sweeps, kept results and resumes see the steps the run takes."""
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from veegan.api import train
from veegan.cli import main
from veegan.configure import resolve_config
from veegan.errors import VeeganError
from veegan.training.run_dir import as_stored
from veegan.training_length import OWN_DATA_EPOCHS, steps_for_epochs


def _table(tmp_path: Path, rows: int = 200) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "table.csv"
    pd.DataFrame({"a": rng.normal(size=rows), "b": rng.choice(["x", "y"], rows)}).to_csv(path, index=False)
    return path


def test_own_data_trains_the_default_passes_over_its_training_rows(tmp_path):
    config = resolve_config(data=_table(tmp_path))  # 200 rows, 40 held out: 160 trained on
    assert config.epochs == OWN_DATA_EPOCHS
    assert config.steps == min(100_000, math.ceil(OWN_DATA_EPOCHS * 160 / 500))


def test_steps_asked_for_replace_the_default_passes(tmp_path):
    data = _table(tmp_path)
    for config in (resolve_config(data=data, steps=70), resolve_config(data=data, overrides=["steps=70"])):
        assert (config.steps, config.epochs) == (70, None)


def test_epochs_asked_for_are_capped_by_the_steps(tmp_path):
    data = _table(tmp_path)
    assert resolve_config(data=data, overrides=["epochs=25"]).steps == 8  # ceil(25 x 160 / 500)
    assert resolve_config(data=data, steps=5, overrides=["epochs=25"]).steps == 5
    assert resolve_config(data=data, overrides=["epochs=null"]).steps == 100_000
    assert steps_for_epochs(1e-9, 10, 500, 100) == 1
    with pytest.raises(VeeganError, match="epochs must be a finite number > 0"):
        resolve_config(data=data, overrides=["epochs=0"])


def test_epochs_on_a_built_in_dataset_is_refused_with_one_line(capsys):
    with pytest.raises(VeeganError, match="give steps instead"):
        resolve_config(dataset="ring", overrides=["epochs=3"])
    assert main(["train", "--dataset", "ring", "--set", "epochs=3", "--out", "unused"]) == 2
    err = capsys.readouterr().err
    assert "epochs counts passes" in err and "Traceback" not in err


def test_a_stored_run_from_before_epochs_keeps_its_steps(tmp_path):
    stored = resolve_config(data=_table(tmp_path), steps=100_000).to_dict()
    del stored["epochs"]
    assert (as_stored(stored).steps, as_stored(stored).epochs) == (100_000, None)


def test_a_run_takes_the_resolved_steps_resumes_and_extends(tmp_path, capsys):
    data, out = _table(tmp_path), tmp_path / "run"
    train(data=data, out=out, overrides=["epochs=25", "schedule.tensorboard=false"], progress=True)
    assert "training 8 steps: 25 passes over the 160 training rows at batch 500" in capsys.readouterr().err
    stored = yaml.safe_load((out / "config.yaml").read_text())
    assert (stored["steps"], stored["epochs"]) == (8, 25.0)
    assert json.loads((out / "metrics.json").read_text())["step"] == 8
    train(data=data, out=out, steps=12, resume=True, progress=False)  # steps asked for: the run extends
    assert json.loads((out / "metrics.json").read_text())["step"] == 12


def test_compare_counts_a_kept_run_of_epochs_as_finished(tmp_path, capsys):
    data, args = _table(tmp_path), ["--methods", "gan", "--set", "epochs=10", "--set", "schedule.tensorboard=false",
                                     "--workers", "1", "--quiet"]
    assert main(["compare", "--data", str(data), *args, "--out", str(tmp_path / "a"), "--results", str(tmp_path / "kept")]) == 0
    assert main(["compare", "--data", str(data), *args, "--out", str(tmp_path / "b"), "--results", str(tmp_path / "kept")]) == 0
    said = capsys.readouterr()
    assert "0 run(s) to train; 1 already done" in said.out + said.err


def test_a_run_past_the_passes_asked_for_is_refused_in_one_line(tmp_path):
    data, out = _table(tmp_path), tmp_path / "run"
    train(data=data, out=out, steps=20, overrides=["schedule.tensorboard=false"], progress=False)
    with pytest.raises(VeeganError, match="at step 20, beyond the 4 steps asked for .*unless --steps N"):
        train(data=data, out=out, resume=True, overrides=["epochs=10"], progress=False)
