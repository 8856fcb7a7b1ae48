"""On a CUDA machine (marked ``cuda``, skipped elsewhere): a run on the GPU is reproducible under
its seed and resumes exactly; fp16 and bf16 runs train and resume with their loss scale; a CPU checkpoint continues on the GPU (one step, within float
tolerance) and a GPU run is evaluated and sampled on the CPU; NCCL DDP with two GPUs matches
one process. `scripts/gpu_check.sh` runs these first."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from veegan.api import load
from veegan.config_values import merge
from veegan.configure import resolve_config
from veegan.training import checkpoint
from veegan.training.trainer import train

from .test_distributed import STABILISED, free_port

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]

SMALL = {"batch_size": 64, "model": {"latent_dim": 8, "generator_hidden": [32, 32], "reconstructor_hidden": [32, 32],
                                     "discriminator_hidden": [32]},
         "schedule": {"eval_samples": 500, "tensorboard": False, "log_every": 50, "eval_every": 100,
                      "checkpoint_every": 50}}


def _config(device: str, steps: int = 200, method: str = "veegan", extra: dict | None = None):
    return resolve_config(method=method, dataset="ring", steps=steps, seed=5,
                          overrides=merge({**SMALL, "runtime": {"device": device}}, extra or {}))


def _params(run_dir) -> dict:
    return checkpoint.load(run_dir / checkpoint.CHECKPOINT_NAME)["method"]


@pytest.mark.parametrize("method, extra", [("veegan", {}), ("unrolled", {}), ("vae_flow_prior", {}), ("veegan", STABILISED)],
                         ids=["veegan", "unrolled", "vae_flow_prior", "veegan-stabilised"])
def test_a_cuda_run_equals_itself_and_resumes_exactly(tmp_path, method, extra):
    train(_config("cuda", method=method, extra=extra), tmp_path / "a", progress=False)
    train(_config("cuda", method=method, extra=extra), tmp_path / "b", progress=False)
    a, b = _params(tmp_path / "a"), _params(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(v.device.type == "cpu" for v in a.values())  # checkpoints hold CPU tensors

    class Cut(Exception):
        pass

    def cut_at_120(step):
        if step == 120:
            raise Cut

    with pytest.raises(Cut):
        train(_config("cuda", method=method, extra=extra), tmp_path / "cut", progress=False, hooks=[cut_at_120])
    train(_config("cuda", method=method, extra=extra), tmp_path / "cut", resume=True, progress=False)
    resumed = _params(tmp_path / "cut")
    assert all(torch.equal(resumed[k], a[k]) for k in a)
    if extra.get("ema"):  # the generator average resumes exactly too
        kept = [checkpoint.load(d / checkpoint.CHECKPOINT_NAME)["generator_average"] for d in (tmp_path / "a", tmp_path / "cut")]
        assert all(torch.equal(kept[0][k], kept[1][k]) for k in kept[0])


def test_a_cpu_checkpoint_continues_on_cuda_and_a_cuda_run_loads_on_the_cpu(tmp_path, capsys):
    train(_config("cpu", steps=100), tmp_path / "cpu", progress=False)
    train(_config("cpu", steps=100), tmp_path / "gpu", progress=False)
    train(_config("cpu", steps=101), tmp_path / "cpu", resume=True, progress=False)
    train(_config("cuda", steps=101), tmp_path / "gpu", resume=True, progress=False)
    assert "was trained on cpu and continues on cuda" in capsys.readouterr().err
    on_cpu, on_gpu = _params(tmp_path / "cpu"), _params(tmp_path / "gpu")
    for key in on_cpu:
        torch.testing.assert_close(on_gpu[key], on_cpu[key], rtol=1e-4, atol=1e-5)

    run = load(tmp_path / "gpu", device="cpu")
    assert run.method.device.type == "cpu" and run.sample(10, seed=0).shape == (10, 2)
    on_device = load(tmp_path / "gpu", device="cuda")
    assert on_device.evaluate()["modes"] == run.evaluate()["modes"]


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_a_half_precision_run_trains_and_resumes_with_its_loss_scale(tmp_path, precision):
    extra = {"runtime": {"precision": precision}}
    train(_config("cuda", steps=100, extra=extra), tmp_path / "run", progress=False)
    state = checkpoint.load(tmp_path / "run" / checkpoint.CHECKPOINT_NAME)
    assert all(v.dtype in (torch.float32, torch.int64) for v in state["method"].values())  # float32 master weights
    if precision == "fp16":  # the scaler's state is kept, so that a resumed run continues with its scale
        assert state["grad_scaler"]["scale"] > 0
    else:
        assert "grad_scaler" not in state
    train(_config("cuda", steps=150, extra=extra), tmp_path / "run", resume=True, progress=False)
    run = load(tmp_path / "run", device="cuda")
    assert run.sample(10, seed=0).dtype.name == "float32" and 0 <= run.evaluate()["modes"] <= 8


def test_images_too_large_for_the_gpu_stay_pinned_on_the_host(monkeypatch):
    from veegan.backend import device
    from veegan.data.images import ImageDataset

    images = torch.randint(0, 256, (50, 3, 8, 8), dtype=torch.uint8)
    held = ImageDataset("tiny", images).to("cuda")
    assert held.on_device("images").device.type == "cuda"
    monkeypatch.setattr(device, "DATA_SHARE", 0.0)
    pinned = ImageDataset("tiny", images).to("cuda")
    assert pinned.on_device("images").is_pinned() and pinned.sample(4).device.type == "cuda"
    g = torch.Generator().manual_seed(3)
    assert torch.equal(pinned.sample(4, g).cpu(), held.sample(4, torch.Generator().manual_seed(3)).cpu())
    assert 1 <= device.runs_per_gpu(torch.cuda.device_count(), 4) <= 4


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="NCCL DDP needs two GPUs")
def test_nccl_ddp_matches_one_process(tmp_path):
    sets = [a for s in ("batch_size=64", "model.latent_dim=8", "model.generator_hidden=32,32",
                        "model.reconstructor_hidden=32,32", "model.discriminator_hidden=32", "schedule.tensorboard=false")
            for a in ("--set", s)]
    common = ["-m", "veegan", "train", "--dataset", "ring", "--steps", "20", "--device", "cuda", "--quiet", *sets]
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                           str(free_port()), *common, "--out", str(tmp_path / "ddp")], capture_output=True, text=True,
                          timeout=600, env={**os.environ})
    assert done.returncode == 0, done.stderr[-2000:]
    done = subprocess.run([sys.executable, *common, "--out", str(tmp_path / "one")], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    ddp, one = _params(tmp_path / "ddp"), _params(tmp_path / "one")
    for key in one:
        torch.testing.assert_close(ddp[key], one[key], rtol=1e-4, atol=1e-5)
