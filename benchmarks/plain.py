"""Every method's training step written the straightforward way: the baseline of
``benchmarks/steps.py`` and the faithful reference that ``tests/test_fast_step.py`` checks the
project's step against.

"Straightforward" means what a first implementation of the paper looks like: ``nn.Sequential``
networks fed with ``torch.cat``, one default Adam per network, a separate forward and backward
pass for each loss, ``.item()`` on every loss every step, and PyTorch's default arithmetic
settings. The maths is the project's: the same losses and the same simultaneous update of all
networks from their pre-step parameters, drawing the random numbers in the same order
(data, z, the generator's extra noise, then any other noise), so that from the same seed and
the same initial weights both follow the same trajectory up to float rounding.

On images (Stacked MNIST and the like) the networks are the project's own DCGAN modules, from
the factories of ``veegan.nets``: what is plain there is the loop, not the networks. Every
network sees the same batches as in the project's step (D runs on the generated and the real
batch apart, so batch normalisation takes the same statistics).
"""
from __future__ import annotations

import torch
import torch.nn.functional as tf
from torch import nn
from torch.func import functional_call

from veegan.config import TrainConfig
from veegan.data.base import Dataset
from veegan.methods.base import Method
from veegan.methods.unrolled import adam_step
from veegan.nets import bidirectional_networks, discriminator_for, generator_for, is_image


def mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(in_dim, width), nn.ReLU()]
        in_dim = width
    return nn.Sequential(*layers, nn.Linear(in_dim, out_dim))


def joined_parameters(network: nn.Module) -> list[torch.Tensor]:
    """A project network's parameters in ``nn.Sequential`` order: a split first layer
    (PairLinear's W_a, W_b, the weight on [a, b]) joined back into one matrix."""
    params: list[torch.Tensor] = []
    for name, p in network.named_parameters():
        if name.endswith("weight_b"):
            params[-1] = torch.cat([params[-1], p], dim=1)
        else:
            params.append(p)
    return params


# option values the plain steps implement; anything else is refused rather than silently ignored
SUPPORTED_OPTIONS = {"reconstruction_loss": "gaussian_nll", "reconstructor_pretrain_steps": 0}


class PlainStep:
    """One method's straightforward training step; call :meth:`step` once per iteration."""

    def __init__(self, config: TrainConfig, dataset: Dataset) -> None:
        for key, value in SUPPORTED_OPTIONS.items():
            if config.method_options.get(key, value) != value:
                raise NotImplementedError(f"the plain {config.method} step implements only {key}={value!r}")
        model, self.config, self.dataset = config.model, config, dataset
        self.k, self.noise_dim, d = model.latent_dim, model.generator_noise_dim, dataset.dim
        self.shape, self.image = tuple(dataset.shape), is_image(dataset.shape)
        if self.image:
            self.generator = generator_for(model, self.shape)
        else:
            self.generator = mlp(self.k + self.noise_dim, model.generator_hidden, d)
        self.networks = {"generator": self.generator}
        self.build(model, d)
        self.optimizers = {
            name: torch.optim.Adam(net.parameters(), lr=self.learning_rate(name), betas=(config.optim.beta1, config.optim.beta2))
            for name, net in self.networks.items()
        }

    def learning_rate(self, name: str) -> float:
        optim = self.config.optim
        return {"generator": optim.lr_generator, "discriminator": optim.lr_discriminator}.get(name, optim.lr_reconstructor)

    def build(self, model, data_dim: int) -> None:
        raise NotImplementedError

    def losses(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each network's own loss, keyed by the network's name."""
        raise NotImplementedError

    def load_from(self, method: Method) -> None:
        """Start from the same weights as a project method (for equivalence tests)."""
        if self.image:  # the project's own modules
            for name, net in self.networks.items():
                net.load_state_dict(getattr(method, name).state_dict())
            return
        with torch.no_grad():
            for name, net in self.networks.items():
                for mine, theirs in zip(net.parameters(), joined_parameters(getattr(method, name)), strict=True):
                    mine.copy_(theirs)

    def G(self, z: torch.Tensor) -> torch.Tensor:
        noise = torch.randn(len(z), self.noise_dim)
        if self.image:  # DCGAN's generator joins z and the noise itself
            return self.generator(z, noise)
        return self.generator(torch.cat([z, noise], dim=1))

    def step(self) -> dict[str, float]:
        x = self.dataset.sample(self.config.batch_size)
        losses = self.losses(x)
        for name, loss in losses.items():  # a separate backward pass per loss, into its own network
            self.optimizers[name].zero_grad()
            loss.backward(inputs=list(self.networks[name].parameters()), retain_graph=True)
        for optimizer in self.optimizers.values():
            optimizer.step()
        return {name: loss.item() for name, loss in losses.items()}


def gan_discriminator_loss(fake_logits: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    return tf.softplus(-fake_logits).mean() + tf.softplus(real_logits).mean()


class PlainVeegan(PlainStep):
    def build(self, model, data_dim: int) -> None:
        if self.image:  # F on the flattened image, D(z, x) on [z, DCGAN features of x] (G: built above)
            _, self.reconstructor, self.discriminator = bidirectional_networks(model, self.shape)
        else:
            self.reconstructor = mlp(data_dim, model.reconstructor_hidden, self.k)
            self.discriminator = mlp(self.k + data_dim, model.discriminator_hidden, 1)
        self.networks.update(reconstructor=self.reconstructor, discriminator=self.discriminator)

    def D(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.image:
            return self.discriminator(z, x)
        return self.discriminator(torch.cat([z, x], dim=1)).squeeze(1)

    def autoencoder(self, z: torch.Tensor, x_fake: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (z - self.reconstructor(x_fake)).square().sum(1).mean()

    def losses(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        z = torch.randn(len(x), self.k)
        x_fake = self.G(z)
        autoencoder = self.autoencoder(z, x_fake, x)
        noise_std = self.config.method_options.get("real_pair_noise_std", 1.0)
        z_real = self.reconstructor(x).detach()
        if noise_std:
            z_real = z_real + noise_std * torch.randn(len(x), self.k)
        return {
            "discriminator": gan_discriminator_loss(self.D(z, x_fake.detach()), self.D(z_real, x)),
            "generator": self.D(z, x_fake).mean() + autoencoder,
            "reconstructor": self.reconstructor_loss(z, x_fake, autoencoder),
        }

    def reconstructor_loss(self, z: torch.Tensor, x_fake: torch.Tensor, autoencoder: torch.Tensor) -> torch.Tensor:
        """Algorithm 1, line 9: F's loss is d(z, F(G(z))) alone, here its own forward pass."""
        return 0.5 * (z - self.reconstructor(x_fake.detach())).square().sum(1).mean()


class PlainVeeganDae(PlainVeegan):
    def reconstructor_loss(self, z: torch.Tensor, x_fake: torch.Tensor, autoencoder: torch.Tensor) -> torch.Tensor:
        return autoencoder  # F and G share the data loss; G(F(x)) drew its noise once

    def autoencoder(self, z: torch.Tensor, x_fake: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        weight = self.config.method_options.get("data_loss_weight", 1.0)
        return weight * (x - self.G(self.reconstructor(x))).square().flatten(1).sum(1).mean()


class PlainAli(PlainVeegan):
    def build(self, model, data_dim: int) -> None:
        super().build(model, data_dim)
        self.encoder = self.networks.pop("reconstructor")
        self.networks["encoder"] = self.encoder

    def losses(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        z = torch.randn(len(x), self.k)
        x_fake = self.G(z)
        z_encoded = self.encoder(x)
        return {
            "discriminator": gan_discriminator_loss(self.D(z, x_fake.detach()), self.D(z_encoded.detach(), x)),
            "generator": tf.softplus(self.D(z, x_fake)).mean(),
            "encoder": tf.softplus(-self.D(z_encoded, x)).mean(),
        }


class PlainGan(PlainStep):
    pack_size = 1

    def build(self, model, data_dim: int) -> None:
        self.pack_size = self.config.method_options.get("pack_size", self.pack_size)
        if self.image:
            self.discriminator = discriminator_for(model, self.shape, self.pack_size)
        else:
            self.discriminator = mlp(data_dim * self.pack_size, model.discriminator_hidden, 1)
        self.networks["discriminator"] = self.discriminator

    def D(self, x: torch.Tensor, params: dict | None = None) -> torch.Tensor:
        x = x.reshape(len(x) // self.pack_size, -1, *x.shape[2:])  # packs joined along the vector or the channels
        logits = self.discriminator(x) if params is None else functional_call(self.discriminator, params, (x,))
        return logits.flatten()  # DCGAN's D gives (n,), the MLP (n, 1)

    def generator_loss(self, x_fake: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        logits = self.D(x_fake, self.discriminator_seen_by_generator(x_fake, x))
        if self.config.method_options.get("generator_loss", "non_saturating") == "minimax":
            return -tf.softplus(-logits).mean()
        return tf.softplus(logits).mean()

    def discriminator_seen_by_generator(self, x_fake: torch.Tensor, x: torch.Tensor) -> dict | None:
        """The parameters G plays against; None: D as it is."""
        return None

    def losses(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x_fake = self.G(torch.randn(len(x), self.k))
        return {
            "discriminator": gan_discriminator_loss(self.D(x_fake.detach()), self.D(x)),
            "generator": self.generator_loss(x_fake, x),
        }


class PlainPacgan(PlainGan):
    pack_size = 2


class PlainUnrolled(PlainGan):
    """The look-ahead copies D's parameters and takes k Adam steps with ``create_graph=True``,
    continuing the moments of D's own optimizer (as the reference code does)."""

    def discriminator_seen_by_generator(self, x_fake: torch.Tensor, x: torch.Tensor) -> dict | None:
        options = self.config.method_options
        k, first_order = options.get("unroll_steps", 5), options.get("first_order", False)
        optimizer = self.optimizers["discriminator"]
        group = optimizer.param_groups[0]
        params, state = {}, {}
        for name, p in self.discriminator.named_parameters():
            params[name] = p.detach().clone().requires_grad_(True)
            s = optimizer.state.get(p)
            state[name] = (s["exp_avg"], s["exp_avg_sq"], int(s["step"])) if s else (torch.zeros_like(p), torch.zeros_like(p), 0)
        for _ in range(k):
            x_seen = x_fake.detach() if first_order else x_fake
            loss = gan_discriminator_loss(self.D(x_seen, params), self.D(x, params))
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=not first_order)
            for (name, p), g in zip(list(params.items()), grads):
                m, v, t = state[name]
                params[name], m, v = adam_step(p, g, m, v, t + 1, group["lr"], group["betas"], group["eps"])
                state[name] = (m, v, t + 1)
            if first_order:
                params = {n: p.detach().requires_grad_(True) for n, p in params.items()}
        return params


PLAIN_STEPS: dict[str, type[PlainStep]] = {
    "veegan": PlainVeegan, "veegan_dae": PlainVeeganDae, "ali": PlainAli,
    "gan": PlainGan, "pacgan": PlainPacgan, "unrolled": PlainUnrolled,
}


def plain_step(config: TrainConfig, dataset: Dataset) -> PlainStep:
    """The straightforward step of ``config.method``."""
    return PLAIN_STEPS[config.method](config, dataset)
