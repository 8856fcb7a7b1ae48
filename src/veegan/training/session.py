"""One training run as the loop sees it: everything set up before the first step (the dataset,
the method and its optimizer, the run directory, a resumed checkpoint) and the interval hooks
the loop calls after every step: log the losses, evaluate, checkpoint; then the final report."""
from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
from typing import Iterable
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from ..backend import runtime
from ..backend.device import resolve_device
from ..backend.precision import StepPrecision
from ..config import TrainConfig
from ..config_values import write_yaml
from ..data.base import Dataset
from ..data.catalog import make_dataset
from ..errors import VeeganError
from ..evaluation.evaluate import evaluate, evaluation_seed, format_metrics, is_scored, scalars
from ..evaluation.report import final_report
from ..methods import Method, build_method, method_label
from ..nets.categorical import CategoricalOutput
from ..training_length import length_note
from . import checkpoint, distributed, run_dir
from .annealing import Annealing
from .divergence import diverged, nonfinite_networks, nonfinite_terms
from .ema import generator_average
from .metrics_log import RESUMED, MetricsLog


def make_optimizer(method: Method, config: TrainConfig) -> torch.optim.Adam:
    """One Adam over all networks, one parameter group (learning rate) per network."""
    optim = config.optim
    optimizer = torch.optim.Adam(method.parameter_groups(optim), betas=(optim.beta1, optim.beta2), fused=optim.fused)
    method.bind_optimizer(optimizer)
    return optimizer


def output_head_for(config: TrainConfig, dataset: Dataset) -> nn.Module | None:
    """The generator's output head that ``dataset`` needs: its categorical columns, if any."""
    spans = getattr(dataset, "categorical_spans", ())
    return CategoricalOutput(spans, config.table.categorical_output, config.table.gumbel_temperature) if spans else None


def build_on(config: TrainConfig, dataset: Dataset, device: torch.device) -> tuple[Method, torch.optim.Adam]:
    """The method's networks for ``dataset``'s samples, initialised on the CPU (so that a seed
    gives the same start on every device) and then moved to ``device``, and one Adam over them."""
    with torch.device("cpu"):
        method = build_method(config.method, dataset.shape, config.model, config.method_options, config.loss,
                              output_head_for(config, dataset))
    method.to(device)
    return method, make_optimizer(method, config)


def checked_dataset(config: TrainConfig) -> Dataset:
    """The run's dataset, with what its metrics need (a classifier) loaded or refused now."""
    with torch.device("cpu"):  # a dataset's definition is built on the CPU; Session.to() moves its batches
        dataset = make_dataset(config.dataset, config.data_file, config.data_dir, config.table)
    dataset.has_metrics  # noqa: B018 - loads a classifier the metrics need, or says why it cannot
    return dataset


class Session:
    """A run ready to train from step ``start``. Started by torchrun, every rank builds one with
    the same configuration; rank 0 alone writes files and prints."""

    def __init__(self, config: TrainConfig, out_dir: Path, *, resume: bool, overwrite: bool, progress: bool,
                 notes: Iterable[str] = ()) -> None:
        self.device = distributed.setup(resolve_device(config.runtime.device))  # an unavailable one: refused here
        config = dataclasses.replace(config, runtime=dataclasses.replace(config.runtime, device=str(self.device)))
        self.config, self.out_dir, self.main = config, out_dir, distributed.is_main()
        self.precision = StepPrecision(config.runtime.precision, self.device, config.runtime.channels_last)  # fp16 on a CPU: refused here
        ranks = distributed.world_size()
        # everything that can reject the configuration or the data comes before DIR is touched
        if config.batch_size % ranks:
            raise VeeganError(f"batch_size {config.batch_size} does not split evenly over {ranks} processes")
        self.dataset = distributed.first_on_main(lambda: checked_dataset(config)).to(self.device)  # a download happens once
        torch.manual_seed(config.seed)  # the CPU's and every device's generator
        self.method, self.optimizer = build_on(config, self.dataset, self.device)
        self.precision.prepare(self.method)
        self.method.check_batch_size(config.batch_size // ranks)
        self.average = generator_average(self.method, config.ema.decay)  # None unless ema.decay > 0
        resuming = distributed.decided_by_main(lambda: run_dir.prepare(out_dir, config, resume=resume, overwrite=overwrite))
        runtime.apply(config.runtime)
        self.start = run_dir.restore_checkpoint(out_dir, config, self.method, self.optimizer, average=self.average,
                                                precision=self.precision) if resuming else 0
        self.last_good = self.start if resuming else None  # the step of the checkpoint on disk
        self.annealing = Annealing(self.method, self.optimizer, config) if Annealing.wanted(config) else None
        self.anneal(self.start)
        self.model = self.method if ranks == 1 else nn.parallel.DistributedDataParallel(
            self.method, device_ids=[self.device] if self.device.type == "cuda" else None, find_unused_parameters=True)
        if self.main:
            write_yaml(config, out_dir / run_dir.CONFIG_NAME)
            if hasattr(self.dataset, "encoding"):  # a table: how samples decode to the user's units
                self.dataset.encoding.save(out_dir / run_dir.TABLE_NAME)
        self.say = (lambda text: tqdm.write(text, file=sys.stderr)) if progress and self.main else (lambda text: None)
        length = length_note(config, len(self.dataset.data)) if config.epochs is not None else None
        for note in [*notes, *getattr(self.dataset, "notes", ()), *filter(None, [self.precision.note, length])]:
            self.say(note)
        if not self.dataset.has_metrics:
            self.say(f"{self.dataset.name}: the modes are unknown or no classifier can label them, so mode metrics are skipped")
        if self.start:
            self.say(f"resuming {out_dir} from step {self.start}")
        self.log = MetricsLog(out_dir, config.schedule.tensorboard, keep_until=self.start) if self.main else MetricsLog.discarding()
        if self.start:  # the log says where training went on from (a restart would log no such record)
            self.log.write(self.start, RESUMED, {})
        self.name = method_label(config.method)  # a method of your own by its class name
        self.bar = tqdm(total=config.steps, initial=self.start, desc=f"{self.name} on {self.dataset.name}",
                        disable=not (progress and self.main), dynamic_ncols=True, file=sys.stderr)
        self.last_log, self.last_time = self.start, time.perf_counter()
        self.method.train()

    def sampling(self) -> contextlib.AbstractContextManager:
        """Where samples are drawn for evaluation: with the generator average, if there is one."""
        return self.average.in_use(self.method) if self.average else contextlib.nullcontext()

    # interval hooks, called after every step: the only places that read values back from the tensors

    def update_average(self, step: int, terms: dict[str, torch.Tensor]) -> None:
        """Every step, with ``ema.decay`` > 0: move the generator average."""
        if self.average is not None:
            self.average.update(self.method.generator)

    def anneal(self, step: int, terms: dict[str, torch.Tensor] | None = None) -> None:
        """Every step, when ``config`` anneals: the learning rates and gammas of the next update."""
        if self.annealing is not None:
            self.annealing(step)

    def log_losses(self, step: int, terms: dict[str, torch.Tensor]) -> None:
        """Every ``log_every`` steps: the loss terms (averaged over ranks) and the step rate."""
        if step % self.config.schedule.log_every and step != self.config.steps:
            return
        now = time.perf_counter()
        record = dict(zip(terms, distributed.mean_over_ranks(torch.stack(list(terms.values()))).tolist()))
        record["steps_per_s"] = (step - self.last_log) / max(now - self.last_time, 1e-9)
        self.log.write(step, "train", record)
        bad = nonfinite_terms(record)
        if bad and self.config.schedule.on_divergence == "stop":
            raise diverged(step, "loss " + ", ".join(f"{name}={value}" for name, value in bad.items()), self.last_good)
        self.bar.set_postfix({k: f"{v:.3g}" for k, v in record.items()}, refresh=False)
        self.bar.update(step - self.last_log)
        self.last_log, self.last_time = step, now

    def evaluate(self, step: int, terms: dict[str, torch.Tensor]) -> None:
        """Every ``eval_every`` steps before the last: the metrics beside the real data."""
        schedule = self.config.schedule
        if not (self.main and self.dataset.has_metrics and step % schedule.eval_every == 0 and step < self.config.steps):
            return
        with self.sampling():
            result = evaluate(self.method, self.dataset, schedule.eval_samples, evaluation_seed(self.config.seed, step))
        self.log.write(step, "eval", scalars(result))
        self.say(f"step {step}: {format_metrics(result)}")

    def checkpoint(self, step: int, terms: dict[str, torch.Tensor] | None = None) -> None:
        """Every ``checkpoint_every`` steps and at the last (always, without ``terms``)."""
        if terms is not None and step % self.config.schedule.checkpoint_every and step != self.config.steps:
            return
        broken = nonfinite_networks(self.method)  # never overwrite a good checkpoint with a diverged state
        if broken:
            what = f"non-finite parameters in the {', '.join(broken)}"
            if self.config.schedule.on_divergence == "stop":
                raise diverged(step, what, self.last_good)
            self.say(f"step {step}: {what}; checkpoint not written (the one of step {self.last_good} is kept)")
            return
        if self.main:
            state = checkpoint.training_state(self.config, self.method, self.optimizer, step, self.average,
                                              self.precision.state_dict())
            checkpoint.save_atomic(state, self.out_dir / checkpoint.CHECKPOINT_NAME)
        self.last_good = step

    def finish(self) -> None:
        """The final report (metrics.json and its picture), logged and said."""
        self.bar.close()
        if self.main:
            config = self.config
            with self.sampling():
                final = final_report(self.name, self.method, self.dataset, config.schedule.eval_samples,
                                     evaluation_seed(config.seed, config.steps), config.steps, self.out_dir)
            if is_scored(final):
                self.log.write(config.steps, "eval", {k: v for k, v in scalars(final).items() if k not in ("method", "dataset", "step")})
            self.say(f"final: {format_metrics(final)}")

    def close(self) -> None:
        self.bar.close()
        self.log.close()
