"""The shared training loop. It knows no method by name: a method gives one scalar per batch
whose single backward pass yields all its networks' gradients, and one Adam step updates them
together (Algorithm 1's simultaneous update, its last line). Logging, evaluation and checkpoints are interval hooks."""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
from torch import nn
from tqdm import tqdm

from . import __version__, checkpoint, distributed, runs, runtime
from .config import TrainConfig, write_yaml
from .datasets import Dataset, make_dataset
from .errors import VeeganError
from .evaluation import evaluate, evaluation_draw, format_metrics, score, short_summary
from .methods import build_method
from .methods.base import Method
from .image_grids import plot_sample_grids
from .networks import is_image
from .plots import plot_densities

StepHook = Callable[[int], None]


def make_optimizer(method: Method, config: TrainConfig) -> torch.optim.Adam:
    """One Adam over all networks, one parameter group (learning rate) per network."""
    optim = config.optim
    optimizer = torch.optim.Adam(method.parameter_groups(optim), betas=(optim.beta1, optim.beta2), fused=optim.fused)
    method.bind_optimizer(optimizer)
    return optimizer


def evaluation_seed(config: TrainConfig, step: int) -> int:
    """Evaluations draw from their own seeded generator, so they never perturb training."""
    return config.seed * 1_000_003 + step


def training_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, dataset: Dataset, batch_size: int, step: int
) -> dict[str, torch.Tensor]:
    """One iteration of the method's algorithm: a fresh batch, one backward pass, one update of
    all networks. ``model`` is the method, or the method wrapped in DistributedDataParallel; in a
    multi-process run ``batch_size`` is the global batch and each rank trains on its shard.
    Returns the detached loss terms (read back only at log intervals)."""
    with distributed.sharded_draws():
        x_real = distributed.shard(dataset.sample(batch_size))
        loss, terms = model(x_real, step)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return terms


def train(
    config: TrainConfig, out_dir: str | Path, *, resume: bool = False, overwrite: bool = False,
    progress: bool = True, hooks: Iterable[StepHook] = (),
) -> Path:
    """Train ``config`` into ``out_dir`` (config.yaml, checkpoint.pt, metrics.jsonl, metrics.json,
    density.png or samples.png, tensorboard/) and return the directory. ``hooks`` are called
    with the step count after every step (for tests and tools; keep them cheap).

    Started by torchrun, every rank runs this with the same configuration: DistributedDataParallel
    keeps the networks identical, and rank 0 alone writes files and prints."""
    out_dir = Path(out_dir)
    distributed.setup()
    main, ranks = distributed.is_main(), distributed.world_size()
    # everything that can reject the configuration or the data comes before DIR is touched
    if config.batch_size % ranks:
        raise VeeganError(f"batch_size {config.batch_size} does not split evenly over {ranks} processes")
    built: dict[str, Dataset] = {}

    def build_dataset() -> None:  # rank 0 first: a download into the cache happens once
        built["dataset"] = make_dataset(config.dataset, config.data_file, config.data_dir)
        built["dataset"].has_metrics  # loads a classifier the metrics need, or says why it cannot

    distributed.decided_by_main(build_dataset)
    if not built:
        build_dataset()
    dataset = built["dataset"]
    torch.manual_seed(config.seed)
    method = build_method(config.method, dataset.shape, config.model, config.method_options)
    method.check_batch_size(config.batch_size // ranks)
    optimizer = make_optimizer(method, config)
    resuming = distributed.decided_by_main(lambda: runs.prepare(out_dir, config, resume=resume, overwrite=overwrite))
    runtime.apply(config.runtime)
    checkpoint_path = out_dir / checkpoint.CHECKPOINT_NAME
    start = restore(checkpoint.load(checkpoint_path), config, method, optimizer) if resuming else 0
    model = nn.parallel.DistributedDataParallel(method, find_unused_parameters=True) if ranks > 1 else method
    if main:
        write_yaml(config, out_dir / runs.CONFIG_NAME)
    say = (lambda text: tqdm.write(text, file=sys.stderr)) if progress and main else (lambda text: None)
    if not dataset.has_metrics:
        say(f"{dataset.name}: the modes are unknown or no classifier can label them, so mode metrics are skipped")
    if start:
        say(f"resuming {out_dir} from step {start}")

    def save(step: int) -> None:
        if main:
            checkpoint.save_atomic(checkpoint_state(config, method, optimizer, step), checkpoint_path)

    log = MetricsLog(out_dir, config.schedule.tensorboard, keep_until=start) if main else MetricsLog.discarding()
    schedule = config.schedule
    hooks = list(hooks)
    bar = tqdm(total=config.steps, initial=start, desc=f"{config.method} on {dataset.name}",
               disable=not (progress and main), dynamic_ncols=True, file=sys.stderr)
    step, last_log, last_time = start, start, time.perf_counter()
    method.train()
    stop = StopBetweenSteps()
    try:
        while step < config.steps:
            if distributed.any_rank(stop.requested):  # Ctrl-C arrived during the last step: save a consistent state
                save(step)
                raise KeyboardInterrupt
            terms = training_step(model, optimizer, dataset, config.batch_size, step)
            step += 1
            for hook in hooks:
                hook(step)
            # interval hooks: the only places that read values back from the tensors
            if step % schedule.log_every == 0 or step == config.steps:
                now = time.perf_counter()
                values = distributed.mean_over_ranks(torch.stack(list(terms.values())))
                record = dict(zip(terms, values.tolist()))
                record["steps_per_s"] = (step - last_log) / max(now - last_time, 1e-9)
                log.write(step, "train", record)
                bar.set_postfix({k: f"{v:.3g}" for k, v in record.items()}, refresh=False)
                bar.update(step - last_log)
                last_log, last_time = step, now
            if main and dataset.has_metrics and step % schedule.eval_every == 0 and step < config.steps:
                result = evaluate(method, dataset, schedule.eval_samples, evaluation_seed(config, step))
                log.write(step, "eval", {k: v for k, v in result.items() if k != "real"})
                say(f"step {step}: {format_metrics(result)}")
            if step % schedule.checkpoint_every == 0 or step == config.steps:
                save(step)
        bar.close()
        if main:
            finish(config, method, dataset, out_dir, log, say)
        distributed.barrier()
    finally:
        stop.restore()
        bar.close()
        log.close()
    return out_dir


class StopBetweenSteps:
    """Turns the first Ctrl-C (SIGINT) into a request that the loop honours between steps, so
    the checkpoint it saves is the state after a whole step (RNG and optimizer included). A
    second Ctrl-C interrupts at once. Only the main thread can install signal handlers; elsewhere
    Ctrl-C behaves as usual and the last periodic checkpoint is what remains."""

    def __init__(self) -> None:
        self.requested = False
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True
        self.restore()

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None


def finish(
    config: TrainConfig, method: Method, dataset: Dataset, out_dir: Path, log: MetricsLog, say: Callable[[str], None]
) -> dict[str, Any]:
    """Final evaluation (metrics.json and the log) and the density plot beside the real data
    (density.png), both from the same draw of samples."""
    n = config.schedule.eval_samples
    generated, real = evaluation_draw(method, dataset, n, evaluation_seed(config, config.steps))
    result = score(dataset, generated, real)
    final = {"method": config.method, "dataset": dataset.name, "step": config.steps, **result}
    (out_dir / runs.FINAL_METRICS_NAME).write_text(json.dumps(final, indent=2) + "\n")
    subtitles = {}
    if "modes" in result:
        log.write(config.steps, "eval", {k: v for k, v in result.items() if k != "real"})
        subtitles = {config.method: short_summary(result), "real data": short_summary(result["real"])}
    if is_image(dataset.shape):  # images: a grid of samples beside a grid of real images
        plot_sample_grids({config.method: generated, "real data": real}, out_dir / runs.SAMPLES_NAME, subtitles)
    else:
        plot_densities(
            {config.method: generated.numpy(), "real data": real.numpy()},
            out_dir / runs.DENSITY_NAME,
            means=None if dataset.means is None else dataset.means.numpy(),
            subtitles=subtitles,
        )
    say(f"final: {format_metrics(result)}")
    return final


def checkpoint_state(config: TrainConfig, method: Method, optimizer: torch.optim.Optimizer, step: int) -> dict[str, Any]:
    """Everything needed to continue exactly: networks, optimizer, step, RNG, configuration."""
    return {
        "veegan_version": __version__,
        "config": config.to_dict(),
        "step": step,
        "method": method.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": torch.get_rng_state(),
    }


def restore(state: dict[str, Any], config: TrainConfig, method: Method, optimizer: torch.optim.Optimizer) -> int:
    """Load a checkpoint into fresh objects and return its step; refuse one of another model."""
    runs.check_same_run(state.get("config", {}), config, "the checkpoint belongs to a run trained")
    if int(state.get("step", 0)) > config.steps:
        raise VeeganError(f"the checkpoint is at step {state['step']}, beyond the {config.steps} steps asked for")
    try:
        method.load_state_dict(state["method"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise VeeganError(f"the checkpoint does not fit this model: {str(exc).splitlines()[0]}") from None
    return int(state["step"])


class MetricsLog:
    """Appends records to metrics.jsonl and, optionally, TensorBoard event files."""

    def __init__(self, out_dir: Path, tensorboard: bool, keep_until: int = 0) -> None:
        path = out_dir / runs.METRICS_LOG_NAME
        if path.exists():  # a resumed run drops what was logged after its checkpoint
            kept = [line for line in path.read_text().splitlines() if _step_of(line) <= keep_until]
            tmp = path.with_suffix(".jsonl.tmp")
            tmp.write_text("".join(line + "\n" for line in kept))
            os.replace(tmp, path)
        self.file = open(path, "a")
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step drops TensorBoard events logged after the checkpoint being resumed
            self.writer = SummaryWriter(str(out_dir / runs.TENSORBOARD_DIR), purge_step=keep_until + 1 if keep_until else None)

    @classmethod
    def discarding(cls) -> MetricsLog:
        """A log that writes nothing (the ranks other than 0 of a multi-process run)."""
        log = cls.__new__(cls)
        log.file, log.writer = None, None
        return log

    def write(self, step: int, kind: str, values: dict[str, Any]) -> None:
        if self.file is None:
            return
        self.file.write(json.dumps({"step": step, "kind": kind, **values}) + "\n")
        self.file.flush()
        if self.writer is not None:
            for key, value in values.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self.writer.add_scalar(f"{kind}/{key}", value, step)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        if self.writer is not None:
            self.writer.close()


def _step_of(line: str) -> float:
    try:
        return json.loads(line)["step"]
    except (ValueError, KeyError, TypeError):
        return float("inf")  # a torn last line from a killed run
