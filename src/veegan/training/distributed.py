"""Multi-process training: ``torchrun --nproc_per_node N -m veegan train ...`` trains one model
with DistributedDataParallel (gloo on the CPU; NCCL with one GPU per rank under
``--device cuda``), each rank on its shard of every batch.

So that N ranks compute exactly what one process computes on the global batch, every random
draw of a training step (the data batch, z, the generator's extra noise, VEEGAN's real-pair
noise) is made in full by every rank from the same random state, and each rank keeps its own
slice (:func:`sharded_draws`, :func:`normal`, :func:`shard`). DDP then averages the ranks'
gradients, which for losses that are batch means is the gradient on the global batch. Two
things break the equality, as they do in any data-parallel training: batch normalisation
(each rank normalises with its shard's statistics; DCGAN networks use it) and Unrolled GAN's
look-ahead (each rank unrolls D on its own shard).
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Iterator, TypeVar

import torch
import torch.distributed as dist

from ..errors import VeeganError

T = TypeVar("T")

_sharding = False  # True inside a training step of a multi-process run


def launched() -> bool:
    """Whether this process is one of several started by torchrun."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main() -> bool:
    """Rank 0, the process that writes files and prints."""
    return rank() == 0


def setup(device: torch.device | None = None) -> torch.device | None:
    """Join the process group torchrun describes: NCCL with one GPU per rank (LOCAL_RANK) when
    ``device`` is CUDA, gloo on the CPU. Returns this rank's device."""
    if device is not None and device.type == "cuda" and launched():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if launched() and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device is not None and device.type == "cuda" else "gloo")
    return device


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


@contextlib.contextmanager
def sharded_draws() -> Iterator[None]:
    """Within: :func:`normal` and :func:`shard` return this rank's slice of a global draw."""
    global _sharding
    previous, _sharding = _sharding, world_size() > 1
    try:
        yield
    finally:
        _sharding = previous


def shard(full: torch.Tensor) -> torch.Tensor:
    """This rank's slice of the first dimension of ``full`` (all of it outside
    :func:`sharded_draws` or in a single process)."""
    if not _sharding:
        return full
    n = len(full) // world_size()
    return full[rank() * n:(rank() + 1) * n]


def global_count(n: int) -> int:
    """How many rows to draw so that this rank's shard has ``n``."""
    return n * world_size() if _sharding else n


def normal(
    n: int, dim: int, generator: torch.Generator | None = None, *, like: torch.Tensor | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """n x dim standard normal values on ``device`` (or ``like``'s device and dtype): this rank's
    slice of a global draw inside :func:`sharded_draws`, a plain draw otherwise. A ``generator``
    draws on its own device, and the values are moved (a seeded CPU generator gives the same
    values on every device)."""
    device = like.device if like is not None else device if device is not None else torch.device("cpu")
    dtype = like.dtype if like is not None else None
    source = generator.device if generator is not None else device
    return shard(torch.randn(global_count(n), dim, generator=generator, device=source, dtype=dtype).to(device))


def decided_by_main(decide: Callable[[], T]) -> T:
    """Run ``decide`` on rank 0 only and hand its result, or its error, to every rank (so a
    refused run stops all ranks with the same message instead of leaving them waiting)."""
    if world_size() == 1:
        return decide()
    outcome: list[Any] = [None]
    failure: BaseException | None = None
    if is_main():
        try:
            outcome[0] = ("ok", decide())
        except Exception as exc:  # noqa: BLE001 - every failure must reach the other ranks
            failure, outcome[0] = exc, ("error", str(exc) or type(exc).__name__)
    dist.broadcast_object_list(outcome, src=0)
    status, value = outcome[0]
    if failure is not None:
        raise failure
    if status == "error":
        raise VeeganError(f"rank 0 stopped: {value}")
    return value


def first_on_main(build: Callable[[], T]) -> T:
    """``build()`` on rank 0 first, then on the other ranks: a download into a shared cache
    happens once, and an error of rank 0 stops every rank with its message."""
    built: list[T] = []
    decided_by_main(lambda: built.append(build()))
    return built[0] if built else build()


def any_rank(flag: bool) -> bool:
    """Whether ``flag`` is true on any rank (every rank must call it at the same point)."""
    if world_size() == 1:
        return flag
    value = torch.tensor([int(flag)], device="cuda" if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def mean_over_ranks(values: torch.Tensor) -> torch.Tensor:
    """The average of ``values`` over the ranks (for logging the global batch's losses)."""
    if world_size() > 1:
        values = values.clone()
        dist.all_reduce(values)
        values /= world_size()
    return values
