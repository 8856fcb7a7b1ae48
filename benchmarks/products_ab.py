"""What ``veegan.backend`` gains, in one process: narrow matrix products in torch's layouts
against the transposed route, then whole training steps with its routes undone.

    python benchmarks/products_ab.py [--methods unrolled gan veegan] [--datasets ring grid hd1200]

Part 1 times each product of the shapes a ring step makes (batch 500, or 1000 for Unrolled
GAN's stacked look-ahead, width 128, 2-3 columns), as ``a @ b`` and as ``products.mm``. Part 2
times ``veegan.training.trainer.training_step`` three ways, in interleaved rounds (median, one pinned
thread): as it is; with the narrow route off (``products.NARROW_COLUMNS = 0``: every product
in torch's own layout); and with all of the backend's code routes off (``runtime.cpu_routes``:
the narrow route and Unrolled GAN's written-out look-ahead). Nothing here runs in the test suite.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.steps import Runner, set_threads, steps_per_second  # noqa: E402

# (label, rows, inner, columns, left operand stored transposed): the narrow products of a ring step
PRODUCTS = [
    ("dx = g W, D's or F's first layer", 500, 128, 2, False),
    ("dW = g^T x, D's or F's first layer", 128, 500, 2, True),
    ("look-ahead dx, stacked batch", 1000, 128, 2, False),
    ("look-ahead dW = g^T x, stacked batch", 128, 1000, 2, True),
    ("look-ahead relu'^T [g x, g]", 128, 1000, 3, True),
    ("its backward, relu' dY", 1000, 128, 3, False),
]


def microseconds(fn: Callable[[], Any], seconds: float = 0.3) -> float:
    """Median time of one call over 5 rounds of about ``seconds`` / 5."""
    for _ in range(10):
        fn()
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds / 5:
        fn()
        n += 1
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n * 1e6)
    return sorted(rounds)[2]


class VariantRunner:
    """The project's step with the narrow route, or all of veegan.backend's code routes
    (``runtime.cpu_routes``), undone around each run."""

    def __init__(self, config: Any, variant: str) -> None:
        from veegan import backend
        from veegan.backend import products

        self.backend, self.products, self.variant = backend, products, variant
        self.runner = Runner("project", config)

    def run(self, n: int) -> None:
        narrow = self.products.NARROW_COLUMNS
        if self.variant == "narrow off":
            self.products.NARROW_COLUMNS = 0
        elif self.variant == "cpu routes off":
            self.backend.set_cpu_routes(False)
        try:
            self.runner.run(n)
        finally:
            self.products.NARROW_COLUMNS = narrow
            self.backend.set_cpu_routes(True)


VARIANTS = ["as is", "narrow off", "cpu routes off"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=["unrolled", "gan", "pacgan", "veegan", "ali"])
    parser.add_argument("--datasets", nargs="+", default=["ring", "hd1200"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    set_threads(1)
    import torch

    from veegan.backend import products
    from veegan.configure import build_config

    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread\n")
    print("| product | shape | a @ b (us) | products.mm (us) | speed-up |\n|---|---|---|---|---|")
    for label, m, k, n, transposed in PRODUCTS:
        a = torch.randn(k, m).t() if transposed else torch.randn(m, k)
        b = torch.randn(k, n)
        plain, routed = microseconds(lambda: a @ b), microseconds(lambda: products.mm(a, b))
        shape = f"{m} x {k}{' (transposed)' if transposed else ''} @ {k} x {n}"
        print(f"| {label} | {shape} | {plain:.1f} | {routed:.1f} | {plain / routed:.2f} |", flush=True)

    print("\n| method | dataset | steps/s | narrow route off | cpu routes off | x narrow off | x routes off |")
    print("|---|---|---|---|---|---|---|")
    for dataset in args.datasets:
        for method in args.methods:
            config = build_config({"method": method, "dataset": dataset, "runtime": {"threads": 1}})
            rates = steps_per_second({v: VariantRunner(config, v) for v in VARIANTS}, args.repeats, args.seconds)
            base = rates["as is"]
            print(f"| {method} | {dataset} | {base:.1f} | {rates['narrow off']:.1f} | {rates['cpu routes off']:.1f} | "
                  f"{base / rates['narrow off']:.2f} | {base / rates['cpu routes off']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
