"""``loss.objective`` rpgan and ``loss.r2_gamma`` (beyond the paper: R3GAN, Huang et al. 2024):
the losses against hand computations, D's loss and each player's gradient against the formulas
written out here for a GAN, VEEGAN's and ALI's joint D, Unrolled GAN at K = 0, and R2 on each
input of a joint D; every term still trains only its networks. (The paper's objective, the default, is the
subject of test_losses.py and test_stabilisers.py, unchanged.)"""
import math

import pytest
import torch
import torch.nn.functional as tf

from veegan.config import LossConfig, ModelConfig, OptimConfig
from veegan.configure import resolve_config
from veegan.data.catalog import make_dataset
from veegan.errors import VeeganError
from veegan.methods import build_method
from veegan.methods.losses import gradient_penalty, rpgan_discriminator_loss, rpgan_player_loss
from veegan.training.trainer import make_optimizer

from .gradients import MODEL, reference_grads, stored_grads
from .test_method_contract import assert_terms_train_only_their_networks

ADVERSARIAL = ["gan", "ali", "unrolled", "veegan", "veegan_dae", "pacgan"]
RPGAN = LossConfig(objective="rpgan")


def built(name: str, loss: LossConfig, **options):
    torch.manual_seed(0)
    method = build_method(name, 2, MODEL, options, loss)
    make_optimizer(method, type("C", (), {"optim": OptimConfig(fused=False)})())  # Unrolled's look-ahead needs it
    return method


def assert_grads(module: torch.nn.Module, reference: torch.Tensor) -> None:
    for got, want in zip(stored_grads(module), reference_grads(reference, module)):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)


def test_rpgan_losses_by_hand():
    generated, real = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 1.0])
    # D (high on generated, eq. 4): softplus(real_i - generated_i); the player: softplus(generated_i - real_i)
    d = (math.log1p(math.exp(0.5 - 2.0)) + math.log1p(math.exp(1.0 + 1.0))) / 2
    g = (math.log1p(math.exp(2.0 - 0.5)) + math.log1p(math.exp(-1.0 - 1.0))) / 2
    assert rpgan_discriminator_loss(generated, real).item() == pytest.approx(d, rel=1e-6)
    assert rpgan_player_loss(generated, real).item() == pytest.approx(g, rel=1e-6)
    # equal logits everywhere: log 2 for both, as for the logistic loss's each term
    assert rpgan_discriminator_loss(torch.zeros(4), torch.zeros(4)).item() == pytest.approx(math.log(2))


def test_gradient_penalty_of_a_linear_d_is_gamma_over_2_times_its_weight_norm():
    w = torch.tensor([3.0, -4.0])
    x = torch.randn(6, 2, requires_grad=True)
    assert gradient_penalty(x @ w + 1.0, (x,), (0.5,)).item() == pytest.approx(0.25 * 25.0)


def test_rpgan_on_a_gan_with_r1_and_r2_is_the_formula_by_hand(float64):
    gamma_1, gamma_2 = 3.0, 2.0
    method = built("gan", LossConfig(objective="rpgan", r1_gamma=gamma_1, r2_gamma=gamma_2))
    G, D = method.generator, method.discriminator
    x = torch.randn(8, 2)
    torch.manual_seed(1)
    terms = method.training_loss(x, 0)
    torch.manual_seed(1)
    x_g = G(torch.randn(8, 3), torch.randn(8, 1))
    x_in, g_in = x.clone().requires_grad_(), x_g.detach().requires_grad_()
    (grad_real,) = torch.autograd.grad(D(x_in).sum(), x_in, create_graph=True)
    (grad_generated,) = torch.autograd.grad(D(g_in).sum(), g_in, create_graph=True)
    d_by_hand = (tf.softplus(D(x) - D(x_g.detach())).mean() + gamma_1 / 2 * grad_real.square().sum(1).mean()
                 + gamma_2 / 2 * grad_generated.square().sum(1).mean())
    assert terms["discriminator"].item() == pytest.approx(d_by_hand.item(), rel=1e-12)
    g_by_hand = tf.softplus(D(x_g) - D(x).detach()).mean()
    assert terms["generator"].item() == pytest.approx(g_by_hand.item(), rel=1e-12)
    sum(terms.values()).backward()
    assert_grads(D, d_by_hand)
    assert_grads(G, g_by_hand)


def test_rpgan_on_veegan_pairs_z_g_with_z_and_leaves_the_autoencoder_term(float64):
    method = built("veegan", RPGAN, real_pair_noise_std=0.0)
    G, F, D = method.generator, method.reconstructor, method.discriminator
    x = torch.randn(8, 2)
    torch.manual_seed(1)
    terms = method.training_loss(x, 0)
    torch.manual_seed(1)
    z = torch.randn(8, 3)
    x_g = G(z, torch.randn(8, 1))
    z_real = F(x).detach()
    d_by_hand = tf.softplus(D(z_real, x) - D(z, x_g.detach())).mean()
    g_by_hand = tf.softplus(D(z, x_g) - D(z_real, x).detach()).mean() + 0.5 * (z - F(x_g)).square().sum(1).mean()
    assert terms["discriminator"].item() == pytest.approx(d_by_hand.item(), rel=1e-12)
    sum(terms.values()).backward()
    assert_grads(D, d_by_hand)
    assert_grads(G, g_by_hand)
    assert_grads(F, 0.5 * (z - F(x_g.detach())).square().sum(1).mean())  # Algorithm 1, line 9: unchanged


def test_rpgan_on_ali_trains_the_encoder_through_the_real_side_of_the_pair(float64):
    method = built("ali", RPGAN)
    G, E, D = method.generator, method.encoder, method.discriminator
    x = torch.randn(8, 2)
    torch.manual_seed(1)
    sum(method.training_loss(x, 0).values()).backward()
    torch.manual_seed(1)
    z = torch.randn(8, 3)
    x_g = G(z, torch.randn(8, 1))
    assert_grads(E, tf.softplus(D(z, x_g).detach() - D(E(x), x)).mean())
    assert_grads(G, tf.softplus(D(z, x_g) - D(E(x), x).detach()).mean())


def test_unrolled_with_no_look_ahead_steps_is_the_rpgan_gan(float64):
    x = torch.randn(8, 2)
    grads = []
    for name, options in (("gan", {}), ("unrolled", {"unroll_steps": 0})):
        method = built(name, RPGAN, **options)
        torch.manual_seed(1)
        sum(method.training_loss(x, 0).values()).backward()
        grads.append(stored_grads(method))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_rpgan_unrolled_differentiates_through_the_look_ahead(float64):
    """With K = 2 the generator's gradient differs from K = 0's: it goes through D's steps."""
    x = torch.randn(8, 2)
    grads = []
    for steps in (0, 2):
        method = built("unrolled", RPGAN, unroll_steps=steps)
        torch.manual_seed(1)
        method.training_loss(x, 0)["generator"].backward()
        grads.append(torch.cat([g.flatten() for g in stored_grads(method.generator)]))
    assert not torch.allclose(grads[0], grads[1])


def test_r2_on_a_joint_discriminator_penalises_both_halves_of_the_generated_pair(float64):
    method = built("veegan", LossConfig(r2_gamma=2.0))  # gamma / 2 = 1
    G, D = method.generator, method.discriminator
    x = torch.randn(8, 2)
    torch.manual_seed(1)
    with_r2 = method.training_loss(x, 0)["discriminator"]
    torch.manual_seed(1)
    z = torch.randn(8, 3)
    z_in, g_in = z.clone().requires_grad_(), G(z, torch.randn(8, 1)).detach().requires_grad_()
    grad_z, grad_x = torch.autograd.grad(D(z_in, g_in).sum(), (z_in, g_in))
    method.r2_gamma = 0.0
    torch.manual_seed(1)
    without = method.training_loss(x, 0)["discriminator"]
    penalty = (grad_z.square().sum(1) + grad_x.square().sum(1)).mean()
    assert (with_r2 - without).item() == pytest.approx(penalty.item(), rel=1e-10)
    assert grad_z.abs().sum() > 0 and grad_x.abs().sum() > 0


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_under_rpgan_with_r1_and_r2_each_term_still_trains_only_its_networks(name, tiny):
    config = resolve_config(method=name, dataset="ring", overrides={
        **tiny, "loss": {"objective": "rpgan", "r1_gamma": 1.0, "r2_gamma": 1.0},
        "method_options": {"reconstructor_adversarial_weight": 1.0} if name == "veegan" else {}})
    torch.manual_seed(0)
    method = build_method(config.method, 2, config.model, config.method_options, config.loss)
    make_optimizer(method, config)
    assert method.objective == "rpgan" and method.r2_gamma == 1.0
    assert_terms_train_only_their_networks(method, make_dataset("ring").sample(config.batch_size))


@pytest.mark.parametrize("name", ["vae", "vae_flow_prior"])
def test_the_objective_and_r2_refuse_a_method_without_a_discriminator(name):
    for loss, what in ((RPGAN, "loss.objective rpgan"), (LossConfig(r2_gamma=1.0), "loss.r2_gamma")):
        with pytest.raises(VeeganError, match=f"{what} acts on a discriminator"):
            build_method(name, 2, ModelConfig(), {}, loss)


def test_an_unknown_objective_is_one_line_with_the_choices():
    with pytest.raises(VeeganError, match="loss.objective must be one of paper, rpgan, not 'wgan'"):
        resolve_config(method="gan", overrides={"loss": {"objective": "wgan"}})


def test_lazy_regularisation_penalises_every_kth_step_k_times_as_strongly(float64):
    x = torch.randn(8, 2)

    def d_loss(loss: LossConfig, step: int) -> float:
        method = built("veegan", loss)
        torch.manual_seed(1)
        return method(x, step)["discriminator"].item()  # calling the module, as the trainer does, sets the step

    lazy = LossConfig(objective="rpgan", r1_gamma=1.0, r2_gamma=0.5, penalty_every=4)
    eager_x4 = LossConfig(objective="rpgan", r1_gamma=4.0, r2_gamma=2.0)
    unpenalised = LossConfig(objective="rpgan")
    for step in (0, 8):
        assert d_loss(lazy, step) == pytest.approx(d_loss(eager_x4, step), rel=1e-12)
    for step in (1, 3, 9):
        assert d_loss(lazy, step) == pytest.approx(d_loss(unpenalised, step), rel=1e-12)
    assert d_loss(lazy, 0) != pytest.approx(d_loss(unpenalised, 0), rel=1e-6)
