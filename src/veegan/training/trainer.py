"""The shared training loop. It knows no method by name: a method gives its loss terms for a
batch, the trainer adds them up, takes one backward pass and one Adam step for all networks
together (Algorithm 1's simultaneous update, its last line). Setting a run up, and the interval
hooks (log, evaluate, checkpoint, the final report), are :class:`.session.Session`'s."""
from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import nn

from ..backend.precision import FP32, StepPrecision
from ..config import TrainConfig
from ..data.base import Dataset
from ..errors import VeeganError
from . import distributed
from .session import Session, make_optimizer

__all__ = ["make_optimizer", "train", "training_step"]

StepHook = Callable[[int], None]


def training_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, dataset: Dataset, batch_size: int, step: int,
    precision: StepPrecision = FP32,
) -> dict[str, torch.Tensor]:
    """One iteration of the method's algorithm: a fresh batch, one backward pass of the sum of
    its loss terms, one update of all networks. ``model`` is the method, or the method wrapped in
    DistributedDataParallel; in a multi-process run ``batch_size`` is the global batch and each
    rank trains on its shard. ``precision`` says how the arithmetic runs (``runtime.precision``:
    the loss terms under autocast, fp16's loss scaling). Returns the detached loss terms (read
    back only at log intervals)."""
    with distributed.sharded_draws():
        x_real = precision.batch(distributed.shard(dataset.sample(batch_size)))
        with precision.autocast():
            terms = model(x_real, step)
    if not terms:
        raise VeeganError(f"{type(model).__name__}.training_loss returned no loss terms")
    optimizer.zero_grad(set_to_none=True)
    precision.backward_and_step(sum(terms.values()), optimizer)
    return {name: term.detach() for name, term in terms.items()}


def train(
    config: TrainConfig, out_dir: str | Path, *, resume: bool = False, overwrite: bool = False,
    progress: bool = True, hooks: Iterable[StepHook] = (), notes: Iterable[str] = (),
) -> Path:
    """Train ``config`` into ``out_dir`` (see :mod:`.run_dir` for its files) and return the
    directory. ``hooks`` are called with the step count after every step (for tests and tools;
    keep them cheap). ``notes`` are said (with ``progress``) once the data and the
    configuration have been accepted."""
    run = Session(config, Path(out_dir), resume=resume, overwrite=overwrite, progress=progress, notes=notes)
    intervals = (run.update_average, run.anneal, run.log_losses, run.evaluate, run.checkpoint)
    hooks, step, stop = list(hooks), run.start, StopBetweenSteps()
    try:
        while step < config.steps:
            if distributed.any_rank(stop.requested):  # Ctrl-C arrived during the last step: save a consistent state
                run.checkpoint(step)
                raise KeyboardInterrupt
            terms = training_step(run.model, run.optimizer, run.dataset, config.batch_size, step, run.precision)
            step += 1
            for hook in hooks:
                hook(step)
            for interval in intervals:
                interval(step, terms)
        run.finish()
        distributed.barrier()
    finally:
        stop.restore()
        run.close()
    return run.out_dir


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
