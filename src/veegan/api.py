"""The Python API: ``veegan.train(...)`` and ``veegan.load(DIR)``, doing what the CLI does, and
:func:`resolve_config` (from :mod:`veegan.configure`) to see a configuration without training."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import torch

from .config import TrainConfig
from .conditional import Condition, conditions, draw_where, matches
from .configure import resolve_config
from .data.base import Dataset
from .data.catalog import make_dataset
from .data.table_encoding import TableEncoding
from .data.table_files import refuse_repeated_names
from .errors import VeeganError
from .evaluation.evaluate import evaluate, evaluation_draw, evaluation_seed
from .backend.device import resolve_device
from .methods import Method
from .methods.external import canonical_name, method_label
from .presets import default_preset
from .training import run_dir as run_dir_files
from .training.ema import generator_average
from .training.session import build_on
from .training.trainer import train as run_training


def own_data_note(method: str) -> str:
    """What a user's own data trains with when no preset is named (:func:`default_preset`)."""
    preset = default_preset(True, method)
    why = "the recipe study's pick, docs/recipe.md" if preset == "best" else "docs/beyond-2d.md"
    return (f"your own data trains {method_label(method)} with the {preset} preset ({why}); "
            "--preset paper (preset='paper') for the paper's settings")


class Run:
    """A trained model loaded from its run directory."""

    def __init__(self, run_dir: Path, config: TrainConfig, method: Method, dataset: Dataset, step: int) -> None:
        self.run_dir, self.config, self.method, self.dataset, self.step = run_dir, config, method, dataset, step

    @property
    def final_evaluation_seed(self) -> int:
        """The seed of the run's final evaluation (metrics.json and density.png)."""
        return evaluation_seed(self.config.seed, self.config.steps)

    @property
    def encoding(self) -> TableEncoding | None:
        """A run on a user's table: how its columns are encoded (stored in the run's table.json)."""
        return getattr(self.dataset, "encoding", None)

    def sample(self, n: int, seed: int | None = None, where: Mapping[str, Any] | None = None,
               max_draws: int | None = None) -> np.ndarray | pd.DataFrame:
        """``n`` generator samples: for a run on a user's table a DataFrame in the table's own
        columns, units and categories; otherwise an n x D float32 array (n x C x H x W images).
        ``where={"species": "Gentoo"}``: only rows whose categorical columns hold these values (as
        ``sample`` writes them), drawn by rejection in at most ``max_draws`` draws
        (:mod:`veegan.conditional`)."""
        found, encoding = self.where_conditions(where or {}), self.encoding  # a where refused unless on a table
        if encoding is None or not found:
            encoded = self.sample_encoded(n, seed)
            return encoded if encoding is None else encoding.decode(encoded)
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        encoded = draw_where(lambda size: self.method.sample(size, g).cpu().numpy(), n, found, encoding.width,
                             max_draws, lambda: float(matches(self.dataset.data.cpu().numpy(), found).mean()))
        return encoding.decode(encoded)

    def where_conditions(self, where: Mapping[str, Any]) -> list[Condition]:
        """``where`` ({column: value}) checked against the run's table: one line for a column it
        lacks, a numeric column, a value the column never holds, or a run not on a table."""
        table = self.config.table
        scored = table.labels if table.labels is not None and not table.train_labels else None
        return conditions(self.encoding, where, f"{self.run_dir} (trained on {self.dataset.name})", scored)

    def sample_encoded(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` generator samples as the networks see them (a table's encoded rows)."""
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.method.sample(n, g).cpu().numpy()

    @torch.no_grad()
    def encode(self, x: np.ndarray | torch.Tensor | pd.DataFrame) -> np.ndarray:
        """F(x): the reconstructor as an inference network (paper Appendix D), n x K. For a run on
        a table, ``x`` is a DataFrame with its columns (encoded as in training) or encoded rows."""
        network = self.method.inference_network
        if network is None:
            raise VeeganError(f"method {self.config.method!r} has no reconstructor/encoder to encode with")
        if isinstance(x, pd.DataFrame):
            if self.encoding is None:
                raise VeeganError("a DataFrame can be encoded only by a run trained on a table (--data)")
            x = self.encoding.encode(x)
        x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        shape = self.dataset.shape
        if tuple(x.shape[1:]) != shape:
            raise VeeganError(f"encode expects an N x {' x '.join(map(str, shape))} array, got shape {tuple(x.shape)}")
        return network(x.to(self.method.device)).cpu().numpy()

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


def load(run_dir: str | Path, dataset: Dataset | None = None, device: str = "cpu", average: bool = True) -> Run:
    """Load the configuration and last checkpoint of a run directory onto ``device`` (any
    device: a checkpoint holds CPU tensors). ``dataset``: the run's dataset already built
    (saves reading image files again when loading many runs). ``average=False``: a run trained
    with ``ema.decay`` samples from the generator as trained, not from its average."""
    run_dir = Path(run_dir)
    config = stored_config(run_dir)
    target = resolve_device(device)
    if dataset is None:
        dataset = make_dataset(config.dataset, config.data_file, config.data_dir, config.table)
    check_table_unchanged(run_dir, dataset)
    dataset.to(target)
    method, optimizer = build_on(config, dataset, target)
    use_average, average = average, generator_average(method, config.ema.decay)
    step = run_dir_files.restore_checkpoint(run_dir, config, method, optimizer, warn=False, average=average)
    if average is not None and use_average:
        method.generator = average.network  # samples and evaluations use the average (ema.decay)
    method.eval()
    return Run(run_dir, config, method, dataset, step)


def stored_config(run_dir: Path) -> TrainConfig:
    """The configuration a run was trained with: its config.yaml, where a ``table`` key added
    since (the labels trained on, the columns' facts) means what the run did before it existed
    (:func:`veegan.table_config.as_trained`)."""
    return run_dir_files.read_run_config(run_dir)


def check_table_unchanged(run_dir: Path, dataset: Dataset) -> None:
    """Refuse a run whose table file has changed since training: its samples would decode with
    other means, stds or categories than those it learnt."""
    stored = run_dir / run_dir_files.TABLE_NAME
    encoding = getattr(dataset, "encoding", None)
    if encoding is not None and stored.is_file() and TableEncoding.load(stored).to_dict() != encoding.to_dict():
        raise VeeganError(f"data file {getattr(dataset, 'path', '')} has changed since {run_dir} was trained (its columns, "
                          f"statistics or categories differ from {stored}): restore it, or train again")


IN_MEMORY_DATA = "data.parquet"  # where train() and compare() keep a DataFrame or array they are given


def data_file_for(data: str | Path | pd.DataFrame | np.ndarray | None, out: Path, replaces_run: bool) -> str | Path | None:
    """``data`` as a file: a path as given; a table given in memory written into ``out`` (the run
    directory of :func:`train`, the folder of ``compare``) as ``data.parquet``, so that its runs
    can be loaded, evaluated and resumed from their files like any other; never over the table of
    a run that ``out`` holds unless that run is to be resumed or replaced (``replaces_run``)."""
    if data is None or isinstance(data, (str, Path)):
        return data
    if run_dir_files.holds_run(out) and not replaces_run:
        raise VeeganError(f"{out} already holds a run; pass resume=True to continue it or overwrite=True to replace it")
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise VeeganError(f"data must be an N x D array, got shape {data.shape}")
        data = pd.DataFrame(data, columns=[f"c{i}" for i in range(data.shape[1])])
    if not isinstance(data, pd.DataFrame):
        raise VeeganError(f"data must be a file path, a pandas DataFrame or a NumPy array, got {type(data).__name__}")
    refuse_repeated_names([str(name) for name in data.columns], "data")
    out.mkdir(parents=True, exist_ok=True)
    path = out / IN_MEMORY_DATA
    data.rename(columns=str).to_parquet(path.with_suffix(".tmp"), index=False)
    path.with_suffix(".tmp").replace(path)
    return path


def train(
    method: str | None = None, dataset: str | None = None, *, out: str | Path,
    data: str | Path | pd.DataFrame | np.ndarray | None = None, data_dir: str | Path | None = None, steps: int | None = None,
    seed: int | None = None, config_file: str | Path | None = None, overrides: Mapping[str, Any] | list[str] | None = None,
    preset: str | None = None, resume: bool = False, overwrite: bool = False, progress: bool = True,
) -> Run:
    """Train a model into ``out`` and return it loaded. ``data``: a table file, or a DataFrame or
    N x D array (kept in ``out/data.parquet``); ``overrides={"table": {"labels": "species"}}``
    and the like say how it is read. ``method``: by default the GAN for ``data``, else VEEGAN;
    ``preset``: ``paper``, ``robust`` or ``best`` (default: :func:`veegan.presets.default_preset`).
    With ``resume`` the run's stored configuration is the base that the other arguments may only
    extend (``steps``)."""
    data = data_file_for(data, Path(out), resume or overwrite)
    base = None
    if resume and (Path(out) / run_dir_files.CONFIG_NAME).is_file():
        base = stored_config(Path(out)).to_dict()  # table keys added since are stated as trained
        if method is not None and canonical_name(method) != base["method"]:
            del base["method_options"]  # another method's options; the resume check names the change
    config = resolve_config(method=method, dataset=dataset, data=data, data_dir=data_dir, steps=steps, seed=seed,
                            config_file=config_file, overrides=overrides, base=base, preset=preset)
    notes = [own_data_note(config.method)] if data is not None and preset is None and base is None else []
    run_training(config, out, resume=resume, overwrite=overwrite, progress=progress, notes=notes)
    return load(out, device=config.runtime.device)
