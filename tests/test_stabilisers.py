"""The stabilisers beyond the paper (ema.decay, model.spectral_norm, loss.r1_gamma): each changes
what it should and nothing else, on every adversarial method."""
from pathlib import Path

import numpy as np
import pytest
import torch

import veegan
from veegan.cli import main
from veegan.config import LossConfig, ModelConfig
from veegan.configure import resolve_config
from veegan.data.catalog import make_dataset
from veegan.errors import VeeganError
from veegan.experiments import table1
from veegan.methods import build_method
from veegan.methods.losses import logistic_discriminator_loss
from veegan.training import checkpoint
from veegan.training.ema import GeneratorAverage, generator_average
from veegan.training.trainer import make_optimizer, training_step

from .conftest import TINY
from .gradients import MODEL, reference_grads, stored_grads
from .test_images import SMALL_IMAGES, random_images
from .test_method_contract import assert_terms_train_only_their_networks

ADVERSARIAL = ["gan", "ali", "unrolled", "veegan", "veegan_dae", "pacgan"]


def _generator_parameters(run_dir):
    state = checkpoint.load(run_dir / checkpoint.CHECKPOINT_NAME)
    return {k: v for k, v in state["method"].items() if k.startswith("generator.")}, state


# EMA


def test_an_average_with_decay_0_samples_exactly_as_the_generator():
    torch.manual_seed(0)
    method = build_method("veegan", 2, MODEL, {})
    average = GeneratorAverage(method.generator, decay=0.0)
    with torch.no_grad():
        for p in method.generator.parameters():
            p.add_(torch.randn_like(p))
    average.update(method.generator)
    raw = method.sample(50, torch.Generator().manual_seed(1))
    with average.in_use(method):
        averaged = method.sample(50, torch.Generator().manual_seed(1))
    assert torch.equal(raw, averaged)


def test_ema_leaves_training_alone_and_averages_the_generator_as_written(tiny, tmp_path, monkeypatch):
    seen = []  # the generator after each step, as the average saw it
    update = GeneratorAverage.update

    def recording(self, generator):
        seen.append({k: v.detach().clone() for k, v in generator.state_dict().items()})
        update(self, generator)

    plain = veegan.train("veegan", "ring", out=tmp_path / "plain", steps=12, overrides=tiny, progress=False)
    monkeypatch.setattr(GeneratorAverage, "update", recording)
    ema = veegan.train("veegan", "ring", out=tmp_path / "ema", steps=12, overrides={**tiny, "ema": {"decay": 0.9}},
                       progress=False)
    raw_plain, _ = _generator_parameters(tmp_path / "plain")
    raw_ema, state = _generator_parameters(tmp_path / "ema")
    for key in raw_plain:  # the trajectory itself is bit for bit the same
        assert torch.equal(raw_plain[key], raw_ema[key]), key
    # the kept average is the 0.9-weighted running mean from the initial generator, by hand
    config = resolve_config(method="veegan", dataset="ring", overrides=tiny)
    torch.manual_seed(config.seed)
    expected = build_method("veegan", 2, config.model, config.method_options).generator.state_dict()
    assert len(seen) == 12
    for generator in seen:
        expected = {k: 0.9 * v + 0.1 * generator[k] for k, v in expected.items()}
    for k, v in state["generator_average"].items():
        torch.testing.assert_close(v, expected[k], rtol=1e-5, atol=1e-6)
    # sampling and evaluation use the average: the loaded runs differ where only ema does; asked
    # for the generator as trained, the ema run samples exactly as the plain one
    assert not np.array_equal(plain.sample(100, seed=0), ema.sample(100, seed=0))
    trained = veegan.load(tmp_path / "ema", average=False)
    np.testing.assert_array_equal(plain.sample(100, seed=0), trained.sample(100, seed=0))
    assert main(["sample", str(tmp_path / "ema"), "-n", "100", "--seed", "0", "--training-generator",
                 "--out", str(tmp_path / "trained.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "trained.npy"), trained.sample(100, seed=0))


def test_ema_resumes_exactly(tiny, tmp_path):
    overrides = {**tiny, "ema": {"decay": 0.8}}
    whole = veegan.train("gan", "ring", out=tmp_path / "whole", steps=20, overrides=overrides, progress=False)
    veegan.train("gan", "ring", out=tmp_path / "cut", steps=10, overrides=overrides, progress=False)
    resumed = veegan.train("gan", "ring", out=tmp_path / "cut", steps=20, overrides=overrides, resume=True, progress=False)
    a = checkpoint.load(tmp_path / "whole" / checkpoint.CHECKPOINT_NAME)["generator_average"]
    b = checkpoint.load(tmp_path / "cut" / checkpoint.CHECKPOINT_NAME)["generator_average"]
    for key in a:
        assert torch.equal(a[key], b[key]), key
    np.testing.assert_array_equal(whole.sample(40, seed=3), resumed.sample(40, seed=3))


# spectral normalisation


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_spectral_norm_bounds_every_weight_of_d_and_touches_nothing_else(name):
    model = ModelConfig(**{**MODEL.__dict__, "spectral_norm": True})
    torch.manual_seed(0)
    plain = build_method(name, 2, MODEL, {})
    torch.manual_seed(0)
    normalised = build_method(name, 2, model, {})
    for network in plain._modules:
        if network != "discriminator":  # G, F or E: the same parameters, unparametrised
            for (k, a), (_, b) in zip(plain._modules[network].state_dict().items(),
                                      normalised._modules[network].state_dict().items()):
                assert torch.equal(a, b), f"{network}.{k}"
    D = normalised.discriminator
    x = torch.randn(8, 2)
    inputs = (x,) if name in ("gan", "unrolled") else (torch.randn(8, 2 * 2),) if name == "pacgan" else (torch.randn(8, 3), x)
    for _ in range(30):  # power iterations, one per forward pass in training
        D(*inputs)
    weights = [getattr(m, n) for m in D.modules() for n in ("weight", "weight_a", "weight_b")
               if hasattr(m, "parametrizations") and n in m.parametrizations]
    assert weights, "no weight was normalised"
    for w in weights:
        assert torch.linalg.matrix_norm(w.detach(), ord=2).item() == pytest.approx(1.0, abs=1e-3)
    # the normalised weights are the plain ones divided by their norms: same initialisation
    first = next(m for m in D.modules() if hasattr(m, "parametrizations"))
    original = first.parametrizations[next(iter(first.parametrizations.keys()))].original
    plain_first = dict(plain.discriminator.named_parameters())
    assert any(torch.equal(original, p) for p in plain_first.values())


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_with_every_stabiliser_each_term_still_trains_only_its_networks(name, tiny):
    config = resolve_config(method=name, dataset="ring", overrides={
        **tiny, "model": {**tiny["model"], "spectral_norm": True}, "loss": {"r1_gamma": 1.0}})
    torch.manual_seed(0)
    method = build_method(config.method, 2, config.model, config.method_options, config.loss)
    make_optimizer(method, config)
    assert_terms_train_only_their_networks(method, make_dataset("ring").sample(config.batch_size))


@pytest.mark.parametrize("name", ["vae", "vae_flow_prior"])
def test_discriminator_stabilisers_refuse_a_method_without_a_discriminator(name):
    with pytest.raises(VeeganError, match="spectral_norm acts on a discriminator"):
        build_method(name, 2, ModelConfig(spectral_norm=True), {})
    with pytest.raises(VeeganError, match="r1_gamma acts on a discriminator"):
        build_method(name, 2, ModelConfig(), {}, LossConfig(r1_gamma=1.0))


def test_spectral_norm_trains_and_round_trips(tiny, tmp_path):
    overrides = {**tiny, "model": {**tiny["model"], "spectral_norm": True}}
    run = veegan.train("unrolled", "ring", out=tmp_path / "run", steps=12, overrides=overrides, progress=False)
    loaded = veegan.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.sample(20, seed=1), run.sample(20, seed=1))


# R1


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_r1_gamma_0_gives_todays_gradients_bit_for_bit(name, float64):
    grads = []
    for loss in (None, LossConfig(r1_gamma=0.0)):
        torch.manual_seed(0)
        method = build_method(name, 2, MODEL, {}, loss)
        make_optimizer(method, type("C", (), {"optim": veegan.config.OptimConfig(fused=False)})())
        torch.manual_seed(1)
        sum(method.training_loss(torch.randn(8, 2, generator=torch.Generator().manual_seed(2)), 0).values()).backward()
        grads.append(stored_grads(method))
    for a, b in zip(*grads):
        assert torch.equal(a, b)


def test_r1_on_a_gan_is_the_penalty_by_hand(float64):
    gamma = 3.0
    torch.manual_seed(0)
    method = build_method("gan", 2, MODEL, {}, LossConfig(r1_gamma=gamma))
    G, D = method.generator, method.discriminator
    x = torch.randn(8, 2)
    torch.manual_seed(1)
    terms = method.training_loss(x, 0)
    torch.manual_seed(1)
    x_g = G(torch.randn(8, 3), torch.randn(8, 1)).detach()
    x_in = x.clone().requires_grad_()
    (grad_x,) = torch.autograd.grad(D(x_in).sum(), x_in, create_graph=True)
    by_hand = logistic_discriminator_loss(D(x_g), D(x)) + gamma / 2 * grad_x.square().sum(1).mean()
    assert terms["discriminator"].item() == pytest.approx(by_hand.item(), rel=1e-12)
    sum(terms.values()).backward()
    for got, want in zip(stored_grads(D), reference_grads(by_hand, D)):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss, parts", [(LossConfig(r1_gamma=2.0), (1, 1)),
                                         (LossConfig(r1_gamma=0.0, r1_latent_gamma=2.0), (1, 0)),
                                         (LossConfig(r1_gamma=2.0, r1_latent_gamma=6.0), (3, 1))])
def test_r1_on_a_joint_discriminator_penalises_each_input_with_its_gamma(float64, loss, parts):
    torch.manual_seed(0)
    method = build_method("veegan", 2, MODEL, {"real_pair_noise_std": 0.0}, loss)
    F, D = method.reconstructor, method.discriminator
    x = torch.randn(8, 2)
    z_real = F(x).detach().requires_grad_()
    x_in = x.clone().requires_grad_()
    grad_z, grad_x = torch.autograd.grad(D(z_real, x_in).sum(), (z_real, x_in))
    torch.manual_seed(1)
    with_r1 = method.training_loss(x, 0)["discriminator"]
    method.r1_gamma = method.r1_latent_gamma = 0.0
    torch.manual_seed(1)
    without = method.training_loss(x, 0)["discriminator"]
    penalty = (parts[0] * grad_z.square().sum(1) + parts[1] * grad_x.square().sum(1)).mean()  # in units of gamma / 2 = 1
    assert (with_r1 - without).item() == pytest.approx(penalty.item(), rel=1e-10)
    assert grad_z.abs().sum() > 0 and grad_x.abs().sum() > 0  # neither part is empty


def test_r1_latent_gamma_refuses_a_discriminator_of_x_alone():
    with pytest.raises(VeeganError, match="r1_latent_gamma acts on the z input of a joint D"):
        build_method("gan", 2, ModelConfig(), {}, LossConfig(r1_latent_gamma=1.0))
    with pytest.raises(VeeganError, match="r1_latent_gamma must be a finite number >= 0"):
        LossConfig(r1_latent_gamma=-1.0)


def test_r1_leaves_the_generator_gradient_alone(float64):
    grads = []
    for gamma in (0.0, 5.0):
        torch.manual_seed(0)
        method = build_method("ali", 2, MODEL, {}, LossConfig(r1_gamma=gamma))
        torch.manual_seed(1)
        sum(method.training_loss(torch.randn(8, 2, generator=torch.Generator().manual_seed(2)), 0).values()).backward()
        grads.append([stored_grads(method.generator), stored_grads(method.encoder), stored_grads(method.discriminator)])
    for a, b in zip(grads[0][0] + grads[0][1], grads[1][0] + grads[1][1]):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(grads[0][2], grads[1][2]))


# the stabiliser table


def test_reproduce_stabilisers_tabulates_each_setting_and_keeps_results(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(table1.BUDGETS, "quick", {"steps": {"ring": 6, "grid": 6}, "overrides": TINY})
    args = ["reproduce", "stabilisers", "--methods", "gan", "veegan", "--datasets", "ring", "--seeds", "2",
            "--out", str(tmp_path / "out"), "--results", str(tmp_path / "kept"), "--workers", "2", "--quiet"]
    assert main(args) == 0
    table = (tmp_path / "out" / "stabilisers.md").read_text()
    assert "| method | plain | ema | spectral_norm | r1 |" in table
    assert table.count("| gan |") == 1 and table.count("| veegan |") == 1 and "| real data | 8.0 ± 0.0" in table
    assert "(2) |" in table and "the 16 runs took" in table
    kept = tmp_path / "kept" / "ring" / "veegan" / "r1" / "seed1"
    assert {p.name for p in kept.iterdir()} >= {"config.yaml", "metrics.json", "figure.npz"}
    assert "r1_gamma: 1.0" in (kept / "config.yaml").read_text()
    assert "spectral_norm: true" in (tmp_path / "kept" / "ring" / "gan" / "spectral_norm" / "seed0" / "config.yaml").read_text()
    capsys.readouterr()
    # a second invocation from the kept files alone trains nothing and gives the same table
    assert main(args[:9] + ["--out", str(tmp_path / "elsewhere"), "--results", str(tmp_path / "kept"), "--no-train"]) == 0
    assert (tmp_path / "elsewhere" / "stabilisers.md").read_text().split("Total wall")[0] == table.split("Total wall")[0]
    # and the same figure, drawn from the kept samples: methods down, settings across
    figure = tmp_path / "elsewhere" / "stabilisers-ring.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "stabilisers-ring.png" in capsys.readouterr().err
    assert (tmp_path / "out" / "stabilisers-ring.png").is_file()
    assert main(["reproduce", "table1", "--stabilisers", "ema", "--out", str(tmp_path / "x")]) == 2
    assert "--stabilisers is an option of `reproduce stabilisers` only" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["gan", "unrolled", "veegan"])
def test_every_stabiliser_at_once_trains_on_images(name):
    """DCGAN's D with spectral norm on its convolutions, R1 on image inputs, and the average of a
    generator with batch-norm statistics: two finite steps, the average follows G."""
    options = {"unroll_steps": 2} if name == "unrolled" else {}
    config = resolve_config(method=name, overrides={
        "batch_size": 8, "model": {**SMALL_IMAGES, "spectral_norm": True}, "loss": {"r1_gamma": 10.0},
        "method_options": options})
    dataset = random_images()
    torch.manual_seed(0)
    method = build_method(name, dataset.shape, config.model, config.method_options, config.loss)
    optimizer = make_optimizer(method, config)
    average = generator_average(method, 0.5)
    assert any(isinstance(m, torch.nn.Conv2d) and hasattr(m, "parametrizations") for m in method.discriminator.modules())
    for step in range(2):
        terms = training_step(method, optimizer, dataset, 8, step)
        assert all(torch.isfinite(v) for v in terms.values())
        average.update(method.generator)
    for mine, theirs in zip(average.network.buffers(), method.generator.buffers()):
        assert torch.equal(mine, theirs)  # batch-norm statistics are copied, not averaged
    with average.in_use(method):
        assert method.sample(3, torch.Generator().manual_seed(0)).shape == (3, 3, 16, 16)


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_every_built_in_adversarial_method_adds_r1_to_ds_loss(name):
    losses = []
    for gamma in (0.0, 1.0):
        torch.manual_seed(0)
        method = build_method(name, 2, MODEL, {}, LossConfig(r1_gamma=gamma))
        make_optimizer(method, type("C", (), {"optim": veegan.config.OptimConfig(fused=False)})())  # Unrolled's look-ahead
        torch.manual_seed(1)
        losses.append(method.training_loss(torch.randn(8, 2, generator=torch.Generator().manual_seed(2)), 0)["discriminator"])
    assert method.uses_discriminator_loss and losses[1].item() > losses[0].item()


def test_r1_refuses_a_method_that_computes_ds_loss_itself(tmp_path, capsys):
    example = f"{Path(__file__).resolve().parents[1] / 'examples' / 'custom_method.py'}:CustomGan"
    assert main(["train", "--method", example, "--steps", "2", "--out", str(tmp_path / "run"),
                 "--set", "loss.r1_gamma=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not compute D's loss with Method.discriminator_loss" in err
    assert not (tmp_path / "run").exists()
