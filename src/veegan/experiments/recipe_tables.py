"""The recipe study's tables (:mod:`.recipe`): the screen, candidate by candidate, and the picks
on the evaluation sets beside the real data."""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from ..data.bundled_tables import BUNDLED_TABLES
from ..data.family import FamilyMember
from ..evaluation.modes import under_rule
from .beyond2d import beyond2d_markdown, family_goal_markdown, rare_mode_markdown
from .compare import table_metrics_table
from .tables import format_stats, mean_std, metric_rows, real_rows


REAL_ROW = "real data (held out, scored the same way)"


def _pair(stats: tuple[float, float | None] | None) -> str:
    return format_stats(stats, 3, "—")


def screen_markdown(table: Mapping[str, Mapping[str, Mapping[str, Any]]], picks: Mapping[str, str], sets: Sequence[str],
                    steps: int, seeds: int, real: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """Per method, a row per candidate: mean ± std over sets and seeds of coverage and quality,
    and per set the mean of each; the pick in bold; last, the method's ``real`` cell (held-out
    real samples scored the same way), the ceiling of both."""
    out = [f"Screen: {steps:,} steps per run, {seeds} seeds per set. Coverage: modes captured / K on a mixture, "
           "k-NN coverage on a table; quality: the high-quality share on a mixture, k-NN precision on a table. "
           "Each set's cell: coverage / quality (mean over seeds). A run that diverged scores 0 / 0 (runs: '(N diverged)').\n"]
    for label, cells in table.items():
        state = f"pick: **{picks[label]}**" if label in picks else "not picked yet: the screen is partial"
        out.append(f"\n**{label}** ({state})\n")
        out.append("| candidate | runs | coverage | quality | " + " | ".join(sets) + " |")
        out.append("|---|---|---|---|" + "---|" * len(sets))
        rows = list(cells.items()) + ([(REAL_ROW, real[label])] if real and label in real else [])
        for name, cell in rows:
            per_set = []
            for dataset in sets:
                scores = cell["sets"].get(dataset)
                per_set.append("—" if not scores else "{:.2f} / {:.2f}".format(*(sum(s[i] for s in scores) / len(scores)
                                                                                  for i in (0, 1))))
            shown = f"**{name}**" if picks.get(label) == name else name
            diverged = f" ({cell['diverged']} diverged)" if cell.get("diverged") else ""
            out.append(f"| {shown} | {cell['runs']} of {cell['of']}{diverged} | {_pair(cell['coverage'])} | {_pair(cell['quality'])} | "
                       + " | ".join(per_set) + " |")
    return "\n".join(out) + "\n"


def objective_markdown(table: Mapping[str, Mapping[str, Mapping[str, Any]]], terms: str = "+terms") -> str:
    """The screen read the other way: a row per objective (a candidate name shared by every
    method), a column per method, and one more for a method screened with its own ``terms``;
    each cell mean coverage / quality. The GAN's column is the objective alone, so each other
    column says what that method adds on top of it. Only the methods whose screen is complete."""
    complete = {label: cells for label, cells in table.items() if all(c["runs"] == c["of"] for c in cells.values())}
    shared = [name for name in next(iter(complete.values()), {}) if all(name in cells for cells in complete.values())]
    if len(complete) < 2 or not shared:
        return ""
    columns = [(label, "") for label in sorted(complete, key=lambda label: label != "gan")]
    columns += [(label, terms) for label, cells in complete.items() if all(name + terms in cells for name in shared)]
    out = ["\nEach objective across the methods (mean coverage / quality over the screen's sets and seeds; "
           "the GAN's column is the objective alone):\n",
           "| objective | " + " | ".join(label + suffix for label, suffix in columns) + " |",
           "|---|" + "---|" * len(columns)]
    for name in shared:
        cells = [complete[label][name + suffix] for label, suffix in columns]
        out.append(f"| {name} | " + " | ".join(f"{c['coverage'][0]:.3f} / {c['quality'][0]:.3f}" for c in cells) + " |")
    return "\n".join(out) + "\n"


def family_finals(finals: Mapping[Any, Mapping[str, Any]]) -> dict[Any, Mapping[str, Any]]:
    """The runs on the mixture family's members, of ``finals`` keyed (label, dataset, ...)."""
    return {key: final for key, final in finals.items() if FamilyMember.parse(key[1]) is not None}


def family_rows(finals: Mapping[Any, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per (label, member) of the family's runs in ``finals``, and one per member for the
    real data: mean ± std over seeds, with the member's dimension, weights and separation (the
    rows :func:`.beyond2d.beyond2d_markdown` and :func:`.beyond2d.plot_beyond2d` take)."""
    rows = metric_rows(family_finals(finals), group=lambda key: (key[0], key[1]), real_group=lambda key: ("real data", key[1]))
    for row in rows:
        member = FamilyMember.parse(row["dataset"])
        row.update(dim=member.dim, weights=member.weights, separation=member.separation)
    return rows


def evaluation_markdown(finals: Mapping[Any, Mapping[str, Any]], labels: Sequence[str], sets: Sequence[str], total: int) -> str:
    """The picks on the evaluation sets: Table 1's datasets (under each high-quality rule where
    the two differ), the mixture family (with its rarest modes), then each real table."""
    labels = list(dict.fromkeys(labels))
    out = [f"Evaluation of the picks: {len(finals)} of {total} runs finished; mean ± std over seeds.\n"]
    named = [name for name in sets if name not in BUNDLED_TABLES and FamilyMember.parse(name) is None]
    if named:
        out.append(_named_markdown(finals, labels, named))
    family = family_finals(finals)
    if family:
        rows = family_rows(family)
        out += ["\n**The mixture family** (each cell: modes captured, % high quality, rKL)\n",
                beyond2d_markdown(rows, labels), family_goal_markdown(rows, family, labels), rare_mode_markdown(family, labels)]
    tables = [name for name in sets if name in BUNDLED_TABLES]
    for name in tables:
        by_label = {label: [f for key, f in finals.items() if key[:2] == (label, name)] for label in labels}
        by_label = {label: runs for label, runs in by_label.items() if runs}
        if by_label:
            out.append("\n" + table_metrics_table(by_label, name))
    if len({key[1] for key in finals if key[1] in tables}) > 1:
        out.append(_across_tables_markdown(finals, labels, tables))
    return "\n".join(out)


def _across_tables_markdown(finals: Mapping[Any, Mapping[str, Any]], labels: Sequence[str], tables: Sequence[str]) -> str:
    """Coverage, precision and recall, mean ± std over every run of a label on the real tables;
    the real data's row over the distinct real draws (:func:`.tables.real_rows`)."""
    keys = [key for key in finals if key[1] in tables]
    lines = [f"\n**Across the tables** ({', '.join(t for t in tables if any(k[1] == t for k in keys))}: "
             "mean ± std over every run)\n", "| method | runs | coverage | precision | recall |", "|---|---|---|---|---|"]
    rows = [(label, [finals[key] for key in keys if key[0] == label]) for label in labels]
    rows.append(("real data", real_rows(finals[key] for key in keys)))
    for label, runs in rows:
        if runs:
            cells = [mean_std([run.get(metric) for run in runs]) for metric in ("coverage", "precision", "recall")]
            lines.append(f"| {label} | {len(runs)} | " + " | ".join(_pair(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _named_markdown(finals: Mapping[Any, Mapping[str, Any]], labels: Sequence[str], names: Sequence[str]) -> str:
    """Rows: each label on each of ring, grid, hd1200 (and the real data), per rule."""
    lines = ["| dataset | rule | method | runs | modes | % high quality | reverse KL |", "|---|---|---|---|---|---|---|"]
    for name in names:
        runs = {key: final for key, final in finals.items() if key[1] == name}
        if not runs:
            continue
        first = next(iter(runs.values()))
        rules = ["calibrated"] + (["paper"] if "paper_rule" in first
                                  and not math.isclose(first["paper_rule"]["hq_radius"], first["hq_radius"], rel_tol=1e-9) else [])
        for rule in rules:
            for label in [*labels, "real data"]:
                seeds = (real_rows(runs.values(), rule) if label == "real data"
                         else [under_rule(f, rule) for key, f in runs.items() if key[0] == label])
                if not seeds:
                    continue
                cells = [mean_std([s.get(k) for s in seeds]) for k in ("modes", "high_quality_pct", "reverse_kl")]
                text = [format_stats(c, 2, "—") for c in cells]
                lines.append(f"| {name} | {rule} | {label} | {len(seeds)} | {text[0]} of {seeds[0]['max_modes']} | "
                             f"{text[1]} | {text[2]} |")
    return "\n".join(lines) + "\n"
