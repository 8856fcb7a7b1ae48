"""The baselines' losses on tiny fixed cases against hand computations (paper Section 4-5,
docs/protocol.md, "Baselines as the paper runs them")."""
import pytest
import torch
from torch.func import functional_call

from veegan.errors import VeeganError
from veegan.methods.pacgan import pack
from veegan.methods.unrolled import adam_step

from .gradients import assert_all_close, assert_gradient_is, stored_grads, tiny_method, train_once

@pytest.fixture(autouse=True)
def _double(float64):
    yield


def test_ali_gradients():
    method, _ = tiny_method("ali")
    G, E, D = method.generator, method.encoder, method.discriminator
    x = torch.randn(6, 2)
    torch.manual_seed(1)
    terms = train_once(method, x, 0)
    torch.manual_seed(1)
    z, eps = torch.randn(6, 3), torch.randn(6, 1)
    d_gen, d_enc = D(z, G(z, eps)), D(E(x), x)
    s = torch.sigmoid
    d_loss = -torch.log(s(d_gen)).mean() - torch.log(1 - s(d_enc)).mean()  # eq. 6
    g_loss = -torch.log(1 - s(d_gen)).mean()  # G: make (z, G(z)) look like an encoded pair
    e_loss = -torch.log(s(d_enc)).mean()  # E: make (E(x), x) look like a generated pair
    assert terms["discriminator"].item() == pytest.approx(d_loss.item(), rel=1e-10)
    assert_gradient_is(D, d_loss)
    assert_gradient_is(G, g_loss)
    assert_gradient_is(E, e_loss)


def test_veegan_dae_replaces_the_noise_autoencoder_with_the_data_autoencoder():
    method, _ = tiny_method("veegan_dae", data_loss_weight=0.7)
    G, F, D = method.generator, method.reconstructor, method.discriminator
    x = torch.randn(6, 2)
    torch.manual_seed(2)
    terms = train_once(method, x, 0)
    torch.manual_seed(2)
    z, eps = torch.randn(6, 3), torch.randn(6, 1)
    x_g = G(z, eps)
    x_rec = G(F(x), torch.randn(6, 1))  # G(F(x)) draws G's extra noise next
    z_real = F(x).detach() + torch.randn(6, 3)
    data_loss = 0.7 * ((x - x_rec) ** 2).sum(1).mean()  # lambda ||x - G(F(x))||^2
    d_gen = D(z, x_g)
    d_loss = -torch.log(torch.sigmoid(d_gen)).mean() - torch.log(1 - torch.sigmoid(D(z_real, x))).mean()
    assert set(terms) == {"discriminator", "adversarial", "data_reconstruction"}
    assert terms["data_reconstruction"].item() == pytest.approx(data_loss.item(), rel=1e-10)
    assert_gradient_is(D, d_loss)
    assert_gradient_is(F, data_loss)
    assert_gradient_is(G, d_gen.mean() + data_loss)


def test_pacgan_packs_both_sides():
    assert torch.equal(pack(torch.arange(12.0).reshape(6, 2), 3), torch.tensor([[0.0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]))
    with pytest.raises(VeeganError, match="multiple"):
        pack(torch.zeros(5, 2), 2)
    method, _ = tiny_method("pacgan", pack_size=2)
    G, D = method.generator, method.discriminator
    assert D.net[0].in_features == 4  # the discriminator sees m * D inputs
    x = torch.randn(6, 2)
    torch.manual_seed(3)
    train_once(method, x, 0)
    torch.manual_seed(3)
    x_g = G(torch.randn(6, 3), torch.randn(6, 1))
    d_gen, d_real = D(x_g.reshape(3, 4)), D(x.reshape(3, 4))
    d_loss = -torch.log(torch.sigmoid(d_gen)).mean() - torch.log(1 - torch.sigmoid(d_real)).mean()
    g_loss = -torch.log(1 - torch.sigmoid(d_gen)).mean()
    assert_gradient_is(D, d_loss)
    assert_gradient_is(G, g_loss)


def test_differentiable_adam_step_equals_torch_adam():
    torch.manual_seed(4)
    p = torch.randn(5, 3)
    opt_param = torch.nn.Parameter(p.clone())
    opt = torch.optim.Adam([opt_param], lr=0.01, betas=(0.5, 0.999))
    param, exp_avg, exp_avg_sq = p.clone(), torch.zeros_like(p), torch.zeros_like(p)
    for step in range(1, 4):
        g = torch.randn(5, 3)
        opt_param.grad = g.clone()
        opt.step()
        param, exp_avg, exp_avg_sq = adam_step(param, g, exp_avg, exp_avg_sq, step, 0.01, (0.5, 0.999), 1e-8)
    torch.testing.assert_close(param, opt_param.detach(), rtol=1e-12, atol=1e-12)


def _unrolled_grads(objective: str = "paper", **options):
    method, optimizer = tiny_method("unrolled", **options)
    method.objective = objective  # loss.objective, as build_method sets it
    x = torch.randn(8, 2, generator=torch.Generator().manual_seed(5))
    # give D's Adam some history first, as during training
    for step in range(2):
        optimizer.zero_grad()
        train_once(method, x, step)
        optimizer.step()
    optimizer.zero_grad()
    torch.manual_seed(6)
    train_once(method, x, 2)
    return method, stored_grads(method.generator), stored_grads(method.discriminator)


def _plain_gan_grads(method):
    """A plain GAN's terms and gradients at ``method``'s networks, on _unrolled_grads' last batch."""
    gan, _ = tiny_method("gan")
    gan.load_state_dict(method.state_dict())
    x = torch.randn(8, 2, generator=torch.Generator().manual_seed(5))
    torch.manual_seed(6)
    terms = train_once(gan, x, 2)
    return terms, stored_grads(gan.generator), stored_grads(gan.discriminator)


def test_unrolled_with_zero_steps_is_the_plain_gan():
    method, g_unrolled, d_unrolled = _unrolled_grads(unroll_steps=0)
    _, g_gan, d_gan = _plain_gan_grads(method)
    assert_all_close(g_unrolled, g_gan)
    assert_all_close(d_unrolled, d_gan)


@pytest.mark.parametrize("first_order", [False, True])
def test_unrolled_discriminator_step_is_the_plain_gans(first_order):
    """D's own update is a plain GAN's: its gradient and its reported loss must be a plain GAN's
    D gradient and loss (eq. 6) at the same parameters, whatever the look-ahead does."""
    method, _, d_unrolled = _unrolled_grads(unroll_steps=3, first_order=first_order)
    terms, _, d_gan = _plain_gan_grads(method)
    assert_all_close(d_unrolled, d_gan)
    x = torch.randn(8, 2, generator=torch.Generator().manual_seed(5))
    torch.manual_seed(6)
    reported = method.training_loss(x, 2)["discriminator"]
    torch.testing.assert_close(reported, terms["discriminator"])


def test_unrolled_second_order_differs_from_first_order_and_from_gan():
    _, second, _ = _unrolled_grads(unroll_steps=5)
    _, first, _ = _unrolled_grads(unroll_steps=5, first_order=True)
    _, plain, _ = _unrolled_grads(unroll_steps=0)
    assert any(not torch.allclose(a, b, rtol=1e-6, atol=1e-9) for a, b in zip(second, first))
    assert any(not torch.allclose(a, b, rtol=1e-6, atol=1e-9) for a, b in zip(first, plain))


@pytest.fixture(params=[True, False], ids=["written-out", "autograd"])
def look_ahead_route(request):
    """Both look-ahead gradients: veegan.backend's written-out one and autograd's reference."""
    from veegan import backend

    backend.set_cpu_routes(request.param)
    yield request.param
    backend.set_cpu_routes(True)


def test_unrolled_second_order_gradient_matches_finite_differences(look_ahead_route):
    """The generator's gradient really flows through the k unrolled updates: compare one
    generator parameter's analytic gradient with a central finite difference of the loss."""
    method, optimizer = tiny_method("unrolled", unroll_steps=3)
    x = torch.randn(8, 2, generator=torch.Generator().manual_seed(7))
    z, eps = torch.randn(8, 3), torch.randn(8, 1)
    D = method.discriminator

    def g_loss():
        x_g = method.generator(z, eps)
        params = method.look_ahead(x_g, x)
        return method.generator_loss(functional_call(D, params, (x_g,)))

    weight = method.generator.net.rest[-1][-1].weight
    (grad,) = torch.autograd.grad(g_loss(), [weight])
    h = 1e-6
    with torch.no_grad():
        weight[0, 0] += h
    up = g_loss().item()
    with torch.no_grad():
        weight[0, 0] -= 2 * h
    down = g_loss().item()
    assert grad[0, 0].item() == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-9)


def test_one_lookahead_step_is_the_discriminators_real_adam_step(look_ahead_route):
    """The look-ahead continues D's own Adam (moments, step count, learning rate): one unrolled
    step must land exactly where optimizer.step() on D's loss takes D."""
    method, optimizer = tiny_method("unrolled", unroll_steps=1)
    x = torch.randn(8, 2, generator=torch.Generator().manual_seed(8))
    for step in range(3):  # some Adam history
        optimizer.zero_grad()
        train_once(method, x, step)
        optimizer.step()
    x_g = method.generator(torch.randn(8, 3), torch.randn(8, 1)).detach()
    lookahead = method.look_ahead(x_g, x)
    optimizer.zero_grad()
    D = method.discriminator
    loss = -torch.log(torch.sigmoid(D(x_g))).mean() - torch.log(1 - torch.sigmoid(D(x))).mean()
    loss.backward()
    optimizer.step()  # only D has gradients, so only D moves
    for name, p in D.named_parameters():
        torch.testing.assert_close(lookahead[name], p.detach(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dim", [3, 70])  # D sees both batches stacked (low dimension) or apart
@pytest.mark.parametrize("hidden", [(6,), (6, 5)])
@pytest.mark.parametrize("objective", ["paper", "rpgan"])
def test_written_out_discriminator_gradient_equals_autograd(dim, hidden, objective, float64):
    """Unrolled GAN's hand-written gradient of eq. (6) (or RpGAN's loss), for one and two hidden
    layers, equals autograd's, and so does its derivative with respect to the generated batch."""
    from veegan.backend.lookahead import mlp_discriminator_gradient
    from veegan.methods.losses import logistic_discriminator_loss, rpgan_discriminator_loss
    from veegan.nets.mlp import Discriminator

    torch.manual_seed(0)
    discriminator = Discriminator(dim, hidden)
    params = list(discriminator.parameters())
    x_generated, x_real = torch.randn(7, dim, requires_grad=True), torch.randn(9 if objective == "paper" else 7, dim)
    d_loss = rpgan_discriminator_loss if objective == "rpgan" else logistic_discriminator_loss
    loss = d_loss(discriminator(x_generated), discriminator(x_real))
    expected = torch.autograd.grad(loss, params, create_graph=True)
    written = mlp_discriminator_gradient(list(zip(params[0::2], params[1::2])), x_generated, x_real, objective)
    for a, b in zip(written, expected):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    # a direction: d <probe, grad> / d (x_generated, D's parameters), which the look-ahead needs
    probe = [torch.randn_like(p) for p in params]
    via_written = torch.autograd.grad(sum((g * v).sum() for g, v in zip(written, probe)), [x_generated, *params])
    via_autograd = torch.autograd.grad(sum((g * v).sum() for g, v in zip(expected, probe)), [x_generated, *params])
    for a, b in zip(via_written, via_autograd):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("objective", ["paper", "rpgan"])
@pytest.mark.parametrize("first_order", [False, True])
def test_written_out_look_ahead_trains_as_the_autograd_reference(first_order, objective):
    """Unrolled GAN's fast path (veegan.backend.lookahead) against its readable reference
    (autograd's double backward): the same gradients for G and D after the same steps."""
    from veegan import backend

    grads = {}
    for routes in (True, False):
        backend.set_cpu_routes(routes)
        try:
            _, g, d = _unrolled_grads(unroll_steps=3, first_order=first_order, objective=objective)
        finally:
            backend.set_cpu_routes(True)
        grads[routes] = g + d
    assert_all_close(grads[True], grads[False])
