"""Mixed precision and channels_last (``runtime.precision``, ``runtime.channels_last``): a tiny
step of every method in bf16 on the CPU agrees with fp32 to bf16's rounding and keeps float32
parameters; channels_last gives the contiguous step's values; evaluation and samples stay
float32; fp16 without CUDA and unknown precisions are one-line refusals. (fp16 with its loss
scaler is tested on CUDA in test_cuda.py.)"""
from __future__ import annotations

import copy

import pytest
import torch

from veegan.api import load
from veegan.backend.precision import FP32, StepPrecision, cpu_has_native_bf16
from veegan.cli import main
from veegan.config import ModelConfig
from veegan.configure import resolve_config
from veegan.data.synthetic import ring
from veegan.errors import VeeganError
from veegan.methods import METHODS, build_method
from veegan.training import checkpoint
from veegan.training.trainer import make_optimizer, train, training_step

from .test_images import SMALL_IMAGES, random_images

MLP = {"latent_dim": 6, "generator_hidden": [32, 32], "reconstructor_hidden": [32, 32], "discriminator_hidden": [32]}
ADVERSARIAL_AND_VAE = sorted(METHODS.names())


def one_step(name: str, dataset, model: dict, precision: StepPrecision, batch: int) -> tuple[dict, torch.nn.Module]:
    """One training step of ``name`` from seed 0 in ``precision``: the loss terms and the method."""
    options = {"unroll_steps": 2} if name == "unrolled" else {}
    torch.manual_seed(0)
    method = build_method(name, dataset.shape, ModelConfig(**model), options)
    precision.prepare(method)
    optimizer = make_optimizer(method, resolve_config(method=name, overrides={"model": model, "method_options": options,
                                                                               "optim": {"fused": False}}))
    torch.manual_seed(1)
    terms = training_step(method, optimizer, dataset, batch, 0, precision)
    return {k: float(v) for k, v in terms.items()}, method


@pytest.mark.parametrize("name", ADVERSARIAL_AND_VAE)
@pytest.mark.parametrize("data", ["ring", "images"])
def test_a_bf16_step_agrees_with_fp32_and_keeps_float32_parameters(name, data):
    dataset, model, batch = (ring(), MLP, 64) if data == "ring" else (random_images(), SMALL_IMAGES, 8)
    exact, _ = one_step(name, dataset, model, FP32, batch)
    mixed, method = one_step(name, dataset, model, StepPrecision("bf16", "cpu", emulated_bf16=True), batch)
    assert mixed.keys() == exact.keys()
    for term in exact:  # bf16 keeps 8 bits of mantissa: about 2-3 significant digits per operation
        assert mixed[term] == pytest.approx(exact[term], rel=0.05, abs=0.05), term
    assert mixed != exact  # the step really ran in bf16: its rounding shows in the terms
    assert all(p.dtype == torch.float32 for p in method.parameters())
    assert method.sample(5, torch.Generator().manual_seed(0)).dtype == torch.float32  # sampling is outside autocast


def gradients(name: str, precision: StepPrecision) -> tuple[dict[str, torch.Tensor], torch.nn.Module]:
    """The gradient of every parameter after one forward and backward pass on tiny images."""
    torch.manual_seed(0)
    method = build_method(name, (3, 16, 16), ModelConfig(**SMALL_IMAGES), {})
    precision.prepare(method)
    torch.manual_seed(1)
    with precision.autocast():
        terms = method(precision.batch(random_images().sample(8)), 0)
    sum(terms.values()).backward()
    return {k: p.grad for k, p in method.named_parameters() if p.grad is not None}, method


@pytest.mark.parametrize("name", ["gan", "veegan"])
def test_channels_last_gives_the_contiguous_gradients(name):
    expected, _ = gradients(name, FP32)
    found, nhwc = gradients(name, StepPrecision("fp32", "cpu", channels_last=True))
    weights = [p for p in nhwc.parameters() if p.dim() == 4]
    assert weights and all(p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous() for p in weights)
    assert found.keys() == expected.keys()
    # the same sums in another order: float32 rounding apart, relative to the largest gradient (a
    # bias before batch norm has a gradient of rounding noise alone)
    scale = max(g.abs().max().item() for g in expected.values())
    for key, grad in found.items():
        torch.testing.assert_close(grad, expected[key], rtol=1e-3, atol=1e-5 * scale, msg=key)


@pytest.mark.skipif(not cpu_has_native_bf16(), reason="this CPU has no native bf16 (AVX512-BF16 or AMX): a bf16 run "
                    "keeps fp32 here, which test_a_bf16_run_on_a_cpu_without_native_bf16_keeps_fp32_and_says_so checks")
@pytest.mark.parametrize("how", [["--precision", "bf16"], ["--set", "runtime.precision=bf16"]])
def test_bf16_from_the_command_line_reaches_the_training_step(tmp_path, monkeypatch, how):
    """The dtype of every linear layer's output inside the steps of `veegan train`: bf16 when
    asked for, by the flag or by the configuration key, and float32 otherwise."""
    from veegan.training import trainer

    seen: dict[str, set] = {"bf16": set(), "fp32": set()}
    current = []

    def recording_step(model, *args, **kwargs):
        hooks = [m.register_forward_hook(lambda module, inputs, output: seen[current[0]].add(output.dtype))
                 for m in model.modules() if isinstance(m, torch.nn.Linear)]
        try:
            return step(model, *args, **kwargs)
        finally:
            for hook in hooks:
                hook.remove()

    step = trainer.training_step
    monkeypatch.setattr(trainer, "training_step", recording_step)
    sets = ["batch_size=16", "model.latent_dim=3", "schedule.tensorboard=false", "schedule.eval_samples=200"]
    for name, extra in (("bf16", how), ("fp32", [])):
        current[:] = [name]
        args = ["train", "--method", "gan", "--dataset", "ring", "--steps", "3", "--quiet", "--out", str(tmp_path / name)]
        assert main([*args, *extra, *[a for s in sets for a in ("--set", s)]]) == 0
    assert seen == {"bf16": {torch.bfloat16}, "fp32": {torch.float32}}


def test_a_bf16_run_is_evaluated_in_fp32_and_resumes_in_fp32(tmp_path):
    overrides = {"batch_size": 64, "model": MLP, "runtime": {"precision": "bf16"},
                 "schedule": {"eval_samples": 500, "tensorboard": False, "checkpoint_every": 20, "eval_every": 20}}
    config = resolve_config(method="veegan", dataset="ring", steps=40, overrides=overrides)
    train(config, tmp_path / "run", progress=False)
    assert "grad_scaler" not in checkpoint.load(tmp_path / "run" / checkpoint.CHECKPOINT_NAME)  # bf16 needs no loss scale
    run = load(tmp_path / "run", device="cpu")
    assert run.config.runtime.precision == "bf16" and str(run.sample(10, seed=0).dtype) == "float32"
    assert 0 <= run.evaluate()["modes"] <= 8
    longer = copy.deepcopy(config)
    longer.steps, longer.runtime.precision = 50, "fp32"  # a precision change is allowed on resume, like a device change
    train(longer, tmp_path / "run", resume=True, progress=False)
    assert checkpoint.load(tmp_path / "run" / checkpoint.CHECKPOINT_NAME)["step"] == 50


@pytest.mark.skipif(torch.cuda.is_available(), reason="fp16 is refused only where there is no CUDA device")
def test_fp16_without_cuda_is_one_line_and_writes_nothing(tmp_path, capsys):
    rc = main(["train", "--method", "gan", "--dataset", "ring", "--steps", "5", "--precision", "fp16",
               "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2 and "fp16 needs a CUDA device" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "run").exists()
    with pytest.raises(VeeganError, match="bf16 runs on the CPU and on CUDA"):
        StepPrecision("bf16", "mps")


def test_an_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(VeeganError, match="runtime.precision must be fp32, bf16 or fp16, not 'fp8'"):
        resolve_config(method="gan", overrides={"runtime": {"precision": "fp8"}})


def test_bf16_is_native_only_with_a_bf16_instruction_set(tmp_path, monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    x86 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw {}\nbugs\t\t: \n"
    (tmp_path / "bf16").write_text(x86.format("avx512_bf16 avx512_vnni"))
    (tmp_path / "avx2").write_text(x86.format("avx512_vnni"))
    (tmp_path / "arm").write_text("processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n")
    assert cpu_has_native_bf16(tmp_path / "bf16") and cpu_has_native_bf16(tmp_path / "arm")
    assert not cpu_has_native_bf16(tmp_path / "avx2") and not cpu_has_native_bf16(tmp_path / "missing")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")  # oneDNN told to stop below bf16
    assert not cpu_has_native_bf16(tmp_path / "bf16")


def test_a_bf16_run_on_a_cpu_without_native_bf16_keeps_fp32_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    precision = StepPrecision("bf16", "cpu")
    assert not precision.is_mixed and "keeps fp32" in precision.note
    rc = main(["train", "--method", "gan", "--dataset", "ring", "--steps", "3", "--precision", "bf16",
               "--set", "schedule.tensorboard=false", "--set", "schedule.eval_samples=100", "--out", str(tmp_path / "run")])
    assert rc in (0, None) and "no native bf16" in capsys.readouterr().err
