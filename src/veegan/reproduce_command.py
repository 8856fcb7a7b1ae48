"""``veegan reproduce TABLE``: the paper's tables and the studies beyond them, each an
experiment of :mod:`veegan.experiments`, imported when asked for (the CLI starts fast)."""
from __future__ import annotations

import argparse

from .arguments import launch_of
from .errors import VeeganError


def cmd_reproduce(args: argparse.Namespace) -> None:
    if args.seeds is not None and args.seeds < 1:
        raise VeeganError("--seeds must be >= 1")
    if args.stabilisers and args.table != "stabilisers":
        raise VeeganError("--stabilisers is an option of `reproduce stabilisers` only")
    if args.tag and args.table != "beyond2d":
        raise VeeganError("--tag is an option of `reproduce beyond2d` only")
    if args.preset and args.table not in ("beyond2d", "table2"):
        raise VeeganError("--preset is an option of `reproduce beyond2d` and `reproduce table2` only")
    if args.preset and args.table == "table2" and len(args.preset) > 1:
        raise VeeganError("reproduce table2 takes one --preset (a second block goes in its own --out)")
    if args.overrides and args.table not in ("beyond2d", "recipe"):
        raise VeeganError("--set is an option of `reproduce beyond2d` and `reproduce recipe` only")
    if (args.screen_only or args.candidates) and args.table != "recipe":
        raise VeeganError("--screen-only and --candidates are options of `reproduce recipe` only")
    if args.table != "recipe" and args.datasets:
        from .data.bundled_tables import BUNDLED_TABLES

        tables = [name for name in args.datasets if name in BUNDLED_TABLES]
        if tables:
            raise VeeganError(f"{tables[0]!r} is a real table, an evaluation set of `reproduce recipe` only")
    if args.table == "recipe":
        from .config_values import parse_assignments
        from .experiments.recipe import RECIPE_METHODS, reproduce_recipe
        from .experiments.table1 import BUDGETS  # the evaluation's budgets: Table 1's

        reproduce_recipe(out=args.out, methods=args.methods or RECIPE_METHODS, datasets=args.datasets, seeds=args.seeds or 3,
                         budget=_budget(args.budget or "paper", BUDGETS, "recipe"),
                         overrides=parse_assignments(args.overrides), stages=("screen",) if args.screen_only else ("screen", "evaluate"),
                         workers=args.workers, results=args.results, train=not args.no_train, launch=launch_of(args),
                         only=args.candidates, steps=_dataset_steps(args.steps))
    elif args.table == "table1":
        from .experiments.table1 import BUDGETS, TABLE1_DATASETS, TABLE1_METHODS, reproduce_table1

        budget = _budget(args.budget or "quick", BUDGETS, "table1")
        reproduce_table1(out=args.out, methods=args.methods or TABLE1_METHODS, datasets=args.datasets or TABLE1_DATASETS,
                         seeds=args.seeds or 5, budget=budget, workers=args.workers, launch=launch_of(args),
                         steps=_dataset_steps(args.steps), results=args.results, train=not args.no_train)
    elif args.table == "beyond2d":
        if args.steps:
            raise VeeganError("--steps is an option of `reproduce table1` and `reproduce recipe` only")
        from .experiments.beyond2d import BEYOND2D_BUDGETS, BEYOND2D_METHODS, reproduce_beyond2d

        reproduce_beyond2d(out=args.out, methods=args.methods or BEYOND2D_METHODS, datasets=args.datasets,
                           seeds=args.seeds or 3, budget=_budget(args.budget or "quick", BEYOND2D_BUDGETS, "beyond2d"),
                           overrides=args.overrides, presets=args.preset or [None], tag=args.tag, workers=args.workers, results=args.results,
                           train=not args.no_train, launch=launch_of(args))
    elif args.table == "stabilisers":
        if args.steps:
            raise VeeganError("--steps is an option of `reproduce table1` and `reproduce recipe` only")
        from .experiments.stabilisers import DEFAULT_SETTINGS, STABILISER_DATASETS, STABILISER_METHODS, reproduce_stabilisers
        from .experiments.table1 import BUDGETS

        reproduce_stabilisers(out=args.out, methods=args.methods or STABILISER_METHODS,
                              datasets=args.datasets or STABILISER_DATASETS, settings=args.stabilisers or DEFAULT_SETTINGS,
                              seeds=args.seeds or 3, budget=_budget(args.budget or "quick", BUDGETS, "stabilisers"),
                              workers=args.workers, results=args.results, train=not args.no_train, launch=launch_of(args))
    else:
        if args.steps:
            raise VeeganError("--steps is an option of `reproduce table1` and `reproduce recipe` only")
        from .experiments.table2 import BUDGETS as IMAGE_BUDGETS
        from .experiments.table2 import TABLE2_DATASETS, TABLE2_METHODS, reproduce_table2

        budget = _budget(args.budget or "cpu", IMAGE_BUDGETS, "table2")
        reproduce_table2(out=args.out, methods=args.methods or TABLE2_METHODS, datasets=args.datasets or TABLE2_DATASETS,
                         seeds=args.seeds, budget=budget, workers=args.workers, launch=launch_of(args),
                         mnist_dir=args.mnist, cifar10_dir=args.cifar10, results=args.results, train=not args.no_train,
                         preset=args.preset[0] if args.preset else None)


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
