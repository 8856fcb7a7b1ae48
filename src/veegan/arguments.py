"""The command line's grammar: every subcommand, its options and their help (``reproduce``'s
protocols in :mod:`veegan.reproduce_command`). What each subcommand does is in :mod:`veegan.cli`."""
from __future__ import annotations

import argparse
from importlib import metadata
from typing import TYPE_CHECKING, Any

from .errors import VeeganError
from .evaluation.modes import HQ_RULES
from .presets import BEST_METHOD, PRESETS
from .training_length import OWN_DATA_EPOCHS

if TYPE_CHECKING:
    from .experiments.sweep import Launch

DESCRIPTION = ("VEEGAN and the GAN baselines it is compared with: train a model on a built-in dataset or on your own "
               "table, evaluate it, sample from it, compare methods, and reproduce the paper's tables.")
PRESET_NAMES_HELP = ("paper: the authors' settings; robust: the setting that keeps VEEGAN's modes beyond 2-D "
                     "(docs/beyond-2d.md); best: the method's pick in the recipe study's screen (docs/recipe.md; the "
                     f"study's winner: --method {BEST_METHOD} --preset best)")
PRESET_HELP = (f"{PRESET_NAMES_HELP}. Default: paper for a built-in dataset; with --data, best for the study's method "
               "and robust for the others")


class DefaultsFormatter(argparse.HelpFormatter):
    """Help that ends an option's text with its default, where the option has one that the text
    does not state already (a flag's False and an absent value's None are no defaults)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text, default = action.help or "", action.default
        if (not action.option_strings or default is None or default is False or default == []
                or default is argparse.SUPPRESS or "default" in text):
            return text
        shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default)
        return f"{text} (default: {shown.replace('%', '%%')})".lstrip()


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors, each option's default in its help, and no abbreviated
    options (``--data`` is never taken for ``--dataset``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", DefaultsFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def package_version() -> str:
    """The installed package's version (importlib.metadata), else the source tree's."""
    try:
        return metadata.version("veegan")
    except metadata.PackageNotFoundError:
        from .version import __version__

        return __version__


def method_argument(name: str) -> str:
    """A ``--method`` value: a registered method, or ``FILE.py:Class`` / ``module:Class`` loaded now."""
    from .methods import method_class, method_names

    try:
        method_class(name)
    except VeeganError as exc:
        known = "" if ":" in name else f" (choose from {', '.join(method_names())}, or give FILE.py:Class)"
        raise argparse.ArgumentTypeError(f"{exc}{known}") from None
    return name


def dataset_argument(name: str) -> str:
    """A ``--dataset`` value: a built-in dataset, or a member of a family of names (mix-d50-...)."""
    from .data.catalog import DATASETS

    try:
        DATASETS.get(name)
    except VeeganError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return name


def study_set_argument(name: str) -> str:
    """A ``reproduce --datasets`` value: a dataset, or a bundled real table (wine, penguins, ...)."""
    from .data.bundled_tables import BUNDLED_TABLES

    return name if name in BUNDLED_TABLES else dataset_argument(name)


DEVICE_HELP = "auto (default: CUDA if available, else Apple's MPS, else the CPU), cpu, cuda, cuda:N or mps"
TRAINING_GENERATOR_HELP = "a run trained with ema.decay: use the generator as trained, not its average (the default)"


def add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    """Where and how a sweep (compare, reproduce) trains its runs."""
    from .experiments.sweep import RUNS_PER_GPU

    p.add_argument("--workers", type=int, help="parallel worker processes (default: one per core)")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local worker processes (default), or tasks on a Ray cluster (pip install 'veegan[ray]')")
    p.add_argument("--ray-address", metavar="ADDR", help="the Ray cluster to join: auto, or HOST:PORT "
                   "(default: start a Ray instance on this machine); --out must be on storage every node sees")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--device", help="where every run trains: auto (default: CUDA, else Apple's MPS, else the CPU), cpu, "
                   "cuda (the visible GPUs in turn), cuda:N or mps")
    p.add_argument("--runs-per-device", type=int, metavar="K",
                   help=f"runs trained at once on each GPU (default: {RUNS_PER_GPU}); the CPU runs one per worker")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder of the runs, and of the tables and figures")


def launch_of(args: argparse.Namespace) -> Launch:
    """The sweep options of compare and reproduce (imported here, not at the top: the CLI starts fast)."""
    from .experiments.sweep import Launch

    if args.workers is not None and args.workers < 1:
        raise VeeganError("--workers must be >= 1")
    if args.runs_per_device is not None and args.runs_per_device < 1:
        raise VeeganError("--runs-per-device must be >= 1")
    return Launch(engine=args.engine, ray_address=args.ray_address, quiet=args.quiet, device=args.device,
                  runs_per_device=args.runs_per_device)


DATA_HELP = ("your own table instead of --dataset: CSV or TSV (header and delimiter detected; a pandas index column "
             "is left out), Parquet, .npy or .npz; text and boolean columns are categorical; 20 %% of the rows are held "
             "out for evaluation (table.holdout)")


def add_table_arguments(p: argparse.ArgumentParser) -> None:
    """How ``--data`` is read: the columns to train on, a labels column, the header row."""
    p.add_argument("--columns", metavar="A,B,...", help="the columns of --data to train on (default: all)")
    p.add_argument("--exclude", metavar="A,B,...", help="columns of --data to leave out, the others kept (table.exclude)")
    p.add_argument("--labels", metavar="COLUMN", help="a class column of --data: trained on as categories and scored as classes "
                   "produced (--set table.train_labels=false: scored only, left out of the samples)")
    p.add_argument("--header", choices=("auto", "yes", "no"), help="whether a CSV's first row names its columns (default: auto)")


def table_overrides(args: argparse.Namespace) -> list[str]:
    """``--columns``, ``--exclude``, ``--labels`` and ``--header`` as ``--set table.KEY=VALUE`` assignments."""
    values = {"columns": args.columns, "exclude": args.exclude, "labels": args.labels, "header": args.header}
    return [f"table.{key}={value}" for key, value in values.items() if value is not None]


def add_run_arguments(p: argparse.ArgumentParser, methods: str, datasets: str) -> None:
    """What a run trains, as ``train`` and ``config`` take it: the method, the dataset or table,
    the preset and ``--set`` values."""
    p.add_argument("--method", type=method_argument, metavar="METHOD",
                   help=f"training method: {methods} (default: {BEST_METHOD} with --data, else veegan)")
    p.add_argument("--dataset", type=dataset_argument, metavar="DATASET", help=f"built-in dataset: {datasets} (default: ring)")
    p.add_argument("--data", metavar="FILE", help=DATA_HELP)
    add_table_arguments(p)
    p.add_argument("--preset", choices=PRESETS, help=PRESET_HELP)
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                   help="override one configuration value, e.g. --set optim.lr_generator=2e-4 (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    from .data.catalog import DATASETS
    from .methods import method_names
    from .reproduce_command import add_reproduce_parser

    methods = f"{', '.join(method_names())}, or FILE.py:Class / module:Class for a method of your own"
    datasets = f"{', '.join(DATASETS.names())}, or {' / '.join(DATASETS.forms())} (a mixture of the family, docs/usage.md)"
    parser = Parser(prog="veegan", description=DESCRIPTION, epilog="`veegan COMMAND --help` shows a command's options.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    p = commands.add_parser("train", help="train one model into a run directory",
                            description="Train one model into a run directory: on a built-in dataset, or with --data FILE on "
                                        f"your own table, {OWN_DATA_EPOCHS:,.0f} passes over its training rows (at most 100,000 steps) "
                                        "unless --steps N says otherwise.")
    add_run_arguments(p, methods, datasets)
    p.add_argument("--data-dir", metavar="DIR", help="folder of an image dataset's files (default: the cache, downloading)")
    p.add_argument("--steps", type=int, metavar="N", help="training iterations (default: 100,000, the authors' count; 50,000 on "
                   f"images; with --data, {OWN_DATA_EPOCHS:,.0f} passes over the training rows, at most 100,000 steps: "
                   "--set epochs=E to change them): give fewer for a first look, e.g. --steps 5000")
    p.add_argument("--seed", type=int, help="random seed (default: 0)")
    p.add_argument("--config", metavar="FILE.yaml", help="configuration file (keys as in a run's config.yaml)")
    p.add_argument("--out", required=True, metavar="DIR", help="run directory")
    p.add_argument("--resume", action="store_true", help="continue the run in DIR from its last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace a run that DIR already holds")
    p.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    p.add_argument("--device", help="runtime.device: " + DEVICE_HELP)
    p.add_argument("--precision", choices=["fp32", "bf16", "fp16"],
                   help="runtime.precision of the training step: fp32 (default), bf16 (CPU with AVX512-BF16/AMX, "
                        "or CUDA) or fp16 (CUDA); evaluation is always fp32")

    p = commands.add_parser("evaluate", help="print the metrics of a trained run beside the real data")
    p.add_argument("run_dir", metavar="DIR")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--training-generator", action="store_true", help=TRAINING_GENERATOR_HELP)
    p.add_argument("--samples", type=int, help="number of samples (default: the run's eval_samples)")
    p.add_argument("--seed", type=int, help="sampling seed (default: that of the run's final evaluation)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--hq-rule", choices=HQ_RULES, default="calibrated",
                   help="high-quality rule of a mixture's metrics: the calibrated radius (default) or the paper's "
                        "3 std in 2-D, 10 std above (docs/protocol.md)")

    p = commands.add_parser("diagnose", help="look inside a trained run on one batch: which term drives G, whether "
                                             "D wins outright, the latent sides' spread, G's scale against the data's")
    p.add_argument("run_dirs", metavar="DIR", nargs="+", help="a run, or several: then a table, one column per run")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--batch", type=int, help="batch size (default: the run's)")
    p.add_argument("--seed", type=int, default=0, help="seed of the batch's draws (default: 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = commands.add_parser("sample", help="write generator samples to a file (.npy; a table's also .csv, .tsv, .parquet)")
    p.add_argument("run_dir", metavar="DIR")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--training-generator", action="store_true", help=TRAINING_GENERATOR_HELP)
    p.add_argument("-n", type=int, required=True, help="number of samples")
    p.add_argument("--seed", type=int, help="sampling seed (default: a fresh draw each time)")
    p.add_argument("--where", metavar="COLUMN=VALUE", action="append", default=[],
                   help="a run on a table: only rows whose categorical column holds VALUE, as sample writes it "
                        "(repeatable: every condition at once); drawn by rejection from the generator")
    p.add_argument("--max-draws", type=int, metavar="N", help="with --where: the generator draws to try before giving up "
                   "(default: 1,000,000 or 100 per row asked, the larger)")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="FILE.npy, or for a run on a table FILE.csv, .tsv or .parquet: the table's columns and units")

    p = commands.add_parser("encode", help="map data to noise with the reconstructor (paper Appendix D)")
    p.add_argument("run_dir", metavar="DIR")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--data", required=True, metavar="FILE",
                   help="for a run on a table, a table with its columns (read as in training); for an image run, "
                        "N x C x H x W images in [-1, 1] (.npy); otherwise N x D data (.npy or .csv)")
    p.add_argument("--out", required=True, metavar="FILE.npy")

    p = commands.add_parser("compare", help="train several methods on one dataset and plot them side by side")
    p.add_argument("--methods", nargs="+", type=method_argument, metavar="METHOD", default=["gan", "veegan"],
                   help=f"{methods} (default: gan veegan)")
    p.add_argument("--dataset", type=dataset_argument, metavar="DATASET", default="ring", help=f"{datasets} (default: ring)")
    p.add_argument("--data", metavar="FILE", help=DATA_HELP)
    add_table_arguments(p)
    p.add_argument("--pairs", nargs="+", metavar="A:B", default=[],
                   help="with --data: column pairs to plot, real against generated, beside the principal components")
    p.add_argument("--seeds", type=int, default=1, help="seeds per method (0, 1, ...)")
    p.add_argument("--steps", type=int, metavar="N", help="training iterations per run (default: 100,000; 50,000 on images; "
                   f"with --data, {OWN_DATA_EPOCHS:,.0f} passes over the training rows, at most 100,000 steps)")
    p.add_argument("--preset", choices=PRESETS, help=f"every run's preset ({PRESET_HELP})")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                   help="a configuration value for every run (repeatable)")
    p.add_argument("--results", metavar="DIR", help="keep each finished run's small files (config, metrics, curve) in DIR, "
                                                    "and count the runs kept there as finished")
    p.add_argument("--no-train", action="store_true", help="train nothing; tabulate the runs finished so far (in --out or "
                                                           "--results)")
    add_sweep_arguments(p)
    add_reproduce_parser(commands)

    p = commands.add_parser("classifier", help="the MNIST classifier that counts Stacked-MNIST modes")
    actions = p.add_subparsers(dest="action", required=True, parser_class=Parser)
    q = actions.add_parser("train", help="train it on real MNIST and save it")
    q.add_argument("--device", default="auto", help=DEVICE_HELP)
    q.add_argument("--mnist", metavar="DIR", help="folder of the MNIST IDX files (default: the cache, downloading)")
    q.add_argument("--out", metavar="FILE.pt", help="where to save it (default: where Stacked-MNIST scoring looks)")
    q.add_argument("--epochs", type=int, default=5, help="passes over the 60,000 training images")
    q.add_argument("--seed", type=int, default=0, help="random seed")

    p = commands.add_parser("data", help="look at a built-in dataset: its definition, or real samples of it")
    actions = p.add_subparsers(dest="action", required=True, parser_class=Parser)
    q = actions.add_parser("describe", help="the definition, modes, high-quality radii, scorer and preset")
    q.add_argument("--dataset", type=dataset_argument, metavar="DATASET", required=True, help=datasets)
    q = actions.add_parser("sample", help="write real samples to a .npy file (N x D, or N x C x H x W images in [-1, 1])")
    q.add_argument("--dataset", type=dataset_argument, metavar="DATASET", required=True, help=datasets)
    q.add_argument("--data-dir", metavar="DIR", help="folder of an image dataset's files (default: the cache, downloading)")
    q.add_argument("-n", type=int, required=True, help="number of samples")
    q.add_argument("--seed", type=int, default=0, help="sampling seed")
    q.add_argument("--out", required=True, metavar="FILE.npy")

    p = commands.add_parser("config", help="print the configuration that train would use, as YAML (with the dataset's or "
                                           "the table's preset)",
                            description="Print the configuration that `veegan train` with the same options would use, as "
                                        "YAML: the defaults, the dataset's or the table's preset, and your --set values.")
    add_run_arguments(p, methods, datasets)
    return parser
