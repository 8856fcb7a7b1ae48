"""What the stabilisers and the VAEs cost: training steps per second of each adversarial method
plain and with each stabiliser alone (the settings of ``veegan reproduce stabilisers``), and of
the two VAEs beside the plain GAN, all measured in one process, in interleaved rounds (see
benchmarks/steps.py). Prints ratios against the plain method measured in the same run.

    python benchmarks/stabilisers.py [--methods gan veegan ...] [--dataset ring] [--threads 1]

Nothing here runs in the test suite.
"""
from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.steps import set_threads, steps_per_second  # noqa: E402

ADVERSARIAL = ["gan", "ali", "unrolled", "veegan", "veegan_dae", "pacgan"]
LIKELIHOOD = ["vae", "vae_flow_prior"]


class StepRunner:
    """``run(n)``: n training steps exactly as ``veegan train`` takes them, the generator
    average's update included (it lives in the session, not in ``training_step``)."""

    def __init__(self, config: Any) -> None:
        import torch

        from veegan.backend import runtime
        from veegan.data.catalog import make_dataset
        from veegan.training.ema import generator_average
        from veegan.training.session import build_on
        from veegan.training.trainer import training_step

        dataset = make_dataset(config.dataset)
        torch.manual_seed(config.seed)
        runtime.apply(config.runtime)
        method, optimizer = build_on(config, dataset, torch.device("cpu"))
        average = generator_average(method, config.ema.decay)
        self.steps = 0

        def step() -> None:
            training_step(method, optimizer, dataset, config.batch_size, self.steps)
            if average is not None:
                average.update(method.generator)
            self.steps += 1
        self.step = step

    def run(self, n: int) -> None:
        for _ in range(n):
            self.step()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=ADVERSARIAL)
    parser.add_argument("--dataset", default="ring")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one timed round per runner")
    parser.add_argument("--settings", nargs="+", help="settings of veegan.experiments.stabilisers.STABILISERS to time "
                        "beside plain (default: each stabiliser alone, and all)")
    parser.add_argument("--no-vae", action="store_true", help="leave out the VAEs' table")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    from veegan.config_values import merge
    from veegan.configure import build_config
    from veegan.experiments.stabilisers import DEFAULT_SETTINGS, STABILISERS

    def config(method: str, overrides: dict) -> Any:
        return build_config(merge({"method": method, "dataset": args.dataset, "runtime": {"threads": args.threads}}, overrides))

    print(f"# {platform.processor() or platform.machine()}, {args.threads} thread(s), {args.dataset}, batch 500; "
          f"median of {args.repeats} interleaved rounds")
    settings = ["plain", *args.settings] if args.settings else [*DEFAULT_SETTINGS, "all"]
    print("\n| method | plain steps/s | " + " | ".join(f"{s} (x plain)" for s in settings[1:]) + " |")
    print("|---|---|" + "---|" * (len(settings) - 1))
    for method in args.methods:
        runners = {setting: StepRunner(config(method, STABILISERS[setting])) for setting in settings}
        rates = steps_per_second(runners, args.repeats, args.seconds)
        cells = [f"{rates[s] / rates['plain']:.2f}" for s in settings[1:]]
        print(f"| {method} | {rates['plain']:.0f} | " + " | ".join(cells) + " |", flush=True)
    if args.no_vae:
        return
    runners = {method: StepRunner(config(method, {})) for method in ["gan", *LIKELIHOOD]}
    rates = steps_per_second(runners, args.repeats, args.seconds)
    print("\n| method | steps/s | x gan |\n|---|---|---|")
    for method, rate in rates.items():
        print(f"| {method} | {rate:.0f} | {rate / rates['gan']:.2f} |")


if __name__ == "__main__":
    main()
