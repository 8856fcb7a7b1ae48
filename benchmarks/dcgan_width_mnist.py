"""Why the paper's four-stage DCGAN collapses on MNIST (docs/table2.md, "Why the four-stage
network collapses"): an ablation on *single-channel* MNIST (ten modes, one digit per image), where
a GAN that works draws all ten digits within a few hundred steps.

Every variant trains a plain GAN (eq. 6 for D, the non-saturating loss for G), Adam 2e-4 / 0.5,
batch 64, z of size 100, and every ``--eval-every`` steps labels 2,000 samples with the MNIST
classifier (``veegan classifier train``), printing one JSON line: ``digits_pct`` (confidence
>= 0.9, as Table 2's column) and the classes the confident samples reach. The variants each change
one thing of Table 2's network (``veegan.nets.dcgan``: four 5 x 5 stride-2 stages, a 2 x 2 map at
the bottom for a 28 x 28 image, batch norm, Algorithm 1's simultaneous update):

- ``four_stage``: Table 2's network as the package builds it (the reference);
- ``dcgan_tf_update``: the update rule: D once, then G twice against the updated D, as
  DCGAN-tensorflow trains ("to make sure that d_loss does not go to zero");
- ``no_bn_g`` / ``no_bn_d``: no batch norm in G / in D;
- ``small_kernels``: 3 x 3 kernels (padding 1) on the maps of side 7 or less, where a 5 x 5 kernel
  with "same" padding mostly reads zeros (at the 2 x 2 map, 21 of its 25 taps);
- ``tf_padding``: TensorFlow's own "same" padding, 1 before and 2 after on even sides, where the
  package pads 2 and 2 (the same sides, the maps shifted by one pixel; in G the transposed
  convolutions crop as TensorFlow's conv2d_transpose does);
- ``three_stage``: one stage fewer, a 4 x 4 map at the bottom instead of 2 x 2 (w, 2w, 4w);
- ``dcgan_mnist``: the package's two-stage network (``model.image_net=dcgan_mnist``).

    .venv/bin/python benchmarks/dcgan_width_mnist.py --mnist ../shared/data/mnist --variant four_stage --seed 0
    for v in four_stage dcgan_tf_update no_bn_g no_bn_d small_kernels tf_padding three_stage dcgan_mnist; do
      for s in 0 1 2; do .venv/bin/python benchmarks/dcgan_width_mnist.py --mnist ../shared/data/mnist --variant $v --seed $s; done
    done > ablation.jsonl
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch import nn

from veegan.data.mnist import load_mnist
from veegan.data.stacked_mnist import CONFIDENT
from veegan.evaluation.classifier import load_classifier
from veegan.methods.base import frozen
from veegan.methods.losses import logistic_discriminator_loss, non_saturating_generator_loss
from veegan.nets.dcgan import BATCH_NORM_MOMENTUM, LEAK, DcganDiscriminator, DcganGenerator, stage_channels
from veegan.nets.dcgan_mnist import TwoStageDiscriminator, TwoStageGenerator

LATENT = 100
SIDE = 28
SHAPE = (1, SIDE, SIDE)
VARIANTS = ("four_stage", "dcgan_tf_update", "no_bn_g", "no_bn_d", "small_kernels", "tf_padding", "three_stage",
            "dcgan_mnist")
SMALL_MAP = 7  # maps of this side or less get 3 x 3 kernels in ``small_kernels``


def norm(channels: int, on: bool) -> list[nn.Module]:
    return [nn.BatchNorm2d(channels, momentum=BATCH_NORM_MOMENTUM)] if on else []


class Crop(nn.Module):
    """The ``large`` x ``large`` window of a map from row and column ``start`` on."""

    def __init__(self, start: int, large: int) -> None:
        super().__init__()
        self.start, self.large = start, large

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., self.start:self.start + self.large, self.start:self.start + self.large]


def tf_same(large: int, small: int, kernel: int = 5) -> tuple[int, int]:
    """TensorFlow's "same" padding (before, after) of a stride-2 convolution from ``large`` to ``small``."""
    total = max((small - 1) * 2 + kernel - large, 0)
    return total // 2, total - total // 2


def stacked_networks(width: int, stages: int = 4, bn_g: bool = True, bn_d: bool = True,
                     small_kernels: bool = False, tf_padding: bool = False) -> tuple[nn.Module, nn.Module]:
    """G and D of Table 2's shape with ``stages`` stride-2 stages; with the defaults the same
    layers, parameter shapes and order as ``DcganGenerator`` / ``DcganDiscriminator``."""
    sides = [SIDE]
    for _ in range(stages):
        sides.append(-(-sides[-1] // 2))
    widths = stage_channels(width)[:stages]

    def kernel(side_in: int) -> tuple[int, int]:
        return (3, 1) if small_kernels and side_in <= SMALL_MAP else (5, 2)

    class Generator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.project = nn.Linear(LATENT, widths[-1] * sides[-1] ** 2)
            layers: list[nn.Module] = [*norm(widths[-1], bn_g), nn.ReLU()]
            outs = [1] + widths[:-1]
            for stage in range(stages - 1, -1, -1):
                small, large = sides[stage + 1], sides[stage]
                k, p = kernel(small)
                if tf_padding:  # the full transposed output, cropped where TensorFlow crops it
                    layers += [nn.ConvTranspose2d(widths[stage], outs[stage], 5, 2), Crop(tf_same(large, small)[0], large)]
                else:
                    layers.append(nn.ConvTranspose2d(widths[stage], outs[stage], k, 2, p, output_padding=large - (2 * small - 1)))
                layers += [*norm(outs[stage], bn_g), nn.ReLU()] if stage else [nn.Tanh()]
            self.net = nn.Sequential(*layers)

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return self.net(self.project(z).view(len(z), widths[-1], sides[-1], sides[-1]))

    layers: list[nn.Module] = []
    channels = 1
    for stage, out in enumerate(widths):
        k, p = kernel(sides[stage])
        if tf_padding:
            before, after = tf_same(sides[stage], sides[stage + 1])
            layers += [nn.ZeroPad2d((before, after, before, after)), nn.Conv2d(channels, out, 5, 2)]
        else:
            layers.append(nn.Conv2d(channels, out, k, 2, p))
        layers += [*norm(out, bn_d and stage > 0), nn.LeakyReLU(LEAK)]
        channels = out
    discriminator = nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * sides[-1] ** 2, 1), nn.Flatten(0))
    return Generator(), discriminator


def networks(variant: str, width: int) -> tuple[nn.Module, nn.Module]:
    if variant == "dcgan_mnist":
        return TwoStageGenerator(LATENT, 0, SHAPE, width), TwoStageDiscriminator(SHAPE, width)
    options = {"no_bn_g": {"bn_g": False}, "no_bn_d": {"bn_d": False}, "small_kernels": {"small_kernels": True},
               "tf_padding": {"tf_padding": True},
               "three_stage": {"stages": 3}}.get(variant, {})
    return stacked_networks(width, **options)


def same_as_package(width: int) -> bool:
    """Whether the reference variant has the package's parameter shapes, in order."""
    ours = [p.shape for net in stacked_networks(width) for p in net.parameters()]
    package = [p.shape for net in (DcganGenerator(LATENT, 0, SHAPE, width), DcganDiscriminator(SHAPE, width))
               for p in net.parameters()]
    return ours == package


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", required=True, help="folder of the MNIST files")
    parser.add_argument("--variant", choices=VARIANTS, default="four_stage")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not same_as_package(args.width):
        raise SystemExit("the reference variant no longer matches veegan.nets.dcgan: update stacked_networks")
    torch.manual_seed(args.seed)
    images, _ = load_mnist(args.mnist, "train")
    real = torch.from_numpy(np.asarray(images)).reshape(-1, *SHAPE).float() / 127.5 - 1
    G, D = networks(args.variant, args.width)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    classifier, _ = load_classifier()
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        x = real[torch.randint(len(real), (64,))]
        z = torch.randn(64, LATENT)
        fake = G(z)
        loss_d = logistic_discriminator_loss(D(fake.detach()), D(x))
        if args.variant == "dcgan_tf_update":  # D, then G twice on the same z against the updated D
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            for _ in range(2):
                opt_g.zero_grad()
                non_saturating_generator_loss(frozen(D, G(z))).backward()
                opt_g.step()
        else:  # Algorithm 1: both players' gradients at the same D, one simultaneous step
            loss_g = non_saturating_generator_loss(frozen(D, fake))
            opt_d.zero_grad()
            opt_g.zero_grad()
            (loss_d + loss_g).backward()
            opt_d.step()
            opt_g.step()
        if step % args.eval_every == 0:
            G.eval()
            with torch.no_grad():
                labels, confidence = classifier.predict_with_confidence(G(torch.randn(2000, LATENT)))
            G.train()
            confident = confidence >= CONFIDENT
            print(json.dumps({
                "variant": args.variant, "width": args.width, "seed": args.seed, "step": step,
                "digits_pct": round(100 * confident.float().mean().item(), 1),
                "classes": int(labels[confident].unique().numel()),
                "loss_d": round(loss_d.item(), 3), "seconds": round(time.perf_counter() - start),
            }), flush=True)


if __name__ == "__main__":
    main()
