"""A check for docs/lab/table2-four-stage-screen.md: Table 2's DCGAN trained with DCGAN-tensorflow's update rule
(D once, then G twice, each against the current D: "Run g_optim twice to make sure that d_loss
does not go to zero (different from paper)") instead of Algorithm 1's simultaneous update, which
the package uses for every method. Same networks, data, losses, optimiser and evaluation as
``veegan train --method gan --dataset stacked_mnist``; one JSON line per evaluation.

    .venv/bin/python benchmarks/dcgan_tf_update_rule.py --mnist ../shared/data/mnist --width 16 \\
        --steps 3000 --out dcgan-tf-w16.jsonl
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from veegan.configure import resolve_config
from veegan.data.catalog import make_dataset
from veegan.evaluation.evaluate import evaluate
from veegan.methods import build_method
from veegan.methods.losses import logistic_discriminator_loss, non_saturating_generator_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", required=True, help="folder of the MNIST files")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3000, help="iterations (each: one D step, --generator-steps G steps)")
    parser.add_argument("--generator-steps", type=int, default=2)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="JSON lines: the evaluations")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = resolve_config(method="gan", dataset="stacked_mnist", seed=args.seed,
                            overrides={"model": {"conv_width": args.width}, "data_dir": args.mnist})
    torch.manual_seed(args.seed)
    data = make_dataset("stacked_mnist", data_dir=config.data_dir)
    method = build_method("gan", data.shape, config.model, config.method_options)
    G, D = method.generator, method.discriminator
    adam = {"lr": config.optim.lr_generator, "betas": (config.optim.beta1, config.optim.beta2)}
    opt_g, opt_d = torch.optim.Adam(G.parameters(), **adam), torch.optim.Adam(D.parameters(), **adam)
    draws = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    with open(args.out, "w") as log:
        for step in range(1, args.steps + 1):
            x = data.sample(config.batch_size, draws)
            z = torch.randn(config.batch_size, config.model.latent_dim, generator=draws)
            loss_d = logistic_discriminator_loss(D(G(z).detach()), D(x))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            for _ in range(args.generator_steps):
                loss_g = non_saturating_generator_loss(D(G(z)))
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
            if step % args.eval_every == 0:
                result = evaluate(method, data, config.schedule.eval_samples, seed=step)
                method.train()
                record = {"step": step, **{k: result[k] for k in ("modes", "kl", "digits_pct")},
                          "seconds": round(time.perf_counter() - start, 1)}
                print(json.dumps(record), file=log, flush=True)
                print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
