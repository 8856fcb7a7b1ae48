"""Every method's training step as one ``jax.jit`` function: the same networks (sizes and
ReLU MLPs), losses, simultaneous Adam update and in-step data sampling as the project's step,
compiled whole by XLA. It serves ``benchmarks/steps.py`` as the practical speed limit of this
CPU for these sizes; only its speed is used, never its results.

JAX is an optional dependency (``pip install -e .[bench]``). Import this module after setting
``XLA_FLAGS`` (``steps.py`` does) if the thread count matters.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax import lax

from veegan.config import TrainConfig
from veegan.datasets import GaussianMixture

sg = lax.stop_gradient
softplus = jax.nn.softplus
Params = Any


def init_mlp(key: jax.Array, sizes: list[int]) -> list[tuple[jax.Array, jax.Array]]:
    """nn.Linear's default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, wk, bk = jax.random.split(key, 3)
        bound = 1 / math.sqrt(fan_in)
        layers.append((jax.random.uniform(wk, (fan_in, fan_out), minval=-bound, maxval=bound),
                       jax.random.uniform(bk, (fan_out,), minval=-bound, maxval=bound)))
    return layers


def mlp(layers: list[tuple[jax.Array, jax.Array]], x: jax.Array) -> jax.Array:
    for w, b in layers[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = layers[-1]
    return x @ w + b


def logistic_discriminator_loss(fake_logits: jax.Array, real_logits: jax.Array) -> jax.Array:
    return softplus(-fake_logits).mean() + softplus(real_logits).mean()


def adam(params: Params, grads: Params, state: tuple, lr: Params, b1: float, b2: float, eps: float = 1e-8) -> tuple:
    """torch.optim.Adam's update; ``lr`` is a tree of per-leaf learning rates."""
    m, v, t = state
    t = t + 1
    m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
    v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
    params = jax.tree.map(
        lambda p, m, v, lr: p - lr * (m / (1 - b1 ** t)) / (jnp.sqrt(v / (1 - b2 ** t) + 1e-30) + eps),
        params, m, v, lr)
    return params, (m, v, t)


class JaxStep:
    """``run(n)`` takes n training steps of ``config.method`` and waits for the result."""

    def __init__(self, config: TrainConfig, dataset: GaussianMixture, seed: int = 0) -> None:
        model, options = config.model, config.method_options
        self.config, k, d, B = config, model.latent_dim, dataset.dim, config.batch_size
        noise_dim = model.generator_noise_dim
        means = jnp.asarray(dataset.means.numpy())
        basis = None if dataset.basis is None else jnp.asarray(dataset.basis.numpy())
        mode_dim, std = dataset.mode_dim, dataset.std
        method = config.method
        pack = options.get("pack_size", 1) if method == "pacgan" else 1
        keys = jax.random.split(jax.random.PRNGKey(seed), 4)
        params = {"generator": init_mlp(keys[0], [k + noise_dim, *model.generator_hidden, d])}
        if method in ("veegan", "veegan_dae", "ali"):
            params["inference"] = init_mlp(keys[1], [d, *model.reconstructor_hidden, k])
            params["discriminator"] = init_mlp(keys[2], [k + d, *model.discriminator_hidden, 1])
        else:
            params["discriminator"] = init_mlp(keys[2], [d * pack, *model.discriminator_hidden, 1])
        optim = config.optim
        rate = {"generator": optim.lr_generator, "inference": optim.lr_reconstructor, "discriminator": optim.lr_discriminator}
        lr = {name: jax.tree.map(lambda _: rate[name], tree) for name, tree in params.items()}
        b1, b2 = optim.beta1, optim.beta2

        def sample(key: jax.Array) -> jax.Array:
            kk, ke = jax.random.split(key)
            eps = std * jax.random.normal(ke, (B, mode_dim))
            return means[jax.random.randint(kk, (B,), 0, len(means))] + (eps if basis is None else eps @ basis.T)

        def G(p: Params, z: jax.Array, key: jax.Array) -> jax.Array:
            return mlp(p, jnp.concatenate([z, jax.random.normal(key, (len(z), noise_dim))], axis=1))

        def joint_D(p: Params, z: jax.Array, x: jax.Array) -> jax.Array:
            return mlp(p, jnp.concatenate([z, x], axis=1))[:, 0]

        def D(p: Params, x: jax.Array) -> jax.Array:
            return mlp(p, x.reshape(len(x) // pack, -1))[:, 0]

        def veegan_loss(p: Params, x: jax.Array, key: jax.Array, d_state: tuple) -> jax.Array:
            kz, ke, kn, ke2 = jax.random.split(key, 4)
            z = jax.random.normal(kz, (B, k))
            x_fake = G(p["generator"], z, ke)
            if method == "veegan":  # Algorithm 1: d(z, F(G(z)))
                autoencoder = 0.5 * jnp.square(z - mlp(p["inference"], x_fake)).sum(1).mean()
            else:  # VEEGAN + DAE: lambda ||x - G(F(x))||^2
                x_rec = G(p["generator"], mlp(p["inference"], x), ke2)
                autoencoder = options.get("data_loss_weight", 1.0) * jnp.square(x - x_rec).sum(1).mean()
            z_real = sg(mlp(p["inference"], x)) + options.get("real_pair_noise_std", 1.0) * jax.random.normal(kn, (B, k))
            discriminator = logistic_discriminator_loss(joint_D(p["discriminator"], z, sg(x_fake)),
                                                        joint_D(p["discriminator"], z_real, x))
            return discriminator + joint_D(sg(p["discriminator"]), z, x_fake).mean() + autoencoder

        def ali_loss(p: Params, x: jax.Array, key: jax.Array, d_state: tuple) -> jax.Array:
            kz, ke = jax.random.split(key)
            z = jax.random.normal(kz, (B, k))
            x_fake, z_enc = G(p["generator"], z, ke), mlp(p["inference"], x)
            discriminator = logistic_discriminator_loss(joint_D(p["discriminator"], z, sg(x_fake)),
                                                        joint_D(p["discriminator"], sg(z_enc), x))
            frozen = sg(p["discriminator"])
            return (discriminator + softplus(joint_D(frozen, z, x_fake)).mean()
                    + softplus(-joint_D(frozen, z_enc, x)).mean())

        def gan_loss(p: Params, x: jax.Array, key: jax.Array, d_state: tuple) -> jax.Array:
            kz, ke = jax.random.split(key)
            x_fake = G(p["generator"], jax.random.normal(kz, (B, k)), ke)
            discriminator = logistic_discriminator_loss(D(p["discriminator"], sg(x_fake)), D(p["discriminator"], x))
            lookahead = sg(p["discriminator"])
            if method == "unrolled":  # k differentiable Adam steps of D, continuing its moments
                state = jax.tree.map(sg, d_state)
                for _ in range(options.get("unroll_steps", 5)):
                    grads = jax.grad(lambda q: logistic_discriminator_loss(D(q, x_fake), D(q, x)))(lookahead)
                    lookahead, state = adam(lookahead, grads, state, lr["discriminator"], b1, b2)
            return discriminator + softplus(D(lookahead, x_fake)).mean()

        loss: Callable = {"veegan": veegan_loss, "veegan_dae": veegan_loss, "ali": ali_loss}.get(method, gan_loss)

        def step(params: Params, opt_state: dict, key: jax.Array) -> tuple:
            key, kx, kl = jax.random.split(key, 3)
            grads = jax.grad(loss)(params, sample(kx), kl, opt_state["discriminator"])
            new_params, new_state = {}, {}
            for name in params:
                new_params[name], new_state[name] = adam(params[name], grads[name], opt_state[name], lr[name], b1, b2)
            return new_params, new_state, key

        zeros = lambda tree: jax.tree.map(jnp.zeros_like, tree)  # noqa: E731
        self.state = (params, {n: (zeros(t), zeros(t), jnp.zeros(())) for n, t in params.items()}, keys[3])
        self._step = jax.jit(step, donate_argnums=(0, 1))

    def run(self, n: int) -> None:
        state = self.state
        for _ in range(n):
            state = self._step(*state)
        jax.block_until_ready(state)
        self.state = state
