"""Many training runs at once: in worker processes on this machine (one thread each: two
single-thread processes beat one two-thread process on this kind of CPU) or as tasks on a Ray
cluster (:mod:`.engines`), under one progress bar (:mod:`.progress`). Re-running a sweep skips
the runs that finished (in their run directories, or kept in a :class:`.result_store.ResultStore`)
and resumes the ones that were cut off."""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable, Sequence

import torch

from ..backend.device import resolve_device, runs_per_gpu
from ..config import TrainConfig
from ..data.catalog import make_dataset
from ..errors import DivergedError
from ..evaluation.evaluate import short_summary
from ..methods import method_labels
from ..training import checkpoint
from ..training import run_dir as runs
from .engines import make_engine
from .progress import SweepProgress
from .result_store import ResultStore

POLL_SECONDS = 0.25  # how often the progress bar reads the running runs' logs
# the most runs trained at once on one GPU: the paper's networks use a sliver of a GPU and a step
# is bound by kernel launches, so a few processes keep it busy (fewer where the GPU's free
# memory or the CPU cores run short: veegan.backend.device.runs_per_gpu)
RUNS_PER_GPU = 4


@dataclass
class Job:
    key: Hashable  # e.g. (method, dataset, seed)
    config: TrainConfig
    run_dir: Path


def grid_jobs(
    methods: Sequence[str], datasets: Sequence[str], seeds: int, out: Path,
    configure: Callable[[str, str, int], TrainConfig],
) -> list[Job]:
    """One job per (method, dataset, seed) with the configuration ``configure(method, dataset,
    seed)``, keyed and stored by the method's label: ``out/<dataset>/<label>/seed<k>``."""
    return [Job((label, dataset, seed), configure(method, dataset, seed), out / dataset / label / f"seed{seed}")
            for dataset in datasets for label, method in method_labels(methods).items() for seed in range(seeds)]


def _train_one(config_dict: dict[str, Any], run_dir: str) -> dict[str, Any]:
    """Worker: one single-thread training run; returns its final metrics with its wall time."""
    import torch

    from ..configure import build_config
    from ..training.trainer import train

    torch.set_num_threads(1)
    start = time.perf_counter()
    resume = (Path(run_dir) / runs.CONFIG_NAME).is_file()
    train(build_config(config_dict, preset="paper"), run_dir, resume=resume, progress=False)
    final = json.loads((Path(run_dir) / runs.FINAL_METRICS_NAME).read_text())
    final["wall_time_s"] = time.perf_counter() - start
    (Path(run_dir) / runs.FINAL_METRICS_NAME).write_text(json.dumps(final, indent=2) + "\n")
    return final


def finished(job: Job) -> dict[str, Any] | None:
    """The final metrics of a run that completed ``job.config.steps``, else None. A directory
    holding a run of another configuration is an error, never silently reused."""
    if (job.run_dir / runs.CONFIG_NAME).is_file():
        stored = runs.read_run_config(job.run_dir).to_dict()
        runs.check_same_run(stored, job.config, f"{job.run_dir} holds a run trained")
    path = job.run_dir / runs.FINAL_METRICS_NAME
    if not path.is_file():
        return None
    runs.check_data_definition(job.config, lambda: checkpoint.load(job.run_dir / checkpoint.CHECKPOINT_NAME))
    final = json.loads(path.read_text())
    return final if final.get("step") == job.config.steps else None


DIVERGED_NAME = "diverged.json"  # a run that diverged, when the sweep counts that as its outcome


def _diverged_record(job: Job, store: ResultStore | None) -> dict[str, Any] | None:
    """The record of ``job``'s divergence, in its run directory or kept in ``store``, if any."""
    for place in (job.run_dir, store.place(job.run_dir) if store else None):
        path = place / DIVERGED_NAME if place is not None else None
        if path is not None and path.is_file():
            record = json.loads(path.read_text())
            if record.get("steps") == job.config.steps:
                return record
    return None


def _record_divergence(job: Job, store: ResultStore | None, message: str) -> dict[str, Any]:
    """Write (and keep, with the run's configuration) the outcome of a run that diverged."""
    record = {"diverged": message, "steps": job.config.steps}
    (job.run_dir / DIVERGED_NAME).write_text(json.dumps(record) + "\n")
    if store is not None:
        place = store.place(job.run_dir)
        place.mkdir(parents=True, exist_ok=True)
        for name in (runs.CONFIG_NAME, DIVERGED_NAME):
            if (job.run_dir / name).is_file():
                (place / name).write_bytes((job.run_dir / name).read_bytes())
    return record


def _finished_anywhere(job: Job, store: ResultStore | None, diverged_ok: bool = False) -> dict[str, Any] | None:
    """Finished in its run directory (then kept in ``store`` too, if not yet) or in ``store``;
    with ``diverged_ok``, a recorded divergence counts as the run's outcome."""
    if diverged_ok and (record := _diverged_record(job, store)) is not None:
        return record
    final = finished(job)
    if store is None:
        return final
    if final is not None:
        if store.finished(job.run_dir, job.config) is None or not store.has_every_file(job.run_dir):
            store.keep(job.run_dir)
        return final
    return store.finished(job.run_dir, job.config)


@dataclass(frozen=True)
class Launch:
    """How a sweep's runs are trained: the engine (``local`` processes or a ``ray`` cluster, see
    :mod:`.engines`), the Ray cluster's address (None: start one here), and ``quiet`` (no
    progress bar)."""

    engine: str = "local"
    ray_address: str | None = None
    quiet: bool = False
    device: str | None = None  # every run's runtime.device (None: each run's own setting)
    runs_per_device: int | None = None  # runs at once per GPU (default RUNS_PER_GPU)


def placed(todo: Sequence[Job], launch: Launch) -> tuple[list[TrainConfig], int | None, float]:
    """Each job's configuration on its device: ``launch.device`` if given, else the runs' own
    ``runtime.device`` (``auto`` by default). On CUDA without an index, the visible GPUs are used
    in turn. Also returns the number of workers that fills those GPUs (None on the CPU: one per
    core) and the share of a GPU each run declares to Ray."""
    device = resolve_device(launch.device or todo[0].config.runtime.device)  # unavailable: refused before any run
    if device.type == "cpu":
        return [_on(job.config, launch.device) for job in todo], None, 0.0
    names = [str(device)]
    if device.type == "cuda" and device.index is None and launch.engine == "local":  # Ray picks each task's GPU
        names = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    configs = [_on(job.config, names[i % len(names)]) for i, job in enumerate(todo)]
    gpus = len(names) if device.type == "cuda" and launch.engine == "local" else 0
    per_device = launch.runs_per_device or (runs_per_gpu(gpus, RUNS_PER_GPU) if gpus else RUNS_PER_GPU)
    return configs, len(names) * per_device, 1.0 / per_device if device.type == "cuda" else 0.0


def _on(config: TrainConfig, device: str | None) -> TrainConfig:
    """``config`` with ``runtime.device`` set to ``device`` (unchanged for None)."""
    return config if device is None else dataclasses.replace(config, runtime=dataclasses.replace(config.runtime, device=device))


def run_jobs(
    jobs: Sequence[Job], workers: int | None = None, store: ResultStore | None = None, train: bool = True,
    launch: Launch = Launch(), diverged_ok: bool = False,
) -> tuple[dict[Hashable, dict[str, Any]], float]:
    """Run every job not yet finished; return (final metrics by key, wall time in seconds).
    Shows one progress bar over all the runs' steps, and one line per finished run.
    ``store``: a run kept there counts as finished, and every finished run is kept there.
    ``train=False`` trains nothing and returns the runs finished so far. A run that diverges
    fails the sweep once the others finish, unless ``diverged_ok``: then its outcome is
    ``{"diverged": message, "steps": N}``, recorded so that it is not trained again."""
    results = {job.key: done for job in jobs if (done := _finished_anywhere(job, store, diverged_ok)) is not None}
    todo = [job for job in jobs if job.key not in results] if train else []
    for source in {repr(source): source for source in ((j.config.dataset, j.config.data_file, j.config.data_dir, j.config.table)
                                                        for j in todo)}.values():
        make_dataset(*source)  # here, once: a download into the cache must not run in every worker at once
    started = time.perf_counter()
    if not todo:
        print(f"0 run(s) to train; {len(results)} already done", file=sys.stderr, flush=True)
        return results, 0.0
    configs, gpu_workers, gpu_share = placed(todo, launch)
    shared = Path(os.path.commonpath([str(job.run_dir.resolve()) for job in todo]))
    workers = workers or gpu_workers or os.cpu_count() or 1
    files = tuple(dict.fromkeys(Path(job.config.data_file) for job in todo if job.config.data_file))
    engine = make_engine(launch.engine, max(1, min(workers, len(todo))), launch.ray_address, shared, files)
    progress, interrupted = None, False
    try:
        print(f"{len(todo)} run(s) to train on {engine.workers} {launch.engine} worker(s); {len(results)} already done",
              file=sys.stderr, flush=True)
        progress = SweepProgress([(job.run_dir, job.config.steps) for job in todo], quiet=launch.quiet)
        # absolute: a Ray worker's working directory is not this one
        pending = {engine.submit(_train_one, config.to_dict(), str(job.run_dir.resolve()), gpu_share=gpu_share): job
                   for job, config in zip(todo, configs)}
        diverged: list[str] = []
        while pending:
            for handle in engine.wait(pending, timeout=POLL_SECONDS):
                job = pending.pop(handle)
                count = f"[{len(todo) - len(pending)}/{len(todo)}] {job.run_dir}"
                try:
                    results[job.key] = final = engine.result(handle)
                except DivergedError as exc:  # the other runs go on; the sweep reports it at the end
                    if diverged_ok:
                        results[job.key] = _record_divergence(job, store, str(exc))
                        progress.run_finished(job.run_dir, f"{count}: diverged ({str(exc).split(';')[0]})")
                        continue
                    diverged.append(f"{job.run_dir} ({str(exc).split(':')[0].removeprefix('training ')})")
                    progress.run_finished(job.run_dir, f"{count}: {exc}")
                    continue
                if store is not None:
                    store.keep(job.run_dir)
                progress.run_finished(job.run_dir, f"{count}: {short_summary(final)} ({final['wall_time_s']:.0f} s)")
            progress.poll()
    except KeyboardInterrupt:  # Ctrl-C: the runs under way stop after their step, with a checkpoint
        interrupted = True
        raise
    finally:
        if progress is not None:
            progress.close(summary=not interrupted)  # the bar's line ends before anything else is said
        engine.close(interrupted)
    if diverged:
        raise DivergedError(f"{len(diverged)} run(s) diverged: {'; '.join(diverged)}; the other runs finished. "
                            "Re-run with a smaller learning rate: finished runs are skipped")
    in_order = {job.key: results[job.key] for job in jobs if job.key in results}  # not in finishing order
    return in_order, time.perf_counter() - started
