"""The own-data default checked where it was not chosen: three Gaussian mixtures outside the
recipe's screen and the mixture family, written as a user's CSV and trained as a user would
(``veegan compare --data FILE``, no preset named: the GAN with ``--preset best``, today's default,
and VEEGAN with ``robust``, the default before it). Their modes are known, so each run is scored
beside the own-data metrics by modes captured, % high quality and the rarest five modes held,
as the family is; the real-data row is fresh draws of the mixture scored the same way.

Resumable: each finished run's small files are kept under ``--results`` (``compare``'s, plus
``known_modes.json``), and the same command continues from them. Prints one markdown table.

    .venv/bin/python benchmarks/own_data_mixtures.py --out runs/own-data-mixtures \\
        --results docs/results/own-data-mixtures [--methods gan veegan] [--seeds 3] [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from veegan.api import load
from veegan.data.catalog import make_dataset
from veegan.experiments.tables import format_mean_std

# none is a screening set (mix-d20-k20-unequal-s4, mix-d3-k27-equal-s4) or a family member
# (D = 2, 5, 10, 50, 200 with 20 modes at spacing 2, 4, 8)
MIXTURES = ("mix-d2-k12-unequal-s3", "mix-d3-k27-equal-s3", "mix-d30-k20-unequal-s3")
ROWS = 5000  # the table's rows, 20 % held out by the own-data default
DATA_SEED = 0
RAREST = 5


def write_table(name: str, folder: Path) -> Path:
    """The mixture's ``ROWS`` draws as a CSV with a header (x1, x2, ...), written once."""
    path = folder / f"{name}.csv"
    if not path.exists():
        x = make_dataset(name).sample(ROWS, torch.Generator().manual_seed(DATA_SEED)).numpy()
        folder.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(x, columns=[f"x{i + 1}" for i in range(x.shape[1])]).to_csv(path, index=False)
    return path


def known_mode_scores(name: str, run_dir: Path) -> dict:
    """The run's final-evaluation draw, in the table's own units, scored by the mixture's modes;
    under ``real`` as many fresh draws of the mixture."""
    mixture, run = make_dataset(name), load(run_dir)
    n, seed = run.config.schedule.eval_samples, run.final_evaluation_seed
    samples = torch.as_tensor(run.sample(n, seed).to_numpy(dtype=np.float32))
    real = mixture.sample(n, torch.Generator().manual_seed(seed))
    return {**mixture.score(samples), "real": mixture.score(real)}


def rarest_held(result: dict, weights: torch.Tensor) -> int | None:
    """How many of the rarest five modes hold any high-quality sample (unequal weights only)."""
    if "mode_mass" not in result:
        return None
    rarest = torch.argsort(weights)[:RAREST].tolist()
    return sum(result["mode_mass"][i] > 0 for i in rarest)


def score_finished(name: str, out: Path, results: Path) -> None:
    """known_modes.json beside each kept run that lacks one (its run directory must still exist)."""
    for kept in sorted(results.glob("*/seed*/metrics.json")):
        target = kept.parent / "known_modes.json"
        run_dir = out / kept.parent.parent.name / kept.parent.name
        if not target.exists() and (run_dir / "config.yaml").exists():
            target.write_text(json.dumps(known_mode_scores(name, run_dir), indent=1))


def row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table(names: tuple[str, ...], results: Path) -> str:
    """Mean +- std over seeds, per mixture and method, then the real-data row: fresh draws for
    the modes, the training rows for the own-data metrics (each scored as the samples are)."""
    lines = [row(["mixture", "method", "runs", "modes", "% high quality", "rarest 5 held", "coverage", "precision", "recall"]),
             row(["---"] * 9)]
    for name in names:
        weights, real_known, real_own = make_dataset(name).weights, [], []
        for method_dir in sorted(p for p in (results / name).glob("*") if p.is_dir()):
            files = sorted(method_dir.glob("seed*/known_modes.json"))
            if not files:
                continue
            known = [json.loads(f.read_text()) for f in files]
            own = [json.loads((f.parent / "metrics.json").read_text()) for f in files]
            if not real_known:
                real_known, real_own = [k["real"] for k in known], [o["real"] for o in own]
            lines.append(row(known_cells(name, method_dir.name, known, weights) + own_cells(own)))
        if real_known:
            lines.append(row(known_cells(name, "real data", real_known, weights) + own_cells(real_own)))
    return "\n".join(lines)


def known_cells(name: str, label: str, known: list[dict], weights: torch.Tensor) -> list[str]:
    rare = [rarest_held(k, weights) for k in known]
    return [name, label, str(len(known)), f"{format_mean_std([k['modes'] for k in known])} of {known[0]['max_modes']}",
            format_mean_std([k["high_quality_pct"] for k in known]),
            format_mean_std(rare) if rare[0] is not None else "—"]


def own_cells(own: list[dict]) -> list[str]:
    return [format_mean_std([o[key] for o in own]) for key in ("coverage", "precision", "recall")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="run directories and the CSV files")
    parser.add_argument("--results", type=Path, required=True, help="the kept runs' small files")
    parser.add_argument("--methods", nargs="+", default=["gan", "veegan"])
    parser.add_argument("--mixtures", nargs="+", default=list(MIXTURES))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, help="training steps (default: the own-data default's)")
    parser.add_argument("--no-train", action="store_true", help="tabulate the kept runs only")
    args = parser.parse_args()
    for name in args.mixtures:
        if not args.no_train:
            data = write_table(name, args.out / "data")
            subprocess.run([str(Path(sys.executable).parent / "veegan"), "compare", "--data", str(data.resolve()),
                            "--methods", *args.methods, "--seeds", str(args.seeds),
                            "--results", str(args.results / name), "--out", str(args.out / name),
                            "--workers", str(args.workers), "--set", "runtime.threads=1", "--quiet"]
                           + (["--steps", str(args.steps)] if args.steps else []), check=True)
            score_finished(name, args.out / name, args.results / name)
    print(table(tuple(args.mixtures), args.results))


if __name__ == "__main__":
    main()
