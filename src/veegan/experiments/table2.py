"""``veegan reproduce table2``: the paper's Table 2 (Sections 5.2 and 5.3) with one command:
Stacked-MNIST modes and KL for every method, IvOM on CIFAR-10, mean +- std over seeds beside
the paper's numbers, with sample grids, the inference figure (Appendix D) and the
nearest-sample figure (Figure 3a)."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from ..api import load
from ..config import TrainConfig
from ..config_values import merge
from ..configure import resolve_config
from ..data.base import Dataset
from ..data.catalog import make_dataset
from ..errors import VeeganError
from ..presets import preset_values
from ..evaluation.ivom import IvomOptions, mean_ivom
from ..methods import method_label
from ..training import checkpoint
from ..training import run_dir as runs
from .result_store import ResultStore
from .table2_figures import cifar10_test_images, table2_figures
from .sweep import Job, Launch, grid_jobs, run_jobs
from .tables import csv_text, format_row_stats, mean_std, real_rows, wall_time_note

TABLE2_METHODS = ("gan", "ali", "unrolled", "veegan", "veegan_dae", "pacgan")
# the digits budget's steps, fixed by its screen before any table run (docs/table2.md)
DIGITS_STEPS = 20_000
TABLE2_DATASETS = ("stacked_mnist", "cifar10")

# Budgets: steps per dataset, DCGAN's base width, seeds, the IvOM search, and optionally other
# configuration overrides. Everything else is the image datasets' preset, the paper's DCGAN
# settings (veegan.data.images.IMAGE_PRESET).
BUDGETS: dict[str, dict[str, Any]] = {
    # DCGAN at full width; 50,000 steps of 64 = 25 epochs of the 128,000-image Stacked MNIST
    # (DCGAN-tensorflow's default epochs); for a GPU
    "paper": {"steps": {"stacked_mnist": 50_000, "cifar10": 50_000}, "conv_width": 64, "seeds": 5,
              "ivom": {"images": 1_000, "restarts": 3, "steps": 500}},
    # the samples are digits, on a CPU (docs/table2.md): DCGAN-tensorflow's two-stage MNIST
    # network at its own width, bf16 where the CPU has it, the steps fixed by the screen
    # (scripts/digits_screen.sh) before any table run; Unrolled GAN (about 3x a GAN step) 2 seeds
    "digits": {"steps": {"stacked_mnist": DIGITS_STEPS, "cifar10": DIGITS_STEPS}, "conv_width": 64, "seeds": 3,
               "method_seeds": {"unrolled": 2}, "ivom": {"images": 256, "restarts": 3, "steps": 100},
               "overrides": {"model": {"image_net": "dcgan_mnist"}, "runtime": {"precision": "bf16"}}},
    # sized for a 2-core CPU (about an hour with 2 workers): quarter-width networks (Unrolled GAN's
    # second-order look-ahead through a width-32 D costs ~1 s a step here), 2,000 steps of 64
    # (one epoch of Stacked MNIST), 3 seeds, IvOM on 256 test images. Its samples are not digits
    "cpu": {"steps": {"stacked_mnist": 2_000, "cifar10": 2_000}, "conv_width": 16, "seeds": 3,
            "ivom": {"images": 256, "restarts": 3, "steps": 100}},
}

# ``--preset best`` on images: each method's pick (its ``best_preset``) with R3GAN's image
# gamma for R1 and R2 in place of the synthetic screen's. R3GAN's code release has no Stacked
# MNIST preset; its CIFAR-10 preset (brownvc/R3GAN train.py, the one 32 x 32 preset) starts gamma
# at 0.05 and anneals it to 0.005 (our final_gamma_fraction 0.1), with the same (gamma / 2)
# E ||grad D||^2 on pixels in [-1, 1] as loss.r1_gamma (docs/table2.md)
IMAGE_GAMMA = 0.05
IMAGE_FINAL_GAMMA_FRACTION = 0.1


def image_preset_overrides(method: str, preset: str | None) -> dict[str, Any]:
    """The values that replace a preset's synthetic gammas on images: R3GAN's gamma for each
    penalty the preset turns on, annealed as R3GAN anneals it; nothing for ``paper``."""
    if preset in (None, "paper"):
        return {}
    values = preset_values(preset, method).get("loss", {})
    loss = {key: IMAGE_GAMMA for key in ("r1_gamma", "r2_gamma", "r1_latent_gamma") if values.get(key)}
    return {"loss": {**loss, "final_gamma_fraction": IMAGE_FINAL_GAMMA_FRACTION}} if loss else {}


# Table 2 of the paper: Stacked-MNIST (modes of 1000, KL) and CIFAR-10 IvOM (mean, std); 5 runs.
PAPER_TABLE2: dict[str, tuple[float, float, float, float]] = {
    "gan": (99, 3.4, 0.00844, 0.002),
    "ali": (16, 5.4, 0.0067, 0.004),
    "unrolled": (48.7, 4.32, 0.013, 0.0009),
    "veegan": (150, 2.95, 0.0068, 0.0001),
}


def method_seeds(budget: str, method: str, seeds: int | None = None) -> int:
    """The seeds ``method`` trains: ``seeds`` if given, else the budget's (fewer for the slow
    methods that its ``method_seeds`` names)."""
    spec = BUDGETS[budget]
    return seeds or spec.get("method_seeds", {}).get(method, spec["seeds"])


def table2_jobs(methods: Sequence[str], datasets: Sequence[str], seeds: int | None, budget: str, out: Path,
                data_dirs: dict[str, str | None], preset: str | None = None) -> list[Job]:
    """One job per (method, dataset, seed) in ``out/<dataset>/<method>/seed<k>``, each with
    ``preset`` (with R3GAN's image gammas, :func:`image_preset_overrides`)."""
    spec = BUDGETS[budget]

    def configure(method: str, dataset: str, seed: int) -> TrainConfig:
        overrides = merge(merge(spec.get("overrides", {}), {"model": {"conv_width": spec["conv_width"]}}),
                          image_preset_overrides(method, preset))
        if data_dirs.get(dataset):
            overrides["data_dir"] = str(Path(data_dirs[dataset]).resolve())
        return resolve_config(method=method, dataset=dataset, seed=seed, steps=spec["steps"][dataset],
                              overrides=overrides, preset=preset)

    jobs = [job for method in methods
            for job in grid_jobs([method], datasets, method_seeds(budget, method_label(method), seeds), out, configure)]
    return sorted(jobs, key=lambda job: job.key[2])  # seed 0 of every method first: a partial table has every row


def run_ivom(run_dir: Path, test_images: torch.Tensor, options: IvomOptions, dataset: Dataset | None = None,
             store: ResultStore | None = None) -> float | None:
    """IvOM of one trained run on ``test_images``, cached in run_dir/ivom.json (and kept in
    ``store`` beside the run's other small files). Reported, as in the paper, as mean squared
    error per pixel with pixels in [0, 1]. A run kept without its checkpoint gives its kept
    value for the same search, else None."""
    search = {"images": len(test_images), **options.__dict__}
    kept = store.place(run_dir) / runs.IVOM_NAME if store else None
    if not (run_dir / checkpoint.CHECKPOINT_NAME).is_file():
        record = json.loads(kept.read_text()) if kept and kept.is_file() else {}
        return record["ivom"] if {k: v for k, v in record.get("key", {}).items() if k != "checkpoint"} == search else None
    cache = run_dir / runs.IVOM_NAME
    stat = (run_dir / checkpoint.CHECKPOINT_NAME).stat()  # a retrained or resumed run is measured again
    key = {**search, "checkpoint": [stat.st_size, stat.st_mtime_ns]}
    if not (cache.is_file() and json.loads(cache.read_text()).get("key") == key):
        run = load(run_dir, dataset)
        value = mean_ivom(run.method.generator, run.method.latent_dim, test_images, options)
        cache.write_text(json.dumps({"key": key, "ivom": value}) + "\n")
    if kept is not None and kept.parent.is_dir():
        shutil.copyfile(cache, kept)
    return json.loads(cache.read_text())["ivom"]


def reproduce_table2(
    *, out: str | Path, methods: Sequence[str] = TABLE2_METHODS, datasets: Sequence[str] = TABLE2_DATASETS,
    seeds: int | None = None, budget: str = "cpu", workers: int | None = None, mnist_dir: str | None = None,
    cifar10_dir: str | None = None, launch: Launch = Launch(), results: str | Path | None = None, train: bool = True,
    preset: str | None = None,
) -> list[dict[str, Any]]:
    """Train every (method, dataset, seed), then write table2.md, table2.csv and the figures.
    ``results`` and ``train`` as for :func:`.table1.reproduce_table1` (a kept CIFAR-10 run keeps
    its IvOM too); the table shows the runs finished so far. ``preset``: every run's (default
    paper; ``best`` with R3GAN's image gammas)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    spec = BUDGETS[budget]
    data_dirs = {"stacked_mnist": mnist_dir, "cifar10": cifar10_dir}
    store = ResultStore(results, out) if results is not None else None
    for method in methods:  # a method without a pick is refused before anything trains
        preset_values(preset or "paper", method)
    jobs = table2_jobs(methods, datasets, seeds, budget, out, data_dirs, preset)
    finals, wall = run_jobs(jobs, workers, store=store, train=train, launch=launch)
    if not finals:
        raise VeeganError(f"no finished runs to tabulate in {out}" + (f" or {results}" if results else ""))
    methods = [method_label(method) for method in methods]
    ivoms: dict[tuple[str, int], float] = {}
    cifar = [key for key in finals if key[1] == "cifar10"]
    if cifar:
        options = IvomOptions(restarts=spec["ivom"]["restarts"], steps=spec["ivom"]["steps"])
        test_images = cifar10_test_images(cifar10_dir, spec["ivom"]["images"])
        train_images = make_dataset("cifar10", data_dir=cifar10_dir and str(Path(cifar10_dir).resolve()))
        for method, _, seed in cifar:
            value = run_ivom(out / "cifar10" / method / f"seed{seed}", test_images, options, train_images, store)
            if value is not None:
                ivoms[method, seed] = value
                print(f"IvOM {method} seed {seed}: {value:.5f}", file=sys.stderr, flush=True)
    rows = table2_rows(finals, ivoms, methods, datasets)
    (out / "table2.csv").write_text(csv_text(rows))
    markdown = table2_markdown(rows, budget, cifar10_source(cifar10_dir) if "cifar10" in datasets else None, preset)
    partial = "" if len(finals) == len(jobs) else f"Partial: {len(finals)} of the {len(jobs)} runs have finished.\n"
    (out / "table2.md").write_text(markdown + "\n" + partial + wall_time_note(wall, finals))
    table2_figures(out, [m for m in methods if (m, datasets[0], 0) in finals], datasets, store)
    print(markdown + partial)
    print(f"total wall time: {wall:.0f} s ({wall / 60:.1f} min)")
    return rows


def table2_rows(finals: dict, ivoms: dict, methods: Sequence[str], datasets: Sequence[str]) -> list[dict[str, Any]]:
    """One record per method and for real data: the runs finished, modes, KL, digits % and IvOM
    (mean, std over the seeds that finished)."""
    rows = []
    for name in list(methods) + ["real data"]:
        row: dict[str, Any] = {"method": name}
        if "stacked_mnist" in datasets:
            runs = [final for (method, dataset, _), final in finals.items()
                    if dataset == "stacked_mnist" and (name == "real data" or method == name)]
            runs = real_rows(runs) if name == "real data" else runs
            row["runs"] = len(runs)
            for key in ("modes", "kl", "digits_pct"):
                row[f"{key}_mean"], row[f"{key}_std"] = mean_std([r.get(key) for r in runs]) or (None, None)
            row["classifier_accuracy"] = next((r.get("classifier_accuracy") for r in runs), None)
        if name != "real data" and ivoms:
            row["ivom_mean"], row["ivom_std"] = mean_std([v for (m, _), v in ivoms.items() if m == name]) or (None, None)
        for dataset in datasets:  # the wall time of one run (training and its final evaluation)
            if name != "real data":
                times = [final.get("wall_time_s") for (m, d, _), final in finals.items() if (m, d) == (name, dataset)]
                row[f"wall_time_s_{dataset}"] = (mean_std(times) or (None,))[0]
        paper = PAPER_TABLE2.get(name)
        row["paper_modes"], row["paper_kl"], row["paper_ivom"], row["paper_ivom_std"] = paper or (None,) * 4
        rows.append(row)
    return rows


def cifar10_source(data_dir: str | None) -> str:
    """Where the CIFAR-10 images came from, for the table's note."""
    if data_dir is None:
        return "the official python batches (downloaded)"
    root = Path(data_dir)
    if (root / "cifar-10-batches-py").is_dir() or (root / "data_batch_1").is_file():
        return f"the official python batches in {root}"
    return f"the image files in {root} (if these are a JPEG re-encoding, IvOM is not comparable with published numbers)"


def table2_markdown(rows: list[dict[str, Any]], budget: str, cifar10: str | None = None, preset: str | None = None) -> str:
    """table2.md: the budget, preset and data notes, then one row per method and the real data
    beside the paper's figures."""
    def paper(value: float | None) -> str:
        return "—" if value is None else f"{value:g}"

    accuracy = next((r["classifier_accuracy"] for r in rows if r.get("classifier_accuracy")), None)
    out = [f"Table 2 reproduction, budget `{budget}`, mean ± std over the seeds that finished (runs: Stacked MNIST's)."]
    if preset not in (None, "paper"):
        out.append(f"Every run with `--preset {preset}` (each method's pick, R1 and R2 at R3GAN's image gamma "
                   f"{IMAGE_GAMMA:g} annealed to {IMAGE_GAMMA * IMAGE_FINAL_GAMMA_FRACTION:g}): not the paper's settings.")
    if budget == "digits":
        out.append("The `digits` budget: DCGAN-tensorflow's two-stage MNIST network (`model.image_net=dcgan_mnist`), "
                   "trained for the steps its screen fixed (docs/table2.md); not the paper's four-stage network.")
    elif budget != "paper":
        out.append(f"The `{budget}` budget is reduced (networks, steps, IvOM search; see veegan.experiments.table2.BUDGETS): "
                   "its figures are not the paper's protocol.")
    if cifar10:
        out.append(f"CIFAR-10: {cifar10}; IvOM is the mean squared error per pixel, pixels in [0, 1].")
    if accuracy:
        out.append(f"Stacked-MNIST modes and KL from 26,000 samples, labelled by an MNIST classifier with "
                   f"{100 * accuracy:.2f} % test accuracy; digits %: the channels it labels with confidence >= 0.9.")
    datasets = [d for d in TABLE2_DATASETS if any(f"wall_time_s_{d}" in r for r in rows)]
    times = "".join(f" s per run, {d} |" for d in datasets)
    out += ["", "| method | runs | modes (of 1000) | paper | KL | paper | digits % | IvOM | paper |" + times,
            "|---|---|---|---|---|---|---|---|---|" + "---|" * len(datasets)]
    for r in rows:
        paper_ivom = "—" if r["paper_ivom"] is None else f"{r['paper_ivom']:g} ± {r['paper_ivom_std']:g}"
        seconds = "".join(" |" if r.get(f"wall_time_s_{d}") is None else f" {r[f'wall_time_s_{d}']:.0f} |" for d in datasets)
        modes, kl, digits, ivom = (format_row_stats(r, key, n) for key, n in (("modes", 1), ("kl", 2), ("digits_pct", 1), ("ivom", 4)))
        out.append(f"| {r['method']} | {r.get('runs', '—')} | {modes} | {paper(r['paper_modes'])} | {kl} | "
                   f"{paper(r['paper_kl'])} | {digits} | {ivom} | {paper_ivom} |" + seconds)
    return "\n".join(out) + "\n"
