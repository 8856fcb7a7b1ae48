"""The loss terms against hand computations, and the single-backward training step against
Algorithm 1's three gradients computed separately from the paper's formulas."""
import math

import pytest
import torch

from veegan.errors import VeeganError
from veegan.methods.losses import (
    adversarial_generator_term,
    gaussian_nll_reconstruction,
    logistic_discriminator_loss,
    minimax_generator_loss,
    mse_reconstruction,
    non_saturating_generator_loss,
)

from .gradients import assert_gradient_is, reference_grads, stored_grads, tiny_method, train_once
from .test_method_contract import assert_terms_train_only_their_networks


def test_logistic_discriminator_loss_is_eq6():
    # -log sigma(2) - log(1 - sigma(-1)), averaged over one pair each
    expected = -math.log(1 / (1 + math.exp(-2))) - math.log(1 - 1 / (1 + math.exp(1)))
    got = logistic_discriminator_loss(torch.tensor([2.0]), torch.tensor([-1.0]))
    assert got.item() == pytest.approx(expected, rel=1e-6)
    # at D = 0 everywhere both terms are log 2
    assert logistic_discriminator_loss(torch.zeros(5), torch.zeros(7)).item() == pytest.approx(2 * math.log(2))


def test_generator_terms():
    logits = torch.tensor([1.0, -3.0])
    assert adversarial_generator_term(logits).item() == pytest.approx(-1.0)  # eq. 5: the raw mean logit
    sig = [1 / (1 + math.exp(-v)) for v in (1.0, -3.0)]
    assert minimax_generator_loss(logits).item() == pytest.approx(sum(math.log(s) for s in sig) / 2, rel=1e-6)
    assert non_saturating_generator_loss(logits).item() == pytest.approx(-sum(math.log(1 - s) for s in sig) / 2, rel=1e-6)


def test_reconstruction_losses():
    z = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    z_hat = torch.tensor([[0.0, 0.0], [3.0, 0.0]])
    # 0.5 * sum of squares per sample, averaged over the batch: (0.5 * 5 + 0.5 * 9) / 2
    assert gaussian_nll_reconstruction(z, z_hat).item() == pytest.approx(3.5)
    # mean over all four entries: (1 + 4 + 9 + 0) / 4
    assert mse_reconstruction(z, z_hat).item() == pytest.approx(3.5)
    z3 = torch.tensor([[1.0, 1.0, 1.0]])
    assert gaussian_nll_reconstruction(z3, torch.zeros(1, 3)).item() == pytest.approx(1.5)
    assert mse_reconstruction(z3, torch.zeros(1, 3)).item() == pytest.approx(1.0)


@pytest.mark.parametrize("noise_std", [1.0, 0.0])
def test_veegan_single_backward_equals_algorithm1(noise_std, float64):
    method, _ = tiny_method("veegan", real_pair_noise_std=noise_std)
    G, F, D = method.generator, method.reconstructor, method.discriminator
    x = torch.randn(6, 2)
    torch.manual_seed(1)
    terms = train_once(method, x, step=0)

    # The same random draws, in the order training_loss makes them: z, G's extra noise, the real-pair noise.
    torch.manual_seed(1)
    z = torch.randn(6, 3)
    eps = torch.randn(6, 1)
    x_g = G(z, eps)
    z_g = F(x).detach() + noise_std * torch.randn(6, 3) if noise_std else F(x).detach()
    d_gen = D(z, x_g)
    d_real = D(z_g, x)
    sigma = torch.sigmoid
    o_lr = -(torch.log(sigma(d_gen))).mean() - torch.log(1 - sigma(d_real)).mean()  # eq. 6
    d = 0.5 * ((z - F(x_g)) ** 2).sum(1).mean()  # d(z, F(G(z))), authors' Gaussian form
    o_hat = d_gen.mean() + d  # eq. 5

    assert terms["discriminator"].item() == pytest.approx(o_lr.item(), rel=1e-10)
    assert terms["reconstruction"].item() == pytest.approx(d.item(), rel=1e-10)
    assert terms["adversarial"].item() == pytest.approx(d_gen.mean().item(), rel=1e-10)
    # line 7: omega's gradient is that of O_LR alone
    assert_gradient_is(D, o_lr)
    # line 9: theta's gradient is that of d alone; the adversarial term gives F nothing
    assert_gradient_is(F, d)
    # line 11: gamma's gradient is that of O_hat = mean D(z, G(z)) + d
    assert_gradient_is(G, o_hat)
    # and the adversarial term does reach G: without it the gradient would differ
    assert any(not torch.allclose(a, b) for a, b in zip(stored_grads(G), reference_grads(d, G)))


def test_veegan_reconstructor_pretraining_trains_only_F(float64):
    method, _ = tiny_method("veegan", reconstructor_pretrain_steps=3)
    x = torch.randn(6, 2)
    terms = train_once(method, x, step=2)
    after_pretraining = method.training_loss(x, step=3)  # no backward: grads unchanged

    assert set(terms) == {"reconstruction"}
    assert set(after_pretraining) == {"discriminator", "adversarial", "reconstruction"}
    assert all(p.grad is None for p in method.generator.parameters())
    assert all(p.grad is None for p in method.discriminator.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in method.reconstructor.parameters())


@pytest.mark.parametrize("generator_loss", ["non_saturating", "minimax"])
def test_gan_single_backward_equals_separate_losses(generator_loss, float64):
    method, _ = tiny_method("gan", generator_loss=generator_loss)
    G, D = method.generator, method.discriminator
    x = torch.randn(6, 2)
    torch.manual_seed(3)
    train_once(method, x, step=0)
    torch.manual_seed(3)
    z, eps = torch.randn(6, 3), torch.randn(6, 1)
    d_gen = D(G(z, eps))
    d_real = D(x)
    s = torch.sigmoid(d_gen)
    d_loss = -torch.log(s).mean() - torch.log(1 - torch.sigmoid(d_real)).mean()
    g_loss = torch.log(s).mean() if generator_loss == "minimax" else -torch.log(1 - s).mean()

    assert_gradient_is(D, d_loss)
    assert_gradient_is(G, g_loss)


def test_the_reconstructor_adversarial_term_trains_f_alone_on_the_real_pairs(float64):
    """reconstructor_adversarial_weight w (beyond the paper): F's gradient gains that of
    -w * mean D(F(x) + n, x) through a frozen D; D's and G's gradients are Algorithm 1's."""
    plain, _ = tiny_method("veegan")
    method, _ = tiny_method("veegan", reconstructor_adversarial_weight=0.5)  # the same seeded networks
    G, F, D = method.generator, method.reconstructor, method.discriminator
    x = torch.randn(6, 2)
    torch.manual_seed(1)
    reference = train_once(plain, x, step=0)
    torch.manual_seed(1)
    terms = train_once(method, x, step=0)
    assert set(terms) == {*reference, "reconstructor_adversarial"} and set(method.trains) == set(terms)
    assert "reconstructor_adversarial" not in plain.trains

    torch.manual_seed(1)
    z, eps = torch.randn(6, 3), torch.randn(6, 1)
    z_g = F(x) + torch.randn(6, 3)  # the real pair's z, now with its graph
    pull = -0.5 * D(z_g, x).mean()
    d = 0.5 * ((z - F(G(z, eps))) ** 2).sum(1).mean()
    assert terms["reconstructor_adversarial"].item() == pytest.approx(pull.item(), rel=1e-10)
    assert_gradient_is(F, d + pull)
    for mine, theirs in ((G, plain.generator), (D, plain.discriminator)):  # untouched
        for a, b in zip(stored_grads(mine), stored_grads(theirs)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert_terms_train_only_their_networks(method, x)
    with pytest.raises(VeeganError, match="reconstructor_adversarial_weight"):
        tiny_method("veegan", reconstructor_adversarial_weight=-1)
