"""Command line: ``veegan train | evaluate | sample | encode | compare | reproduce | classifier | data | config``.

Every user error ends in one line on stderr and exit status 2, never a traceback; a run that
diverges (a non-finite loss or parameters) ends the same way with exit status 3."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .errors import VeeganError
from .evaluation.modes import HQ_RULES


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def method_argument(name: str) -> str:
    """A ``--method`` value: a registered method, or ``FILE.py:Class`` / ``module:Class`` loaded now."""
    from .methods import method_class, method_names

    try:
        method_class(name)
    except VeeganError as exc:
        known = "" if ":" in name else f" (choose from {', '.join(method_names())}, or give FILE.py:Class)"
        raise argparse.ArgumentTypeError(f"{exc}{known}") from None
    return name


def build_parser() -> argparse.ArgumentParser:
    from .data.catalog import DATASETS
    from .methods import method_names

    methods = f"{', '.join(method_names())}, or FILE.py:Class / module:Class for a method of your own"
    parser = Parser(prog="veegan", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = commands.add_parser("train", help="train one model into a run directory")
    p.add_argument("--method", type=method_argument, metavar="METHOD", help=f"training method: {methods} (default: veegan)")
    p.add_argument("--dataset", choices=DATASETS.names(), help="built-in dataset (default: ring)")
    p.add_argument("--data", metavar="FILE", help="your own N x D data (.npy or .csv) instead of --dataset")
    p.add_argument("--data-dir", metavar="DIR", help="folder of an image dataset's files (default: the cache, downloading)")
    p.add_argument("--steps", type=int, help="training iterations")
    p.add_argument("--seed", type=int, help="random seed (default: 0)")
    p.add_argument("--config", metavar="FILE.yaml", help="configuration file (keys as in a run's config.yaml)")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                   help="override one configuration value, e.g. --set optim.lr_generator=2e-4 (repeatable)")
    p.add_argument("--out", required=True, metavar="DIR", help="run directory")
    p.add_argument("--resume", action="store_true", help="continue the run in DIR from its last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace a run that DIR already holds")
    p.add_argument("--quiet", action="store_true", help="no progress bar or messages")

    p = commands.add_parser("evaluate", help="print the metrics of a trained run beside the real data")
    p.add_argument("run_dir", metavar="DIR")
    p.add_argument("--samples", type=int, help="number of samples (default: the run's eval_samples)")
    p.add_argument("--seed", type=int, help="sampling seed (default: that of the run's final evaluation)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--hq-rule", choices=HQ_RULES, default="calibrated",
                   help="high-quality rule of a mixture's metrics: the calibrated radius (default) or the paper's "
                        "3 std in 2-D, 10 std above (docs/protocol.md)")

    p = commands.add_parser("sample", help="write generator samples to a .npy file")
    p.add_argument("run_dir", metavar="DIR")
    p.add_argument("-n", type=int, required=True, help="number of samples")
    p.add_argument("--seed", type=int, help="sampling seed")
    p.add_argument("--out", required=True, metavar="FILE.npy")

    p = commands.add_parser("encode", help="map data to noise with the reconstructor (paper Appendix D)")
    p.add_argument("run_dir", metavar="DIR")
    p.add_argument("--data", required=True, metavar="FILE",
                   help="N x D data (.npy or .csv); for an image run, N x C x H x W images in [-1, 1] (.npy)")
    p.add_argument("--out", required=True, metavar="FILE.npy")

    p = commands.add_parser("compare", help="train several methods on one dataset and plot them side by side")
    p.add_argument("--methods", nargs="+", type=method_argument, metavar="METHOD", default=["gan", "veegan"],
                   help=f"{methods} (default: gan veegan)")
    p.add_argument("--dataset", choices=DATASETS.names(), default="ring")
    p.add_argument("--seeds", type=int, default=1, help="seeds per method (0, 1, ...)")
    p.add_argument("--steps", type=int, help="training iterations per run")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[])
    p.add_argument("--workers", type=int, help="parallel worker processes (default: one per core)")
    p.add_argument("--out", required=True, metavar="DIR")
    p = commands.add_parser("reproduce", help="reproduce a table of the paper")
    p.add_argument("table", choices=["table1", "table2"],
                   help="table1: Section 5.1, synthetic data (with Figure 2); table2: Sections 5.2-5.3, images")
    p.add_argument("--methods", nargs="+", type=method_argument, metavar="METHOD",
                   help=f"{methods} (default: gan ali unrolled veegan pacgan)")
    p.add_argument("--datasets", nargs="+", choices=DATASETS.names(),
                   help="default: ring grid hd1200 (table1), stacked_mnist cifar10 (table2)")
    p.add_argument("--seeds", type=int, help="seeds per method (default: 5 for table1, the budget's for table2)")
    p.add_argument("--budget", choices=["paper", "quick", "cpu"],
                   help="table1: paper (100,000 steps, batch 500) or quick (default); table2: paper or cpu (default)")
    p.add_argument("--steps", metavar="DATASET=N", action="append", default=[],
                   help="table1: train DATASET for N steps instead of the budget's (e.g. hd1200=25000)")
    p.add_argument("--results", metavar="DIR", help="table1: keep each finished run's small files (config, "
                   "metrics, figure samples) in DIR, and count the runs kept there as finished")
    p.add_argument("--no-train", action="store_true",
                   help="table1: train nothing; tabulate the runs finished so far (in --out or --results)")
    p.add_argument("--mnist", metavar="DIR", help="table2: folder of the MNIST files (default: the cache)")
    p.add_argument("--cifar10", metavar="DIR", help="table2: CIFAR-10 python batches or image folders (default: the cache)")
    p.add_argument("--workers", type=int, help="parallel worker processes (default: one per core)")
    p.add_argument("--out", required=True, metavar="DIR")

    p = commands.add_parser("classifier", help="the MNIST classifier that counts Stacked-MNIST modes")
    actions = p.add_subparsers(dest="action", required=True, parser_class=Parser)
    q = actions.add_parser("train", help="train it on real MNIST and save it")
    q.add_argument("--mnist", metavar="DIR", help="folder of the MNIST IDX files (default: the cache, downloading)")
    q.add_argument("--out", metavar="FILE.pt", help="where to save it (default: where Stacked-MNIST scoring looks)")
    q.add_argument("--epochs", type=int, default=5)
    q.add_argument("--seed", type=int, default=0)

    p = commands.add_parser("data", help="look at a built-in dataset: its definition, or real samples of it")
    actions = p.add_subparsers(dest="action", required=True, parser_class=Parser)
    q = actions.add_parser("describe", help="the definition, modes, high-quality radii, scorer and preset")
    q.add_argument("--dataset", choices=DATASETS.names(), required=True)
    q = actions.add_parser("sample", help="write real samples to a .npy file (N x D, or N x C x H x W images in [-1, 1])")
    q.add_argument("--dataset", choices=DATASETS.names(), required=True)
    q.add_argument("--data-dir", metavar="DIR", help="folder of an image dataset's files (default: the cache, downloading)")
    q.add_argument("-n", type=int, required=True, help="number of samples")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--out", required=True, metavar="FILE.npy")

    p = commands.add_parser("config", help="print the resolved configuration as YAML (with the dataset's preset)")
    p.add_argument("--method", type=method_argument, metavar="METHOD", default="veegan", help=methods)
    p.add_argument("--dataset", choices=DATASETS.names(), default="ring")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[])
    return parser


def cmd_reproduce(args: argparse.Namespace) -> None:
    if args.seeds is not None and args.seeds < 1:
        raise VeeganError("--seeds must be >= 1")
    if args.table == "table1":
        from .experiments.table1 import BUDGETS, TABLE1_DATASETS, TABLE1_METHODS, reproduce_table1

        budget = _budget(args.budget or "quick", BUDGETS, "table1")
        reproduce_table1(out=args.out, methods=args.methods or TABLE1_METHODS, datasets=args.datasets or TABLE1_DATASETS,
                         seeds=args.seeds or 5, budget=budget, workers=args.workers, steps=_dataset_steps(args.steps),
                         results=args.results, train=not args.no_train)
    else:
        if args.steps or args.results or args.no_train:
            raise VeeganError("--steps, --results and --no-train are options of table1 only")
        from .experiments.table2 import BUDGETS as IMAGE_BUDGETS
        from .experiments.table2 import TABLE2_DATASETS, TABLE2_METHODS, reproduce_table2

        budget = _budget(args.budget or "cpu", IMAGE_BUDGETS, "table2")
        reproduce_table2(out=args.out, methods=args.methods or TABLE2_METHODS, datasets=args.datasets or TABLE2_DATASETS,
                         seeds=args.seeds, budget=budget, workers=args.workers, mnist_dir=args.mnist,
                         cifar10_dir=args.cifar10)


def _dataset_steps(assignments: list[str]) -> dict[str, int]:
    """['hd1200=25000'] -> {'hd1200': 25000}, with a one-line error for anything else."""
    steps = {}
    for text in assignments:
        dataset, _, value = text.partition("=")
        if not value.isdigit() or int(value) < 1:
            raise VeeganError(f"--steps wants DATASET=N with N a positive integer, not {text!r}")
        steps[dataset] = int(value)
    return steps


def _budget(name: str, budgets: dict, table: str) -> str:
    if name not in budgets:
        raise VeeganError(f"{table} has no budget {name!r}; choose {' or '.join(budgets)}")
    return name


def cmd_classifier(args: argparse.Namespace) -> None:
    from .data.mnist import mnist_root
    from .evaluation.classifier import default_path, train_classifier

    if args.epochs < 1:
        raise VeeganError("--epochs must be >= 1")
    out = Path(args.out) if args.out else default_path()
    result = train_classifier(mnist_root(args.mnist), out, epochs=args.epochs, seed=args.seed)
    print(f"MNIST test accuracy {100 * result['test_accuracy']:.2f} % after {result['epochs']} epochs "
          f"({result['seconds']:.0f} s); wrote {out}")


def cmd_config(args: argparse.Namespace) -> None:
    import yaml

    from .configure import resolve_config

    config = resolve_config(method=args.method, dataset=args.dataset, overrides=args.overrides)
    print(yaml.safe_dump(config.to_dict(), sort_keys=False), end="")


def cmd_train(args: argparse.Namespace) -> None:
    from .api import train
    from .training import distributed

    try:
        train(args.method, args.dataset, out=args.out, data=args.data, data_dir=args.data_dir, steps=args.steps,
              seed=args.seed, config_file=args.config, overrides=args.overrides, resume=args.resume,
              overwrite=args.overwrite, progress=not args.quiet)
        if not args.quiet and distributed.is_main():
            print(f"wrote {args.out}")
    finally:
        distributed.teardown()


def cmd_evaluate(args: argparse.Namespace) -> None:
    from .api import load
    from .evaluation.evaluate import format_metrics
    from .evaluation.modes import under_rule

    if args.samples is not None and args.samples < 1:
        raise VeeganError("--samples must be >= 1")
    run = load(args.run_dir)
    result = under_rule(run.evaluate(args.samples, args.seed), args.hq_rule)
    if args.json:
        print(json.dumps({"method": run.config.method, "dataset": run.dataset.name, "step": run.step, **result}))
    else:
        print(f"{run.config.method} on {run.dataset.name}, step {run.step}, {result['samples']} samples")
        print(format_metrics(result))


def cmd_sample(args: argparse.Namespace) -> None:
    from .api import load

    if args.n < 1:
        raise VeeganError("-n must be >= 1")
    np.save(_output_path(args.out), load(args.run_dir).sample(args.n, args.seed))


def cmd_encode(args: argparse.Namespace) -> None:
    from .api import load
    from .data.arrays import load_array

    run = load(args.run_dir)
    np.save(_output_path(args.out), run.encode(load_array(args.data, run.dataset.shape)))


def cmd_compare(args: argparse.Namespace) -> None:
    from .experiments.compare import compare

    if args.seeds < 1:
        raise VeeganError("--seeds must be >= 1")
    compare(args.methods, args.dataset, seeds=args.seeds, steps=args.steps, overrides=args.overrides,
            workers=args.workers, out=args.out)


def cmd_data(args: argparse.Namespace) -> None:
    import torch

    from .data.catalog import describe, make_dataset

    if args.action == "describe":
        print(describe(args.dataset))
        return
    if args.n < 1:
        raise VeeganError("-n must be >= 1")
    out = _output_path(args.out)
    dataset = make_dataset(args.dataset, data_dir=args.data_dir and str(Path(args.data_dir).resolve()))
    np.save(out, dataset.sample(args.n, torch.Generator().manual_seed(args.seed)).numpy())
    print(f"wrote {args.n} samples of {dataset.name}, shape {(args.n, *dataset.shape)}, to {out}")


def _output_path(path: str) -> Path:
    out = Path(path)
    if out.suffix != ".npy":
        raise VeeganError(f"output file {out} must end in .npy")
    if not out.parent.is_dir():
        raise VeeganError(f"directory {out.parent} does not exist")
    return out


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "sample": cmd_sample, "encode": cmd_encode,
            "compare": cmd_compare, "reproduce": cmd_reproduce, "classifier": cmd_classifier, "data": cmd_data,
            "config": cmd_config}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except VeeganError as exc:
        print(f"veegan: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_status", 2)
    except OSError as exc:  # a file that cannot be written or read: say which
        print(f"veegan: error: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("veegan: interrupted; the last checkpoint is kept (continue with --resume)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
