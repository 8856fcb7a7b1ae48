"""Run configuration: one dataclass per component, the single source of every default. The API,
the CLI (``--config FILE.yaml``, ``--set key=value``) and a run's saved ``config.yaml`` all go
through :func:`veegan.configure.build_config` (values parsed by :mod:`veegan.config_values`), so a default lives here or in a dataset's preset
(:mod:`veegan.data`); the table section in :mod:`veegan.table_config`. Defaults follow the
authors' synthetic-data code (docs/protocol.md)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .config_values import plain
from .errors import VeeganError
from .table_config import TableConfig

DEFAULT_STEPS = 100_000  # the authors' code's 100,000 iterations (docs/protocol.md)
OBJECTIVES = ("paper", "rpgan")  # loss.objective
IMAGE_NETS = ("dcgan", "dcgan_mnist")  # model.image_net (veegan.nets.build.IMAGE_NETS)


@dataclass
class ModelConfig:
    """Network sizes; the defaults are those of the authors' 2-D grid code."""

    latent_dim: int = 254  # K, the size of z ~ N(0, I_K) that the reconstructor recovers
    generator_noise_dim: int = 1  # extra N(0, 1) inputs to G that F does not reconstruct
    generator_hidden: tuple[int, ...] = (128, 128)
    reconstructor_hidden: tuple[int, ...] = (128, 128)
    discriminator_hidden: tuple[int, ...] = (128,)
    conv_width: int = 64  # images only: DCGAN's base number of channels (w, 2w, 4w, 8w)
    # images only: "dcgan", DCGAN-tensorflow's four-stage network (Table 3, the paper's), or
    # "dcgan_mnist", the two-stage network that DCGAN-tensorflow builds for 28 x 28 MNIST
    # (veegan.nets.dcgan_mnist; docs/protocol.md, "Image networks")
    image_net: str = "dcgan"
    # a stabiliser beyond the paper: spectral normalisation (Miyato et al. 2018) of every weight
    # of the discriminator (veegan.nets.spectral_norm)
    spectral_norm: bool = False

    def __post_init__(self) -> None:
        _check(self.latent_dim >= 1, "model.latent_dim must be >= 1")
        _check(self.generator_noise_dim >= 0, "model.generator_noise_dim must be >= 0")
        _check(self.conv_width >= 1, "model.conv_width must be >= 1")
        _check(self.image_net in IMAGE_NETS, f"model.image_net must be one of {', '.join(IMAGE_NETS)}, not {self.image_net!r}")
        for name in ("generator_hidden", "reconstructor_hidden", "discriminator_hidden"):
            widths = getattr(self, name)
            _check(len(widths) >= 1 and all(w >= 1 for w in widths), f"model.{name} needs at least one width, all >= 1")


@dataclass
class OptimConfig:
    """Adam with one learning rate per network (authors' code: 1e-3, beta1 0.5)."""

    lr_generator: float = 1e-3
    lr_reconstructor: float = 1e-3
    lr_discriminator: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    fused: bool = True  # torch's fused Adam kernel: the same update, fewer kernel launches
    # beyond the paper: the learning rates fall along a half cosine to this fraction of their
    # values by the last step (veegan.training.annealing; R3GAN's configurations: 0.25); 1 = constant
    final_lr_fraction: float = 1.0

    def __post_init__(self) -> None:
        for name in ("lr_generator", "lr_reconstructor", "lr_discriminator"):
            _check(0 < getattr(self, name) < math.inf, f"optim.{name} must be a finite number > 0")
        _check(0 <= self.final_lr_fraction <= 1, "optim.final_lr_fraction must be in [0, 1]")
        _check(0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "optim.beta1 and beta2 must be in [0, 1)")


@dataclass
class LossConfig:
    """Terms added to a method's own losses; beyond the paper, all off by default."""

    # gamma of the R1 penalty (Mescheder et al. 2018), (gamma / 2) E ||grad D||^2 on D's real
    # inputs (both inputs of a joint D), added to D's loss; 0 = off
    r1_gamma: float = 0.0
    # R1's gamma on the z input of a joint D(z, x) (ALI, VEEGAN); None = r1_gamma (beyond-2d.md)
    r1_latent_gamma: float | None = None
    # gamma of R2, the same penalty at D's generated inputs (both inputs of a joint D); 0 = off
    r2_gamma: float = 0.0
    # the adversarial objective: "paper" (eq. 6 for D, each method's generator loss as the paper
    # runs it) or "rpgan", the relativistic pairing loss of R3GAN (Huang et al. 2024) for D and
    # for every player (veegan.methods.losses)
    objective: str = "paper"
    # lazy regularisation (StyleGAN2, Karras et al. 2020, Section 3.1): R1 and R2 every k-th step
    # only, with their gammas times k; 1 = every step
    penalty_every: int = 1
    # R1's and R2's gammas fall along a half cosine to this fraction of their values by the last
    # step (veegan.training.annealing; R3GAN's configurations: 0.1); 1 = constant
    final_gamma_fraction: float = 1.0

    def __post_init__(self) -> None:
        _check(self.penalty_every >= 1, "loss.penalty_every must be >= 1")
        _check(0 <= self.final_gamma_fraction <= 1, "loss.final_gamma_fraction must be in [0, 1]")
        _check(0 <= self.r1_gamma < math.inf, "loss.r1_gamma must be a finite number >= 0")
        _check(0 <= self.r2_gamma < math.inf, "loss.r2_gamma must be a finite number >= 0")
        _check(self.objective in OBJECTIVES, f"loss.objective must be one of {', '.join(OBJECTIVES)}, not {self.objective!r}")
        _check(self.r1_latent_gamma is None or 0 <= self.r1_latent_gamma < math.inf, "loss.r1_latent_gamma must be a finite number >= 0 (or null: as loss.r1_gamma)")

    @property
    def r1_gammas(self) -> tuple[float, float]:  # (on a joint D's z, on x or a D's only input)
        return (self.r1_gamma if self.r1_latent_gamma is None else self.r1_latent_gamma), self.r1_gamma


@dataclass
class EmaConfig:
    """An exponential moving average of the generator's weights (veegan.training.ema): beyond
    the paper, off by default."""

    # theta_ema <- decay * theta_ema + (1 - decay) * theta after every step; sampling and
    # evaluation use theta_ema; 0 = off
    decay: float = 0.0

    def __post_init__(self) -> None:
        _check(0 <= self.decay < 1, "ema.decay must be in [0, 1)")


@dataclass
class ScheduleConfig:
    """How often the trainer logs, evaluates and checkpoints (in training steps)."""

    log_every: int = 100
    eval_every: int = 2_500
    checkpoint_every: int = 2_500
    eval_samples: int = 2_500  # the paper's 2,500 generator samples
    tensorboard: bool = True
    # a non-finite loss at a log interval, or non-finite parameters at a checkpoint: "stop" the
    # run (exit status 3, the last good checkpoint kept) or "continue" training regardless
    # (non-finite parameters are still never checkpointed)
    on_divergence: str = "stop"

    def __post_init__(self) -> None:
        for name in ("log_every", "eval_every", "checkpoint_every", "eval_samples"):
            _check(getattr(self, name) >= 1, f"schedule.{name} must be >= 1")
        _check(self.on_divergence in ("stop", "continue"), "schedule.on_divergence must be stop or continue")


@dataclass
class RuntimeConfig:
    """How the arithmetic is run; none of it changes the maths beyond float rounding."""

    threads: int = 0  # torch intra-op threads; 0 keeps torch's default
    # route fp32 matrix multiplies to oneDNN (about 2x on AVX-512 CPUs); kept off automatically
    # where oneDNN would compute in bf16 (see veegan.backend.runtime)
    onednn_matmul: bool = True
    # keep freed memory in the C heap for the next step instead of page-faulting it in again
    # (glibc only; about 1.2-1.3x on the synthetic steps, see docs/performance.md)
    retain_freed_memory: bool = True
    # veegan.backend's code routes for CPU tensors (narrow matrix products, Unrolled GAN's
    # written-out look-ahead); off: PyTorch's own operations everywhere
    cpu_routes: bool = True
    # auto (CUDA if available, else Apple's MPS, else the CPU), cpu, cuda, cuda:N or mps; a run's
    # config.yaml records the device it resolved to
    device: str = "auto"
    # on CUDA: TF32 tensor-core matmuls and convolutions (faster, ~1e-3 relative rounding);
    # off by default so that results match float32
    tf32: bool = False
    # the training step's arithmetic (veegan.backend.precision): fp32, bf16 (autocast; CPU with
    # AVX512-BF16 or AMX, or CUDA) or fp16 (autocast and loss scaling; CUDA only); evaluation is
    # always fp32. The fastest choice per network and device is measured in docs/performance.md
    precision: str = "fp32"
    # the convolutional networks and image batches in NHWC order (no effect on the MLPs)
    channels_last: bool = False

    def __post_init__(self) -> None:
        _check(self.threads >= 0, "runtime.threads must be >= 0")
        from .backend.device import check_device_name
        from .backend.precision import check_precision_name

        check_device_name(self.device)
        check_precision_name(self.precision)


@dataclass
class TrainConfig:
    """Everything that determines a run. ``method_options`` is checked against the method's own
    ``Options`` dataclass by :func:`build_config`."""

    method: str = "veegan"
    dataset: str = "ring"
    data_file: str | None = None  # a table (CSV, TSV, Parquet, .npy, .npz) used instead of ``dataset``
    data_dir: str | None = None  # where an image dataset's files are (default: the cache, downloading)
    seed: int = 0
    steps: int = DEFAULT_STEPS
    # the training length in passes over the training rows: ceil(epochs x rows / batch_size)
    # steps, at most ``steps``; for a dataset of fixed rows (a data file). None: ``steps`` alone.
    # The user's own data trains OWN_DATA_EPOCHS unless steps or epochs are given (docs/own-data.md)
    epochs: float | None = None
    batch_size: int = 500
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    ema: EmaConfig = field(default_factory=EmaConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    table: TableConfig = field(default_factory=TableConfig)  # how ``data_file`` is read, split and encoded
    method_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(self.steps >= 1, "steps must be >= 1")
        _check(self.epochs is None or 0 < self.epochs < math.inf, "epochs must be a finite number > 0 (or null: steps alone)")
        _check(self.batch_size >= 1, "batch_size must be >= 1")
        _check(0 <= self.seed < 2**31, "seed must be in [0, 2^31)")

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain values; a run on a data file has no ``dataset`` key (its
        ``data_file`` says what it trains on, and ``dataset`` would be an unused default)."""
        values = plain(dataclasses.asdict(self))
        if self.data_file is not None:
            del values["dataset"]
        return values


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise VeeganError(message)
