"""Loss terms as pure functions of tensors, each tied to its equation in the paper.

Sign convention of the paper (Section 2 and eq. 4): the discriminator's logit estimates
log q_gamma / p, so it is trained to be *high on generated* samples and low on real ones.

Every loss is computed in float32, whatever the precision of the networks' outputs
(``runtime.precision`` bf16 or fp16 runs the networks under autocast; a loss's reductions and
softplus keep float32's precision, as CUDA's autocast does for its own loss functions).
"""
from __future__ import annotations

import functools
from typing import Callable

import torch
import torch.nn.functional as tf

HALF_TYPES = (torch.bfloat16, torch.float16)


def as_float32(t: torch.Tensor) -> torch.Tensor:
    """A half-precision tensor as float32; float32 and float64 tensors unchanged, without a copy."""
    return t.float() if t.dtype in HALF_TYPES else t


def in_float32(loss: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Compute ``loss`` on its tensor arguments :func:`as_float32`."""
    @functools.wraps(loss)
    def wrapped(*tensors: torch.Tensor) -> torch.Tensor:
        return loss(*map(as_float32, tensors))
    return wrapped


@in_float32
def logistic_discriminator_loss(logits_generated: torch.Tensor, logits_real: torch.Tensor) -> torch.Tensor:
    """Eq. (6), O_LR = -E_gamma[log sigma(D)] - E_theta[log(1 - sigma(D))]; Algorithm 1, line 7.

    ``logits_generated`` are D on (z, G(z)) pairs (or G(z) for a GAN), ``logits_real`` on
    (F(x), x) pairs (or x). -log sigma(l) = softplus(-l), -log(1 - sigma(l)) = softplus(l)."""
    return tf.softplus(-logits_generated).mean() + tf.softplus(logits_real).mean()


def gradient_penalty(logits: torch.Tensor, inputs: tuple[torch.Tensor, ...], gammas: tuple[float, ...]) -> torch.Tensor:
    """The zero-centred gradient penalties, beyond the paper: sum over D's inputs of
    (gamma_i / 2) E[||grad_i D(inputs)||^2], each input with its own gamma. At the real inputs
    this is R1 (Mescheder et al. 2018, eq. 9), at the generated inputs R2 (the same formula at
    p_theta; Huang et al. 2024, eq. 4-5, "R3GAN"). For a joint D(z, x) the inputs are both
    halves of the pair: (F(x) + n, x) for R1, (z, G(z)) for R2. ``logits`` must come from
    ``inputs`` that require grad; the penalty keeps its graph (create_graph), so its gradient
    reaches D's parameters."""
    grads = torch.autograd.grad(logits.sum(), inputs, create_graph=True)
    grads = map(as_float32, grads)
    return 0.5 * sum(gamma * g.square().flatten(1).sum(dim=1) for gamma, g in zip(gammas, grads) if gamma).mean()


@in_float32
def rpgan_discriminator_loss(logits_generated: torch.Tensor, logits_real: torch.Tensor) -> torch.Tensor:
    """The relativistic pairing loss (RpGAN; Jolicoeur-Martineau 2019, Huang et al. 2024 eq. 2) for
    D, beyond the paper: E[f(D(x_real_i) - D(x_gen_i))] with f = softplus, the i-th real sample
    paired with the i-th generated one. In this package's sign convention (D high on generated,
    eq. 4) that is D's side of -log sigma(D(gen) - D(real)); for a joint D the samples are the
    (z, x) pairs of eq. (6)."""
    return tf.softplus(logits_real - logits_generated).mean()


@in_float32
def rpgan_player_loss(logits_generated: torch.Tensor, logits_real: torch.Tensor) -> torch.Tensor:
    """RpGAN's other side: E[f(D(x_gen_i) - D(x_real_i))], f = softplus (Huang et al. 2024,
    eq. 2, the generator's loss). A player's gradient flows through whichever side it produced:
    G's through the generated logits (the real ones then are constants), an encoder's or
    reconstructor's through the real pair's logits (the generated ones then are constants)."""
    return tf.softplus(logits_generated - logits_real).mean()


@in_float32
def adversarial_generator_term(logits_generated: torch.Tensor) -> torch.Tensor:
    """The first term of eq. (5): (1/N) sum_i D_omega(z_i, x_g_i), the raw logit (VEEGAN's
    generator term, Algorithm 1, line 11)."""
    return logits_generated.mean()


@in_float32
def minimax_generator_loss(logits_generated: torch.Tensor) -> torch.Tensor:
    """The generator's side of the minimax objective O_gan (Section 2, the equation before eq. 1):
    min_gamma E_z[log sigma(D(G(z)))]."""
    return -tf.softplus(-logits_generated).mean()


@in_float32
def non_saturating_generator_loss(logits_generated: torch.Tensor) -> torch.Tensor:
    """Goodfellow et al.'s "enhanced" loss the paper uses for its baselines (Section 5.2):
    max E_z[log(1 - sigma(D(G(z))))], i.e. min E_z[softplus(D(G(z)))]."""
    return tf.softplus(logits_generated).mean()


@in_float32
def non_saturating_encoder_loss(logits_encoded: torch.Tensor) -> torch.Tensor:
    """ALI's encoder E: its side of eq. (6) with the non-saturating trick (Section 5.2): E wants
    D to take (E(x), x) for a generated pair, max E_x[log sigma(D(E(x), x))], i.e.
    min E_x[softplus(-D(E(x), x))]."""
    return tf.softplus(-logits_encoded).mean()


@in_float32
def gaussian_nll_reconstruction(z: torch.Tensor, z_reconstructed: torch.Tensor) -> torch.Tensor:
    """d(z, F(G(z))) of eq. (3) and (5) as the authors' code computes it:
    0.5 * sum_k (z_k - F(G(z))_k)^2, the negative log-density of z under p_theta(z|x) = N(F(x), I)
    up to a constant, averaged over the batch."""
    return 0.5 * (z - z_reconstructed).square().sum(dim=1).mean()


@in_float32
def mse_reconstruction(z: torch.Tensor, z_reconstructed: torch.Tensor) -> torch.Tensor:
    """d(z, F(G(z))) as a mean squared error: the l2 loss of Section 3.1 averaged over batch
    *and* the K dimensions (so K times weaker than 0.5 * sum of squares / 0.5)."""
    return (z - z_reconstructed).square().mean()


@in_float32
def data_autoencoder_loss(x: torch.Tensor, x_reconstructed: torch.Tensor) -> torch.Tensor:
    """VEEGAN + DAE's data loss ||x - G(F(x))||_2^2 (Section 5.3), summed over dimensions and
    averaged over the batch."""
    return (x - x_reconstructed).square().flatten(1).sum(dim=1).mean()


RECONSTRUCTION_LOSSES = {
    "gaussian_nll": gaussian_nll_reconstruction,
    "mse": mse_reconstruction,
}
