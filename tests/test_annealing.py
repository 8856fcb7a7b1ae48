"""Annealing the learning rates and the penalties' gammas over a run (optim.final_lr_fraction,
loss.final_gamma_fraction; veegan.training.annealing): the cosine by hand, what it sets, that a
scaled gamma is exactly a smaller gamma, and that a cut run resumes on the same curve."""
import pytest
import torch

from veegan.config import LossConfig
from veegan.configure import resolve_config
from veegan.errors import VeeganError
from veegan.training import checkpoint
from veegan.training.annealing import Annealing, cosine_fraction
from veegan.training.trainer import make_optimizer, train

from .test_objectives import built

ANNEALED = {"optim": {"final_lr_fraction": 0.25}, "loss": {"r1_gamma": 1.0, "r2_gamma": 1.0, "objective": "rpgan",
                                                          "final_gamma_fraction": 0.1}}


def test_the_cosine_by_hand():
    assert cosine_fraction(0, 100, 0.25) == 1.0
    assert cosine_fraction(50, 100, 0.25) == pytest.approx(0.625)  # halfway: the mean of the ends
    assert cosine_fraction(25, 100, 0.0) == pytest.approx((1 + 2 ** -0.5) / 2)
    assert cosine_fraction(100, 100, 0.1) == pytest.approx(0.1)
    assert cosine_fraction(150, 100, 0.1) == pytest.approx(0.1)  # past the last step: stays at the end
    assert cosine_fraction(7, 100, 1.0) == 1.0


def test_annealing_sets_every_networks_rate_and_the_gammas_fraction():
    config = resolve_config(method="veegan", dataset="ring", overrides={**ANNEALED, "steps": 100,
                                                                         "optim": {"final_lr_fraction": 0.25, "lr_discriminator": 2e-3}})
    method = built("veegan", config.loss)
    optimizer = make_optimizer(method, config)
    annealing = Annealing(method, optimizer, config)
    annealing(50)
    rates = {group["name"]: group["lr"] for group in optimizer.param_groups}
    assert rates == pytest.approx({"generator": 0.625e-3, "reconstructor": 0.625e-3, "discriminator": 1.25e-3})
    assert method.penalty_scale == pytest.approx(0.55)
    annealing(0)  # the configured values again, not a product of earlier calls
    assert [group["lr"] for group in optimizer.param_groups] == [1e-3, 1e-3, 2e-3]
    assert method.penalty_scale == 1.0
    assert Annealing.wanted(config) and not Annealing.wanted(resolve_config(method="veegan", dataset="ring"))


def test_a_penalty_scale_is_exactly_the_scaled_gammas(float64):
    x = torch.randn(8, 2)

    def d_loss(loss: LossConfig, scale: float) -> float:
        method = built("veegan", loss)
        method.penalty_scale = scale
        torch.manual_seed(1)
        return method(x, 0)["discriminator"].item()

    scaled = d_loss(LossConfig(objective="rpgan", r1_gamma=1.0, r2_gamma=0.5), 0.3)
    assert scaled == pytest.approx(d_loss(LossConfig(objective="rpgan", r1_gamma=0.3, r2_gamma=0.15), 1.0), rel=1e-12)
    assert scaled != pytest.approx(d_loss(LossConfig(objective="rpgan", r1_gamma=1.0, r2_gamma=0.5), 1.0), rel=1e-6)


def test_a_trained_run_ends_at_the_final_rates_and_a_cut_one_resumes_on_the_same_curve(tiny, tmp_path):
    config = resolve_config(method="gan", dataset="ring", steps=20, overrides={**tiny, **ANNEALED})
    train(config, tmp_path / "whole", progress=False)
    whole = checkpoint.load(tmp_path / "whole" / checkpoint.CHECKPOINT_NAME)
    assert [group["lr"] for group in whole["optimizer"]["param_groups"]] == pytest.approx([0.25e-3, 0.25e-3])

    def cut(step: int) -> None:
        if step == 13:
            raise RuntimeError("cut")  # the checkpoint of step 10 stays

    with pytest.raises(RuntimeError, match="cut"):
        train(config, tmp_path / "cut", progress=False, hooks=[cut])
    trained = []
    train(config, tmp_path / "cut", resume=True, progress=False, hooks=[trained.append])
    assert trained == list(range(11, 21))  # from the checkpoint of step 10, not from step 0
    resumed = checkpoint.load(tmp_path / "cut" / checkpoint.CHECKPOINT_NAME)
    for key, value in whole["method"].items():
        assert torch.equal(value, resumed["method"][key]), key
    plain = {**tiny, "loss": {k: v for k, v in ANNEALED["loss"].items() if k != "final_gamma_fraction"}}
    train(resolve_config(method="gan", dataset="ring", steps=20, overrides=plain), tmp_path / "plain", progress=False)
    constant = checkpoint.load(tmp_path / "plain" / checkpoint.CHECKPOINT_NAME)
    assert any(not torch.equal(value, constant["method"][key]) for key, value in whole["method"].items())


@pytest.mark.parametrize("key", ["optim.final_lr_fraction", "loss.final_gamma_fraction"])
def test_a_fraction_outside_0_1_is_one_line(key):
    section, name = key.split(".")
    with pytest.raises(VeeganError, match=f"{key} must be in \\[0, 1\\]"):
        resolve_config(method="gan", overrides={section: {name: 1.5}})
