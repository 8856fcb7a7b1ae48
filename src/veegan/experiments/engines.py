"""Where a sweep's runs are trained: ``local`` worker processes on this machine, or tasks on a
``ray`` cluster (any node, one CPU each). Both take a function and its arguments and hand back
results as the runs finish, in any order; the sweep above them is the same."""
from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..errors import VeeganError

ENGINES = ("local", "ray")
RAY_EXTRA = "pip install 'veegan[ray]'"
STOP_SECONDS = 60.0  # after a Ctrl-C, how long the runs have to save a checkpoint before their workers are ended


class LocalEngine:
    """Spawned worker processes (one thread each: two single-thread processes beat one
    two-thread process on this kind of CPU). A worker ignores Ctrl-C (SIGINT) but while it
    trains a run: the terminal's Ctrl-C then stops that run after its step, with a checkpoint;
    a worker that is starting (importing torch) or between runs prints no traceback, and starts
    no run after it (:meth:`close`)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        context = multiprocessing.get_context("spawn")
        self.stopping = context.Event()
        self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(self.stopping,))

    def submit(self, fn: Callable[..., Any], *args: Any, gpu_share: float = 0.0) -> Future:
        with _sigint_ignored():  # a worker spawned here inherits it, from its first instruction on
            return self.pool.submit(_interruptible, fn, *args)

    def wait(self, handles: Iterable[Future], timeout: float) -> list[Future]:
        return list(wait(list(handles), timeout=timeout, return_when=FIRST_COMPLETED)[0])

    def result(self, handle: Future) -> Any:
        return handle.result()

    def close(self, interrupted: bool = False) -> None:
        """Wait for the runs under way, then end the workers. ``interrupted`` (Ctrl-C): start no
        other run, give the runs under way ``STOP_SECONDS`` to save their checkpoints, then end
        any worker still running (a second Ctrl-C ends them at once)."""
        if not interrupted:
            self.pool.shutdown(wait=True, cancel_futures=True)
            return
        self.stopping.set()
        workers = multiprocessing.active_children()
        self.pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + STOP_SECONDS
        try:
            for process in workers:
                process.join(max(0.0, deadline - time.monotonic()))
        finally:
            for process in workers:
                if process.is_alive():
                    process.terminate()


_STOPPING: Any = None  # in a worker: the engine's event, set once the sweep is interrupted


def _start_worker(stopping: Any) -> None:
    """A worker's first call: ignore Ctrl-C until a run starts, and keep the stop event."""
    global _STOPPING
    _STOPPING = stopping
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _interruptible(fn: Callable[..., Any], *args: Any) -> Any:
    """In a worker: ``fn(*args)`` with Ctrl-C raising KeyboardInterrupt (a run stops after its
    step, with a checkpoint); nothing at all once the sweep is interrupted."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if _STOPPING is not None and _STOPPING.is_set():
            raise KeyboardInterrupt
        return fn(*args)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored in this process for the moment (the main thread alone may change it): a
    child process started meanwhile ignores it from its start, and Python keeps it so."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class RayEngine:
    """One Ray task per run, declaring one CPU, placed by Ray on any node of the cluster. A task
    whose worker process or node dies is retried by Ray; the run then resumes from its last
    checkpoint, so the run directory must be on storage that every node sees."""

    MAX_RETRIES = 3

    def __init__(self, address: str | None, workers: int | None, shared_dir: Path, files: tuple[Path, ...] = ()) -> None:
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
        try:
            self._check_shared(shared_dir)
            self._check_files(files)
        except BaseException:
            ray.shutdown()  # this process leaves the cluster, as close() does
            raise

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

    def _check_files(self, files: tuple[Path, ...]) -> None:
        """A worker can read the runs' data files (a user's table) where this process reads them."""
        if not files:
            return
        readable = self.ray.get(self.ray.remote(num_cpus=0)(_readable).remote([str(path) for path in files]))
        missing = [str(path) for path, seen in zip(files, readable) if not seen]
        if missing:
            raise VeeganError(f"the Ray workers cannot read the data file {', '.join(missing)}: put it on storage every node "
                              "shares, at the same path (under --out, say)")

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

    def close(self, interrupted: bool = False) -> None:
        self.ray.shutdown()  # its tasks end with it


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


def _readable(paths: list[str]) -> list[bool]:
    """On a worker: which of ``paths`` are files it can read."""
    return [Path(path).is_file() and os.access(path, os.R_OK) for path in paths]


def make_engine(name: str, workers: int, address: str | None, shared_dir: Path,
                files: tuple[Path, ...] = ()) -> LocalEngine | RayEngine:
    """The engine ``name``; a Ray one checks that its workers see ``shared_dir`` and read ``files``."""
    if name == "local":
        if address:
            raise VeeganError("--ray-address needs --engine ray")
        return LocalEngine(workers)
    if name == "ray":
        return RayEngine(address, workers, shared_dir, files)
    raise VeeganError(f"unknown engine {name!r}; choose {' or '.join(ENGINES)}")
