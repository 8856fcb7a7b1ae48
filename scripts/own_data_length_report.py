"""The own-data length screen's table and pick (scripts/own_data_length_screen.sh, whose header
states the rule): for each screen table and candidate ``epochs``, the privacy check (DCR share,
seeds flagged) and the coverage metrics over the kept seeds, whether the candidate passes, and
the pick. ``--private TABLE EPOCHS`` exits 1 when that candidate copies on that table (the
privacy part of the rule alone, which needs no other candidate).

    .venv/bin/python scripts/own_data_length_report.py --results docs/results/own-data-length --out screen.md
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from veegan.experiments.tables import format_mean_std

TABLES = ("wine", "penguins", "digits")
MAX_DCR_SHARE = 0.10  # twice the 5 % that fresh rows give
COVERAGE_SLACK = 0.05  # a candidate's mean coverage may trail the table's best candidate by this much
SEEDS = 3
# the default before the screen (100,000 steps), where scripts/own_data_anchors.sh kept it
BEFORE = Path("docs/results/own-data-anchors")


def seed_metrics(folder: Path, method: str = "gan") -> list[dict[str, Any]]:
    """The final metrics of each kept seed of ``method`` under ``folder``."""
    return [json.loads(path.read_text()) for path in sorted(folder.glob(f"{method}/seed*/metrics.json"))]


def candidates(results: Path, table: str) -> dict[float, list[dict[str, Any]]]:
    """Each candidate's kept seeds on ``table``, by epochs."""
    found = {}
    for folder in sorted((results / table).glob("epochs*")):
        runs = seed_metrics(folder)
        if runs:
            found[float(folder.name.removeprefix("epochs"))] = runs
    return found


def private(runs: list[dict[str, Any]]) -> bool:
    """The privacy part of the rule: no seed flagged, mean DCR share at most MAX_DCR_SHARE."""
    return not any(run["copying"] for run in runs) and statistics.mean(run["dcr_share"] for run in runs) <= MAX_DCR_SHARE


def covering(found: dict[float, list[dict[str, Any]]]) -> set[float]:
    """The candidates with all their seeds whose mean coverage is within COVERAGE_SLACK of the
    best such candidate's (the coverage part of the rule)."""
    complete = {epochs: runs for epochs, runs in found.items() if len(runs) == SEEDS}
    means = {epochs: statistics.mean(r["coverage"] for r in runs) for epochs, runs in complete.items()}
    return {epochs for epochs, mean in means.items() if mean >= max(means.values()) - COVERAGE_SLACK}


def verdicts(found: dict[float, list[dict[str, Any]]]) -> dict[float, str]:
    """'pass', or why not, for each candidate."""
    covers = covering(found)
    out = {}
    for epochs, runs in found.items():
        if len(runs) < SEEDS:
            out[epochs] = f"{len(runs)} of {SEEDS} seeds"
        else:
            out[epochs] = " and ".join(["copies"] * (not private(runs)) + ["coverage"] * (epochs not in covers)) or "pass"
    return out


def row(label: str, runs: list[dict[str, Any]], verdict: str) -> str:
    def cell(key: str, digits: int) -> str:
        return format_mean_std([run[key] for run in runs], digits)
    flagged = sum(run["copying"] for run in runs)
    return (f"| {label} | {runs[0]['step']:,} | {cell('dcr_share', 3)} | {flagged} of {len(runs)} | {cell('coverage', 2)} | "
            f"{cell('recall', 2)} | {cell('precision', 2)} | {cell('classes_produced', 1)} | {cell('wall_time_s', 0)} | {verdict} |")


def report(results: Path) -> str:
    lines, passing, covers = [], None, None
    for table in TABLES:
        found = candidates(results, table)
        if not found:
            continue
        judged = verdicts(found)
        passed = {epochs for epochs, verdict in judged.items() if verdict == "pass"}
        passing = passed if passing is None else passing & passed
        covers = covering(found) if covers is None else covers & covering(found)
        lines += [f"**{table}**", "", "| epochs | steps | DCR share | flagged | coverage | recall | precision | classes | "
                  "training s | rule |", "|---|---|---|---|---|---|---|---|---|---|"]
        lines += [row(f"{epochs:g}", runs, judged[epochs]) for epochs, runs in sorted(found.items())]
        before = seed_metrics(BEFORE / table, "gan-100k-steps")
        if before:
            lines.append(row("before: 100,000 steps", before, "—"))
        lines.append("")
    pick = max(passing) if passing else None
    lines.append(f"Pick (the largest candidate passing every screen table): "
                 f"{'none passes' if pick is None else f'epochs = {pick:g}'}.")
    if pick is None:  # the fallback declared in scripts/own_data_length_screen.sh
        fallback = min(covers) if covers else None
        lines.append(f"Fallback (the shortest candidate whose coverage passes on every screen table): "
                     f"{'none' if fallback is None else f'epochs = {fallback:g}'}.")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--private", nargs=2, metavar=("TABLE", "EPOCHS"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.private:
        table, epochs = args.private[0], float(args.private[1])
        runs = candidates(args.results, table).get(epochs, [])
        return 0 if runs and private(runs) else 1
    text = report(args.results)
    (args.out.write_text(text) if args.out else sys.stdout.write(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
