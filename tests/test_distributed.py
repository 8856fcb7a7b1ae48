"""Multi-process training (DistributedDataParallel over gloo, two CPU processes): the ranks end
with identical networks, and the run equals single-process training on the same global batch."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.multiprocessing as mp

from veegan.training import checkpoint
from veegan.config_values import merge
from veegan.configure import resolve_config

STEPS = 6
OVERRIDES = {"batch_size": 16, "model": {"latent_dim": 3, "generator_hidden": [8, 8], "reconstructor_hidden": [8, 8],
                                         "discriminator_hidden": [8]},
             "schedule": {"eval_samples": 100, "tensorboard": False, "log_every": 2, "eval_every": 4, "checkpoint_every": 3},
             "runtime": {"threads": 1}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_worker(rank: int, world: int, port: int, method: str, out: str, extra: dict | None = None) -> None:
    """One rank: train through the project's trainer, then save this rank's networks."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    from veegan.training import distributed, session, trainer

    captured = {}
    build = session.make_optimizer

    def capture(m, config):
        captured["method"] = m
        return build(m, config)

    session.make_optimizer = capture
    config = resolve_config(method=method, dataset="ring", steps=STEPS, overrides=merge(OVERRIDES, extra or {}))
    trainer.train(config, out, progress=False)
    torch.save(captured["method"].state_dict(), os.path.join(out, f"rank{rank}.pt"))
    distributed.teardown()


def single_process_state(method: str, out, extra: dict | None = None) -> dict:
    from veegan.training import trainer

    config = resolve_config(method=method, dataset="ring", steps=STEPS, overrides=merge(OVERRIDES, extra or {}))
    trainer.train(config, out, progress=False)
    return checkpoint.load(out / checkpoint.CHECKPOINT_NAME)


# every stabiliser at once: R1's gradient taken inside DDP's forward, spectral norm's buffers,
# the generator average kept by rank 0
STABILISED = {"model": {"spectral_norm": True}, "loss": {"r1_gamma": 1.0}, "ema": {"decay": 0.5}}


@pytest.mark.parametrize("method, extra", [("veegan", {}), ("gan", {}), ("veegan", STABILISED)],
                         ids=["veegan", "gan", "veegan-stabilised"])
def test_two_ranks_match_each_other_and_one_process(method, extra, tmp_path):
    out = tmp_path / "ddp"
    mp.spawn(_rank_worker, args=(2, free_port(), method, str(out), extra), nprocs=2, join=True)
    rank0, rank1 = (torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    single_state = single_process_state(method, tmp_path / "single", extra)
    single = single_state["method"]
    saved_state = checkpoint.load(out / checkpoint.CHECKPOINT_NAME)
    saved = saved_state["method"]
    if extra:
        for name, value in single_state["generator_average"].items():
            torch.testing.assert_close(saved_state["generator_average"][name], value, rtol=1e-4, atol=1e-5)
    for name in single:
        assert torch.equal(rank0[name], rank1[name]), name
        assert torch.equal(saved[name], rank0[name]), name
        # the same maths; only the order of float additions differs (two half-batch means averaged)
        torch.testing.assert_close(rank0[name], single[name], rtol=1e-4, atol=1e-5)
    assert (out / "metrics.json").is_file()


def test_torchrun_command_line(tmp_path):
    """`torchrun --nproc_per_node 2 -m veegan train ...`: rank 0 writes the run, which equals
    the single-process run."""
    out = tmp_path / "ddp"
    sets = ["--set", "batch_size=16", "--set", "model.latent_dim=3", "--set", "model.generator_hidden=8,8",
            "--set", "model.reconstructor_hidden=8,8", "--set", "model.discriminator_hidden=8",
            "--set", "schedule.tensorboard=false", "--set", "runtime.threads=1"]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
               "-m", "veegan", "train", "--dataset", "ring", "--steps", str(STEPS), "--out", str(out), "--quiet", *sets]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    single_dir = tmp_path / "single"
    done = subprocess.run([sys.executable, "-m", "veegan", "train", "--dataset", "ring", "--steps", str(STEPS),
                           "--out", str(single_dir), "--quiet", *sets], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    ddp = checkpoint.load(out / checkpoint.CHECKPOINT_NAME)["method"]
    single = checkpoint.load(single_dir / checkpoint.CHECKPOINT_NAME)["method"]
    for name in single:
        torch.testing.assert_close(ddp[name], single[name], rtol=1e-4, atol=1e-5)


def test_batch_must_split_over_ranks(tmp_path):
    out = tmp_path / "odd"
    overrides = {**OVERRIDES, "batch_size": 15}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
               "-m", "veegan", "train", "--dataset", "ring", "--steps", "2", "--out", str(out), "--quiet",
               "--set", f"batch_size={overrides['batch_size']}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "does not split evenly over 2 processes" in done.stderr
