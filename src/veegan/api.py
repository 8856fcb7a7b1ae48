"""The Python API: ``veegan.train(...)`` and ``veegan.load(DIR)``, doing what the CLI does."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from . import checkpoint, runs
from .config import TrainConfig, build_config, parse_assignments, read_yaml
from .datasets import Dataset, make_dataset
from .errors import VeeganError
from .evaluation import evaluate, evaluation_draw
from .methods import build_method
from .methods.base import Method
from .trainer import evaluation_seed, make_optimizer, restore
from .trainer import train as run_training


class Run:
    """A trained model loaded from its run directory."""

    def __init__(self, run_dir: Path, config: TrainConfig, method: Method, dataset: Dataset, step: int) -> None:
        self.run_dir, self.config, self.method, self.dataset, self.step = run_dir, config, method, dataset, step

    @property
    def final_evaluation_seed(self) -> int:
        """The seed of the run's final evaluation (metrics.json and density.png)."""
        return evaluation_seed(self.config, self.config.steps)

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` generator samples as an n x D float32 array."""
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.method.sample(n, g).numpy()

    @torch.no_grad()
    def encode(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """F(x): the reconstructor as an inference network (paper Appendix D), n x K."""
        network = self.method.inference_network
        if network is None:
            raise VeeganError(f"method {self.config.method!r} has no reconstructor/encoder to encode with")
        x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        shape = self.dataset.shape
        if tuple(x.shape[1:]) != shape:
            raise VeeganError(f"encode expects an N x {' x '.join(map(str, shape))} array, got shape {tuple(x.shape)}")
        return network(x).numpy()

    def evaluation_samples(self, n: int | None = None, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(generated, real) samples of an evaluation; by default those of the final one."""
        n = n or self.config.schedule.eval_samples
        seed = self.final_evaluation_seed if seed is None else seed
        generated, real = evaluation_draw(self.method, self.dataset, n, seed)
        return generated.numpy(), real.numpy()

    def evaluate(self, n: int | None = None, seed: int | None = None) -> dict[str, Any]:
        """Metrics of ``n`` samples beside the real-data row; by default the same draw as the
        run's final evaluation (metrics.json)."""
        n = n or self.config.schedule.eval_samples
        seed = self.final_evaluation_seed if seed is None else seed
        return evaluate(self.method, self.dataset, n, seed)


def load(run_dir: str | Path, dataset: Dataset | None = None) -> Run:
    """Load the configuration and last checkpoint of a run directory. ``dataset``: the run's
    dataset already built (saves reading image files again when loading many runs)."""
    run_dir = Path(run_dir)
    config = runs.read_run_config(run_dir)
    if dataset is None:
        dataset = make_dataset(config.dataset, config.data_file, config.data_dir)
    method = build_method(config.method, dataset.shape, config.model, config.method_options)
    optimizer = make_optimizer(method, config)
    step = restore(checkpoint.load(run_dir / checkpoint.CHECKPOINT_NAME), config, method, optimizer)
    method.eval()
    return Run(run_dir, config, method, dataset, step)


def resolve_config(
    *, method: str | None = None, dataset: str | None = None, data: str | Path | None = None,
    data_dir: str | Path | None = None, steps: int | None = None, seed: int | None = None, config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | list[str] | None = None, base: Mapping[str, Any] | None = None,
) -> TrainConfig:
    """Defaults <- ``base`` <- config file <- explicit arguments <- overrides (``key=value``
    strings or a nested mapping)."""
    explicit = {k: v for k, v in {"method": method, "dataset": dataset, "steps": steps, "seed": seed}.items() if v is not None}
    if data is not None:
        explicit["data_file"] = str(Path(data).resolve())  # later commands may run elsewhere
    if data_dir is not None:
        explicit["data_dir"] = str(Path(data_dir).resolve())
    if isinstance(overrides, list):
        overrides = parse_assignments(overrides)
    layers = [base or {}, read_yaml(config_file) if config_file else {}, explicit, overrides or {}]
    return build_config(*layers)


def train(
    method: str | None = None, dataset: str | None = None, *, out: str | Path, data: str | Path | None = None,
    data_dir: str | Path | None = None, steps: int | None = None, seed: int | None = None, config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | list[str] | None = None, resume: bool = False, overwrite: bool = False,
    progress: bool = True,
) -> Run:
    """Train a model into ``out`` and return it loaded. With ``resume`` the run's stored
    configuration is the base that the other arguments may only extend (``steps``)."""
    base = None
    if resume and (Path(out) / runs.CONFIG_NAME).is_file():
        base = runs.read_run_config(Path(out)).to_dict()
        if method is not None and method != base["method"]:
            del base["method_options"]  # another method's options; the resume check names the change
    config = resolve_config(method=method, dataset=dataset, data=data, data_dir=data_dir, steps=steps, seed=seed,
                            config_file=config_file, overrides=overrides, base=base)
    run_training(config, out, resume=resume, overwrite=overwrite, progress=progress)
    return load(out)
