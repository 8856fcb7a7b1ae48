"""The divergence guard: a run whose losses or parameters stop being finite stops with one line
and exit status 3, its last good checkpoint untouched; --resume (with a sane learning rate)
goes on from there; schedule.on_divergence=continue keeps the old behaviour."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from veegan.configure import resolve_config
from veegan.errors import DivergedError
from veegan.training import checkpoint
from veegan.training.divergence import nonfinite_networks
from veegan.training.trainer import train

from .test_cli_errors import TINY, assert_one_line_error, cli


def _config_overrides(tiny, **schedule):
    return {**tiny, "schedule": {**tiny["schedule"], "log_every": 5, "checkpoint_every": 10, **schedule}}


def _config(tiny, **schedule):
    return resolve_config(method="veegan", dataset="ring", steps=40, seed=3, overrides=_config_overrides(tiny, **schedule))


class _Planter:
    """A hook that fills one generator weight with NaN after step ``at`` (the hook gets the
    step only; the fixture below hands it the Session's method)."""

    def __init__(self, at: int) -> None:
        self.at, self.method = at, None

    def __call__(self, step: int) -> None:
        if step == self.at:
            with torch.no_grad():
                next(self.method.generator.parameters()).fill_(float("nan"))


@pytest.fixture
def planter(monkeypatch):
    """Capture the Session's method so that a hook can break it."""
    from veegan.training import session

    planted = _Planter(at=23)
    original = session.Session.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        planted.method = self.method

    monkeypatch.setattr(session.Session, "__init__", init)
    return planted


def test_a_planted_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, tiny, planter, monkeypatch):
    config = _config(tiny)
    reference = tmp_path / "uninterrupted"
    train(config, reference, progress=False)
    at_20 = tmp_path / "at20"
    train(resolve_config(method="veegan", dataset="ring", steps=20, seed=3, overrides=_config_overrides(tiny)),
          at_20, progress=False)

    broken = tmp_path / "broken"
    with pytest.raises(DivergedError, match=r"diverged at step 25: loss \w+=nan.*; the checkpoint of step 20 is kept"):
        train(config, broken, progress=False, hooks=[planter])
    kept = checkpoint.load(broken / checkpoint.CHECKPOINT_NAME)
    assert kept["step"] == 20
    assert all(torch.equal(kept["method"][k], v) for k, v in checkpoint.load(at_20 / "checkpoint.pt")["method"].items())
    assert not (broken / "metrics.json").exists()

    monkeypatch.setattr(planter, "at", -1)  # resumed without the fault: ends where the uninterrupted run ended
    train(config, broken, resume=True, progress=False, hooks=[planter])
    final = checkpoint.load(broken / checkpoint.CHECKPOINT_NAME)["method"]
    assert all(torch.equal(final[k], v) for k, v in checkpoint.load(reference / "checkpoint.pt")["method"].items())


def test_non_finite_parameters_are_never_checkpointed_even_when_continuing(tmp_path, tiny, planter):
    config = _config(tiny, on_divergence="continue", log_every=1000)
    train(config, tmp_path / "run", progress=False, hooks=[planter])  # trains to the end regardless
    kept = checkpoint.load(tmp_path / "run" / checkpoint.CHECKPOINT_NAME)
    assert kept["step"] == 20 and all(bool(torch.isfinite(v).all()) for v in kept["method"].values())
    assert "generator" in nonfinite_networks(planter.method)

    planter.at = 23
    with pytest.raises(DivergedError, match="step 30: non-finite parameters in the .*generator"):
        train(_config(tiny, log_every=1000), tmp_path / "stopped", progress=False, hooks=[planter])


def test_cli_huge_learning_rate_exits_3_in_one_line_then_resumes_with_a_sane_one(tmp_path, capsys):
    out = tmp_path / "run"
    rates = {rate: [arg for name in ("generator", "reconstructor", "discriminator")
                    for arg in ("--set", f"optim.lr_{name}={rate}")] for rate in ("1e30", "0.001")}
    steps = TINY.index("--steps")
    every = ["--set", "schedule.log_every=10", "--set", "schedule.checkpoint_every=10"]
    base = ["train", "--method", "veegan", "--out", out, "--quiet", *TINY[:steps], *TINY[steps + 2:], *every]
    assert cli(capsys, *base, "--steps", "20")[0] == 0

    rc, _, err = cli(capsys, *base, "--steps", "400", "--resume", *rates["1e30"])  # goes on at a huge rate
    line = assert_one_line_error(rc, err, "training diverged at step", "the checkpoint of step 20 is kept", "--resume")
    assert rc == 3, line
    kept = checkpoint.load(out / checkpoint.CHECKPOINT_NAME)
    assert kept["step"] == 20 and all(bool(torch.isfinite(v).all()) for v in kept["method"].values())

    rc, _, err = cli(capsys, *base, "--steps", "400", "--resume", *rates["0.001"])
    assert rc == 0, err
    final = checkpoint.load(out / checkpoint.CHECKPOINT_NAME)
    assert final["step"] == 400 and all(bool(torch.isfinite(v).all()) for v in final["method"].values())
    assert all(math.isclose(g["lr"], 0.001) for g in final["optimizer"]["param_groups"])


def test_a_sweep_finishes_its_other_runs_and_then_names_the_diverged_one(tmp_path, tiny):
    from veegan.experiments.sweep import Job, run_jobs

    sane = _config(tiny)
    huge = resolve_config(method="veegan", dataset="ring", steps=40, seed=4, overrides={
        **_config_overrides(tiny), "optim": {f"lr_{n}": 1e30 for n in ("generator", "reconstructor", "discriminator")}})
    jobs = [Job("huge", huge, tmp_path / "huge"), Job("sane", sane, tmp_path / "sane")]
    with pytest.raises(DivergedError, match=r"1 run\(s\) diverged: .*huge \(diverged at step \d+\); the other runs"):
        run_jobs(jobs, workers=1)
    assert (tmp_path / "sane" / "metrics.json").is_file() and not (tmp_path / "huge" / "metrics.json").exists()


def test_a_sweep_that_counts_divergence_as_an_outcome_records_it_and_never_trains_it_again(tmp_path, tiny):
    from veegan.experiments.result_store import ResultStore
    from veegan.experiments.sweep import Job, run_jobs

    huge = resolve_config(method="veegan", dataset="ring", steps=40, seed=4, overrides={
        **_config_overrides(tiny), "optim": {f"lr_{n}": 1e30 for n in ("generator", "reconstructor", "discriminator")}})
    jobs = [Job("huge", huge, tmp_path / "out" / "huge"), Job("sane", _config(tiny), tmp_path / "out" / "sane")]
    store = ResultStore(tmp_path / "kept", tmp_path / "out")
    finals, _ = run_jobs(jobs, workers=1, store=store, diverged_ok=True)
    assert finals["huge"]["diverged"].startswith("training diverged at step") and finals["huge"]["steps"] == 40
    assert "modes" in finals["sane"]
    assert (tmp_path / "kept" / "huge" / "diverged.json").is_file() and (tmp_path / "kept" / "huge" / "config.yaml").is_file()
    import shutil

    shutil.rmtree(tmp_path / "out")  # another session: only the kept files remain
    again, wall = run_jobs(jobs, workers=1, store=store, diverged_ok=True)
    assert again["huge"] == finals["huge"] and wall == 0.0  # nothing trained
    longer = dataclasses.replace(huge, steps=50)  # the record is of a 40-step run: not this one's outcome
    assert run_jobs([Job("huge", longer, jobs[0].run_dir)], store=store, train=False, diverged_ok=True)[0] == {}
