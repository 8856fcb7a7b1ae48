"""``veegan reproduce TABLE``: the paper's tables and the studies beyond them, each an
experiment of :mod:`veegan.experiments` with a sub-command of its own: its options, its help
and its defaults. Every one takes the sweep options, ``--steps`` (a short run) and ``--results``."""
from __future__ import annotations

import argparse
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

from .arguments import (PRESET_NAMES_HELP, Parser, add_sweep_arguments, dataset_argument, launch_of, method_argument,
                        study_set_argument)
from .errors import VeeganError
from .presets import PRESETS

SET_HELP = ("a configuration value for every run, e.g. --set model.spectral_norm=true (repeatable; steps=N: "
            "as --steps N)")


@dataclass(frozen=True)
class Protocol:
    """One ``reproduce`` sub-command: its one-line help, what it adds to the options every
    protocol takes (:func:`add_shared_options`), and what it runs."""

    help: str
    add_options: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], None]


class ProtocolParser(Parser):
    """A protocol's parser: an option that only other protocols take is refused naming them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owners: dict[str, list[str]] = {}  # option -> the protocols that take it

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        namespace, extras = super().parse_known_args(args, namespace)
        for option in (arg.partition("=")[0] for arg in extras if arg.startswith("--")):
            if option in self.owners:
                names = " and ".join(f"`reproduce {name}`" for name in self.owners[option])
                self.error(f"{option} is an option of {names} only")
        return namespace, extras


def paper_dataset_argument(name: str) -> str:
    """A ``--datasets`` value of every protocol but recipe: a dataset (a real table is recipe's)."""
    from .data.bundled_tables import BUNDLED_TABLES

    if name in BUNDLED_TABLES:
        raise argparse.ArgumentTypeError(f"{name!r} is a real table, an evaluation set of `reproduce recipe` only")
    return dataset_argument(name)


STEPS_HELP = ("N: every run trains N steps instead of the budget's (a short run: --steps 200); DATASET=N: that "
              "dataset's runs (e.g. ring=20000; repeatable)")


def add_shared_options(
    p: argparse.ArgumentParser, *, methods: Sequence[str], budgets: Mapping[str, Any], budget: str, budget_help: str,
    datasets: Sequence[str] = (), datasets_help: str = "the datasets to train",
    dataset_type: Callable[[str], str] = paper_dataset_argument, seeds: int | None = 3,
    seeds_help: str = "seeds per method", steps_help: str = STEPS_HELP, steps_metavar: str = "N|DATASET=N",
) -> None:
    """The options every protocol takes, with its own defaults and help."""
    p.add_argument("--methods", nargs="+", type=method_argument, metavar="METHOD", default=list(methods),
                   help="the methods to train: registered names, or FILE.py:Class / module:Class for a method of your own")
    p.add_argument("--datasets", nargs="+", type=dataset_type, metavar="DATASET", default=list(datasets) or None,
                   help=datasets_help)
    p.add_argument("--seeds", type=int, default=seeds, help=seeds_help)
    p.add_argument("--budget", default=budget, metavar="{" + ",".join(budgets) + "}", help=budget_help)
    p.add_argument("--steps", metavar=steps_metavar, action="append", default=[], help=steps_help)
    p.add_argument("--results", metavar="DIR", help="keep each finished run's small files (config, metrics, figure "
                   "samples) in DIR, and count the runs kept there as finished")
    p.add_argument("--no-train", action="store_true", help="train nothing; tabulate the runs finished so far (in --out or "
                   "--results)")
    add_sweep_arguments(p)


def add_table1(p: argparse.ArgumentParser) -> None:
    from .experiments.table1 import BUDGETS, TABLE1_DATASETS, TABLE1_METHODS

    add_shared_options(p, methods=TABLE1_METHODS, datasets=TABLE1_DATASETS, seeds=5, budgets=BUDGETS, budget="quick",
                       budget_help="paper: 100,000 steps, batch 500; quick: 10,000 (hd1200 2,500)")


def add_table2(p: argparse.ArgumentParser) -> None:
    from .experiments.table2 import BUDGETS, TABLE2_DATASETS, TABLE2_METHODS

    seeds = ", ".join(f"{name} {spec['seeds']}" + "".join(f" ({method} {n})" for method, n in spec.get("method_seeds", {}).items())
                      for name, spec in BUDGETS.items())  # e.g. "digits 3 (unrolled 2)"
    add_shared_options(p, methods=TABLE2_METHODS, datasets=TABLE2_DATASETS, seeds=None,
                       seeds_help=f"seeds per method (default: the budget's: {seeds})", budgets=BUDGETS, budget="cpu",
                       budget_help="paper: DCGAN at full width, 50,000 steps; digits: DCGAN-tensorflow's two-stage MNIST "
                                   "network (docs/table2.md); cpu: a reduced network, 2,000 steps")
    p.add_argument("--preset", choices=PRESETS, help="every run's preset (default: paper); best: each method's pick in the "
                   "recipe study, with R3GAN's image gammas")
    p.add_argument("--mnist", metavar="DIR", help="folder of the MNIST files (default: the cache)")
    p.add_argument("--cifar10", metavar="DIR", help="CIFAR-10 python batches or image folders (default: the cache)")


def add_stabilisers(p: argparse.ArgumentParser) -> None:
    from .experiments.stabilisers import DEFAULT_SETTINGS, STABILISER_DATASETS, STABILISER_METHODS, STABILISERS
    from .experiments.table1 import BUDGETS

    add_shared_options(p, methods=STABILISER_METHODS, datasets=STABILISER_DATASETS, seeds_help="seeds per method and setting",
                       budgets=BUDGETS, budget="quick",
                       budget_help="Table 1's: paper (100,000 steps, batch 500) or quick (10,000)")
    p.add_argument("--stabilisers", nargs="+", metavar="SETTING", default=list(DEFAULT_SETTINGS),
                   help=f"the settings to train, of {', '.join(STABILISERS)} (all: ema, spectral_norm and r1 at once)")


def add_beyond2d(p: argparse.ArgumentParser) -> None:
    from .data.family import family_names
    from .experiments.beyond2d import BEYOND2D_BUDGETS, BEYOND2D_METHODS

    add_shared_options(p, methods=BEYOND2D_METHODS, budgets=BEYOND2D_BUDGETS, budget="quick",
                       budget_help="paper: 100,000 steps; quick: 10,000",
                       datasets_help=f"the members of the mixture family to train, mix-dD-kK-{{equal,unequal}}-sS "
                                     f"(default: all {len(family_names())})",
                       steps_metavar="N", steps_help="every run trains N steps instead of the budget's (a short run: "
                                                     "--steps 200)")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[], help=SET_HELP)
    p.add_argument("--preset", choices=PRESETS, nargs="+", help=f"the preset of every run (default: paper); several: each "
                   f"one's runs in its own folder, and one table and plot of them all ({PRESET_NAMES_HELP})")
    p.add_argument("--tag", help="the name of this configuration's folder and table (default: defaults, the preset's name, "
                   "or the --set values joined)")


def add_recipe(p: argparse.ArgumentParser) -> None:
    from .experiments.recipe import EVALUATION_TABLES, RECIPE_METHODS, SCREEN_SEEDS
    from .experiments.table1 import BUDGETS

    add_shared_options(p, methods=RECIPE_METHODS, budgets=BUDGETS, budget="paper",
                       budget_help="the evaluation's, as Table 1's: paper (100,000 steps) or quick (10,000)",
                       datasets_help=f"the evaluation sets to run (default: all of them; the real tables by name: "
                                     f"{' '.join(EVALUATION_TABLES)})", dataset_type=study_set_argument,
                       seeds=SCREEN_SEEDS, seeds_help="seeds per method and candidate", steps_metavar="N|SET=N",
                       steps_help="N: every run, the screen's too, trains N steps (a short run: --steps 200); SET=N: "
                                  "that evaluation set's runs instead of the budget's (e.g. hd1200=25000; repeatable)")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[], help=SET_HELP)
    p.add_argument("--screen-only", action="store_true", help="screen and pick, evaluate nothing")
    p.add_argument("--candidates", nargs="+", metavar="NAME", help="screen these candidates only (default: all; the pick is "
                   "then among them), e.g. a pick again with --set loss.penalty_every=16")


def add_reproduce_parser(commands: argparse._SubParsersAction) -> None:
    """``reproduce`` and one sub-command per protocol (:data:`PROTOCOLS`)."""
    p = commands.add_parser("reproduce", help="reproduce a table of the paper, or a study beyond it",
                            description="Reproduce a table of the paper (table1, table2) or a study beyond it "
                                        "(stabilisers, beyond2d, recipe). `veegan reproduce TABLE --help` shows its options.")
    protocols = p.add_subparsers(dest="table", required=True, metavar="TABLE", parser_class=ProtocolParser)
    parsers = {}
    for name, protocol in PROTOCOLS.items():
        parsers[name] = q = protocols.add_parser(name, help=protocol.help,
                                                 description=protocol.help[0].upper() + protocol.help[1:])
        protocol.add_options(q)
        q.set_defaults(reproduce=protocol.run)
    owners: dict[str, list[str]] = {}
    for name, q in parsers.items():
        for option in (option for action in q._actions for option in action.option_strings):
            owners.setdefault(option, []).append(name)
    for q in parsers.values():
        q.owners.update(owners)


def cmd_reproduce(args: argparse.Namespace) -> None:
    if args.seeds is not None and args.seeds < 1:
        raise VeeganError("--seeds must be >= 1")
    args.reproduce(args)


def run_table1(args: argparse.Namespace) -> None:
    from .experiments.table1 import BUDGETS, reproduce_table1

    reproduce_table1(out=args.out, methods=args.methods, datasets=args.datasets, seeds=args.seeds,
                     budget=_budget(args, BUDGETS), workers=args.workers, launch=launch_of(args),
                     steps=dataset_steps(args.steps, args.datasets), results=args.results, train=not args.no_train)


def run_table2(args: argparse.Namespace) -> None:
    import sys

    from .experiments.table2 import BUDGETS, TABLE2_METHODS, reproduce_table2
    from .methods import method_class

    budget = _budget(args, BUDGETS)
    methods = args.methods
    if args.preset == "best" and methods == list(TABLE2_METHODS):  # the default list: leave out who has no pick
        methods = [m for m in methods if method_class(m).best_preset is not None]
        left_out = sorted(set(TABLE2_METHODS) - set(methods))
        print(f"--preset best: {', '.join(left_out)} left out (the recipe study made no pick for it)", file=sys.stderr)
    with _budget_steps(BUDGETS, budget, dataset_steps(args.steps, args.datasets)):
        reproduce_table2(out=args.out, methods=methods, datasets=args.datasets, seeds=args.seeds, budget=budget,
                         workers=args.workers, launch=launch_of(args), mnist_dir=args.mnist, cifar10_dir=args.cifar10,
                         results=args.results, train=not args.no_train, preset=args.preset)


def run_stabilisers(args: argparse.Namespace) -> None:
    from .experiments.stabilisers import reproduce_stabilisers
    from .experiments.table1 import BUDGETS

    budget = _budget(args, BUDGETS)
    with _budget_steps(BUDGETS, budget, dataset_steps(args.steps, args.datasets)):
        reproduce_stabilisers(out=args.out, methods=args.methods, datasets=args.datasets, settings=args.stabilisers,
                              seeds=args.seeds, budget=budget, workers=args.workers, results=args.results,
                              train=not args.no_train, launch=launch_of(args))


def run_beyond2d(args: argparse.Namespace) -> None:
    from .experiments.beyond2d import BEYOND2D_BUDGETS, reproduce_beyond2d

    every, per_dataset = parse_steps(args.steps)
    if per_dataset:
        raise VeeganError(f"reproduce beyond2d trains every member alike: --steps N, not --steps "
                          f"{next(iter(per_dataset))}=N")
    reproduce_beyond2d(out=args.out, methods=args.methods, datasets=args.datasets, seeds=args.seeds,
                       budget=_budget(args, BEYOND2D_BUDGETS), overrides=_with_steps(args.overrides, every),
                       presets=args.preset or [None], tag=args.tag, workers=args.workers, results=args.results,
                       train=not args.no_train, launch=launch_of(args))


def run_recipe(args: argparse.Namespace) -> None:
    from .config_values import parse_assignments
    from .experiments.recipe import reproduce_recipe
    from .experiments.table1 import BUDGETS  # the evaluation's budgets: Table 1's

    every, per_set = parse_steps(args.steps)
    if every and per_set:
        raise VeeganError("--steps N (every run, the screen's too) and --steps SET=N (one evaluation set's runs) do not "
                          "go together")
    reproduce_recipe(out=args.out, methods=args.methods, datasets=args.datasets, seeds=args.seeds,
                     budget=_budget(args, BUDGETS), overrides=parse_assignments(_with_steps(args.overrides, every)),
                     stages=("screen",) if args.screen_only else ("screen", "evaluate"), workers=args.workers,
                     results=args.results, train=not args.no_train, launch=launch_of(args), only=args.candidates,
                     steps=per_set)


PROTOCOLS = {
    "table1": Protocol("Table 1 of the paper (Section 5.1): the synthetic mixtures, with Figure 2", add_table1, run_table1),
    "table2": Protocol("Table 2 of the paper (Sections 5.2-5.3): Stacked MNIST and CIFAR-10", add_table2, run_table2),
    "stabilisers": Protocol("beyond the paper: each adversarial method plain and with EMA, spectral norm or R1",
                            add_stabilisers, run_stabilisers),
    "beyond2d": Protocol("beyond the paper: the mixture family of 2 to 200 dimensions", add_beyond2d, run_beyond2d),
    "recipe": Protocol("beyond the paper: screen objectives and stabilisers, pick one per method, evaluate the picks "
                       "(docs/recipe.md)", add_recipe, run_recipe),
}


def parse_steps(values: Sequence[str]) -> tuple[int | None, dict[str, int]]:
    """``--steps`` values as (N for every run or None, {DATASET: N}): ['200'] -> (200, {}),
    ['hd1200=25000'] -> (None, {'hd1200': 25000}); a one-line error for anything else."""
    every, steps = None, {}
    for text in values:
        dataset, equals, value = text.rpartition("=")
        if not value.isdigit() or int(value) < 1 or (equals and not dataset):
            raise VeeganError(f"--steps wants N or DATASET=N with N a positive integer, not {text!r}")
        if dataset:
            steps[dataset] = int(value)
        else:
            every = int(value)
    return every, steps


def dataset_steps(values: Sequence[str], datasets: Sequence[str]) -> dict[str, int]:
    """``--steps`` as steps per dataset of ``datasets``: N for each, DATASET=N for that one."""
    every, steps = parse_steps(values)
    unknown = sorted(set(steps) - set(datasets))
    if unknown:
        raise VeeganError(f"--steps names {', '.join(unknown)}, which this table does not train")
    return {**dict.fromkeys(datasets, every), **steps} if every else steps


def _with_steps(overrides: list[str], every: int | None) -> list[str]:
    """``--set`` values, with ``steps=N`` for ``--steps N``."""
    if every is None:
        return overrides
    if any(text.partition("=")[0].strip() == "steps" for text in overrides):
        raise VeeganError("--steps N and --set steps=N say the same: give one")
    return [*overrides, f"steps={every}"]


@contextmanager
def _budget_steps(budgets: dict[str, dict[str, Any]], name: str, steps: Mapping[str, int]) -> Iterator[None]:
    """The budget ``name`` with ``steps`` over its own steps per dataset, while a protocol that
    reads its steps from its budget (table2, stabilisers) builds and trains its runs."""
    kept = budgets[name]
    if steps:
        budgets[name] = {**kept, "steps": {**kept["steps"], **steps}}
    try:
        yield
    finally:
        budgets[name] = kept


def _budget(args: argparse.Namespace, budgets: Mapping[str, Any]) -> str:
    if args.budget not in budgets:
        raise VeeganError(f"{args.table} has no budget {args.budget!r}; choose {' or '.join(budgets)}")
    return args.budget
