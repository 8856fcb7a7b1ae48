"""The project's training step at another git revision against the working tree, in one
process: both versions are imported side by side (the other one as a package of another name),
and their steps are timed in interleaved rounds, so a busy machine slows both alike.

    python benchmarks/versions_ab.py --base REV [--methods ...] [--datasets ring hd1200] [--repeats 7]

It prints steps/s of each version and their ratio (working tree / base) per (method, dataset),
at the paper's batch of 500 on one pinned thread. It knows this layout and the flat layout of
0.1.x (``veegan.trainer``, ``veegan.datasets``, ...). Nothing here runs in the test suite.
"""
from __future__ import annotations

import argparse
import importlib
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.steps import DATASETS, METHODS, set_threads, steps_per_second  # noqa: E402


def import_revision(rev: str, into: Path) -> ModuleType:
    """``src/veegan`` at ``rev`` (``git archive``), imported as the package ``veegan_base``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src/veegan"], check=True, capture_output=True).stdout
    tarfile.open(fileobj=io.BytesIO(archive)).extractall(into, filter="data")
    (into / "src" / "veegan").rename(into / "veegan_base")
    sys.path.insert(0, str(into))
    return importlib.import_module("veegan_base")


def entry_points(package: str) -> dict[str, Any]:
    """build_config, make_dataset, build_method, make_optimizer, training_step and runtime.apply
    of ``package``, in whichever layout it has."""
    def find(*paths: str) -> Any:
        for path in paths:
            module, _, name = path.rpartition(".")
            try:
                return getattr(importlib.import_module(f"{package}.{module}"), name)
            except (ImportError, AttributeError):
                continue
        raise ImportError(f"{package} has none of {paths}")

    return {
        "build_config": find("configure.build_config", "config.build_config"),
        "make_dataset": find("data.catalog.make_dataset", "datasets.make_dataset"),
        "build_method": find("methods.build_method"),
        "make_optimizer": find("training.trainer.make_optimizer", "trainer.make_optimizer"),
        "training_step": find("training.trainer.training_step", "trainer.training_step"),
        "apply_runtime": find("backend.runtime.apply", "runtime.apply"),
    }


class VersionRunner:
    """One version's training step on one configuration: ``run(n)`` takes n steps."""

    def __init__(self, package: str, method: str, dataset: str, batch: int) -> None:
        import torch

        api = entry_points(package)
        config = api["build_config"]({"method": method, "dataset": dataset, "batch_size": batch, "runtime": {"threads": 1}})
        api["apply_runtime"](config.runtime)
        self.dataset = api["make_dataset"](config.dataset)
        torch.manual_seed(0)
        self.method = api["build_method"](config.method, self.dataset.shape, config.model, config.method_options)
        self.optimizer = api["make_optimizer"](self.method, config)
        self.training_step, self.batch, self.steps = api["training_step"], batch, 0

    def run(self, n: int) -> None:
        for _ in range(n):
            self.training_step(self.method, self.optimizer, self.dataset, self.batch, self.steps)
            self.steps += 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the git revision to compare the working tree with")
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds; the median is reported")
    parser.add_argument("--seconds", type=float, default=1.0, help="about how long one timed round lasts")
    args = parser.parse_args(argv)
    set_threads(1)
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        import_revision(args.base, Path(tmp))
        sys.path.insert(0, str(ROOT / "src"))
        print(f"torch {torch.__version__}, 1 thread, median of {args.repeats} interleaved rounds; base {args.base}\n")
        print("| method | dataset | base steps/s | working tree steps/s | x base |\n|---|---|---|---|---|")
        for dataset in args.datasets:
            for method in args.methods:
                runners = {name: VersionRunner(package, method, dataset, args.batch)
                           for name, package in (("base", "veegan_base"), ("tree", "veegan"))}
                rates = steps_per_second(runners, args.repeats, args.seconds)
                print(f"| {method} | {dataset} | {rates['base']:.1f} | {rates['tree']:.1f} | "
                      f"{rates['tree'] / rates['base']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
