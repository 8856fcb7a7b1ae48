"""Sweeps on a real Ray cluster, started here on 127.0.0.1: the same table as the local engine,
finished runs skipped on a re-run, and a worker killed mid-run retried by Ray, resuming from its
checkpoint to the very parameters of an uninterrupted run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from veegan.config_values import parse_assignments
from veegan.configure import resolve_config
from veegan.errors import VeeganError
from veegan.experiments import table1 as reproduce
from veegan.experiments.progress import logged_step
from veegan.experiments.sweep import Launch
from veegan.training import checkpoint
from veegan.training.trainer import train

from .conftest import TINY

ray = pytest.importorskip("ray")
RAY = Path(sys.executable).with_name("ray")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """`ray start --head` on this machine with 2 CPUs, joined as a user would (`--ray-address
    auto`, which also finds the cluster's auth token); `ray stop` afterwards."""
    port = 26379 + os.getpid() % 1000
    started = subprocess.run([str(RAY), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
                              "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
                             capture_output=True, text=True, timeout=180)
    assert started.returncode == 0, started.stderr
    yield "auto"
    subprocess.run([str(RAY), "stop", "--force"], capture_output=True, timeout=120)


@pytest.fixture
def tiny_budget(monkeypatch):
    monkeypatch.setitem(reproduce.BUDGETS, "tiny", {"steps": {"ring": 200}, "overrides": TINY})
    return "tiny"


def _rows(rows):
    return [(r["method"], r["dataset"], r["runs"], r["modes_mean"], r["high_quality_pct_mean"], r["reverse_kl_mean"])
            for r in rows]


def test_ray_engine_gives_the_local_engines_table_and_skips_finished_runs(tmp_path, cluster, tiny_budget, capsys):
    args = dict(methods=["gan", "veegan"], datasets=["ring"], seeds=2, budget=tiny_budget, workers=2)
    local = reproduce.reproduce_table1(out=tmp_path / "local", **args)
    on_ray = reproduce.reproduce_table1(out=tmp_path / "ray", launch=Launch(engine="ray", ray_address=cluster), **args)
    assert "4 run(s) to train on 2 ray worker(s)" in capsys.readouterr().err
    assert _rows(on_ray) == _rows(local)
    ray_table = (tmp_path / "ray" / "table1.md").read_text().split("Total wall time")[0]
    assert ray_table == (tmp_path / "local" / "table1.md").read_text().split("Total wall time")[0]
    print(ray_table, file=sys.__stdout__)  # the closing note shows it

    again = reproduce.reproduce_table1(out=tmp_path / "ray", launch=Launch(engine="ray", ray_address=cluster), **args)
    assert "0 run(s) to train; 4 already done" in capsys.readouterr().err
    assert _rows(again) == _rows(local)


def test_a_killed_ray_worker_is_retried_and_its_run_resumes_exactly(tmp_path, cluster):
    sets = ["batch_size=16", "model.latent_dim=3", "model.generator_hidden=8,8", "model.reconstructor_hidden=8,8",
            "model.discriminator_hidden=8", "schedule.eval_samples=200", "schedule.tensorboard=false",
            "schedule.checkpoint_every=250", "schedule.eval_every=1000", "runtime.threads=1"]
    steps = 2000
    out = tmp_path / "sweep"
    sweep = subprocess.Popen(
        [sys.executable, "-m", "veegan", "compare", "--methods", "veegan", "--dataset", "ring", "--steps", str(steps),
         "--engine", "ray", "--ray-address", cluster, "--out", str(out), *[a for s in sets for a in ("--set", s)]],
        stderr=subprocess.PIPE, text=True)
    run_dir = out / "veegan" / "seed0"
    deadline = time.monotonic() + 240
    while not ((run_dir / "checkpoint.pt").is_file() and logged_step(run_dir) >= 600):
        assert sweep.poll() is None and time.monotonic() < deadline, "the run did not start"
        time.sleep(0.05)
    victims = _ray_task_pids("_train_one")
    assert len(victims) == 1
    killed_at = logged_step(run_dir)
    os.kill(victims[0], signal.SIGKILL)
    assert killed_at < steps
    _, err = sweep.communicate(timeout=300)
    assert sweep.returncode == 0, err
    assert _ray_task_pids("_train_one") == [] or victims[0] not in _ray_task_pids("_train_one")

    reference = tmp_path / "uninterrupted"
    config = resolve_config(method="veegan", dataset="ring", steps=steps, seed=0, overrides=parse_assignments(sets))
    train(config, reference, progress=False)
    resumed = checkpoint.load(run_dir / "checkpoint.pt")["method"]
    expected = checkpoint.load(reference / "checkpoint.pt")["method"]
    assert all(torch.equal(resumed[k], expected[k]) for k in expected)
    # Ray's retry resumed from the last checkpoint before the kill, not from step 0
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    resumptions = [r["step"] for r in records if r["kind"] == "resume"]
    assert len(resumptions) == 1 and 0 < resumptions[0] <= killed_at and resumptions[0] % 250 == 0
    print(f"killed Ray worker {victims[0]} at step {killed_at} of {steps}; the run finished with the "
          "uninterrupted run's parameters", file=sys.__stdout__)


def test_ray_engine_refuses_an_unreachable_cluster_in_one_line(tmp_path, tiny_budget):
    with pytest.raises(VeeganError, match="cannot reach the Ray cluster"):
        reproduce.reproduce_table1(out=tmp_path, methods=["gan"], datasets=["ring"], seeds=1, budget=tiny_budget,
                                   launch=Launch(engine="ray", ray_address="127.0.0.1:1"))


def test_local_engine_refuses_a_ray_address(tmp_path, tiny_budget):
    with pytest.raises(VeeganError, match="--ray-address needs --engine ray"):
        reproduce.reproduce_table1(out=tmp_path, methods=["gan"], datasets=["ring"], seeds=1, budget=tiny_budget,
                                   launch=Launch(ray_address="auto"))


def _ray_task_pids(function: str) -> list[int]:
    """Processes whose title Ray has set to ``ray::<function>`` (running that task now)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith(f"ray::{function}"):
                pids.append(int(entry.name))
    return pids


def test_without_ray_the_engine_names_the_extra(tmp_path, tiny_budget, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(VeeganError, match=r"pip install 'veegan\[ray\]'"):
        reproduce.reproduce_table1(out=tmp_path, methods=["gan"], datasets=["ring"], seeds=1, budget=tiny_budget,
                                   launch=Launch(engine="ray"))
