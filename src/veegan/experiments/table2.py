"""``veegan reproduce table2``: the paper's Table 2 (Sections 5.2 and 5.3) with one command:
Stacked-MNIST modes and KL for every method, IvOM on CIFAR-10, mean +- std over seeds beside
the paper's numbers, with sample grids, the inference figure (Appendix D) and the
nearest-sample figure (Figure 3a)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from ..api import load
from ..config import TrainConfig
from ..config_values import merge
from ..configure import resolve_config
from ..data.base import Dataset, pixels_to_float
from ..data.catalog import make_dataset
from ..data.images import cifar10_split
from ..evaluation.grids import inference_figure, nearest_figure, plot_sample_grids
from ..evaluation.ivom import IvomOptions, mean_ivom
from ..methods import method_label
from ..training import checkpoint
from ..training import run_dir as runs
from .sweep import Job, Launch, grid_jobs, run_jobs
from .tables import csv_text, mean_std, wall_time_note

TABLE2_METHODS = ("gan", "ali", "unrolled", "veegan", "pacgan")
TABLE2_DATASETS = ("stacked_mnist", "cifar10")

# Budgets: steps per dataset, DCGAN's base width, seeds, the IvOM search, and optionally other
# configuration overrides. Everything else is the image datasets' preset, the paper's DCGAN
# settings (veegan.data.images.IMAGE_PRESET).
BUDGETS: dict[str, dict[str, Any]] = {
    # DCGAN at full width; 50,000 steps of 64 = 25 epochs of the 128,000-image Stacked MNIST
    # (DCGAN-tensorflow's default epochs); for a GPU
    "paper": {"steps": {"stacked_mnist": 50_000, "cifar10": 50_000}, "conv_width": 64, "seeds": 5,
              "ivom": {"images": 1_000, "restarts": 3, "steps": 500}},
    # sized for a 2-core CPU (about an hour with 2 workers): quarter-width networks (Unrolled GAN's
    # second-order look-ahead through a width-32 D costs ~1 s a step here), 2,000 steps of 64
    # (one epoch of Stacked MNIST), 3 seeds, IvOM on 256 test images
    "cpu": {"steps": {"stacked_mnist": 2_000, "cifar10": 2_000}, "conv_width": 16, "seeds": 3,
            "ivom": {"images": 256, "restarts": 3, "steps": 100}},
}

# Table 2 of the paper: Stacked-MNIST (modes of 1000, KL) and CIFAR-10 IvOM (mean, std); 5 runs.
PAPER_TABLE2: dict[str, tuple[float, float, float, float]] = {
    "gan": (99, 3.4, 0.00844, 0.002),
    "ali": (16, 5.4, 0.0067, 0.004),
    "unrolled": (48.7, 4.32, 0.013, 0.0009),
    "veegan": (150, 2.95, 0.0068, 0.0001),
}


def table2_jobs(methods: Sequence[str], datasets: Sequence[str], seeds: int, budget: str, out: Path,
                data_dirs: dict[str, str | None]) -> list[Job]:
    spec = BUDGETS[budget]

    def configure(method: str, dataset: str, seed: int) -> TrainConfig:
        overrides = merge(spec.get("overrides", {}), {"model": {"conv_width": spec["conv_width"]}})
        if data_dirs.get(dataset):
            overrides["data_dir"] = str(Path(data_dirs[dataset]).resolve())
        return resolve_config(method=method, dataset=dataset, seed=seed, steps=spec["steps"][dataset], overrides=overrides)

    return grid_jobs(methods, datasets, seeds, out, configure)


def run_ivom(run_dir: Path, test_images: torch.Tensor, options: IvomOptions, dataset: Dataset | None = None) -> float:
    """IvOM of one trained run on ``test_images``, cached in run_dir/ivom.json. Reported, as in
    the paper, as mean squared error per pixel with pixels in [0, 1]."""
    cache = run_dir / runs.IVOM_NAME
    stat = (run_dir / checkpoint.CHECKPOINT_NAME).stat()  # a retrained or resumed run is measured again
    key = {"images": len(test_images), **options.__dict__, "checkpoint": [stat.st_size, stat.st_mtime_ns]}
    if cache.is_file() and json.loads(cache.read_text()).get("key") == key:
        return json.loads(cache.read_text())["ivom"]
    run = load(run_dir, dataset)
    value = mean_ivom(run.method.generator, run.method.latent_dim, test_images, options)
    cache.write_text(json.dumps({"key": key, "ivom": value}) + "\n")
    return value


def cifar10_test_images(data_dir: str | None, n: int) -> torch.Tensor:
    """The first ``n`` CIFAR-10 test images (a fixed subset) in [-1, 1]."""
    return pixels_to_float(cifar10_split(data_dir, "test").images[:n])


def reproduce_table2(
    *, out: str | Path, methods: Sequence[str] = TABLE2_METHODS, datasets: Sequence[str] = TABLE2_DATASETS,
    seeds: int | None = None, budget: str = "cpu", workers: int | None = None,
    mnist_dir: str | None = None, cifar10_dir: str | None = None, launch: Launch = Launch(),
) -> list[dict[str, Any]]:
    """Train every (method, dataset, seed), then write table2.md, table2.csv and the figures."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    spec = BUDGETS[budget]
    seeds = seeds or spec["seeds"]
    data_dirs = {"stacked_mnist": mnist_dir, "cifar10": cifar10_dir}
    finals, wall = run_jobs(table2_jobs(methods, datasets, seeds, budget, out, data_dirs), workers, launch=launch)
    methods = [method_label(method) for method in methods]
    ivoms: dict[tuple[str, int], float] = {}
    if "cifar10" in datasets:
        options = IvomOptions(restarts=spec["ivom"]["restarts"], steps=spec["ivom"]["steps"])
        test_images = cifar10_test_images(cifar10_dir, spec["ivom"]["images"])
        train_images = make_dataset("cifar10", data_dir=cifar10_dir and str(Path(cifar10_dir).resolve()))
        for method in methods:
            for seed in range(seeds):
                ivoms[method, seed] = run_ivom(out / "cifar10" / method / f"seed{seed}", test_images, options, train_images)
                print(f"IvOM {method} seed {seed}: {ivoms[method, seed]:.5f}", file=sys.stderr, flush=True)
    rows = table2_rows(finals, ivoms, methods, datasets, seeds)
    (out / "table2.csv").write_text(csv_text(rows))
    markdown = table2_markdown(rows, budget, seeds, cifar10_source(cifar10_dir) if "cifar10" in datasets else None)
    (out / "table2.md").write_text(markdown + "\n" + wall_time_note(wall, finals))
    figures(out, methods, datasets)
    print(markdown)
    print(f"total wall time: {wall:.0f} s ({wall / 60:.1f} min)")
    return rows


def table2_rows(finals: dict, ivoms: dict, methods: Sequence[str], datasets: Sequence[str], seeds: int) -> list[dict[str, Any]]:
    """One record per method and for real data: modes, KL and IvOM (mean, std over seeds)."""
    rows = []
    for name in list(methods) + ["real data"]:
        row: dict[str, Any] = {"method": name}
        if "stacked_mnist" in datasets:
            if name == "real data":  # the real samples drawn beside every run's evaluation
                runs = [finals[(m, "stacked_mnist", s)]["real"] for m in methods for s in range(seeds)]
            else:
                runs = [finals[(name, "stacked_mnist", s)] for s in range(seeds)]
            for key in ("modes", "kl", "digits_pct"):
                row[f"{key}_mean"], row[f"{key}_std"] = mean_std([r.get(key) for r in runs]) or (None, None)
            row["classifier_accuracy"] = runs[0].get("classifier_accuracy")
        if name != "real data" and ivoms:
            row["ivom_mean"], row["ivom_std"] = mean_std([ivoms[(name, s)] for s in range(seeds)]) or (None, None)
        for dataset in datasets:  # the wall time of one run (training and its final evaluation)
            if name != "real data":
                times = [finals[(name, dataset, s)].get("wall_time_s") for s in range(seeds)]
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


def table2_markdown(rows: list[dict[str, Any]], budget: str, seeds: int, cifar10: str | None = None) -> str:
    def cell(row: dict[str, Any], key: str, digits: int) -> str:
        m, s = row.get(f"{key}_mean"), row.get(f"{key}_std")
        return "n/a" if m is None else f"{m:.{digits}f} ± {s:.{digits}f}"

    def paper(value: float | None) -> str:
        return "—" if value is None else f"{value:g}"

    accuracy = next((r["classifier_accuracy"] for r in rows if r.get("classifier_accuracy")), None)
    out = [f"Table 2 reproduction, budget `{budget}`, mean ± std over {seeds} seed(s)."]
    if budget != "paper":
        out.append(f"The `{budget}` budget is reduced (networks, steps, IvOM search; see veegan.experiments.table2.BUDGETS): "
                   "its figures are not the paper's protocol.")
    if cifar10:
        out.append(f"CIFAR-10: {cifar10}; IvOM is the mean squared error per pixel, pixels in [0, 1].")
    if accuracy:
        out.append(f"Stacked-MNIST modes and KL from 26,000 samples, labelled by an MNIST classifier with "
                   f"{100 * accuracy:.2f} % test accuracy; digits %: the channels it labels with confidence >= 0.9.")
    datasets = [d for d in TABLE2_DATASETS if any(f"wall_time_s_{d}" in r for r in rows)]
    times = "".join(f" s per run, {d} |" for d in datasets)
    out += ["", "| method | modes (of 1000) | paper | KL | paper | digits % | IvOM | paper |" + times,
            "|---|---|---|---|---|---|---|---|" + "---|" * len(datasets)]
    for r in rows:
        paper_ivom = "—" if r["paper_ivom"] is None else f"{r['paper_ivom']:g} ± {r['paper_ivom_std']:g}"
        seconds = "".join(" |" if r.get(f"wall_time_s_{d}") is None else f" {r[f'wall_time_s_{d}']:.0f} |" for d in datasets)
        out.append(f"| {r['method']} | {cell(r, 'modes', 1)} | {paper(r['paper_modes'])} | {cell(r, 'kl', 2)} | "
                   f"{paper(r['paper_kl'])} | {cell(r, 'digits_pct', 1)} | {cell(r, 'ivom', 4)} | {paper_ivom} |" + seconds)
    return "\n".join(out) + "\n"


def figures(out: Path, methods: Sequence[str], datasets: Sequence[str], n_nearest: int = 8) -> None:
    """samples_<dataset>.png (seed 0 of each method beside real data), inference_<dataset>.png
    (Appendix D: real images above G(F(x)), VEEGAN seed 0) and nearest.png (Figure 3a, CIFAR-10
    test images beside the nearest of 2,000 samples of each method)."""
    for dataset in datasets:
        runs: dict[str, Any] = {}  # seed 0 of each method, sharing one copy of the dataset
        for method in methods:
            runs[method] = load(out / dataset / method / "seed0", runs[methods[0]].dataset if runs else None)
        panels = {"real data": torch.from_numpy(runs[methods[0]].evaluation_samples(64)[1])}
        panels.update({m: torch.from_numpy(run.evaluation_samples(64)[0]) for m, run in runs.items()})
        plot_sample_grids(panels, out / f"samples_{dataset}.png")
        if "veegan" in runs:
            veegan = runs["veegan"].method
            real = runs["veegan"].dataset.sample(10, torch.Generator().manual_seed(0))
            with torch.no_grad():
                reconstructed = veegan.generator(veegan.reconstructor(real), torch.zeros(10, veegan.generator.noise_dim))
            inference_figure(real, reconstructed, out / f"inference_{dataset}.png")
        if dataset == "cifar10":
            real = cifar10_test_images(runs[methods[0]].config.data_dir, n_nearest)
            generated = {m: torch.from_numpy(run.sample(2_000, seed=0)) for m, run in runs.items()}
            nearest_figure(real, generated, out / "nearest.png")
