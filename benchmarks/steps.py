"""Training steps per second of the project's step against two references, in one process.

    python benchmarks/steps.py [--methods ...] [--datasets ...] [--threads 1] [--json FILE]
    python benchmarks/steps.py --datasets stacked_mnist [--conv-width 32] [--mnist DIR]
    python benchmarks/steps.py --device cuda     # both loops on the GPU (no JAX column, no peak RSS)

For every (method, dataset) it times three implementations of the same training step:

- ``project``: ``veegan.training.trainer.training_step``, exactly what ``veegan train`` runs;
- ``plain``: the straightforward loop of ``benchmarks/plain.py`` (PyTorch's default settings);
- ``jax``: one ``jax.jit`` step of the same networks (``benchmarks/jax_reference.py``), if
  JAX is installed (``pip install -e .[bench]``).

The synthetic datasets (ring, grid, hd1200; the default) use the MLP networks at ``--batch``
(500, the paper's). ``stacked_mnist`` is opt-in: DCGAN networks of base width ``--conv-width``
at batch 64, with the image datasets' preset (``veegan.data.images.IMAGE_PRESET``, which
Table 2 uses too), reading MNIST from ``--mnist`` (default: veegan's cache, downloading if
needed). VEEGAN's reconstructor pre-training is left out there: it only changes the first 100
steps, and the benchmark times the steady-state step.

Each is warmed up, then timed in interleaved rounds (the order rotates every round, so drift
of a shared machine hits all three alike); the figure is the median over ``--repeats``
rounds. Peak memory is the growth of a fresh process's peak RSS while it builds the
implementation and takes a few steps. ``--scaling`` adds VEEGAN on ``ring`` at batch sizes
125 to 4,000 and latent sizes 2 to 256. Nothing here runs in the test suite.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
METHODS = ["veegan", "gan", "ali", "unrolled", "veegan_dae", "pacgan"]
DATASETS = ["ring", "grid", "hd1200"]  # the default run
IMAGE_DATASETS = ["stacked_mnist"]  # opt-in
SCALING_BATCHES = [125, 250, 500, 1000, 2000, 4000]
SCALING_LATENTS = [2, 8, 32, 128, 256]
IMPLEMENTATIONS = ["project", "plain", "jax"]


def set_threads(threads: int) -> None:
    """Must run before torch or JAX is imported. The process is also pinned to ``threads``
    cores: XLA's CPU runtime starts its own worker threads whatever its flags say, and only
    pinning keeps the JAX reference to the same cores as the PyTorch steps."""
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) > threads:
            os.sched_setaffinity(0, cores[:threads])
    os.environ["OMP_NUM_THREADS"] = str(threads)
    flags = os.environ.get("XLA_FLAGS", "")
    if threads == 1 and "intra_op_parallelism_threads" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1".strip()


def jax_available() -> bool:
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


class Runner:
    """One implementation of one configuration: ``run(n)`` takes n steps and waits for them."""

    def __init__(self, implementation: str, config: Any) -> None:
        import torch

        from veegan.backend import runtime
        from veegan.backend.device import resolve_device
        from veegan.data.catalog import make_dataset

        self.implementation, self.torch, self.routes = implementation, torch, None
        self.device = resolve_device(config.runtime.device)
        dataset = make_dataset(config.dataset, config.data_file, config.data_dir).to(self.device)
        torch.manual_seed(config.seed)
        if implementation == "project":
            from veegan.backend.precision import StepPrecision
            from veegan.training.session import build_on
            from veegan.training.trainer import training_step

            runtime.apply(config.runtime)
            self.onednn = torch.backends.mkldnn.matmul.fp32_precision if hasattr(torch.backends.mkldnn, "matmul") else None
            self.routes = config.runtime.cpu_routes
            # emulated_bf16: time bf16 as asked, also where a run would keep fp32 (docs/performance.md)
            precision = StepPrecision(config.runtime.precision, self.device, config.runtime.channels_last, emulated_bf16=True)
            method, optimizer = build_on(config, dataset, self.device)
            precision.prepare(method)
            method.check_batch_size(config.batch_size)
            self.steps = 0

            def step() -> None:
                training_step(method, optimizer, dataset, config.batch_size, self.steps, precision)
                self.steps += 1
            self._step: Callable[[], None] | None = step
        elif implementation == "plain":
            from benchmarks.plain import plain_step

            self.onednn = "none" if hasattr(torch.backends.mkldnn, "matmul") else None  # PyTorch's default
            with torch.device(self.device):  # the straightforward way to put a plain loop on a device
                plain = plain_step(config, dataset)

            def step() -> None:
                with torch.device(self.device):
                    plain.step()
            self._step = step
        else:
            from benchmarks.jax_reference import JaxStep

            self.onednn, self._step = None, None
            self.jax_step = JaxStep(config, dataset, seed=config.seed)

    def run(self, n: int) -> None:
        if self._step is None:
            self.jax_step.run(n)
            return
        if self.onednn is not None:  # a process-wide setting: each implementation brings its own
            self.torch.backends.mkldnn.matmul.fp32_precision = self.onednn
        if self.routes is not None:  # so are the CPU code routes
            from veegan.backend import set_cpu_routes

            set_cpu_routes(self.routes)
        for _ in range(n):
            self._step()
        if self.device.type == "cuda":  # wait for the queued kernels before the clock is read
            self.torch.cuda.synchronize(self.device)
        elif self.device.type == "mps":
            self.torch.mps.synchronize()


def steps_per_second(runners: dict[str, Runner], repeats: int, seconds: float) -> dict[str, float]:
    """Median steps/s of each runner over interleaved rounds of about ``seconds`` each."""
    counts = {}
    for name, runner in runners.items():  # warm-up (compilation, allocator) and calibration
        runner.run(3)
        start = time.perf_counter()
        runner.run(5)
        counts[name] = max(5, int(seconds * 5 / (time.perf_counter() - start)))
    rates: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            runners[name].run(counts[name])
            rates[name].append(counts[name] / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _peak_memory_worker(implementation: str, config_dict: dict, threads: int, queue: Any) -> None:
    set_threads(threads)
    sys.path.insert(0, str(ROOT))
    import torch

    from veegan.configure import build_config

    torch.set_num_threads(threads)
    if implementation == "jax":
        import jax  # noqa: F401
    config = build_config(config_dict)
    Path("/proc/self/clear_refs").write_text("5")  # Linux: reset the peak (VmHWM) to the current RSS
    before = _rss_kib("VmRSS")
    Runner(implementation, config).run(5)
    queue.put((_rss_kib("VmHWM") - before) / 1024)


def peak_memory_mib(implementation: str, config: Any, threads: int) -> float:
    """Peak RSS growth (MiB) of a fresh process that builds the implementation and takes 5 steps."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_peak_memory_worker, args=(implementation, config.to_dict(), threads, queue))
    process.start()
    result = queue.get(timeout=600)
    process.join()
    return result


def measure(config: Any, implementations: list[str], args: argparse.Namespace, memory: bool) -> dict[str, Any]:
    runners = {name: Runner(name, config) for name in implementations}
    rates = steps_per_second(runners, args.repeats, args.seconds)
    record: dict[str, Any] = {
        "method": config.method, "dataset": config.dataset, "batch": config.batch_size,
        "latent_dim": config.model.latent_dim, "threads": args.threads,
        "steps_per_s": rates["project"], "plain_steps_per_s": rates["plain"], "jax_steps_per_s": rates.get("jax"),
    }
    if config.dataset in IMAGE_DATASETS:
        record["conv_width"] = config.model.conv_width
    record["speedup_vs_plain"] = rates["project"] / rates["plain"]
    if args.device != "cpu" and config.dataset not in IMAGE_DATASETS:  # the step's matmuls at the device's peak
        from benchmarks.table_floor import step_flops

        record["floor_steps_per_s"] = args.peak_gflops * 1e9 / step_flops(config.method, config.dataset, config.batch_size)
    record["ratio_to_jax"] = rates["project"] / rates["jax"] if "jax" in rates else None
    if memory:
        for name in implementations:
            key = "peak_mib" if name == "project" else f"{name}_peak_mib"
            record[key] = peak_memory_mib(name, config, args.threads)
    return record


def dataset_config(method: str, dataset: str, args: argparse.Namespace) -> dict[str, Any]:
    """The configuration layers of one (method, dataset): the synthetic datasets at ``--batch``;
    images with Table 2's settings, ``--conv-width`` and ``--mnist``, and without VEEGAN's
    reconstructor pre-training (a transient of the first steps, not the step being timed)."""
    config: dict[str, Any] = {"method": method, "dataset": dataset,
                              "runtime": {"threads": args.threads, "device": args.device}}
    if dataset not in IMAGE_DATASETS:
        return config | {"batch_size": args.batch}
    # the preset comes with the dataset; the steady-state step has no reconstructor pre-training
    options = {"reconstructor_pretrain_steps": 0} if method == "veegan" else {}
    return config | {"model": {"conv_width": args.conv_width}, "method_options": options, "data_dir": args.mnist}


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table_header(memory: bool) -> str:
    header = "| method | dataset | batch | latent | project steps/s | plain steps/s | jax steps/s | x plain | x jax |"
    if memory:
        header += " peak MiB project / plain / jax |"
    return header + "\n|" + "---|" * (header.count("|") - 1)


def table_row(r: dict[str, Any], memory: bool) -> str:
    dataset = f"{r['dataset']} (width {r['conv_width']})" if "conv_width" in r else r["dataset"]
    row = (f"| {r['method']} | {dataset} | {r['batch']} | {r['latent_dim']} | {r['steps_per_s']:.1f} | "
           f"{r['plain_steps_per_s']:.1f} | {fmt(r['jax_steps_per_s'], '.1f')} | {r['speedup_vs_plain']:.2f} | "
           f"{fmt(r['ratio_to_jax'], '.2f')} |")
    if memory:
        row += f" {r['peak_mib']:.0f} / {r['plain_peak_mib']:.0f} / {fmt(r.get('jax_peak_mib'), '.0f')} |"
    if "floor_steps_per_s" in r:
        row += f" floor {r['floor_steps_per_s']:.0f} steps/s |"
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS + IMAGE_DATASETS,
                        help="default: the synthetic ones; stacked_mnist (DCGAN networks, batch 64) is opt-in")
    parser.add_argument("--batch", type=int, default=500, help="batch size of the synthetic datasets (the paper's 500)")
    parser.add_argument("--conv-width", type=int, default=32, help="DCGAN's base width w on images (the paper's 64)")
    parser.add_argument("--mnist", help="folder of the MNIST files (default: veegan's cache, downloading if needed)")
    parser.add_argument("--threads", type=int, default=1, help="threads per process (sweeps use 1 per worker)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds; the median is reported")
    parser.add_argument("--seconds", type=float, default=1.0, help="about how long one timed round lasts")
    parser.add_argument("--scaling", action="store_true", help="also VEEGAN on ring over batch and latent sizes")
    parser.add_argument("--no-jax", action="store_true", help="skip the JAX reference even if installed")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    parser.add_argument("--json", type=Path, help="also write the records to this file")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or mps: both loops on it")
    args = parser.parse_args(argv)

    set_threads(args.threads)
    sys.path.insert(0, str(ROOT))
    import torch

    from veegan.configure import build_config

    torch.set_num_threads(args.threads)
    implementations = IMPLEMENTATIONS if (jax_available() and not args.no_jax) else IMPLEMENTATIONS[:2]
    if "jax" not in implementations and not args.no_jax:
        print("JAX is not installed (pip install -e .[bench]): jax columns are empty")
    memory = not args.no_memory and args.device == "cpu"  # peak RSS says nothing of GPU memory
    print(f"torch {torch.__version__}, {args.threads} thread(s), device {args.device}, "
          f"median of {args.repeats} interleaved rounds")
    if args.device != "cpu":
        implementations = [name for name in implementations if name != "jax"]  # the JAX reference is CPU-only here
        from benchmarks.table_floor import matmul_peak_gflops

        args.peak_gflops, shape = matmul_peak_gflops(args.device)
        print(f"{args.device}: fp32 matmul peak {args.peak_gflops:,.0f} GFLOP/s (at {shape}); a row's floor is its "
              "step's matmul FLOPs at that rate")

    records = []
    print("\n" + table_header(memory))
    for dataset in args.datasets:
        for method in args.methods:
            config = build_config(dataset_config(method, dataset, args))
            records.append(measure(config, implementations, args, memory) | {"sweep": "methods"})
            print(table_row(records[-1], memory), flush=True)
    if args.scaling:
        print("\nVEEGAN on ring over batch and latent sizes\n" + table_header(False))
        sweeps = [("batch", {"batch_size": b}) for b in SCALING_BATCHES]
        sweeps += [("latent", {"model": {"latent_dim": k}}) for k in SCALING_LATENTS]
        for sweep, change in sweeps:
            config = build_config(change, {"runtime": {"threads": args.threads, "device": args.device}})
            records.append(measure(config, implementations, args, memory=False) | {"sweep": sweep})
            print(table_row(records[-1], False), flush=True)
    if args.json:
        args.json.write_text(json.dumps(records, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # noqa: BLE001 - a user error (an unavailable device, a missing file) in one line
        if type(exc).__name__ != "VeeganError":
            raise
        sys.exit(f"steps.py: error: {exc}")
