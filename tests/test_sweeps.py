"""`veegan compare` and `veegan reproduce table1` on tiny budgets: files, tables, skipping
finished runs and resuming cut-off ones."""
import csv
import json
import os
import shutil
import signal

import pytest
import torch

from veegan.experiments import table1 as reproduce
from veegan.training import checkpoint
from veegan.errors import VeeganError
from veegan.training.trainer import train
from veegan.experiments.compare import compare
from veegan.experiments.tables import format_mean_std, mean_std

from .conftest import TINY


@pytest.fixture
def tiny_budget(monkeypatch):
    monkeypatch.setitem(reproduce.BUDGETS, "tiny", {"steps": {"ring": 6, "grid": 6, "hd1200": 4}, "overrides": TINY})
    return "tiny"


def test_mean_std():
    assert mean_std([1.0, 3.0]) == (2.0, pytest.approx(2 ** 0.5))
    assert mean_std([5.0]) == (5.0, None)  # one value: no std
    assert mean_std([None, None]) is None
    assert format_mean_std([1.0, None, 3.0]) == "2.00 ± 1.41"


def test_reproduce_table1_writes_table_csv_and_figure_and_skips_finished_runs(tmp_path, tiny_budget, capsys):
    out = tmp_path / "t1"
    rows = reproduce.reproduce_table1(out=out, methods=["gan", "veegan"], datasets=["ring", "hd1200"], seeds=2,
                                      budget=tiny_budget, workers=2)
    assert len(rows) == 9  # (gan, veegan, real data) x (ring, hd1200 under each high-quality rule)
    table = (out / "table1.md").read_text()
    assert "**ring** (6 steps; max 8 modes, calibrated high-quality rule: radius 0.06)" in table
    assert "**hd1200** (4 steps; max 10 modes, calibrated high-quality rule: radius 28.1)" in table
    assert "**hd1200** (4 steps; max 10 modes, paper high-quality rule: radius 10)" in table
    real_hd1200 = {r["hq_rule"]: r for r in rows if r["method"] == "real data" and r["dataset"] == "hd1200"}
    assert real_hd1200["calibrated"]["high_quality_pct_mean"] > 95  # the ceiling of each rule, side by side
    assert real_hd1200["paper"]["high_quality_pct_mean"] == 0
    assert "| veegan |" in table and "| real data |" in table
    assert "| 8 | " in table and "52.9" in table  # the paper's VEEGAN ring figures sit beside ours
    assert "the 8 runs took" in table and "worker-seconds" in table
    with open(out / "table1.csv") as f:
        records = list(csv.DictReader(f))
    real = [r for r in records if r["method"] == "real data" and r["dataset"] == "ring"][0]
    assert float(real["modes_mean"]) == 8 and float(real["high_quality_pct_mean"]) > 95
    assert real["runs"] == "2"  # 2 methods x 2 seeds: the same 2 real draws, each counted once
    assert (out / "figure2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for method in ("gan", "veegan"):
        for seed in (0, 1):
            assert json.loads((out / "ring" / method / f"seed{seed}" / "metrics.json").read_text())["step"] == 6
    capsys.readouterr()

    # a run cut off before it finished is resumed from its checkpoint; finished runs are not
    # trained again; the resumed run ends exactly where the uninterrupted one did
    cut = out / "ring" / "veegan" / "seed1"
    uninterrupted = checkpoint.load(cut / "checkpoint.pt")["method"]
    job = next(j for j in reproduce.table1_jobs(["veegan"], ["ring"], 2, tiny_budget, out) if j.key[2] == 1)
    shutil.rmtree(cut)

    def stop_at_3(step):
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        train(job.config, cut, progress=False, hooks=[stop_at_3])
    assert checkpoint.load(cut / "checkpoint.pt")["step"] == 3 and not (cut / "metrics.json").exists()
    again = reproduce.reproduce_table1(out=out, methods=["gan", "veegan"], datasets=["ring", "hd1200"], seeds=2,
                                       budget=tiny_budget, workers=1)
    assert "1 run(s) to train" in capsys.readouterr().err
    assert json.loads((cut / "metrics.json").read_text())["step"] == 6
    resumed = checkpoint.load(cut / "checkpoint.pt")["method"]
    assert all(torch.equal(resumed[k], uninterrupted[k]) for k in resumed)
    assert [r["modes_mean"] for r in again] == [r["modes_mean"] for r in rows]

    # a directory holding a run of another configuration is refused, not silently reused
    monkeypatch_budget = dict(reproduce.BUDGETS[tiny_budget], overrides={**TINY, "batch_size": 8})
    reproduce.BUDGETS[tiny_budget] = monkeypatch_budget
    with pytest.raises(VeeganError, match="batch_size"):
        reproduce.reproduce_table1(out=out, methods=["gan"], datasets=["ring"], seeds=1, budget=tiny_budget)


def test_compare_writes_plot_and_table(tmp_path, capsys):
    sets = ["batch_size=16", "model.latent_dim=3", "model.generator_hidden=8,8", "model.reconstructor_hidden=8,8",
            "model.discriminator_hidden=8", "schedule.eval_samples=200", "schedule.tensorboard=false"]
    results = compare(["gan", "veegan"], "grid", out=tmp_path, seeds=1, steps=5, overrides=sets, workers=2)
    assert set(results) == {"gan", "veegan"}
    table = (tmp_path / "comparison.md").read_text()
    assert "modes (max 25)" in table and "| real data | 1 | 25.00 |" in table  # one seed: one real draw, no ±
    assert (tmp_path / "comparison.png").read_bytes()[:4] == b"\x89PNG"


def test_real_data_rows_count_each_real_draw_once():
    """Runs of several methods with the same seed score the same real samples: the real row's
    runs and std come from each draw once (counted per method, 3 seeds x 3 methods would shrink
    the std of 98.92, 99.04, 98.88 from 0.083 to 0.072), under either high-quality rule."""
    from veegan.experiments.compare import metrics_table
    from veegan.experiments.table1 import table1_rows
    from veegan.experiments.tables import metric_rows, real_rows

    paper = {"hq_radius": 10.0, "modes": 0, "high_quality_pct": 0.0, "reverse_kl": None}  # every draw's paper view is equal
    real = [{"modes": 8, "high_quality_pct": pct, "reverse_kl": 0.001, "max_modes": 8, "hq_radius": 0.06,
             "paper_rule": dict(paper)} for pct in (98.92, 99.04, 98.88)]
    finals = {(method, "ring", seed): {"modes": 8, "high_quality_pct": 90.0, "reverse_kl": 0.01, "max_modes": 8, "samples": 2500,
                                       "hq_radius": 0.06, "paper_rule": dict(paper), "real": dict(real[seed])}
              for method in ("gan", "veegan", "pacgan") for seed in range(3)}
    assert len(real_rows(finals.values())) == 3
    rows = {row["method"]: row
            for row in metric_rows(finals, group=lambda key: key[:2], real_group=lambda key: ("real data", key[1]))}
    assert rows["real data"]["runs"] == 3 and rows["gan"]["runs"] == 3
    assert rows["real data"]["high_quality_pct_std"] == pytest.approx(0.0833, abs=1e-4)
    by_rule = {(row["method"], row["hq_rule"]): row for row in table1_rows(finals, ["gan", "veegan", "pacgan"], ["ring"])}
    assert by_rule[("real data", "calibrated")]["runs"] == 3 and by_rule[("real data", "paper")]["runs"] == 3
    # the same draw scored by another run, a float's last bits apart (summed in another order), is one draw
    finals[("pacgan", "ring", 1)]["real"]["reverse_kl"] = 0.001 * (1 + 4e-16)
    assert len(real_rows(finals.values())) == 3
    # two seeds that drew different real samples stay two rows, even when one method ran only one of them
    finals[("gan", "ring", 1)]["real"]["high_quality_pct"] = 98.92 + 1e-6
    assert len(real_rows(finals.values())) == 4
    table = metrics_table({"gan": [finals[("gan", "ring", s)] for s in range(3)],
                           "veegan": [finals[("veegan", "ring", s)] for s in range(3)]}, "ring")
    assert "| real data | 4 |" in table


def test_table_rows_count_a_baseline_every_run_carries_once():
    from veegan.experiments.compare import table_metrics_table

    baseline = {"coverage": 0.97, "recall": 0.81, "precision": 1.0}
    runs = {method: [{"coverage": 0.9 + 0.01 * seed, "recall": 0.8, "precision": 0.9, "samples": 36, "bins": 7,
                      "baseline": dict(baseline), "real": {"coverage": 1.0, "recall": 0.8 + 0.01 * seed, "precision": 0.99}}
                     for seed in range(3)]
            for method in ("gan", "veegan")}
    table = table_metrics_table(runs, "wine")
    assert "| real data (training rows) | 3 |" in table and "| Gaussian mixture (BIC) | 1 | 0.97 |" in table
    assert "| Gaussian mixture (BIC) | 2 |" in table_metrics_table(runs, "wine", baseline=[baseline, baseline])  # as given


def test_compare_no_train_tabulates_kept_runs_and_says_what_is_missing(tmp_path, capsys):
    from veegan.cli import main

    sets = [a for value in ("batch_size=16", "model.latent_dim=3", "model.generator_hidden=8,8", "model.discriminator_hidden=8",
                            "schedule.eval_samples=200", "schedule.tensorboard=false", "runtime.threads=1")
            for a in ("--set", value)]
    common = ["compare", "--methods", "gan", "--dataset", "ring", "--steps", "4", "--results", str(tmp_path / "kept"), *sets]
    assert main([*common, "--out", str(tmp_path / "trained"), "--quiet"]) == 0
    trained = (tmp_path / "trained" / "comparison.md").read_text()
    # elsewhere, from the kept files alone: the same table, two seeds asked for and one finished
    assert main([*common, "--seeds", "2", "--no-train", "--out", str(tmp_path / "later"), "--quiet"]) == 0
    later = (tmp_path / "later" / "comparison.md").read_text()
    assert later == "Partial: 1 of the 2 runs have finished.\n\n" + trained
    assert not (tmp_path / "later" / "gan" / "seed1").exists()  # nothing trained
    assert "comparison.png not drawn" in capsys.readouterr().out
    # a method with no finished run stays in the table, as 0 runs
    assert main([*common[:2], "gan", "veegan", *common[3:], "--no-train", "--out", str(tmp_path / "both"), "--quiet"]) == 0
    assert "| veegan | 0 | n/a |" in (tmp_path / "both" / "comparison.md").read_text()
    assert main(["compare", "--methods", "gan", "--no-train", "--out", str(tmp_path / "none")]) == 2
    assert "no finished runs to tabulate" in capsys.readouterr().err
