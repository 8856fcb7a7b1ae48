"""``veegan reproduce recipe``: the study of docs/recipe.md, in two stages.

1. **Screen.** Every candidate setting of each adversarial method (:func:`candidates`) on the
   screening sets (:data:`SCREEN_SETS`), :data:`SCREEN_SEEDS` seeds of :data:`SCREEN_STEPS`
   steps each; then one pick per method by the rule fixed before any run (:func:`pick`), written
   to ``screen.md`` and ``picks.json``.
2. **Evaluation**, for each method whose screen is complete: its pick on the evaluation sets
   (:func:`evaluation_sets`), which the screen never sees, and the ablation: the GAN trained with
   VEEGAN's pick (VEEGAN without its reconstructor and joint discriminator). ``evaluation.md``.

Every candidate starts from the ``paper`` preset, on the tables too (own data's default is
``robust``). Resumable as the other reproductions: ``--results DIR`` keeps every finished run's
small files, and the same command continues from them.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..config import TrainConfig
from ..config_values import merge
from ..configure import resolve_config
from ..data.bundled_tables import BUNDLED_TABLES, bundled_table, labels_column
from ..data.family import FamilyMember, family_names
from ..errors import VeeganError
from ..methods import method_class, method_labels
from ..table_config import BEFORE_KEYS
from .beyond2d import BEYOND2D_BUDGETS, plot_beyond2d
from .curves import write_curves
from .recipe_tables import evaluation_markdown, family_rows, objective_markdown, screen_markdown
from .result_store import ResultStore
from .sweep import Job, Launch, run_jobs
from .table1 import BUDGETS
from .tables import mean_std, wall_time_note

RECIPE_METHODS = ("veegan", "gan", "pacgan", "ali", "unrolled")  # the screen trains them in this order
# the objectives and penalties screened (docs/recipe.md): the paper's; R1 alone with robust's
# gamma; R3GAN's RpGAN with R1 and R2 at two gammas. Each with and without EMA (EMA below).
OBJECTIVES: dict[str, dict[str, Any]] = {
    "paper": {},
    "r1": {"loss": {"r1_gamma": 10.0}},
    "rpgan_r1_r2_g1": {"loss": {"objective": "rpgan", "r1_gamma": 1.0, "r2_gamma": 1.0}},
    "rpgan_r1_r2_g10": {"loss": {"objective": "rpgan", "r1_gamma": 10.0, "r2_gamma": 10.0}},
}
EMA: dict[str, Any] = {"ema": {"decay": 0.999}}
SCREEN_SETS = ("mix-d20-k20-unequal-s4", "mix-d3-k27-equal-s4", "breast_cancer")
SCREEN_STEPS = 10_000
SCREEN_SEEDS = 3
MARGIN = 0.02  # the pick: highest quality among candidates within this much of the best coverage
EVALUATION_TABLES = ("wine", "penguins", "digits")
ABLATION = "gan (veegan's pick)"
# R3GAN's annealing ratios (docs/recipe.md, the annealing check): learning rate to 1/4, gammas to 1/10
ANNEALING: dict[str, Any] = {"optim": {"final_lr_fraction": 0.25}, "loss": {"final_gamma_fraction": 0.1}}
CHECK_STEPS = 100_000  # a check's budget: the evaluation's, as what it tests shows late in a run
# The checks a pick passed after the screen, each fixed in docs/recipe.md before its runs and judged
# by the selection rule against the pick as it is (kept in docs/results/recipe-long and
# docs/results/recipe-<check>): the evaluation and ``--preset best`` use the pick with their values.
AMENDMENTS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {("gan", "rpgan_r1_r2_g10+ema"): {"anneal": ANNEALING}}


def method_terms(method: str) -> dict[str, Any]:
    """The method's own terms in its robust preset (``method_options``: for VEEGAN the
    reconstructor's MSE and adversarial terms), screened as one more switch; {} if none."""
    options = method_class(method).robust_preset.get("method_options")
    return {"method_options": dict(options)} if options else {}


def candidates(method: str) -> dict[str, dict[str, Any]]:
    """name -> configuration values: each objective, with and without EMA, and with and without
    the method's own robust terms where it has some (:func:`method_terms`)."""
    switches = [("", {}), ("+ema", EMA)]
    if method_terms(method):
        switches += [(name + "+terms", merge(values, method_terms(method))) for name, values in switches]
    return {objective + suffix: merge(values, extra) for objective, values in OBJECTIVES.items() for suffix, extra in switches}


def amended(method: str, name: str) -> tuple[str, dict[str, Any]]:
    """The pick ``name`` of ``method`` with the checks it passed (:data:`AMENDMENTS`): the name
    it is evaluated under ("<pick>+<check>") and its values."""
    values = candidates(method)[name]
    for check, extra in AMENDMENTS.get((method, name), {}).items():
        name, values = f"{name}+{check}", merge(values, extra)
    return name, values


def _settings(name: str) -> int:
    """How many settings a candidate changes from the paper's: fewer wins a tie."""
    return sum(part != "paper" for part in name.split("+"))


def pick(scores: Mapping[str, tuple[float, float]], margin: float = MARGIN) -> str:
    """The selection rule of docs/recipe.md: among the candidates whose mean coverage is within
    ``margin`` of the best, the one of highest mean quality; ties go to the fewer settings.
    ``scores``: name -> (mean coverage, mean quality), each in [0, 1]."""
    best = max(coverage for coverage, _ in scores.values())
    eligible = [name for name, (coverage, _) in scores.items() if coverage >= best - margin - 1e-12]
    return max(eligible, key=lambda name: (scores[name][1], -_settings(name)))


def screen_score(final: Mapping[str, Any]) -> tuple[float, float]:
    """(coverage, quality) of one run: modes captured / K and the high-quality share on a
    mixture; k-NN coverage and precision on a table; a run that diverged scores (0, 0)."""
    if "diverged" in final:
        return 0.0, 0.0
    if "coverage" in final:
        return float(final["coverage"]), float(final["precision"])
    return final["modes"] / final["max_modes"], final["high_quality_pct"] / 100


def run_config(method: str, name: str, seed: int, steps: int, values: Mapping[str, Any], tables: Path | None) -> TrainConfig:
    """One run on ``name`` (a built-in dataset, or a bundled table read as a user's CSV with its
    class column as ``--labels``) from the paper preset with ``values`` on top. A table is read as
    when the study ran (its labels column scored only, samples neither clipped nor rounded:
    ``table_config.BEFORE_KEYS``), so its kept runs stay the study's."""
    if name in BUNDLED_TABLES:
        table = {"labels": labels_column(name), **BEFORE_KEYS}
        return resolve_config(method=method, data=bundled_table(name, tables), seed=seed, steps=steps, preset="paper",
                              overrides=merge({"table": table}, values))
    return resolve_config(method=method, dataset=name, seed=seed, steps=steps, preset="paper", overrides=dict(values))


def screened(method: str, only: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """The method's candidates to screen: all of them, or the ``only`` ones (each must be a
    candidate of the method; a re-screen of a pick under other settings, as the lazy check)."""
    every = candidates(method)
    unknown = [name for name in only or () if name not in every]
    if unknown:
        raise VeeganError(f"{unknown[0]!r} is not a candidate of {method} (its candidates: {', '.join(every)})")
    return {name: values for name, values in every.items() if not only or name in only}


def screen_jobs(methods: Sequence[str], seeds: int, steps: int, extra: Mapping[str, Any], out: Path,
                tables: Path | None, only: Sequence[str] | None = None) -> list[Job]:
    """One job per (method, candidate, screening set, seed) in ``out/screen/<set>/<method>/<candidate>/seed<k>``
    (the candidates: :func:`screened`)."""
    return [Job((label, candidate, name, seed), run_config(method, name, seed, steps, merge(values, extra), tables),
                out / "screen" / name / label / candidate / f"seed{seed}")
            for label, method in method_labels(methods).items() for candidate, values in screened(method, only).items()
            for name in SCREEN_SETS for seed in range(seeds)]


def screen_picks(jobs: Sequence[Job], finals: Mapping[Any, Mapping[str, Any]]) -> tuple[dict[str, dict], dict[str, str]]:
    """Per method: each candidate's mean (coverage, quality) over sets and seeds with the runs
    done, and the pick where every run of the method's screen has finished."""
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for job in jobs:
        label, candidate, name, _ = job.key
        cell = table.setdefault(label, {}).setdefault(candidate, {"runs": 0, "of": 0, "sets": {}})
        cell["of"] += 1
        if job.key in finals:
            cell["runs"] += 1
            cell["diverged"] = cell.get("diverged", 0) + ("diverged" in finals[job.key])
            cell["sets"].setdefault(name, []).append(screen_score(finals[job.key]))
    picks = {}
    for label, cells in table.items():
        for cell in cells.values():
            _summarise(cell)
        if all(cell["runs"] == cell["of"] for cell in cells.values()):
            picks[label] = pick({name: (cell["coverage"][0], cell["quality"][0]) for name, cell in cells.items()})
    return table, picks


def real_scores(jobs: Sequence[Job], finals: Mapping[Any, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per method, the held-out real samples scored as its runs are (each run's ``real``
    section, once per set and seed): the ceiling of the screen's coverage and quality."""
    real: dict[tuple[str, str, int], tuple[float, float]] = {}
    everything: set[tuple[str, str, int]] = set()
    for job in jobs:
        label, _, name, seed = job.key
        everything.add((label, name, seed))
        if "real" in finals.get(job.key, {}):
            real[label, name, seed] = screen_score(finals[job.key]["real"])
    cells: dict[str, dict[str, Any]] = {}
    for label, name, seed in sorted(everything):
        cell = cells.setdefault(label, {"runs": 0, "of": 0, "sets": {}})
        cell["of"] += 1
        if (label, name, seed) in real:
            cell["runs"] += 1
            cell["sets"].setdefault(name, []).append(real[label, name, seed])
    return {label: _summarise(cell) for label, cell in cells.items()}


def _summarise(cell: dict[str, Any]) -> dict[str, Any]:
    """Add a cell's mean ± std of coverage and quality over its runs (None without runs)."""
    scores = [score for per_set in cell["sets"].values() for score in per_set]
    cell["coverage"], cell["quality"] = (mean_std([s[i] for s in scores]) for i in (0, 1))
    return cell


def evaluation_sets(budget: str) -> dict[str, tuple[int, dict[str, Any]]]:
    """name -> (steps, values) of every evaluation set: ring, grid and hd1200 at Table 1's
    ``budget`` (batch 500), the mixture family at beyond2d's, the real tables at the defaults'
    100,000 steps (``quick``: 10,000)."""
    table1 = BUDGETS[budget]
    sets = {name: (steps, dict(table1["overrides"])) for name, steps in table1["steps"].items()}
    sets.update({name: (BEYOND2D_BUDGETS["quick"], {}) for name in family_names()})
    sets.update({name: (BEYOND2D_BUDGETS[budget], {}) for name in EVALUATION_TABLES})
    return sets


def evaluation_jobs(methods: Sequence[str], picks: Mapping[str, str], sets: Mapping[str, tuple[int, dict]], seeds: int,
                    extra: Mapping[str, Any], out: Path, tables: Path | None) -> list[Job]:
    """Each picked method's pick, with the checks it passed (:func:`amended`), on every set, and the
    ablation (the GAN with VEEGAN's pick, less VEEGAN's own terms) unless the GAN's own pick is
    that setting; ``out/evaluation/<set>/<label>/<pick>/seed<k>``."""
    labels = method_labels(methods)
    entries = [(f"{label} ({name})", f"{label}/{name}", method, values)
               for label, method in labels.items() if label in picks for name, values in [amended(method, picks[label])]]
    if "veegan" in picks:
        values = {key: value for key, value in candidates("veegan")[picks["veegan"]].items() if key != "method_options"}
        if "gan" not in picks or candidates("gan")[picks["gan"]] != values:
            entries.append((ABLATION, "gan/veegan-pick", "gan", values))
    return [Job((label, name, seed), run_config(method, name, seed, steps, merge(merge(overrides, values), extra), tables),
                out / "evaluation" / name / folder / f"seed{seed}")
            for name, (steps, overrides) in sets.items() for label, folder, method, values in entries for seed in range(seeds)]


def reproduce_recipe(
    *, out: str | Path, methods: Sequence[str] = RECIPE_METHODS, datasets: Sequence[str] | None = None,
    seeds: int = SCREEN_SEEDS, budget: str = "paper", overrides: Mapping[str, Any] | None = None,
    stages: Sequence[str] = ("screen", "evaluate"), workers: int | None = None, results: str | Path | None = None,
    train: bool = True, launch: Launch = Launch(), tables: str | Path | None = None,
    only: Sequence[str] | None = None, steps: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """Run the screen, pick, then evaluate the picks (only on ``datasets``, if given); write
    ``screen.md``, ``picks.json`` and ``evaluation.md`` under ``out``. ``overrides`` apply to
    every run (``steps`` among them replaces every budget); the evaluation's figures are
    ``evaluation_curves.png`` and, with family members, ``evaluation_family.png``. ``tables``:
    where the bundled tables are written (default: the cache); ``only``: screen these candidates
    alone (the pick is then among them); ``steps``: an evaluation set's steps instead of its
    budget's (the screen keeps its own). Returns the picks."""
    out, extra = Path(out), dict(overrides or {})
    sets = evaluation_sets(budget)
    unknown = [name for name in datasets or () if name not in sets]
    if unknown:
        raise VeeganError(f"{unknown[0]!r} is not an evaluation set of the recipe study (ring, grid, hd1200, the family's "
                          f"members, {', '.join(EVALUATION_TABLES)})")
    sets = {name: value for name, value in sets.items() if not datasets or name in datasets}
    if steps:
        if "steps" in extra:
            raise VeeganError("--steps and --set steps=N do not go together: --set steps=N replaces every budget, "
                              "the screen's too; --steps SET=N replaces one evaluation set's")
        unevaluated = sorted(set(steps) - set(sets))
        if unevaluated:
            raise VeeganError(f"--steps names {', '.join(unevaluated)}, which this command does not evaluate "
                              f"(it evaluates {', '.join(sets)})")
        sets = {name: (steps.get(name, budget_steps), values) for name, (budget_steps, values) in sets.items()}
    tables = Path(tables) if tables else None
    out.mkdir(parents=True, exist_ok=True)
    store = ResultStore(results, out) if results is not None else None
    jobs = screen_jobs(methods, seeds, SCREEN_STEPS, extra, out, tables, only)
    finals, wall = run_jobs(jobs, workers, store=store, train=train and "screen" in stages, launch=launch, diverged_ok=True)
    table, picks = screen_picks(jobs, finals)
    markdown = screen_markdown(table, picks, SCREEN_SETS, jobs[0].config.steps, seeds, real_scores(jobs, finals))
    markdown += objective_markdown(table)
    (out / "screen.md").write_text(markdown + wall_time_note(wall, finals))
    record: dict[str, Any] = {}
    for label, name in picks.items():  # the pick, its screen scores, and what the evaluation trains
        evaluated, values = amended(method_labels(methods)[label], name)
        record[label] = {"candidate": name, "evaluated_as": evaluated, "values": values,
                         "coverage": table[label][name]["coverage"], "quality": table[label][name]["quality"]}
    if set(picks) == set(method_labels(RECIPE_METHODS)) and not only:  # every method's full screen: the preset by the same rule
        best = pick({label: (table[label][name]["coverage"][0], table[label][name]["quality"][0])
                     for label, name in picks.items()})
        record["preset"] = {"method": best, **record[best]}
        markdown += f"\nThe preset (the pick of the method that wins by the same rule): **{best} ({picks[best]})**.\n"
    (out / "picks.json").write_text(json.dumps(record, indent=2) + "\n")
    print(markdown)
    if "evaluate" not in stages or not picks:
        print(f"wrote {out / 'screen.md'} and {out / 'picks.json'}" + ("" if picks else "; no method's screen is complete yet, "
              "so nothing is evaluated"), file=sys.stderr)
        return picks
    written = [out / "screen.md", out / "picks.json"]
    eval_jobs = evaluation_jobs(methods, picks, sets, seeds, extra, out, tables)
    eval_finals, eval_wall = run_jobs(eval_jobs, workers, store=store, train=train, launch=launch, diverged_ok=True)
    diverged = [job.run_dir for job in eval_jobs if "diverged" in eval_finals.get(job.key, {})]
    eval_finals = {key: final for key, final in eval_finals.items() if "diverged" not in final}
    if eval_finals:
        markdown = evaluation_markdown(eval_finals, [job.key[0] for job in eval_jobs], list(sets), len(eval_jobs))
        markdown += "".join(f"Diverged (left out of the table): {run_dir}\n" for run_dir in diverged)
        markdown += "".join(f"{name}: {count:,} steps a run (--steps), not the budget's.\n" for name, count in (steps or {}).items())
        (out / "evaluation.md").write_text(markdown + wall_time_note(eval_wall, eval_finals))
        curved = [job for job in eval_jobs if job.key in eval_finals and FamilyMember.parse(job.key[1]) is None]
        curves = write_curves({job.key: store.log_place(job.run_dir) if store else job.run_dir for job in curved},
                              eval_finals, {job.key: job.key[1] for job in curved}, out / "evaluation_curves.png")
        written += [out / "evaluation.md"] + ([curves] if curves else [])
        family = family_rows(eval_finals)
        if family:  # modes and % high quality against the dimension, every pick beside the real data
            written.append(plot_beyond2d(family, list(dict.fromkeys(job.key[0] for job in eval_jobs)),
                                         out / "evaluation_family.png"))
        print(markdown)
    print(f"wrote {', '.join(map(str, written))}", file=sys.stderr)
    return picks
