"""A protocol continued from kept files: `reproduce table1 --results DIR` keeps every finished
run's small files, counts the runs kept there as finished (no checkpoint needed), tabulates a
partial protocol with --no-train, and draws Figure 2 from the kept samples."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from veegan.errors import VeeganError
from veegan.experiments import table1 as reproduce
from veegan.experiments.result_store import FIGURE_NAME, KEPT_FILES

from .conftest import TINY


@pytest.fixture
def tiny_budget(monkeypatch):
    monkeypatch.setitem(reproduce.BUDGETS, "tiny", {"steps": {"ring": 6, "grid": 6, "hd1200": 4}, "overrides": TINY})
    return "tiny"


def test_kept_runs_count_as_finished_without_their_run_directories(tmp_path, tiny_budget, capsys):
    kept, first = tmp_path / "kept", tmp_path / "first"
    args = dict(methods=["gan", "veegan"], datasets=["ring", "hd1200"], seeds=2, budget=tiny_budget, workers=2,
                results=kept)
    rows = reproduce.reproduce_table1(out=first, **args)
    for method in ("gan", "veegan"):
        for dataset in ("ring", "hd1200"):
            place = kept / dataset / method / "seed1"
            assert sorted(p.name for p in place.iterdir()) == sorted(KEPT_FILES)  # no checkpoint, no logs
    assert json.loads((kept / "hd1200/gan/seed0/metrics.json").read_text())["veegan_version"]
    figure = np.load(kept / "hd1200" / "gan" / "seed0" / FIGURE_NAME)
    assert figure["generated"].shape == (200, 2) and figure["basis"].shape == (1200, 2)  # kilobytes, not 1200-D
    assert np.load(kept / "ring" / "gan" / "seed0" / FIGURE_NAME)["real"].shape == (200, 2)

    # a later session on another machine: only the kept files; nothing is trained again
    capsys.readouterr()
    again = reproduce.reproduce_table1(out=tmp_path / "later", **args)
    assert "0 run(s) to train" in capsys.readouterr().err
    assert [(r["method"], r["modes_mean"], r["high_quality_pct_mean"]) for r in again] == \
           [(r["method"], r["modes_mean"], r["high_quality_pct_mean"]) for r in rows]
    assert (tmp_path / "later" / "figure2.png").read_bytes()[:4] == b"\x89PNG"

    # a partial protocol: tabulate what has finished, train nothing
    shutil.rmtree(kept / "ring" / "veegan" / "seed1")
    partial = reproduce.reproduce_table1(out=tmp_path / "partial", **{**args, "train": False})
    runs = {(r["method"], r["dataset"], r["hq_rule"]): r["runs"] for r in partial}
    assert runs[("veegan", "ring", "calibrated")] == 1 and runs[("gan", "ring", "calibrated")] == 2
    assert runs[("real data", "ring", "calibrated")] == 2  # seeds 0 and 1: each real draw once
    table = (tmp_path / "partial" / "table1.md").read_text()
    assert "Partial: 7 of the 8 runs have finished." in table
    assert not (tmp_path / "partial" / "ring" / "veegan" / "seed1").exists()

    # a kept run of another configuration is refused, not silently counted
    config = kept / "ring" / "gan" / "seed0" / "config.yaml"
    config.write_text(config.read_text().replace("batch_size: 16", "batch_size: 8"))
    with pytest.raises(VeeganError, match="batch_size"):
        reproduce.reproduce_table1(out=tmp_path / "other", **{**args, "train": False})


def test_steps_per_dataset_and_nothing_to_tabulate(tmp_path, tiny_budget):
    jobs = reproduce.table1_jobs(["gan"], ["ring", "hd1200"], 1, tiny_budget, tmp_path, steps={"hd1200": 3})
    assert {job.config.dataset: job.config.steps for job in jobs} == {"ring": 6, "hd1200": 3}
    with pytest.raises(VeeganError, match="no finished runs"):
        reproduce.reproduce_table1(out=tmp_path, methods=["gan"], datasets=["ring"], seeds=1, budget=tiny_budget,
                                   train=False)
    with pytest.raises(VeeganError, match="does not train"):
        reproduce.reproduce_table1(out=tmp_path, methods=["gan"], datasets=["ring"], seeds=1, budget=tiny_budget,
                                   steps={"grid": 5})


@pytest.mark.parametrize("steps", ["hd1200", "hd1200=0", "hd1200=x"])
def test_cli_refuses_bad_steps_in_one_line(tmp_path, steps):
    done = subprocess.run([sys.executable, "-m", "veegan", "reproduce", "table1", "--steps", steps, "--no-train",
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "DATASET=N" in done.stderr


def test_an_image_run_is_kept_with_a_grid_of_8_bit_samples(tmp_path):
    """Stacked MNIST through ``compare --results``: the kept figure file holds 64 generated and
    64 real images as pixels (the 2-D projection of vector data does not apply to images)."""
    from veegan.experiments.compare import compare

    from .image_helpers import write_mnist

    write_mnist(tmp_path / "mnist", n_train=12)
    compare(dataset="stacked_mnist", methods=["gan"], seeds=1, steps=2, out=tmp_path / "out", results=tmp_path / "kept",
            workers=1, overrides=["model.conv_width=4", "batch_size=8", "schedule.eval_samples=16",
                                  "schedule.tensorboard=false", f"data_dir={tmp_path / 'mnist'}"])
    kept = tmp_path / "kept" / "gan" / "seed0"
    assert all((kept / name).is_file() for name in KEPT_FILES)
    figure = np.load(kept / FIGURE_NAME)
    for name in ("generated", "real"):
        assert figure[name].dtype == np.uint8 and figure[name].shape == (64, 3, 28, 28)
    assert figure["real"].max() > figure["real"].min()  # real digits, not a blank


def test_a_run_continued_for_more_steps_keeps_samples_of_its_final_step(tmp_path):
    """A kept run resumed with more steps (as a screen is extended) gets new figure samples; the
    shorter run's samples must not stay beside the longer run's metrics."""
    from veegan.experiments.compare import compare

    def run(steps):
        compare(dataset="ring", methods=["gan"], seeds=1, steps=steps, out=tmp_path / "out", results=tmp_path / "kept",
                workers=1, overrides=["batch_size=16", "schedule.eval_samples=200", "schedule.tensorboard=false",
                                  "runtime.threads=1"])
        return np.load(tmp_path / "kept" / "gan" / "seed0" / FIGURE_NAME)

    first = run(4)
    assert int(first["step"]) == 4
    longer = run(8)
    assert int(longer["step"]) == 8
    assert json.loads((tmp_path / "kept" / "gan" / "seed0" / "metrics.json").read_text())["step"] == 8
    assert not np.array_equal(first["generated"], longer["generated"])


def test_runtime_settings_do_not_make_another_run():
    """A study continued with another thread count, device or code route (every ``runtime.*``
    key) counts its kept runs as its own; a change to the maths does not."""
    from veegan.configure import resolve_config
    from veegan.training.run_dir import check_same_run

    kept = resolve_config(method="gan", dataset="ring", overrides=["runtime.threads=1", "runtime.cpu_routes=false"])
    check_same_run(kept.to_dict(), resolve_config(method="gan", dataset="ring", steps=5), "kept")
    with pytest.raises(VeeganError, match="batch_size"):
        check_same_run(kept.to_dict(), resolve_config(method="gan", dataset="ring", overrides=["batch_size=7"]), "kept")


def test_a_kept_table_run_is_found_wherever_the_same_table_lies(tiny, tmp_path):
    """A user's table is named by its absolute path, which differs between machines: a kept run
    of it counts as finished for the same content under another path, and not for other content."""
    import pandas as pd

    import veegan
    from veegan.configure import resolve_config
    from veegan.experiments.result_store import DATA_DIGEST, ResultStore

    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(300, 3)), columns=["a", "b", "c"])
    here, there = tmp_path / "here" / "t.csv", tmp_path / "there" / "t.csv"
    for path in (here, there):
        path.parent.mkdir()
        frame.to_csv(path, index=False)
    out, kept = tmp_path / "out", tmp_path / "kept"
    veegan.train("gan", out=out / "run", data=here, steps=4, overrides=tiny, progress=False)
    store = ResultStore(kept, out)
    assert DATA_DIGEST in json.loads((store.keep(out / "run") / "metrics.json").read_text())
    elsewhere = resolve_config(method="gan", data=there, steps=4, overrides=tiny)
    assert store.finished(out / "run", elsewhere)["step"] == 4
    frame.iloc[:10].to_csv(there, index=False)
    with pytest.raises(VeeganError, match="keeps a run trained on other data than .*there.t.csv"):
        store.finished(out / "run", elsewhere)
    frame.iloc[:10].to_csv(here, index=False)  # the same path, other content: refused too
    with pytest.raises(VeeganError, match="other data than .*here.t.csv"):
        store.finished(out / "run", resolve_config(method="gan", data=here, steps=4, overrides=tiny))
