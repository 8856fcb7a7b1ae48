"""The VAE and the flow-prior VAE: their loss terms against hand computations, the single backward
pass against the ELBO computed on its own, and the flow's log-determinant against autograd."""
import math

import numpy as np
import pytest
import torch

import veegan
from veegan.methods.vae import gaussian_nll, kl_to_standard_normal
from veegan.nets.flow import AffineCoupling, FlowPrior, standard_normal_log_prob

from .gradients import assert_gradient_is, tiny_method, train_once


def test_gaussian_nll_by_hand():
    x = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    mean = torch.tensor([[0.0, 0.0], [0.0, 2.0]])
    log_std = torch.tensor(math.log(2.0))
    # per row: 0.5 * ||(x - mean) / 2||^2 + 2 log 2 + log 2 pi; the squares are 5/4 and 4/4
    by_hand = (0.5 * 1.25 + 0.5 * 1.0) / 2 + 2 * math.log(2) + math.log(2 * math.pi)
    assert gaussian_nll(x, mean, log_std).item() == pytest.approx(by_hand, rel=1e-6)
    # and it is -log N summed over dimensions, as torch.distributions computes it
    reference = -torch.distributions.Normal(mean, 2.0).log_prob(x).sum(1).mean()
    assert gaussian_nll(x, mean, log_std).item() == pytest.approx(reference.item(), rel=1e-6)


def test_kl_to_standard_normal_by_hand():
    mean = torch.tensor([[1.0, 0.0]])
    log_var = torch.tensor([[0.0, math.log(4.0)]])
    # 0.5 * [(1 + 1 - 1 - 0) + (0 + 4 - 1 - log 4)]
    assert kl_to_standard_normal(mean, log_var).item() == pytest.approx(0.5 * (1 + 3 - math.log(4)), rel=1e-6)
    q = torch.distributions.Normal(mean, (0.5 * log_var).exp())
    reference = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(1).mean()
    assert kl_to_standard_normal(mean, log_var).item() == pytest.approx(reference.item(), rel=1e-6)


@pytest.mark.parametrize("optimal", [True, False], ids=["optimal-sigma", "learned-sigma"])
def test_vae_single_backward_is_the_negative_elbo(float64, optimal):
    method, _ = tiny_method("vae", optimal_observation_std=optimal)
    G, E, sigma = method.generator, method.encoder, method.observation
    x = torch.randn(6, 2)
    start = sigma.log_std.item()
    torch.manual_seed(1)
    terms = train_once(method, x, step=0)

    # the same draws in the same order: the reparameterisation noise, then G's extra noise input
    torch.manual_seed(1)
    e, eps = torch.randn(6, 3), torch.randn(6, 1)
    mean, raw_log_var = E.distribution(x)
    log_var = 10 * torch.tanh(raw_log_var / 10)  # the default bound, log_var_bound = 10
    z = mean + (0.5 * log_var).exp() * e
    decoded = G(z, eps)
    if optimal:  # sigma: the root-mean-square residual, a constant in the gradient
        std = (x - decoded).square().mean().sqrt().detach()
        assert sigma.log_std.item() == pytest.approx(std.log().item(), rel=1e-10) and start != sigma.log_std.item()
    else:
        std = sigma.log_std.exp()
    log_px = torch.distributions.Normal(decoded, std).log_prob(x).sum(1)
    kl = torch.distributions.kl_divergence(torch.distributions.Normal(mean, (0.5 * log_var).exp()),
                                           torch.distributions.Normal(0.0, 1.0)).sum(1)
    negative_elbo = -(log_px - kl).mean()

    assert (terms["reconstruction"] + terms["kl"]).item() == pytest.approx(negative_elbo.item(), rel=1e-10)
    assert terms["kl"].item() == pytest.approx(kl.mean().item(), rel=1e-10)
    for network in (G, E) if optimal else (G, E, sigma):
        assert_gradient_is(network, negative_elbo)
    if optimal:
        assert sigma.log_std.grad is None


def test_the_optimal_sigma_maximises_the_likelihood(float64):
    """d(-log p(x | z)) / d log sigma = D - ||x - G(z)||^2 / sigma^2 (per row, averaged) vanishes
    at the root-mean-square residual: it is the maximum-likelihood sigma, whatever the data's scale."""
    method, _ = tiny_method("vae")
    for scale in (1e-2, 1.0, 1e3):
        x, decoded = scale * torch.randn(50, 2), scale * torch.randn(50, 2)
        method.set_optimal_observation_std(x, decoded)
        log_std = method.observation.log_std.detach().clone().requires_grad_()
        (slope,) = torch.autograd.grad(gaussian_nll(x, decoded, log_std), log_std)
        assert abs(slope.item()) < 1e-9
        assert log_std.item() == pytest.approx(math.log(scale), abs=0.5)


def test_the_log_variance_bound_bounds_and_zero_turns_it_off(float64):
    x = 100 * torch.randn(8, 2)
    method, _ = tiny_method("vae", log_var_bound=0)
    raw = method.encoder.distribution(x)
    torch.testing.assert_close(method.posterior(x), raw)  # 0: the encoder's output untouched
    bounded, _ = tiny_method("vae", log_var_bound=0.05)  # the same seeded networks
    mean, log_var = bounded.posterior(x)
    torch.testing.assert_close(mean, raw[0])
    torch.testing.assert_close(log_var, 0.05 * torch.tanh(raw[1] / 0.05))
    assert log_var.abs().max() <= 0.05 < raw[1].abs().max()


def test_a_fixed_observation_std_is_not_trained(float64):
    method, optimizer = tiny_method("vae", optimal_observation_std=False, learn_observation_std=False,
                                    observation_std=0.5)
    assert "observation" not in [g["name"] for g in optimizer.param_groups]
    train_once(method, torch.randn(6, 2), step=0)
    assert method.observation.log_std.grad is None
    assert method.observation.log_std.item() == pytest.approx(math.log(0.5))


def test_the_flow_log_determinant_is_autograds_jacobian(float64):
    torch.manual_seed(0)
    flow = FlowPrior(dim=4, layers=3, hidden=8)
    for p in flow.parameters():  # away from the near-identity start, so the test has teeth
        p.data.normal_(0, 0.5)
    u = torch.randn(5, 4)
    z, log_det = flow(u)
    for row in range(5):
        jacobian = torch.autograd.functional.jacobian(lambda v: flow(v[None])[0][0], u[row])
        assert log_det[row].item() == pytest.approx(torch.linalg.slogdet(jacobian)[1].item(), rel=1e-9)
    # the inverse undoes the forward map, and log p(z) is the change of variables from N(0, I)
    coupling = flow.layers[0]
    back, inverse_log_det = coupling.inverse(coupling(u)[0])
    torch.testing.assert_close(back, u, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(flow.log_prob(z), standard_normal_log_prob(u) - log_det, rtol=1e-10, atol=1e-10)


def test_every_coordinate_is_transformed_by_some_layer():
    flow = FlowPrior(dim=5, layers=2, hidden=4)
    first, second = flow.layers
    assert isinstance(first, AffineCoupling)
    assert first.kept.tolist() == [0, 2, 4] and first.free.tolist() == [1, 3]
    assert second.free.tolist() == [0, 2, 4] and second.kept.tolist() == [1, 3]


def test_flow_prior_kl_is_the_closed_form_kl_when_the_flow_is_the_identity(float64):
    method, _ = tiny_method("vae_flow_prior")
    for p in method.prior.parameters():  # s = t = 0: p(z) = N(0, I)
        p.data.zero_()
    x = torch.randn(20_000, 2)
    mean, log_var = method.encoder.distribution(x)
    z = mean + (0.5 * log_var).exp() * torch.randn_like(mean)
    # -H(q) - E_q log N(z) estimates KL(q || N(0, I)) without bias
    estimate = method.kl_term(z, mean, log_var)
    exact = kl_to_standard_normal(mean, log_var)
    per_row = -(0.5 * (1 + math.log(2 * math.pi) + log_var).sum(1) + standard_normal_log_prob(z))
    assert estimate.item() == pytest.approx(per_row.mean().item(), rel=1e-12)
    assert abs(estimate.item() - exact.item()) < 4 * per_row.std().item() / math.sqrt(len(x))
    assert method.kl_term(z, mean, log_var).item() != exact.item()  # one sample, not the closed form


def test_flow_prior_samples_come_from_the_flow(float64):
    method, _ = tiny_method("vae_flow_prior")
    g = torch.Generator().manual_seed(0)
    u = torch.randn(7, 3, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(method.sample_latent(7, g), method.prior(u)[0])


@pytest.mark.parametrize("name", ["vae", "vae_flow_prior"])
def test_vae_trains_samples_and_encodes(name, tiny, tmp_path):
    run = veegan.train(name, "ring", out=tmp_path / "run", steps=20, overrides=tiny, progress=False)
    assert run.sample(30, seed=0).shape == (30, 2)
    z = run.encode(np.zeros((4, 2), dtype=np.float32))
    assert z.shape == (4, 3)  # the encoder's mean, K wide
    np.testing.assert_allclose(z, run.method.encoder.distribution(torch.zeros(4, 2))[0].detach().numpy())


def test_vae_observation_noise_in_samples_is_an_option(tiny, tmp_path):
    run = veegan.train("vae", "ring", out=tmp_path / "run", steps=5, overrides=tiny, progress=False)
    noisy = veegan.train("vae", "ring", out=tmp_path / "noisy", steps=5, overrides={
        **tiny, "method_options": {"sample_observation_noise": True}}, progress=False)
    mean = run.sample(2000, seed=0)
    spread = noisy.sample(2000, seed=0) - mean  # same networks (same seed), the same z
    sigma = run.method.observation.log_std.exp().item()
    assert spread.std() == pytest.approx(sigma, rel=0.05)
