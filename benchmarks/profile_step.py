"""Where the time of the project's training step goes, for one method and dataset.

    python benchmarks/profile_step.py --method veegan --dataset ring [--set runtime.onednn_matmul=false] [--trace]

Prints steps/s, CPU time per wall time, and minor page faults per step over ``--steps`` steps
(after a warm-up), on one thread pinned to one core. With ``--trace``, it also prints the
operators that take the most time in a ``torch.profiler`` trace of 10 more steps.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.steps import set_threads  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", default="veegan")
    parser.add_argument("--dataset", default="ring")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                        help="configuration values, as for `veegan train --set`")
    parser.add_argument("--trace", action="store_true", help="also print the top operators of a profiler trace")
    args = parser.parse_args(argv)
    set_threads(1)

    from veegan.backend import runtime
    from veegan.config_values import parse_assignments
    from veegan.configure import build_config
    from veegan.data.catalog import make_dataset
    from veegan.methods import build_method
    from veegan.training.trainer import make_optimizer, training_step

    config = build_config({"method": args.method, "dataset": args.dataset, "batch_size": args.batch,
                           "runtime": {"threads": 1}}, parse_assignments(args.assignments))
    runtime.apply(config.runtime)
    dataset = make_dataset(config.dataset, config.data_file, config.data_dir)
    method = build_method(config.method, dataset.shape, config.model, config.method_options)
    optimizer = make_optimizer(method, config)

    def run(n: int) -> None:
        for step in range(n):
            training_step(method, optimizer, dataset, config.batch_size, step)

    run(10)
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    run(args.steps)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    print(f"{config.method} on {config.dataset}, batch {config.batch_size}: {args.steps / wall:.1f} steps/s, "
          f"CPU/wall {cpu / wall:.2f}, {(after.ru_minflt - before.ru_minflt) / args.steps:.2f} minor page faults per step")
    if args.trace:
        from torch.profiler import profile

        with profile() as trace:
            run(10)
        print(trace.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


if __name__ == "__main__":
    main()
