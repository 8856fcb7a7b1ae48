"""How long Table 2 would take at a budget, from the first steps of each method timed here.

    python benchmarks/table2_projection.py --device cuda [--mnist DIR] [--steps 500]
    python benchmarks/table2_projection.py --device cpu --budget digits --steps 20

For every Table 2 method it times ``--steps`` training steps on Stacked MNIST at the budget's
width (DCGAN, batch 64, Table 2's settings) in each ``--precisions`` (default fp32 and bf16),
after a few warm-up steps, and prints the steps per second and the projected time of the whole
table: the budget's steps x its seeds x both datasets, one run after another (the CIFAR-10 step
is taken to cost what the Stacked MNIST step costs: both are 3-channel images of about 30 x 30).
Without ``--mnist`` the digits are random pixels in MNIST's files: the time of a step does not
depend on what the pixels show. Nothing here runs in the test suite.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.precision import case_config, random_mnist  # noqa: E402
from benchmarks.steps import Runner, set_threads  # noqa: E402

METHODS = ["gan", "ali", "unrolled", "veegan", "veegan_dae", "pacgan"]
WARM_UP = 10


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


def main(argv: list[str] | None = None) -> None:
    from veegan.experiments.table2 import BUDGETS, method_seeds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="paper")
    parser.add_argument("--methods", nargs="+", default=METHODS)
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--steps", type=int, default=500, help="timed steps per method and precision")
    parser.add_argument("--mnist", help="folder of the MNIST files (default: random pixels in MNIST's format)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (the CPU device only)")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    import torch

    budget = BUDGETS[args.budget]
    steps_per_run = budget["steps"]["stacked_mnist"]
    scratch = tempfile.TemporaryDirectory()
    mnist = args.mnist or str(random_mnist(Path(scratch.name)))
    image_net = budget.get("overrides", {}).get("model", {}).get("image_net", "dcgan")
    settings = argparse.Namespace(threads=args.threads, device=args.device, conv_width=budget["conv_width"], mnist=mnist,
                                  image_net=image_net)
    name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else f"{args.threads}-thread CPU"
    print(f"Table 2 at the {args.budget!r} budget on {name}: {image_net} width {budget['conv_width']}, "
          f"{steps_per_run:,} steps a run, {budget['seeds']} seeds (fewer where the budget says) x {len(budget['steps'])} datasets")
    print("| method | precision | steps/s | one run | the method's runs |\n|---|---|---:|---:|---:|")
    totals = dict.fromkeys(args.precisions, 0.0)
    for method in args.methods:
        runs_per_method = method_seeds(args.budget, method) * len(budget["steps"])
        for precision in args.precisions:
            runner = Runner("project", case_config(method, "stacked_mnist", precision, False, settings))
            runner.run(WARM_UP)
            start = time.perf_counter()
            runner.run(args.steps)  # waits for the device's queue before returning
            rate = args.steps / (time.perf_counter() - start)
            run_seconds = steps_per_run / rate
            totals[precision] += run_seconds * runs_per_method
            print(f"| {method} | {precision} | {rate:.1f} | {hours(run_seconds)} | {hours(run_seconds * runs_per_method)} |",
                  flush=True)
    for precision, seconds in totals.items():
        print(f"projected: the whole table in {precision}, one run at a time: {hours(seconds)}")
    scratch.cleanup()


if __name__ == "__main__":
    main()
