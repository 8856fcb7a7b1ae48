"""What a dataset is to the rest of the package: a source of training batches, a spec that
names it and carries its settings, and the registry of specs the CLI builds its choices from."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence

import torch

from ..errors import VeeganError
from ..registry import Registry


class Scorer(Protocol):
    """Measures generator samples of a dataset (modes captured and the like)."""

    description: str

    def ready(self, dataset: "Dataset") -> bool:
        """Whether samples of ``dataset`` can be scored here (the modes are known, a classifier exists)."""

    def __call__(self, dataset: "Dataset", samples: torch.Tensor) -> dict[str, Any]:
        """The metrics of ``samples``."""


def draw(fn: Callable[..., torch.Tensor], *args: Any, generator: torch.Generator | None, device: torch.device,
         **kwargs: Any) -> torch.Tensor:
    """``fn(*args)`` (torch.randn, torch.randint) on ``device``: from ``generator`` on its own
    device, then moved (a seeded CPU generator gives the same draw whatever the run's device),
    or from ``device``'s default generator (training's stream, seeded per device)."""
    return fn(*args, generator=generator, device=generator.device if generator is not None else device, **kwargs).to(device)


class Dataset:
    """A source of training batches. Mixtures also know their mode means, weights and
    high-quality radius; ``scorer`` (from the dataset's spec) measures samples of it."""

    name: str
    dim: int  # the number of values in one sample
    means: torch.Tensor | None = None
    weights: torch.Tensor | None = None
    hq_radius: float | None = None
    scorer: Scorer | None = None
    device = torch.device("cpu")  # where sample() hands out batches (see to())
    device_tensors: Sequence[str] = ()  # the attributes batches are drawn from, copied by to()

    def to(self, device: torch.device | str) -> Dataset:
        """Hand out batches on ``device`` from now on: the tensors they are drawn from are copied
        there once; the definition (means, labels) and the scoring stay on the CPU."""
        self.device = torch.device(device)
        self._on_device = {name: value.to(self.device) for name in self.device_tensors
                           if (value := getattr(self, name, None)) is not None}
        return self

    def on_device(self, name: str) -> torch.Tensor:
        """The attribute ``name`` on :attr:`device` (its copy there, after :meth:`to`)."""
        copies = self.__dict__.get("_on_device", {})
        return copies[name] if name in copies else getattr(self, name)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one sample: (D,) for vectors, (channels, height, width) for images."""
        return (self.dim,)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    def real_rows(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` real samples for the real-data row, the ceiling of every metric: fresh draws of
        a dataset that can draw them; a user's table's own training rows (what a model that
        reproduced them exactly would score against its held-out rows)."""
        return self.sample(n, generator)

    def scored_count(self, n: int) -> int:
        """How many samples an evaluation asked for ``n`` scores (fewer where real ones run out)."""
        return n

    def reference_scores(self, n: int) -> dict[str, dict[str, Any]]:
        """Rows scored beside the model's other than the real data (a table's baseline), by name."""
        return {}

    @property
    def has_metrics(self) -> bool:
        """Whether :meth:`score` can measure samples of this dataset."""
        return self.scorer is not None and self.scorer.ready(self)

    def score(self, samples: torch.Tensor) -> dict[str, Any]:
        """The metrics of ``samples`` under the dataset's scorer."""
        if self.scorer is None:
            raise VeeganError(f"{self.name}: the data's modes are unknown, so samples cannot be scored")
        return self.scorer(self, samples)


@dataclass(frozen=True)
class DatasetSpec:
    """One built-in dataset: how to build it, whether it reads files (``data_dir``), how its
    samples are scored, and the configuration defaults it brings (``preset``, and per method
    ``method_presets``: method_options), which a configuration file, arguments and ``--set``
    still override (:mod:`veegan.configure`)."""

    name: str
    factory: Callable[..., Dataset]  # takes root=data_dir when reads_files
    reads_files: bool = False
    scorer: Scorer | None = None
    preset: Mapping[str, Any] = field(default_factory=dict)
    method_presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # the veegan version whose definition of this name differs from earlier ones, and the name
    # the earlier definition has now: runs trained before are refused, never silently continued
    changed_in: str | None = None
    previous: str | None = None

    def build(self, data_dir: str | None = None) -> Dataset:
        """The dataset, reading its files from ``data_dir`` where it has files."""
        if data_dir is not None and not self.reads_files:
            raise VeeganError(f"dataset {self.name!r} is generated, not read from files: drop data_dir")
        dataset = self.factory(root=data_dir) if self.reads_files else self.factory()
        dataset.scorer = self.scorer
        return dataset

    def check_trained_with(self, version: str) -> None:
        """Refuse a run trained by veegan ``version`` on an earlier definition of this dataset."""
        if self.changed_in and _version(version) < _version(self.changed_in):
            raise VeeganError(f"the run was trained by veegan {version} on {self.name} as defined before "
                              f"{self.changed_in}; that data is now {self.previous!r}: train again, or use dataset={self.previous}")

    def defaults(self, method: str) -> dict[str, Any]:
        """The configuration this dataset brings for ``method``."""
        options = self.method_presets.get(method)
        return {**self.preset, **({"method_options": dict(options)} if options else {})}


DATASETS: Registry[DatasetSpec] = Registry("dataset")


def register(spec: DatasetSpec) -> DatasetSpec:
    """Make ``spec`` available as ``--dataset NAME``."""
    return DATASETS.register(spec.name)(spec)


def _version(text: str) -> tuple[int, ...]:
    """"0.2.0" -> (0, 2, 0); anything unreadable counts as the oldest."""
    try:
        return tuple(int(part) for part in str(text).split(".")[:3])
    except ValueError:
        return (0,)


def pixels_to_float(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 pixels 0..255 as float32 in [-1, 1] (the range of DCGAN's tanh)."""
    return pixels.float() / 127.5 - 1.0
