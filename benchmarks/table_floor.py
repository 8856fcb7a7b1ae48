"""The least time ``veegan reproduce table1`` can take on this machine: the matrix-multiply
work of every training step, at this CPU's own measured matmul peak.

    python benchmarks/table_floor.py [--budget quick] [--workers 2] [--runs DIR]

It measures the peak fp32 matmul rate of one thread here (the best of a 2048^3 product and
the step's largest shapes), counts the matmul FLOPs of one training step of every (method,
dataset) of Table 1 with ``torch.utils.flop_counter`` (forward, backward and the data draw),
and multiplies by the budget's steps and seeds. The floor ignores everything but matmuls
(random numbers, elementwise work, the optimizer, evaluation): a real table takes longer.
With ``--runs DIR`` (a finished ``reproduce table1`` output), it also prints each group's
measured worker-seconds and the fraction of them the floor accounts for.
Nothing here runs in the test suite.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.steps import set_threads  # noqa: E402

# (rows, inner, columns): a large square product and the largest of the synthetic steps
PEAK_SHAPES = [(2048, 2048, 2048), (500, 1200, 128), (500, 700, 1200), (500, 254, 128)]


def calls_per_second(fn: Callable[[], Any], seconds: float = 0.5) -> float:
    """How often ``fn`` runs per second on this thread, after 3 warm-up calls."""
    for _ in range(3):
        fn()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def matmul_peak_gflops(device: str = "cpu") -> tuple[float, tuple[int, int, int]]:
    """The best fp32 matmul rate (GFLOP/s) of one thread here, or of ``device`` (a GPU: each
    product waited for), and the shape that reached it."""
    import torch

    wait = torch.cuda.synchronize if device.startswith("cuda") else torch.mps.synchronize if device == "mps" else None
    best = (0.0, PEAK_SHAPES[0])
    for m, k, n in PEAK_SHAPES:
        a, b = torch.randn(m, k, device=device), torch.randn(k, n, device=device)

        def product() -> None:
            a @ b
            if wait is not None:
                wait()
        best = max(best, (2 * m * k * n * calls_per_second(product) / 1e9, (m, k, n)))
    return best


def normal_draw_ns(rows: int = 500, columns: int = 254) -> float:
    """Nanoseconds per number of ``torch.randn(rows, columns)`` (a step's z) on one thread:
    the other fixed cost of every step, outside the floor."""
    import torch

    return 1e9 / calls_per_second(lambda: torch.randn(rows, columns)) / (rows * columns)


def step_flops(method_name: str, dataset_name: str, batch_size: int) -> int:
    """Matmul FLOPs of one steady-state training step (after 3 warm-up steps)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from veegan.configure import build_config
    from veegan.data.catalog import make_dataset
    from veegan.methods import build_method
    from veegan.training.trainer import make_optimizer, training_step

    config = build_config({"method": method_name, "dataset": dataset_name, "batch_size": batch_size})
    dataset = make_dataset(config.dataset)
    torch.manual_seed(0)
    method = build_method(config.method, dataset.shape, config.model, config.method_options)
    optimizer = make_optimizer(method, config)
    for step in range(3):
        training_step(method, optimizer, dataset, batch_size, step)
    with FlopCounterMode(display=False) as counter:
        training_step(method, optimizer, dataset, batch_size, 3)
    return counter.get_total_flops()


def measured_worker_seconds(runs: Path, method: str, dataset: str) -> tuple[float, int] | None:
    """Summed wall time and count of the finished runs of one group in a table1 output."""
    times = [json.loads(p.read_text()).get("wall_time_s") for p in sorted((runs / dataset / method).glob("seed*/metrics.json"))]
    times = [t for t in times if t is not None]
    return (sum(times), len(times)) if times else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", default="quick")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="single-thread worker processes (one per core)")
    parser.add_argument("--runs", type=Path, help="a finished `veegan reproduce table1` output directory")
    args = parser.parse_args(argv)
    set_threads(1)
    import torch

    from veegan.config import RuntimeConfig
    from veegan.backend import runtime
    from veegan.experiments.table1 import BUDGETS, TABLE1_DATASETS, TABLE1_METHODS

    torch.set_num_threads(1)
    runtime.apply(RuntimeConfig(threads=1))  # the arithmetic settings training runs with
    peak, shape = matmul_peak_gflops()
    spec = BUDGETS[args.budget]
    batch = spec["overrides"]["batch_size"]
    print(f"torch {torch.__version__}; one thread's fp32 matmul peak here: {peak:.1f} GFLOP/s "
          f"({shape[0]} x {shape[1]} @ {shape[1]} x {shape[2]}); torch.randn(500, 254): "
          f"{normal_draw_ns():.1f} ns per number\n")
    header = "| method | dataset | MFLOP per step | steps | floor per run (s) |"
    if args.runs:
        header += " measured per run (s) | floor / measured |"
    print(header + "\n|" + "---|" * (header.count("|") - 1))
    total_flops = total_measured = 0.0
    for dataset in TABLE1_DATASETS:
        steps = spec["steps"][dataset]
        for method in TABLE1_METHODS:
            flops = step_flops(method, dataset, batch)
            floor = flops * steps / (peak * 1e9)
            total_flops += flops * steps * args.seeds
            row = f"| {method} | {dataset} | {flops / 1e6:.1f} | {steps:,} | {floor:.1f} |"
            measured = measured_worker_seconds(args.runs, method, dataset) if args.runs else None
            if measured:
                seconds, count = measured
                total_measured += seconds * args.seeds / count
                row += f" {seconds / count:.1f} | {floor / (seconds / count):.2f} |"
            elif args.runs:
                row += " - | - |"
            print(row, flush=True)
    floor_wall = total_flops / (peak * 1e9) / args.workers
    print(f"\n{args.budget} table ({args.seeds} seeds): {total_flops / 1e12:.1f} TFLOP of matmuls; at {peak:.1f} GFLOP/s "
          f"on {args.workers} workers that is at least {floor_wall:.0f} s ({floor_wall / 60:.1f} min) of wall time")
    if total_measured:
        print(f"measured runs, scaled to {args.seeds} seeds: {total_measured:.0f} worker-seconds, "
              f"{total_measured / args.workers:.0f} s on {args.workers} workers; the floor is "
              f"{total_flops / (peak * 1e9) / total_measured:.2f} of it")


if __name__ == "__main__":
    main()
