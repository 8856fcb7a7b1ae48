"""Where a sweep's runs are trained: ``local`` worker processes on this machine, or tasks on a
``ray`` cluster (any node, one CPU each). Both take a function and its arguments and hand back
results as the runs finish, in any order; the sweep above them is the same."""
from __future__ import annotations

import multiprocessing
import os
import secrets
import socket
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import VeeganError

ENGINES = ("local", "ray")
RAY_EXTRA = "pip install 'veegan[ray]'"


class LocalEngine:
    """Spawned worker processes (one thread each: two single-thread processes beat one
    two-thread process on this kind of CPU)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn: Callable[..., Any], *args: Any, gpu_share: float = 0.0) -> Future:
        return self.pool.submit(fn, *args)

    def wait(self, handles: Iterable[Future], timeout: float) -> list[Future]:
        return list(wait(list(handles), timeout=timeout, return_when=FIRST_COMPLETED)[0])

    def result(self, handle: Future) -> Any:
        return handle.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class RayEngine:
    """One Ray task per run, declaring one CPU, placed by Ray on any node of the cluster. A task
    whose worker process or node dies is retried by Ray; the run then resumes from its last
    checkpoint, so the run directory must be on storage that every node sees."""

    MAX_RETRIES = 3

    def __init__(self, address: str | None, workers: int | None, shared_dir: Path) -> None:
        try:
            import ray
        except ImportError:
            raise VeeganError(f"--engine ray needs Ray: {RAY_EXTRA}") from None
        self.ray, self.tasks = ray, {}
        local = address in (None, "", "local")
        if not local and address != "auto":
            _check_reachable(address)  # Ray itself retries an unreachable address for many minutes
        try:
            ray.init(address=None if local else address, num_cpus=(workers or os.cpu_count()) if local else None,
                     include_dashboard=False, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise VeeganError(f"cannot reach the Ray cluster at {address}: {str(exc).splitlines()[0]} (is `ray start` "
                              "running there, and its auth token readable here? `--ray-address auto` finds both "
                              "on a cluster node)") from None
        self.workers = int(ray.cluster_resources().get("CPU", 1))
        self._check_shared(shared_dir)

    def _check_shared(self, shared_dir: Path) -> None:
        """A worker must see what this process writes in the run directory, and the reverse."""
        shared_dir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(8)
        probe = shared_dir / f".ray-probe-{token}"
        probe.write_text(token)
        back = Path(f"{probe}.back")
        try:
            seen = self.ray.get(self.ray.remote(num_cpus=0)(_probe).remote(str(probe), token))
            seen = seen and back.is_file() and back.read_text() == token
        finally:
            probe.unlink(missing_ok=True)
            back.unlink(missing_ok=True)
        if not seen:
            raise VeeganError(f"the Ray workers cannot see {shared_dir}: put --out on storage every node shares")

    def submit(self, fn: Callable[..., Any], *args: Any, gpu_share: float = 0.0) -> Any:
        """``fn(*args)`` as a task of one CPU and, for a GPU run, ``gpu_share`` of a GPU."""
        if fn not in self.tasks:
            self.tasks[fn] = self.ray.remote(num_cpus=1, max_retries=self.MAX_RETRIES)(fn)
        return self.tasks[fn].options(num_gpus=gpu_share).remote(*args)

    def wait(self, handles: Iterable[Any], timeout: float) -> list[Any]:
        return self.ray.wait(list(handles), num_returns=1, timeout=timeout)[0]

    def result(self, handle: Any) -> Any:
        try:
            return self.ray.get(handle)
        except self.ray.exceptions.RayTaskError as exc:  # the worker's own exception, as a local run raises it
            raise (exc.cause if isinstance(exc.cause, BaseException) else exc) from None

    def close(self) -> None:
        self.ray.shutdown()


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """A one-line error, at once, when nothing listens at HOST:PORT."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise VeeganError(f"--ray-address wants auto or HOST:PORT, not {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise VeeganError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def _probe(path: str, token: str) -> bool:
    """On a worker: the driver's probe file holds ``token``, and a file written here is kept."""
    probe = Path(path)
    if not probe.is_file() or probe.read_text() != token:
        return False
    Path(f"{path}.back").write_text(token)
    return True


def make_engine(name: str, workers: int, address: str | None, shared_dir: Path) -> LocalEngine | RayEngine:
    if name == "local":
        if address:
            raise VeeganError("--ray-address needs --engine ray")
        return LocalEngine(workers)
    if name == "ray":
        return RayEngine(address, workers, shared_dir)
    raise VeeganError(f"unknown engine {name!r}; choose {' or '.join(ENGINES)}")
