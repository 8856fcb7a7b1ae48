"""``veegan reproduce beyond2d``: VEEGAN and its rivals on the mixture family
(``mix-dD-kK-{equal,unequal}-sS``, :mod:`veegan.data.family`) with one configuration for every
member, and where their mode coverage goes as the dimension grows: a table per weighting and
separation (methods down, dimensions across) and ``beyond2d.png`` (modes captured and % high
quality against the dimension)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..config_values import parse_assignments  # noqa: E402
from ..configure import resolve_config  # noqa: E402
from ..data.family import FamilyMember, family_mixture, family_names  # noqa: E402
from ..errors import VeeganError  # noqa: E402
from ..methods import method_label, method_labels  # noqa: E402
from .result_store import ResultStore  # noqa: E402
from .sweep import Job, Launch, run_jobs  # noqa: E402
from .tables import csv_text, format_row_stats, format_stats, mean_std, metric_rows, real_rows, wall_time_note  # noqa: E402

BEYOND2D_METHODS = ("veegan", "gan")
# steps per run: "quick" (as Table 1's quick budget) to see the trend on 2 cores, "paper" the default 100,000
BEYOND2D_BUDGETS = {"quick": 10_000, "paper": 100_000}


def preset_tag(preset: str | None, overrides: Sequence[str]) -> str:
    """The folder of one configuration's runs: the preset (unless paper) and the overrides
    joined, or ``defaults``."""
    return "+".join(([preset] if preset and preset != "paper" else []) + list(overrides)).replace("/", "_") or "defaults"


def beyond2d_jobs(
    methods: Sequence[str], datasets: Sequence[str], seeds: int, steps: int, overrides: list[str], tag: str, out: Path,
    preset: str | None = None, suffix: str = "",
) -> list[Job]:
    """One job per (method, member, seed), all with ``preset`` and ``overrides``, in
    ``out/<tag>/<member>/<method>/seed<k>``; ``suffix`` follows the method's label in the key."""
    extra = parse_assignments(overrides)
    return [Job((label + suffix, name, seed), resolve_config(method=method, dataset=name, seed=seed, steps=steps,
                                                             overrides=extra, preset=preset),
                out / tag / name / label / f"seed{seed}")
            for name in datasets for label, method in method_labels(methods).items() for seed in range(seeds)]


def reproduce_beyond2d(
    *, out: str | Path, methods: Sequence[str] = BEYOND2D_METHODS, datasets: Sequence[str] | None = None,
    seeds: int = 3, budget: str = "quick", overrides: Sequence[str] = (), presets: Sequence[str | None] = (None,),
    tag: str | None = None, workers: int | None = None, results: str | Path | None = None, train: bool = True,
    launch: Launch = Launch(),
) -> list[dict[str, Any]]:
    """Train every (preset, method, family member, seed) and write ``<tag>/beyond2d.md``,
    ``.csv`` and ``.png`` under ``out``. ``overrides`` (``key=value``) apply to every run;
    each preset (default paper, as for ``veegan train``) keeps its runs in its own folder,
    :func:`preset_tag`; with one preset ``tag`` may rename it, with several ``tag`` names the
    joint table's folder (default: the folders joined) and each method's label names its
    preset. ``results`` and ``train`` as for :func:`.table1.reproduce_table1`."""
    datasets = list(datasets or family_names())
    members = {name: FamilyMember.parse(name) for name in datasets}
    strangers = [name for name, member in members.items() if member is None]
    if strangers:
        raise VeeganError(f"beyond2d tabulates members of the mixture family (mix-dD-kK-{{equal,unequal}}-sS), not {strangers[0]!r}")
    presets = list(dict.fromkeys(presets or (None,)))
    folders = {preset: tag if tag and len(presets) == 1 else preset_tag(preset, overrides) for preset in presets}
    tag = tag or "+".join(folders.values())
    suffixes = {preset: "" if len(presets) == 1 else f" ({preset or 'paper'})" for preset in presets}
    out = Path(out)
    (out / tag).mkdir(parents=True, exist_ok=True)
    jobs = [job for preset in presets for job in beyond2d_jobs(methods, datasets, seeds, BEYOND2D_BUDGETS[budget],
                                                               list(overrides), folders[preset], out, preset, suffixes[preset])]
    store = ResultStore(results, out) if results is not None else None
    finals, wall = run_jobs(jobs, workers, store=store, train=train, launch=launch)
    if not finals:
        raise VeeganError(f"no finished runs to tabulate in {out / tag}" + (f" or {results}" if results else ""))
    rows = metric_rows(finals, group=lambda key: (key[0], key[1]), real_group=lambda key: ("real data", key[1]))
    for row in rows:
        member = members[row["dataset"]]
        row.update(dim=member.dim, weights=member.weights, separation=member.separation)
    labels = [method_label(m) + suffixes[preset] for preset in presets for m in methods]
    partial = "" if len(finals) == len(jobs) else f"Partial: {len(finals)} of the {len(jobs)} runs have finished.\n"
    steps = " or ".join(f"{n:,}" for n in sorted({job.config.steps for job in jobs}))  # --set steps=N overrides the budget
    title = (f"Mixture family, `{tag}`, {steps} steps per run, mean ± std over seeds; "
             "each cell: modes captured, % high quality.\n\n")
    markdown = (title + beyond2d_markdown(rows, labels) + "\n" + family_goal_markdown(rows, finals, labels) + "\n"
                + rare_mode_markdown(finals, labels) + partial)
    (out / tag / "beyond2d.md").write_text(markdown + wall_time_note(wall, finals))
    (out / tag / "beyond2d.csv").write_text(csv_text(rows))
    plot_beyond2d(rows, labels, out / tag / "beyond2d.png")
    print(markdown)
    print(f"wrote {out / tag / 'beyond2d.md'}, beyond2d.csv and beyond2d.png", file=sys.stderr)
    return rows


RARE = 3  # the rarest modes the rare-mode table follows one by one
# The recipe study's goal on a member (docs/recipe.md, issue 27): at most one mode missed at >= 50 %
# high quality (means over seeds), and on an unequal member >= 4 of its rarest five modes held.
GOAL_MODES_MISSED, GOAL_HIGH_QUALITY_PCT, GOAL_RARE_HELD = 1, 50.0, 4


def _member_runs(finals: Mapping[Any, Mapping[str, Any]], label: str, name: str) -> list[Mapping[str, Any]]:
    """The finished runs of ``label`` on member ``name`` that carry each mode's mass; for
    ``"real data"`` the rows of :func:`.tables.real_rows`."""
    runs = [final for key, final in finals.items() if key[1] == name and (label == "real data" or key[0] == label)]
    runs = real_rows(runs) if label == "real data" else runs
    return [run for run in runs if "mode_mass" in run]


def _rarest_held(runs: Sequence[Mapping[str, Any]], rarest: Sequence[int]) -> float:
    """How many of the ``rarest`` modes hold any high-quality sample, mean over ``runs``."""
    return float(np.mean([(np.asarray(run["mode_mass"])[list(rarest)] > 0).sum() for run in runs]))


def _goal_counts(rows: Sequence[Mapping[str, Any]], finals: Mapping[Any, Mapping[str, Any]],
                 label: str) -> tuple[int, int, int, int]:
    """Over ``rows`` (one method's members): members meeting the modes and quality goal, members
    scored, unequal members holding >= ``GOAL_RARE_HELD`` of their rarest five, unequal members
    scored for it (five modes or more, each mode's mass measured)."""
    met = sum(row["modes_mean"] >= row["max_modes"] - GOAL_MODES_MISSED
              and row["high_quality_pct_mean"] >= GOAL_HIGH_QUALITY_PCT for row in rows)
    unequal = {row["dataset"]: _member_runs(finals, label, row["dataset"]) for row in rows
               if row["weights"] == "unequal" and row["max_modes"] >= 5}
    unequal = {name: runs for name, runs in unequal.items() if runs}
    rare = sum(_rarest_held(runs, family_mixture(FamilyMember.parse(name)).weights.double().argsort()[:5].tolist())
               >= GOAL_RARE_HELD for name, runs in unequal.items())
    return met, len(rows), rare, len(unequal)


def family_goal_markdown(rows: Sequence[Mapping[str, Any]], finals: Mapping[Any, Mapping[str, Any]],
                         labels: Sequence[str]) -> str:
    """Per method and the real data, how many members meet the recipe study's goal: at most
    ``GOAL_MODES_MISSED`` modes missed at >= ``GOAL_HIGH_QUALITY_PCT`` % high quality (means over
    seeds), and how many unequal members (of five modes or more, with each mode's mass measured)
    hold >= ``GOAL_RARE_HELD`` of their rarest five modes; in all, then dimension by dimension."""
    out = ["**Members meeting the recipe study's goal** (docs/recipe.md; means over each member's finished seeds)\n",
           f"| method | members scored | >= K - {GOAL_MODES_MISSED} modes at >= {GOAL_HIGH_QUALITY_PCT:g} % high quality "
           f"| unequal members with >= {GOAL_RARE_HELD} of the rarest five held | by dimension: goal met (rarest five held) |",
           "|---|---|---|---|---|"]
    for label in [*labels, "real data"]:
        mine = [row for row in rows if row["method"] == label]
        if not mine:
            continue
        met, scored, rare, unequal = _goal_counts(mine, finals, label)
        by_dim = []
        for dim in sorted({row["dim"] for row in mine}):
            d_met, d_scored, d_rare, d_unequal = _goal_counts([row for row in mine if row["dim"] == dim], finals, label)
            by_dim.append(f"d = {dim}: {d_met} of {d_scored}" + (f" ({d_rare} of {d_unequal})" if d_unequal else ""))
        out.append(f"| {label} | {scored} | {met} of {scored} | " + (f"{rare} of {unequal}" if unequal else "—")
                   + " | " + "; ".join(by_dim) + " |")
    return "\n".join(out) + "\n"


def rare_mode_markdown(finals: Mapping[Any, Mapping[str, Any]], labels: Sequence[str]) -> str:
    """For each unequal-weight member: per method, the high-quality mass at each of the
    ``RARE`` rarest modes as a % of the mass the data puts there (mean ± std over seeds; 100 is
    the data's own share), how many of the rarest five modes (all of them, on a member of fewer)
    hold any sample, and reverse KL."""
    out = []
    for name in sorted({key[1] for key, final in finals.items() if "mode_mass" in final}):
        member = FamilyMember.parse(name)
        weights = family_mixture(member).weights.double()
        rarest = weights.argsort()[:5].tolist()
        out.append(f"\n**Rare modes of {name}** (weights 1 : 2 : ... : {member.modes}; each cell: the samples' "
                   "high-quality mass at that mode, as a % of the data's; mean ± std over seeds)\n")
        heads = [f"rarest {k + 1} ({100 * weights[i]:.2f} %)" for k, i in enumerate(rarest[:RARE])]
        held_head = "rarest five held" if len(rarest) == 5 else f"all {len(rarest)} modes held"
        out.append("| method | " + " | ".join(heads) + f" | {held_head} | rKL |")
        out.append("|---|" + "---|" * (len(heads) + 2))
        for label in [*labels, "real data"]:
            runs = _member_runs(finals, label, name)
            if not runs:
                continue
            masses = np.array([run["mode_mass"] for run in runs]) / weights.numpy() * 100
            cells = [format_stats(mean_std(list(masses[:, i])), 0) for i in rarest[:RARE]]
            held = _rarest_held(runs, rarest)
            rkl = mean_std([run.get("reverse_kl") for run in runs])
            out.append(f"| {label} | " + " | ".join(cells) + f" | {held:.1f} / {len(rarest)} | "
                       + format_stats(rkl, 2, "—") + " |")
    return "\n".join(out).lstrip("\n") + ("\n" if out else "")


def beyond2d_markdown(rows: Sequence[Mapping[str, Any]], methods: Sequence[str]) -> str:
    """Per (weights, separation): methods and real data down, dimensions across."""
    found = {(r["method"], r["weights"], r["separation"], r["dim"]): r for r in rows}
    out = []
    for weights, separation in sorted({(r["weights"], r["separation"]) for r in rows}):
        dims = sorted({r["dim"] for r in rows if (r["weights"], r["separation"]) == (weights, separation)})
        modes = next(r["max_modes"] for r in rows if (r["weights"], r["separation"]) == (weights, separation))
        out.append(f"\n**{modes} modes, {weights} weights, closest means {separation:g} high-quality radii apart**\n")
        out.append("| method | " + " | ".join(f"d = {d}" for d in dims) + " |")
        out.append("|---|" + "---|" * len(dims))
        for method in [*methods, "real data"]:
            cells = [_cell(found.get((method, weights, separation, d))) for d in dims]
            if any(c != "—" for c in cells):
                out.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(out).lstrip("\n") + "\n"


def _cell(row: Mapping[str, Any] | None) -> str:
    if row is None:
        return "—"
    kl = "" if row.get("reverse_kl_mean") is None else f", rKL {format_row_stats(row, 'reverse_kl')}"
    return f"{format_row_stats(row, 'modes', 1)}, {format_row_stats(row, 'high_quality_pct', 0)} %{kl}"


def plot_beyond2d(rows: Sequence[Mapping[str, Any]], methods: Sequence[str], path: Path) -> Path:
    """Modes captured (% of the mixture's) and % high quality against the dimension (log axis),
    one column per separation; a line per method and weighting (dashed: unequal), with the
    std over seeds as error bars, and the real data in grey."""
    separations = sorted({r["separation"] for r in rows})
    fig, axes = plt.subplots(2, len(separations), figsize=(4.6 * len(separations), 7), squeeze=False)
    for column, separation in enumerate(separations):
        for row_index, (key, title) in enumerate((("modes", "modes captured (% of all)"), ("high_quality_pct", "% high quality"))):
            ax = axes[row_index][column]
            for colour, method in enumerate([*methods, "real data"]):
                for weights, style in (("equal", "-"), ("unequal", "--")):
                    mine = sorted((r for r in rows if (r["method"], r["weights"], r["separation"]) == (method, weights, separation)),
                                  key=lambda r: r["dim"])
                    if not mine:
                        continue
                    scale = [100.0 / r["max_modes"] if key == "modes" else 1.0 for r in mine]
                    ax.errorbar([r["dim"] for r in mine], np.multiply([r[f"{key}_mean"] for r in mine], scale),
                                yerr=np.multiply([r[f"{key}_std"] or 0.0 for r in mine], scale), ls=style, marker="o", ms=3,
                                capsize=2, color="grey" if method == "real data" else f"C{colour}",
                                label=f"{method} ({weights})")
            dims = sorted({r["dim"] for r in rows})
            ax.set_xscale("log")
            ax.set_xticks(dims, [str(d) for d in dims])
            ax.minorticks_off()
            ax.set_ylim(-3, 103)
            ax.set_title(f"separation {separation:g}: {title}", fontsize=10)
            ax.set_xlabel("dimension")
            ax.grid(alpha=0.3)
    handles, names = axes[0][0].get_legend_handles_labels()
    columns = min(4, len(names)) or 1
    legend_rows = -(-len(names) // columns)  # below the panels, so no line is hidden under it
    fig.set_figheight(7 + 0.22 * legend_rows)
    fig.legend(handles, names, loc="lower center", ncol=columns, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.22 * legend_rows / fig.get_figheight() + 0.01, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
