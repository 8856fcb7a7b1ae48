"""runtime.device: every tensor of a run on the run's device (checked on a CPU with the meta
device as the default, so that a tensor made without an explicit device fails the run),
unavailable devices refused in one line, checkpoints that load anywhere."""
from __future__ import annotations

import pytest
import torch

from veegan.backend.device import resolve_device, rng_state, saved_device_kind, set_rng_state
from veegan.config_values import merge
from veegan.configure import resolve_config
from veegan.errors import VeeganError
from veegan.training import checkpoint
from veegan.training.trainer import train

from .test_cli_errors import TINY, assert_one_line_error, cli

METHODS = ["gan", "veegan", "ali", "unrolled", "veegan_dae", "pacgan", "vae", "vae_flow_prior"]
STABILISED = {"model": {"spectral_norm": True}, "loss": {"r1_gamma": 1.0}, "ema": {"decay": 0.9}}


@pytest.fixture
def meta_by_default():
    """Any tensor made without an explicit device lands on ``meta`` and cannot meet real ones."""
    torch.set_default_device("meta")
    try:
        yield
    finally:
        torch.set_default_device(None)


@pytest.mark.parametrize("method, stabilised", [(m, False) for m in METHODS] + [("veegan", True), ("unrolled", True)],
                         ids=METHODS + ["veegan-stabilised", "unrolled-stabilised"])
@pytest.mark.parametrize("dataset", ["ring", "hd1200"])
def test_every_tensor_of_a_run_is_made_on_its_device(tmp_path, tiny, method, stabilised, dataset, meta_by_default):
    tiny = merge({**tiny, "runtime": {"threads": 1, "device": "cpu"},
                  "schedule": {**tiny["schedule"], "eval_every": 2, "checkpoint_every": 2, "log_every": 1}},
                 STABILISED if stabilised else {})
    config = resolve_config(method=method, dataset=dataset, steps=4, seed=1, overrides=tiny)
    run_dir = tmp_path / "run"
    train(config, run_dir, progress=False)  # steps, evaluations, checkpoints, the final report
    train(resolve_config(method=method, dataset=dataset, steps=6, seed=1, overrides=tiny), run_dir, resume=True,
          progress=False)  # a checkpoint round trip, and on
    state = checkpoint.load(run_dir / checkpoint.CHECKPOINT_NAME)
    assert state["step"] == 6 and all(t.device.type == "cpu" for t in state["method"].values())


def test_auto_is_the_cpu_here_and_unavailable_devices_are_refused():
    assert resolve_device("auto") == torch.device("cpu") == resolve_device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(VeeganError, match="device cuda:1 is not available"):
            resolve_device("cuda:1")
    with pytest.raises(VeeganError, match="runtime.device must be auto, cpu, cuda, cuda:N or mps, not 'gpu'"):
        resolve_device("gpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cli_device_cuda_without_cuda_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    rc, _, err = cli(capsys, "train", "--out", out, "--device", "cuda", *TINY)
    assert_one_line_error(rc, err, "device cuda is not available")
    assert rc == 2 and not out.exists()
    rc, _, err = cli(capsys, "compare", "--out", tmp_path / "sweep", "--device", "cuda", "--steps", "4")
    assert_one_line_error(rc, err, "device cuda is not available")


def test_checkpoint_rng_state_is_per_device_and_reads_the_old_format():
    state = rng_state(torch.device("cpu"))
    assert set(state) == {"cpu"} and saved_device_kind(state) == "cpu"
    before = torch.rand(3)
    set_rng_state(state, torch.device("cpu"))
    assert torch.equal(torch.rand(3), before)
    set_rng_state(state["cpu"], torch.device("cpu"))  # a 0.2.x checkpoint: the bare CPU state
    assert torch.equal(torch.rand(3), before)
    assert saved_device_kind({"cpu": state["cpu"], "cuda": state["cpu"]}) == "cuda"
