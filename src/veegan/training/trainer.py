"""The shared training loop. It knows no method by name: a method gives its loss terms for a
batch, the trainer adds them up, takes one backward pass and one Adam step for all networks
together (Algorithm 1's simultaneous update, its last line). Logging, evaluation and checkpoints
are interval hooks; the final report belongs to :mod:`veegan.evaluation.report`."""
from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import nn
from tqdm import tqdm

from ..backend import runtime
from ..config import TrainConfig, write_yaml
from ..data.base import Dataset
from ..data.catalog import make_dataset
from ..errors import VeeganError
from ..evaluation.evaluate import evaluate, evaluation_seed, format_metrics
from ..evaluation.report import final_report
from ..methods import Method, build_method
from . import checkpoint, distributed, run_dir
from .metrics_log import MetricsLog

StepHook = Callable[[int], None]


def make_optimizer(method: Method, config: TrainConfig) -> torch.optim.Adam:
    """One Adam over all networks, one parameter group (learning rate) per network."""
    optim = config.optim
    optimizer = torch.optim.Adam(method.parameter_groups(optim), betas=(optim.beta1, optim.beta2), fused=optim.fused)
    method.bind_optimizer(optimizer)
    return optimizer


def training_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, dataset: Dataset, batch_size: int, step: int
) -> dict[str, torch.Tensor]:
    """One iteration of the method's algorithm: a fresh batch, one backward pass of the sum of
    its loss terms, one update of all networks. ``model`` is the method, or the method wrapped in
    DistributedDataParallel; in a multi-process run ``batch_size`` is the global batch and each
    rank trains on its shard. Returns the detached loss terms (read back only at log intervals)."""
    with distributed.sharded_draws():
        x_real = distributed.shard(dataset.sample(batch_size))
        terms = model(x_real, step)
    optimizer.zero_grad(set_to_none=True)
    sum(terms.values()).backward()
    optimizer.step()
    return {name: term.detach() for name, term in terms.items()}


def train(
    config: TrainConfig, out_dir: str | Path, *, resume: bool = False, overwrite: bool = False,
    progress: bool = True, hooks: Iterable[StepHook] = (),
) -> Path:
    """Train ``config`` into ``out_dir`` (see :mod:`.run_dir` for its files) and return the
    directory. ``hooks`` are called with the step count after every step (for tests and tools;
    keep them cheap). Started by torchrun, every rank runs this with the same configuration:
    DistributedDataParallel keeps the networks identical, and rank 0 alone writes files and prints."""
    out_dir = Path(out_dir)
    distributed.setup()
    main, ranks = distributed.is_main(), distributed.world_size()
    # everything that can reject the configuration or the data comes before DIR is touched
    if config.batch_size % ranks:
        raise VeeganError(f"batch_size {config.batch_size} does not split evenly over {ranks} processes")
    dataset = distributed.first_on_main(lambda: checked_dataset(config))  # a download happens once
    torch.manual_seed(config.seed)
    method = build_method(config.method, dataset.shape, config.model, config.method_options)
    method.check_batch_size(config.batch_size // ranks)
    optimizer = make_optimizer(method, config)
    resuming = distributed.decided_by_main(lambda: run_dir.prepare(out_dir, config, resume=resume, overwrite=overwrite))
    runtime.apply(config.runtime)
    checkpoint_path = out_dir / checkpoint.CHECKPOINT_NAME
    start = run_dir.restore_checkpoint(out_dir, config, method, optimizer) if resuming else 0
    model = nn.parallel.DistributedDataParallel(method, find_unused_parameters=True) if ranks > 1 else method
    if main:
        write_yaml(config, out_dir / run_dir.CONFIG_NAME)
    say = (lambda text: tqdm.write(text, file=sys.stderr)) if progress and main else (lambda text: None)
    if not dataset.has_metrics:
        say(f"{dataset.name}: the modes are unknown or no classifier can label them, so mode metrics are skipped")
    if start:
        say(f"resuming {out_dir} from step {start}")

    def save(step: int) -> None:
        if main:
            checkpoint.save_atomic(checkpoint.training_state(config, method, optimizer, step), checkpoint_path)

    log = MetricsLog(out_dir, config.schedule.tensorboard, keep_until=start) if main else MetricsLog.discarding()
    schedule, hooks = config.schedule, list(hooks)
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
                record = dict(zip(terms, distributed.mean_over_ranks(torch.stack(list(terms.values()))).tolist()))
                record["steps_per_s"] = (step - last_log) / max(now - last_time, 1e-9)
                log.write(step, "train", record)
                bar.set_postfix({k: f"{v:.3g}" for k, v in record.items()}, refresh=False)
                bar.update(step - last_log)
                last_log, last_time = step, now
            if main and dataset.has_metrics and step % schedule.eval_every == 0 and step < config.steps:
                result = evaluate(method, dataset, schedule.eval_samples, evaluation_seed(config.seed, step))
                log.write(step, "eval", {k: v for k, v in result.items() if k != "real"})
                say(f"step {step}: {format_metrics(result)}")
            if step % schedule.checkpoint_every == 0 or step == config.steps:
                save(step)
        bar.close()
        if main:
            final = final_report(config.method, method, dataset, schedule.eval_samples,
                                 evaluation_seed(config.seed, config.steps), config.steps, out_dir)
            if "modes" in final:
                log.write(config.steps, "eval", {k: v for k, v in final.items() if k not in ("method", "dataset", "step", "real")})
            say(f"final: {format_metrics(final)}")
        distributed.barrier()
    finally:
        stop.restore()
        bar.close()
        log.close()
    return out_dir


def checked_dataset(config: TrainConfig) -> Dataset:
    """The run's dataset, with what its metrics need (a classifier) loaded or refused now."""
    dataset = make_dataset(config.dataset, config.data_file, config.data_dir)
    dataset.has_metrics  # noqa: B018 - loads a classifier the metrics need, or says why it cannot
    return dataset


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
