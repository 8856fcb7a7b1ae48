"""Every method's training step as one ``jax.jit`` function: the same networks (sizes and
ReLU MLPs, or on Stacked MNIST the DCGAN networks of ``veegan.nets.dcgan``), losses, simultaneous
Adam update and in-step data sampling as the project's step, compiled whole by XLA. It serves
``benchmarks/steps.py`` as the practical speed limit of this CPU for these sizes; only its speed
is used, never its results.

Images are NHWC (XLA's native layout on the CPU). Batch norm normalises with the statistics of
the batch it sees (training mode), each batch apart as in the project's step; its running
averages, which only evaluation reads, are not kept.

JAX is an optional dependency (``pip install -e .[bench]``). Import this module after setting
``XLA_FLAGS`` (``steps.py`` does) if the thread count matters.
"""
from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from veegan.config import ModelConfig, TrainConfig
from veegan.data.base import Dataset
from veegan.data.synthetic import GaussianMixture
from veegan.nets.dcgan import KERNEL, LEAK, N_STAGES, feature_sides, stage_channels
from veegan.data.stacked_mnist import StackedMNISTDataset
from veegan.nets import is_image

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


def mlp(layers: list[tuple[jax.Array, jax.Array]], x: jax.Array, activation: Callable = jax.nn.relu) -> jax.Array:
    for w, b in layers[:-1]:
        x = activation(x @ w + b)
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


STRIDE, PAD = 2, KERNEL // 2  # every DCGAN convolution: 5 x 5, stride 2, torch's padding 2
TAPS = KERNEL * KERNEL


class Networks(NamedTuple):
    """Initial parameters by network and the functions that apply them."""

    params: dict[str, Params]
    generator: Callable  # (params, z, key) -> x
    inference: Callable  # (params, x) -> z (VEEGAN's F, ALI's E)
    discriminator: Callable  # (params, z, x) -> logits for VEEGAN and ALI, (params, x) -> logits otherwise


def init_conv(key: jax.Array, in_channels: int, out_channels: int, transposed: bool = False) -> tuple[jax.Array, jax.Array]:
    """A 5 x 5 kernel stored as the matrix that ``conv`` ((taps * in, out)) or ``conv_transpose``
    ((in, taps * out)) multiplies by, and a bias; uniform in +-1/sqrt(in * taps) like torch's default."""
    wk, bk = jax.random.split(key)
    bound = 1 / math.sqrt(in_channels * TAPS)
    shape = (in_channels, TAPS * out_channels) if transposed else (TAPS * in_channels, out_channels)
    return (jax.random.uniform(wk, shape, minval=-bound, maxval=bound),
            jax.random.uniform(bk, (out_channels,), minval=-bound, maxval=bound))


# The convolutions are matrix products of image patches, the same arithmetic as torch's layers
# (checked against them to float32 rounding). XLA's own CPU convolution runs some of these layers
# as a plain loop: where the kernel is as large as the feature map (DCGAN's 4 x 4 and 2 x 2 maps)
# it swaps the operands, ~150 ms for one such layer of width 32 against ~3 ms here. Strided
# slices and pads with holes (the stride-2 placement of 25 taps) were also slow once fused with
# batch norm (~25 ms for the 7 x 7 -> 14 x 14 layer), so the maps are split into their 2 x 2
# phases (even and odd rows and columns) and every shift below is a contiguous slice or pad.

def conv(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """nn.Conv2d(in, out, 5, stride=2, padding=2) without its bias, on NHWC ``x``: the input's
    25 stride-2 shifts side by side (the patches), times the (25 * in, out) kernel."""
    n, side, _, channels = x.shape
    out = (side + 2 * PAD - KERNEL) // STRIDE + 1
    padded = STRIDE * (out + (KERNEL - 1) // STRIDE)  # even, and covering every tap
    x = jnp.pad(x, ((0, 0), (PAD, padded - side - PAD), (PAD, padded - side - PAD), (0, 0)))
    phases = x.reshape(n, padded // STRIDE, STRIDE, padded // STRIDE, STRIDE, channels)
    patches = [phases[:, i // STRIDE:i // STRIDE + out, i % STRIDE, j // STRIDE:j // STRIDE + out, j % STRIDE]
               for i in range(KERNEL) for j in range(KERNEL)]
    return jnp.concatenate(patches, axis=-1) @ kernel


def conv_transpose(x: jax.Array, kernel: jax.Array, side: int) -> jax.Array:
    """nn.ConvTranspose2d(in, out, 5, stride=2, padding=2, output_padding) without its bias,
    to a ``side`` x ``side`` output: each input pixel times the (in, 25 * out) kernel; tap
    (i, j) lands on output (2h + i - 2, 2w + j - 2), so each output phase (i % 2, j % 2) is a
    sum of shifted taps, and the phases are interleaved and cropped."""
    n, small = x.shape[0], x.shape[1]
    taps = jnp.split(x @ kernel, TAPS, axis=-1)  # split: the gradient is one concatenation
    half = small + (KERNEL - 1) // STRIDE
    rows = []
    for row_phase in range(STRIDE):
        row = []
        for column_phase in range(STRIDE):
            total = 0
            for i in range(row_phase, KERNEL, STRIDE):
                for j in range(column_phase, KERNEL, STRIDE):
                    di, dj = i // STRIDE, j // STRIDE
                    total = total + jnp.pad(taps[i * KERNEL + j],
                                            ((0, 0), (di, half - small - di), (dj, half - small - dj), (0, 0)))
            row.append(total)
        rows.append(jnp.stack(row, axis=3))
    full = jnp.stack(rows, axis=2).reshape(n, STRIDE * half, STRIDE * half, -1)
    return full[:, PAD:PAD + side, PAD:PAD + side]


def init_batch_norm(channels: int) -> tuple[jax.Array, jax.Array]:
    return jnp.ones(channels), jnp.zeros(channels)


def batch_norm(params: tuple[jax.Array, jax.Array], x: jax.Array, eps: float = 1e-5) -> jax.Array:
    """nn.BatchNorm2d in training mode: the batch's per-channel statistics (biased variance)."""
    scale, shift = params
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    return (x - mean) * lax.rsqrt(var + eps) * scale + shift


def init_dcgan_generator(key: jax.Array, in_dim: int, image_shape: tuple[int, int, int], width: int) -> Params:
    """veegan.nets.dcgan.DcganGenerator's parameters: the projection to the 8w x s/16 x s/16 map and
    its batch norm, then each transposed convolution (with the batch norm after it but the last)."""
    channels, side, _ = image_shape
    small, widths = feature_sides(side)[-1], stage_channels(width)
    outs = [channels] + widths[:-1]
    keys = jax.random.split(key, N_STAGES + 1)
    stages = []
    for i, stage in enumerate(range(N_STAGES - 1, -1, -1)):
        stages.append({"conv": init_conv(keys[i + 1], widths[stage], outs[stage], transposed=True)}
                      | ({"norm": init_batch_norm(outs[stage])} if stage else {}))
    return {"project": init_mlp(keys[0], [in_dim, widths[-1] * small * small]),
            "norm": init_batch_norm(widths[-1]), "stages": stages}


def dcgan_generator(image_shape: tuple[int, int, int], width: int) -> Callable:
    """G(params, z) of DcganGenerator's shapes: linear, BN + ReLU, four 5 x 5 stride-2
    transposed convolutions to TensorFlow-"same" output sides (BN + ReLU between), tanh."""
    sides = feature_sides(image_shape[1])
    start = (sides[-1], sides[-1], stage_channels(width)[-1])
    out_sides = sides[-2::-1]  # the side after each transposed convolution

    def apply(params: Params, z: jax.Array) -> jax.Array:
        x = jax.nn.relu(batch_norm(params["norm"], mlp(params["project"], z).reshape(len(z), *start)))
        for stage, side in zip(params["stages"], out_sides):
            kernel, bias = stage["conv"]
            x = conv_transpose(x, kernel, side) + bias
            x = jax.nn.relu(batch_norm(stage["norm"], x)) if "norm" in stage else jnp.tanh(x)
        return x
    return apply


def init_dcgan_features(key: jax.Array, channels: int, width: int) -> Params:
    """DcganFeatures' four convolutions and the batch norms of all but the first."""
    keys = jax.random.split(key, N_STAGES)
    stages = []
    for i, out in enumerate(stage_channels(width)):
        stages.append({"conv": init_conv(keys[i], channels, out)} | ({"norm": init_batch_norm(out)} if i else {}))
        channels = out
    return stages


def dcgan_features(params: Params, x: jax.Array) -> jax.Array:
    """DCGAN's discriminator convolutions (5 x 5, stride 2, padding 2; batch norm on all but the
    first; leaky ReLU 0.2), flattened."""
    for stage in params:
        kernel, bias = stage["conv"]
        x = conv(x, kernel) + bias
        if "norm" in stage:
            x = batch_norm(stage["norm"], x)
        x = jax.nn.leaky_relu(x, LEAK)
    return x.reshape(len(x), -1)


def vector_networks(key: jax.Array, model: ModelConfig, d: int, bidirectional: bool, pack: int) -> Networks:
    """The MLPs of veegan.nets on vectors of ``d`` values."""
    k, noise_dim = model.latent_dim, model.generator_noise_dim
    keys = jax.random.split(key, 3)
    params = {"generator": init_mlp(keys[0], [k + noise_dim, *model.generator_hidden, d])}
    if bidirectional:
        params["inference"] = init_mlp(keys[1], [d, *model.reconstructor_hidden, k])
        params["discriminator"] = init_mlp(keys[2], [k + d, *model.discriminator_hidden, 1])
    else:
        params["discriminator"] = init_mlp(keys[2], [d * pack, *model.discriminator_hidden, 1])

    def G(p: Params, z: jax.Array, key: jax.Array) -> jax.Array:
        return mlp(p, jnp.concatenate([z, jax.random.normal(key, (len(z), noise_dim))], axis=1))

    def joint_D(p: Params, z: jax.Array, x: jax.Array) -> jax.Array:
        return mlp(p, jnp.concatenate([z, x], axis=1))[:, 0]

    def D(p: Params, x: jax.Array) -> jax.Array:
        return mlp(p, x.reshape(len(x) // pack, -1))[:, 0]

    return Networks(params, G, mlp, joint_D if bidirectional else D)


def image_networks(key: jax.Array, model: ModelConfig, image_shape: tuple[int, int, int], bidirectional: bool,
                   pack: int) -> Networks:
    """The DCGAN networks of veegan.nets' factories on NHWC images: the generator; for
    VEEGAN and ALI an MLP reconstructor on the flattened image and the joint D(z, x) (an MLP
    with leaky ReLU on [z, features(x)]); otherwise D(x), the features and a linear output."""
    k, noise_dim, width = model.latent_dim, model.generator_noise_dim, model.conv_width
    channels, side, _ = image_shape
    features_dim = stage_channels(width)[-1] * feature_sides(side)[-1] ** 2
    keys = jax.random.split(key, 4)
    params = {"generator": init_dcgan_generator(keys[0], k + noise_dim, image_shape, width)}
    generate = dcgan_generator(image_shape, width)
    if bidirectional:
        params["inference"] = init_mlp(keys[1], [math.prod(image_shape), *model.reconstructor_hidden, k])
        params["discriminator"] = {"features": init_dcgan_features(keys[2], channels, width),
                                   "net": init_mlp(keys[3], [k + features_dim, *model.discriminator_hidden, 1])}
    else:
        params["discriminator"] = {"features": init_dcgan_features(keys[2], channels * pack, width),
                                   "net": init_mlp(keys[3], [features_dim, 1])}

    def G(p: Params, z: jax.Array, key: jax.Array) -> jax.Array:
        return generate(p, jnp.concatenate([z, jax.random.normal(key, (len(z), noise_dim))], axis=1))

    def F(p: Params, x: jax.Array) -> jax.Array:
        return mlp(p, x.reshape(len(x), -1))

    def joint_D(p: Params, z: jax.Array, x: jax.Array) -> jax.Array:
        joined = jnp.concatenate([z, dcgan_features(p["features"], x)], axis=1)
        return mlp(p["net"], joined, lambda a: jax.nn.leaky_relu(a, LEAK))[:, 0]

    def D(p: Params, x: jax.Array) -> jax.Array:
        if pack > 1:  # consecutive samples joined along the channels, as veegan.methods.pacgan.pack
            n, h, w, c = x.shape
            x = x.reshape(n // pack, pack, h, w, c).transpose(0, 2, 3, 1, 4).reshape(n // pack, h, w, pack * c)
        return mlp(p["net"], dcgan_features(p["features"], x))[:, 0]

    return Networks(params, G, F, joint_D if bidirectional else D)


def data_sampler(dataset: Dataset, batch_size: int) -> Callable[[jax.Array], jax.Array]:
    """key -> a batch drawn inside the step: a Gaussian mixture's samples, or Stacked MNIST
    (three independent random MNIST training digits per image, one per channel, in [-1, 1];
    the digits are held on the device)."""
    B = batch_size
    if isinstance(dataset, StackedMNISTDataset):
        digits = jnp.asarray(dataset.stacked.images.numpy())

        def stacked(key: jax.Array) -> jax.Array:
            pixels = digits[jax.random.randint(key, (B, 3), 0, len(digits))].transpose(0, 2, 3, 1)
            return pixels.astype(jnp.float32) / 127.5 - 1.0
        return stacked
    if not isinstance(dataset, GaussianMixture):
        raise NotImplementedError(f"the JAX reference draws Gaussian mixtures and Stacked MNIST, not {dataset.name}")
    means = jnp.asarray(dataset.means.numpy())
    basis = None if dataset.basis is None else jnp.asarray(dataset.basis.numpy())
    mode_dim, std = dataset.mode_dim, dataset.std

    def mixture(key: jax.Array) -> jax.Array:
        kk, ke = jax.random.split(key)
        eps = std * jax.random.normal(ke, (B, mode_dim))
        return means[jax.random.randint(kk, (B,), 0, len(means))] + (eps if basis is None else eps @ basis.T)
    return mixture


class JaxStep:
    """``run(n)`` takes n training steps of ``config.method`` and waits for the result."""

    def __init__(self, config: TrainConfig, dataset: Dataset, seed: int = 0) -> None:
        model, options = config.model, config.method_options
        self.config, k, B = config, model.latent_dim, config.batch_size
        method = config.method
        bidirectional = method in ("veegan", "veegan_dae", "ali")
        pack = options.get("pack_size", 1) if method == "pacgan" else 1
        init_key, step_key = jax.random.split(jax.random.PRNGKey(seed))
        if is_image(dataset.shape):
            channels, height, width = dataset.shape
            networks = image_networks(init_key, model, (channels, height, width), bidirectional, pack)
        else:
            networks = vector_networks(init_key, model, dataset.dim, bidirectional, pack)
        params, G, F = networks.params, networks.generator, networks.inference
        joint_D = D = networks.discriminator
        sample = data_sampler(dataset, B)
        optim = config.optim
        rate = {"generator": optim.lr_generator, "inference": optim.lr_reconstructor, "discriminator": optim.lr_discriminator}
        lr = {name: jax.tree.map(lambda _: rate[name], tree) for name, tree in params.items()}
        b1, b2 = optim.beta1, optim.beta2

        def veegan_loss(p: Params, x: jax.Array, key: jax.Array, d_state: tuple) -> jax.Array:
            kz, ke, kn, ke2 = jax.random.split(key, 4)
            z = jax.random.normal(kz, (B, k))
            x_fake = G(p["generator"], z, ke)
            if method == "veegan":  # Algorithm 1: d(z, F(G(z)))
                autoencoder = 0.5 * jnp.square(z - F(p["inference"], x_fake)).sum(1).mean()
            else:  # VEEGAN + DAE: lambda ||x - G(F(x))||^2
                x_rec = G(p["generator"], F(p["inference"], x), ke2)
                autoencoder = options.get("data_loss_weight", 1.0) * jnp.square(x - x_rec).reshape(B, -1).sum(1).mean()
            z_real = sg(F(p["inference"], x)) + options.get("real_pair_noise_std", 1.0) * jax.random.normal(kn, (B, k))
            discriminator = logistic_discriminator_loss(joint_D(p["discriminator"], z, sg(x_fake)),
                                                        joint_D(p["discriminator"], z_real, x))
            return discriminator + joint_D(sg(p["discriminator"]), z, x_fake).mean() + autoencoder

        def ali_loss(p: Params, x: jax.Array, key: jax.Array, d_state: tuple) -> jax.Array:
            kz, ke = jax.random.split(key)
            z = jax.random.normal(kz, (B, k))
            x_fake, z_enc = G(p["generator"], z, ke), F(p["inference"], x)
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
        self.state = (params, {n: (zeros(t), zeros(t), jnp.zeros(())) for n, t in params.items()}, step_key)
        self._step = jax.jit(step, donate_argnums=(0, 1))

    def run(self, n: int) -> None:
        state = self.state
        for _ in range(n):
            state = self._step(*state)
        jax.block_until_ready(state)
        self.state = state
