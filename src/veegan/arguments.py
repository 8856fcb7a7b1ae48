"""The command line's grammar: every subcommand, its options and their help. What each
subcommand does is in :mod:`veegan.cli`."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .errors import VeeganError
from .evaluation.modes import HQ_RULES
from .presets import BEST_METHOD, PRESETS

if TYPE_CHECKING:
    from .experiments.sweep import Launch

PRESET_HELP = ("paper: the authors' settings; robust: the setting that keeps VEEGAN's modes beyond 2-D "
               "(docs/beyond-2d.md); best: the method's pick in the recipe study's screen (docs/recipe.md; the "
               f"study's winner: --method {BEST_METHOD} --preset best). "
               "Default: paper for a built-in dataset; with --data, best for the study's method and robust for the others")


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
    p.add_argument("--out", required=True, metavar="DIR")


def launch_of(args: argparse.Namespace) -> Launch:
    """The sweep options of compare and reproduce (imported here, not at the top: the CLI starts fast)."""
    from .experiments.sweep import Launch

    if args.workers is not None and args.workers < 1:
        raise VeeganError("--workers must be >= 1")
    if args.runs_per_device is not None and args.runs_per_device < 1:
        raise VeeganError("--runs-per-device must be >= 1")
    return Launch(engine=args.engine, ray_address=args.ray_address, quiet=args.quiet, device=args.device,
                  runs_per_device=args.runs_per_device)


DATA_HELP = ("your own table instead of --dataset: CSV or TSV (header detected), Parquet, .npy or .npz; text and "
             "boolean columns are categorical; 20 %% of the rows are held out for evaluation (table.holdout)")


def add_table_arguments(p: argparse.ArgumentParser) -> None:
    """How ``--data`` is read: the columns to train on, a labels column, the header row."""
    p.add_argument("--columns", metavar="A,B,...", help="the columns of --data to train on (default: all but --labels)")
    p.add_argument("--labels", metavar="COLUMN", help="a class column of --data: scored as classes produced, not trained on")
    p.add_argument("--header", choices=("auto", "yes", "no"), help="whether a CSV's first row names its columns (default: auto)")


def table_overrides(args: argparse.Namespace) -> list[str]:
    """``--columns``, ``--labels`` and ``--header`` as ``--set table.KEY=VALUE`` assignments."""
    values = {"columns": args.columns, "labels": args.labels, "header": args.header}
    return [f"table.{key}={value}" for key, value in values.items() if value is not None]


def build_parser() -> argparse.ArgumentParser:
    from .data.catalog import DATASETS
    from .methods import method_names

    methods = f"{', '.join(method_names())}, or FILE.py:Class / module:Class for a method of your own"
    datasets = f"{', '.join(DATASETS.names())}, or {' / '.join(DATASETS.forms())} (a mixture of the family, docs/usage.md)"
    parser = Parser(prog="veegan", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = commands.add_parser("train", help="train one model into a run directory")
    p.add_argument("--method", type=method_argument, metavar="METHOD", help=f"training method: {methods} (default: {BEST_METHOD} with --data, else veegan)")
    p.add_argument("--dataset", type=dataset_argument, metavar="DATASET", help=f"built-in dataset: {datasets} (default: ring)")
    p.add_argument("--data", metavar="FILE", help=DATA_HELP)
    add_table_arguments(p)
    p.add_argument("--data-dir", metavar="DIR", help="folder of an image dataset's files (default: the cache, downloading)")
    p.add_argument("--steps", type=int, help="training iterations")
    p.add_argument("--seed", type=int, help="random seed (default: 0)")
    p.add_argument("--preset", choices=PRESETS, help=PRESET_HELP)
    p.add_argument("--config", metavar="FILE.yaml", help="configuration file (keys as in a run's config.yaml)")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                   help="override one configuration value, e.g. --set optim.lr_generator=2e-4 (repeatable)")
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
    p.add_argument("--seed", type=int, help="sampling seed")
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
    p.add_argument("--steps", type=int, help="training iterations per run")
    p.add_argument("--preset", choices=PRESETS, help=f"every run's preset ({PRESET_HELP})")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[])
    p.add_argument("--results", metavar="DIR", help="keep each finished run's small files (config, metrics, curve) in DIR, "
                                                    "and count the runs kept there as finished")
    p.add_argument("--no-train", action="store_true", help="train nothing; tabulate the runs finished so far (in --out or "
                                                           "--results)")
    add_sweep_arguments(p)
    p = commands.add_parser("reproduce", help="reproduce a table of the paper")
    p.add_argument("table", choices=["table1", "table2", "stabilisers", "beyond2d", "recipe"],
                   help="table1: Section 5.1, synthetic data (with Figure 2); table2: Sections 5.2-5.3, images; "
                        "stabilisers: each adversarial method plain and with EMA, spectral norm or R1; beyond2d: the "
                        "mixture family of 2 to 200 dimensions; recipe: screen objectives and stabilisers, pick one per "
                        "method, evaluate the picks (docs/recipe.md; the last three beyond the paper)")
    p.add_argument("--methods", nargs="+", type=method_argument, metavar="METHOD",
                   help=f"{methods} (default: gan ali unrolled veegan pacgan; table2: those and veegan_dae; "
                   "stabilisers: the six adversarial ones)")
    p.add_argument("--datasets", nargs="+", type=study_set_argument, metavar="DATASET",
                   help="default: ring grid hd1200 (table1), stacked_mnist cifar10 (table2), ring grid (stabilisers), "
                        "the family's 30 members (beyond2d); recipe: the evaluation sets to run (default: all of them; "
                        "the real tables by name: wine penguins digits)")
    p.add_argument("--seeds", type=int, help="seeds per method (default: 5 for table1, 3 for stabilisers, beyond2d and recipe, "
                   "the budget's for table2)")
    p.add_argument("--budget",
                   help="table1 and stabilisers: paper (100,000 steps, batch 500) or quick (default); "
                        "beyond2d: paper (100,000 steps) or quick (10,000, default); table2: paper, digits (the two-stage network, "
                        "docs/table2.md) or cpu (default); "
                        "recipe: the evaluation's, paper (default) or quick")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                   help="beyond2d, recipe: a configuration value for every run (repeatable; steps=N trains N steps "
                        "instead of the budget's)")
    p.add_argument("--screen-only", action="store_true", help="recipe: screen and pick, evaluate nothing")
    p.add_argument("--candidates", nargs="+", metavar="NAME", help="recipe: screen these candidates only (default: all; "
                   "the pick is then among them), e.g. a pick again with --set loss.penalty_every=16")
    p.add_argument("--preset", choices=PRESETS, nargs="+", help="beyond2d: the preset of every run (default: paper); "
                   "several: each one's runs in its own folder, and one table and plot of them all; table2: one, "
                   "best: each method's pick with R3GAN's image gammas")
    p.add_argument("--tag", help="beyond2d: the name of this configuration's folder and table (default: defaults, "
                   "the preset's name, or the --set values joined)")
    p.add_argument("--stabilisers", nargs="+", metavar="SETTING",
                   help="stabilisers: the settings to train (default: plain ema spectral_norm r1; also: all, the three at once)")
    p.add_argument("--steps", metavar="DATASET=N", action="append", default=[],
                   help="table1, and recipe's evaluation: train DATASET for N steps instead of the budget's "
                   "(e.g. hd1200=25000)")
    p.add_argument("--results", metavar="DIR", help="every table: keep each finished run's small files (config, "
                   "metrics, figure samples) in DIR, and count the runs kept there as finished")
    p.add_argument("--no-train", action="store_true",
                   help="every table: train nothing; tabulate the runs finished so far (in --out or --results)")
    p.add_argument("--mnist", metavar="DIR", help="table2: folder of the MNIST files (default: the cache)")
    p.add_argument("--cifar10", metavar="DIR", help="table2: CIFAR-10 python batches or image folders (default: the cache)")
    add_sweep_arguments(p)

    p = commands.add_parser("classifier", help="the MNIST classifier that counts Stacked-MNIST modes")
    actions = p.add_subparsers(dest="action", required=True, parser_class=Parser)
    q = actions.add_parser("train", help="train it on real MNIST and save it")
    q.add_argument("--device", default="auto", help=DEVICE_HELP)
    q.add_argument("--mnist", metavar="DIR", help="folder of the MNIST IDX files (default: the cache, downloading)")
    q.add_argument("--out", metavar="FILE.pt", help="where to save it (default: where Stacked-MNIST scoring looks)")
    q.add_argument("--epochs", type=int, default=5)
    q.add_argument("--seed", type=int, default=0)

    p = commands.add_parser("data", help="look at a built-in dataset: its definition, or real samples of it")
    actions = p.add_subparsers(dest="action", required=True, parser_class=Parser)
    q = actions.add_parser("describe", help="the definition, modes, high-quality radii, scorer and preset")
    q.add_argument("--dataset", type=dataset_argument, metavar="DATASET", required=True, help=datasets)
    q = actions.add_parser("sample", help="write real samples to a .npy file (N x D, or N x C x H x W images in [-1, 1])")
    q.add_argument("--dataset", type=dataset_argument, metavar="DATASET", required=True, help=datasets)
    q.add_argument("--data-dir", metavar="DIR", help="folder of an image dataset's files (default: the cache, downloading)")
    q.add_argument("-n", type=int, required=True, help="number of samples")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--out", required=True, metavar="FILE.npy")

    p = commands.add_parser("config", help="print the resolved configuration as YAML (with the dataset's preset)")
    p.add_argument("--method", type=method_argument, metavar="METHOD", default="veegan", help=methods)
    p.add_argument("--dataset", type=dataset_argument, metavar="DATASET", default="ring", help=f"{datasets} (default: ring)")
    p.add_argument("--preset", choices=PRESETS, help="paper (default), robust or best")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[])
    return parser
