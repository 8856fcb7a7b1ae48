"""A check for docs/table2-digits.md: is the collapse of Table 2's reduced-width DCGAN the
networks' or Stacked MNIST's? Trains a GAN on *single-channel* MNIST (ten modes, one digit per
image) with either Table 2's networks (:mod:`veegan.nets.dcgan`: four 5 x 5 stride-2 stages, a
2 x 2 bottleneck at 28 x 28) or a two-stage DCGAN of the same base width (a 7 x 7 x 4w map,
two 4 x 4 stride-2 transposed convolutions; D: two 4 x 4 stride-2 convolutions), the same losses
(eq. 6 for D, the non-saturating loss for G), Adam 2e-4 / 0.5, batch 64, and Algorithm 1's
simultaneous update. Every ``--eval-every`` steps it labels 2,000 samples with the MNIST
classifier (``veegan classifier train``) and prints one JSON line: the share of confident
samples (``digits_pct``, confidence >= 0.9, as Table 2's column) and how many of the ten classes
they reach.

    .venv/bin/python benchmarks/dcgan_width_mnist.py --mnist ../shared/data/mnist --arch table2 --width 16
    .venv/bin/python benchmarks/dcgan_width_mnist.py --mnist ../shared/data/mnist --arch two_stage --width 16
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
from veegan.nets.dcgan import LEAK, DcganDiscriminator, DcganGenerator

LATENT = 100
SIDE = 28


class TwoStageGenerator(nn.Module):
    """z -> 4w x 7 x 7 -> 2w x 14 x 14 -> 1 x 28 x 28 (batch norm and ReLU between, tanh out)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width
        self.project = nn.Linear(LATENT, 4 * width * 7 * 7)
        self.net = nn.Sequential(
            nn.BatchNorm2d(4 * width), nn.ReLU(),
            nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, 1, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z).view(len(z), 4 * self.width, 7, 7))


def two_stage_discriminator(width: int) -> nn.Module:
    """x -> w x 14 x 14 -> 2w x 7 x 7 -> one logit (leaky ReLU; batch norm on the second stage)."""
    return nn.Sequential(
        nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(LEAK),
        nn.Conv2d(width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width), nn.LeakyReLU(LEAK),
        nn.Flatten(), nn.Linear(2 * width * 7 * 7, 1), nn.Flatten(0),
    )


def networks(arch: str, width: int) -> tuple[nn.Module, nn.Module]:
    if arch == "table2":
        return DcganGenerator(LATENT, 0, (1, SIDE, SIDE), width), DcganDiscriminator((1, SIDE, SIDE), width)
    return TwoStageGenerator(width), two_stage_discriminator(width)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", required=True, help="folder of the MNIST files")
    parser.add_argument("--arch", choices=("table2", "two_stage"), default="table2")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    images, _ = load_mnist(args.mnist, "train")
    real = torch.from_numpy(np.asarray(images)).reshape(-1, 1, SIDE, SIDE).float() / 127.5 - 1
    G, D = networks(args.arch, args.width)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    classifier, _ = load_classifier()
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        x = real[torch.randint(len(real), (64,))]
        fake = G(torch.randn(64, LATENT))
        loss_d = logistic_discriminator_loss(D(fake.detach()), D(x))
        loss_g = non_saturating_generator_loss(frozen(D, fake))  # through D before its update (Algorithm 1)
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
                "arch": args.arch, "width": args.width, "seed": args.seed, "step": step,
                "digits_pct": round(100 * confident.float().mean().item(), 1),
                "classes": int(labels[confident].unique().numel()),
                "loss_d": round(loss_d.item(), 3), "seconds": round(time.perf_counter() - start),
            }), flush=True)


if __name__ == "__main__":
    main()
