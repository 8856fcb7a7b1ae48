"""Command line: ``veegan train | evaluate | sample | encode | compare | reproduce | classifier | data | config``.

Every user error ends in one line on stderr and exit status 2, never a traceback; a run that
diverges (a non-finite loss or parameters) ends the same way with exit status 3."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .arguments import build_parser, launch_of, table_overrides
from .console import INTERRUPTED_WHILE_STARTING
from .reproduce_command import cmd_reproduce
from .errors import VeeganError

if TYPE_CHECKING:
    import pandas as pd


def cmd_classifier(args: argparse.Namespace) -> None:
    from .data.mnist import mnist_root
    from .backend.device import resolve_device
    from .evaluation.classifier import default_path, train_classifier

    if args.epochs < 1:
        raise VeeganError("--epochs must be >= 1")
    out = Path(args.out) if args.out else default_path()
    result = train_classifier(mnist_root(args.mnist), out, epochs=args.epochs, seed=args.seed,
                              device=resolve_device(args.device))
    print(f"MNIST test accuracy {100 * result['test_accuracy']:.2f} % after {result['epochs']} epochs "
          f"({result['seconds']:.0f} s); wrote {out}")


def cmd_config(args: argparse.Namespace) -> None:
    import yaml

    from .configure import resolve_config

    if args.data is not None and not Path(args.data).is_file():
        raise VeeganError(f"data file {args.data} does not exist")
    config = resolve_config(method=args.method, dataset=args.dataset, data=args.data,
                            overrides=table_overrides(args) + args.overrides, preset=args.preset)
    print(yaml.safe_dump(config.to_dict(), sort_keys=False), end="")


def cmd_train(args: argparse.Namespace) -> None:
    from .api import train
    from .training import distributed

    try:
        device = [f"runtime.device={args.device}"] if args.device else []
        device += [f"runtime.precision={args.precision}"] if args.precision else []
        train(args.method, args.dataset, out=args.out, data=args.data, data_dir=args.data_dir, steps=args.steps,
              seed=args.seed, config_file=args.config, overrides=table_overrides(args) + args.overrides + device,
              preset=args.preset, resume=args.resume,
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
    run = load(args.run_dir, device=args.device, average=not args.training_generator)
    result = under_rule(run.evaluate(args.samples, args.seed), args.hq_rule)
    if args.json:
        print(json.dumps({"method": run.config.method, "dataset": run.dataset.name, "step": run.step, **result}))
    else:
        print(f"{run.config.method} on {run.dataset.name}, step {run.step}, {result['samples']} samples")
        print(format_metrics(result))


def cmd_diagnose(args: argparse.Namespace) -> None:
    from .api import load
    from .evaluation.diagnostics import diagnose, diagnostics_table, format_diagnostics

    if args.batch is not None and args.batch < 2:
        raise VeeganError("--batch must be >= 2")
    columns = {}
    for run_dir in args.run_dirs:
        run = load(run_dir, device=args.device, average=False)  # training's view: the generator as trained
        run.method.check_batch_size(args.batch or run.config.batch_size)
        values = diagnose(run.method, run.dataset, args.batch or run.config.batch_size, run.step, args.seed)
        if args.json:
            print(json.dumps({"run": run_dir, "method": run.config.method, "dataset": run.dataset.name, "step": run.step,
                              **values}))
        elif len(args.run_dirs) == 1:
            print(f"{run.config.method} on {run.dataset.name}, step {run.step}, one batch of {args.batch or run.config.batch_size}")
            print(format_diagnostics(values))
        else:
            columns[run_dir] = values
    if columns:
        print(diagnostics_table(columns))


def cmd_sample(args: argparse.Namespace) -> None:
    from .api import load
    from .conditional import parse_where

    if args.n < 1:
        raise VeeganError("-n must be >= 1")
    where = parse_where(args.where)
    run = load(args.run_dir, device=args.device, average=not args.training_generator)
    found = run.where_conditions(where)  # a bad --where fails before the output file is looked at
    out = _output_path(args.out, TABLE_OUTPUTS if run.encoding is not None else (".npy",))
    samples = run.sample(args.n, args.seed, where=where, max_draws=args.max_draws)
    if run.encoding is None:
        np.save(out, samples)
        return
    write_table(samples, out)
    kind = f" with {', '.join(map(str, found))}" if found else ""
    print(f"wrote {args.n} samples{kind} of {len(samples.columns)} columns ({', '.join(samples.columns[:8])}"
          f"{', ...' if len(samples.columns) > 8 else ''}) to {out}")


def cmd_encode(args: argparse.Namespace) -> None:
    from .api import load
    from .data.arrays import load_array
    from .data.table_files import read_table

    run = load(args.run_dir, device=args.device)
    out = _output_path(args.out)
    if run.encoding is not None:  # a table: read as in training, the trained columns picked by name
        table = run.config.table
        data = read_table(args.data, table.header, table.delimiter, drop_index=table.drop_index,
                          comma_numbers=table.comma_numbers)
    else:
        data = load_array(args.data, run.dataset.shape)
    np.save(out, run.encode(data))


def cmd_compare(args: argparse.Namespace) -> None:
    from .experiments.compare import compare

    if args.seeds < 1:
        raise VeeganError("--seeds must be >= 1")
    if args.data is None and (args.pairs or table_overrides(args)):
        raise VeeganError("--columns, --exclude, --labels, --header and --pairs describe a table: give it with --data FILE")
    compare(args.methods, args.dataset, data=args.data, pairs=args.pairs, seeds=args.seeds, steps=args.steps,
            overrides=table_overrides(args) + args.overrides, results=args.results, preset=args.preset,
            workers=args.workers, launch=launch_of(args), out=args.out, train=not args.no_train)


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


TABLE_OUTPUTS = (".csv", ".tsv", ".parquet", ".npy")


def write_table(frame: "pd.DataFrame", out: Path) -> None:
    """A table's samples in the format its file name ends in; .npy only when every column is a number."""
    if out.suffix == ".npy":
        kinds = {name: frame[name].dtype for name in frame.columns if frame[name].dtype.kind not in "iuf"}
        if kinds:
            raise VeeganError(f"{out}: a .npy file holds numbers only, and column(s) {', '.join(kinds)} hold categories: "
                              "write .csv or .parquet")
        np.save(out, frame.to_numpy(dtype=np.float64))
    elif out.suffix == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False, sep="\t" if out.suffix == ".tsv" else ",")


def _output_path(path: str, suffixes: tuple[str, ...] = (".npy",)) -> Path:
    out = Path(path)
    if out.suffix not in suffixes:
        raise VeeganError(f"output file {out} must end in {' or '.join(suffixes)}")
    if not out.parent.is_dir():
        raise VeeganError(f"directory {out.parent} does not exist")
    return out


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "diagnose": cmd_diagnose, "sample": cmd_sample, "encode": cmd_encode,
            "compare": cmd_compare, "reproduce": cmd_reproduce, "classifier": cmd_classifier, "data": cmd_data,
            "config": cmd_config}


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default: sys.argv[1:]); return its exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error that argparse has printed
        return int(exc.code or 0)
    except KeyboardInterrupt:  # while the parser imports what its choices name
        print(INTERRUPTED_WHILE_STARTING, file=sys.stderr)
        return 130
    try:
        COMMANDS[args.command](args)
    except VeeganError as exc:
        print(f"veegan: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_status", 2)
    except OSError as exc:  # a file that cannot be written or read: say which
        print(f"veegan: error: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        from tqdm import tqdm

        tqdm.write(interrupted_message(args), file=sys.stderr)  # on a line of its own, below any progress bar
        return 130
    return 0


def interrupted_message(args: argparse.Namespace) -> str:
    """What a Ctrl-C leaves: a single run's checkpoint (if it got as far as one), or a sweep's
    finished runs and the checkpoints of those cut off."""
    from .training.checkpoint import CHECKPOINT_NAME

    if args.command == "train":
        if (Path(args.out) / CHECKPOINT_NAME).is_file():
            return "veegan: interrupted; the last checkpoint is kept (continue with --resume)"
        return "veegan: interrupted before the run's first checkpoint; nothing to resume"
    if args.command in ("compare", "reproduce"):
        return ("veegan: interrupted; run the same command again to go on (finished runs are skipped; a run cut off "
                "resumes from its checkpoint, if it saved one)")
    return "veegan: interrupted"


if __name__ == "__main__":
    sys.exit(main())
