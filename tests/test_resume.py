"""A killed run, resumed, ends with exactly the parameters of an uninterrupted run."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from veegan.training import checkpoint
from veegan.configure import resolve_config
from veegan.training.trainer import train


def _config(tiny, steps=30, method="veegan"):
    return resolve_config(method=method, dataset="ring", steps=steps, seed=7, overrides=tiny)


def _params(run_dir: Path) -> dict:
    return checkpoint.load(run_dir / checkpoint.CHECKPOINT_NAME)["method"]


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


class Crash(Exception):
    pass


def _records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _resumed_from(run_dir: Path) -> list[int]:
    """The steps a run's log says it resumed from."""
    return [r["step"] for r in _records(run_dir) if r["kind"] == "resume"]


def _crash_at(step_to_crash, exc):
    def hook(step):
        if step == step_to_crash:
            raise exc
    return hook


@pytest.mark.parametrize("method", ["veegan", "gan", "unrolled"])
def test_crash_then_resume_matches_uninterrupted(tmp_path, tiny, method):
    config = _config(tiny, method=method)
    train(config, tmp_path / "straight", progress=False)

    with pytest.raises(Crash):  # dies at step 17: the last checkpoint is step 10
        train(config, tmp_path / "crashed", progress=False, hooks=[_crash_at(17, Crash())])
    assert checkpoint.load(tmp_path / "crashed" / "checkpoint.pt")["step"] == 10
    trained = []
    train(config, tmp_path / "crashed", resume=True, progress=False, hooks=[trained.append])
    assert trained == list(range(11, 31))  # it went on from the checkpoint: 20 steps, not 30 from step 0

    _assert_same(_params(tmp_path / "straight"), _params(tmp_path / "crashed"))
    # the log holds each step once, as if the run had never stopped, and where it resumed
    assert _resumed_from(tmp_path / "crashed") == [10] and _resumed_from(tmp_path / "straight") == []
    steps = [(r["step"], r["kind"]) for r in _records(tmp_path / "crashed") if r["kind"] != "resume"]
    assert steps == [(r["step"], r["kind"]) for r in _records(tmp_path / "straight")]
    assert json.loads((tmp_path / "crashed" / "metrics.json").read_text()) == json.loads(
        (tmp_path / "straight" / "metrics.json").read_text())


def test_ctrl_c_saves_a_checkpoint_after_the_step_and_resumes(tmp_path, tiny):
    """A real SIGINT arriving during step 23 stops the run after that step, with a checkpoint
    of exactly that state."""
    config = _config(tiny)
    train(config, tmp_path / "straight", progress=False)

    def sigint_during_step(step):
        if step == 22:  # the hook runs after step 22; the signal lands before step 23 starts
            os.kill(os.getpid(), signal.SIGINT)

    # whatever handler was there before (SIG_IGN when the tests run in a background job)
    handler_before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "stopped", progress=False, hooks=[sigint_during_step])
    assert checkpoint.load(tmp_path / "stopped" / "checkpoint.pt")["step"] == 22
    assert signal.getsignal(signal.SIGINT) is handler_before  # handler restored
    trained = []
    train(config, tmp_path / "stopped", resume=True, progress=False, hooks=[trained.append])
    assert trained[0] == 23 and _resumed_from(tmp_path / "stopped") == [22]
    _assert_same(_params(tmp_path / "straight"), _params(tmp_path / "stopped"))


def test_extending_a_finished_run_equals_a_longer_run(tmp_path, tiny):
    train(_config(tiny, steps=40), tmp_path / "long", progress=False)
    train(_config(tiny, steps=20), tmp_path / "extended", progress=False)
    trained = []
    train(_config(tiny, steps=40), tmp_path / "extended", resume=True, progress=False, hooks=[trained.append])
    assert trained == list(range(21, 41))
    _assert_same(_params(tmp_path / "long"), _params(tmp_path / "extended"))


def test_sigkill_then_cli_resume(tmp_path, tiny):
    """A real kill -9 of the command-line trainer, then `--resume` from the command line."""
    run_dir = tmp_path / "killed"
    args = [sys.executable, "-m", "veegan", "train", "--dataset", "ring", "--seed", "3", "--steps", "1500",
            "--out", str(run_dir), "--quiet"]
    sets = ["batch_size=16", "model.latent_dim=3", "model.generator_hidden=8,8", "model.reconstructor_hidden=8,8",
            "model.discriminator_hidden=8", "schedule.eval_samples=200", "schedule.tensorboard=false",
            "schedule.checkpoint_every=50", "schedule.eval_every=1000", "runtime.threads=1"]
    for s in sets:
        args += ["--set", s]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not (run_dir / "checkpoint.pt").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    killed_at = checkpoint.load(run_dir / "checkpoint.pt")["step"]
    assert 0 < killed_at < 1500

    resumed = subprocess.run([a for a in args if a != "--quiet"] + ["--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {run_dir} from step {killed_at}" in resumed.stderr  # not a restart from step 0
    assert _resumed_from(run_dir) == [killed_at]
    straight_dir = tmp_path / "straight"
    straight = subprocess.run([a if a != str(run_dir) else str(straight_dir) for a in args], capture_output=True, text=True)
    assert straight.returncode == 0, straight.stderr
    _assert_same(_params(straight_dir), _params(run_dir))
    assert not [p for p in os.listdir(run_dir) if p.endswith(".tmp")], "a temporary checkpoint file was left behind"
