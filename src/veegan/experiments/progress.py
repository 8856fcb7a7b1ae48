"""Live progress of a sweep: one bar over the steps of all its runs (steps done across the
running runs, runs done / total, elapsed, ETA), read from what each worker appends to its run's
metrics.jsonl, so that it works alike for local processes and for Ray tasks on other nodes. On
a non-interactive stderr it prints a line every LINE_SECONDS instead."""
from __future__ import annotations

import json
import sys
import time
from collections import deque
from pathlib import Path
from typing import IO, Sequence

from tqdm import tqdm

from ..training import run_dir as runs

TAIL_BYTES = 4096  # the end of metrics.jsonl that holds its last record
LINE_SECONDS = 30.0  # a non-interactive stderr gets a progress line this often
RATE_SECONDS = 120.0  # the lines' ETA divides by the rate over about this many seconds, not since the start


def logged_step(run_dir: Path) -> int:
    """The step of the last record a run has logged (0 when it has none yet)."""
    path = Path(run_dir) / runs.METRICS_LOG_NAME
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, 2) - TAIL_BYTES))
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return 0
    for line in reversed(lines):
        try:
            return int(json.loads(line)["step"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line, or the cut first one of the tail
    return 0


class SweepProgress:
    """Steps of ``runs`` (run directory, total steps) as one bar. ``quiet``: nothing is shown."""

    def __init__(self, runs_to_train: Sequence[tuple[Path, int]], quiet: bool = False, stream: IO[str] | None = None,
                 line_every: float | None = None) -> None:
        self.stream = stream or sys.stderr
        self.totals = {Path(d): steps for d, steps in runs_to_train}
        self.done_steps = {d: min(logged_step(d), steps) for d, steps in self.totals.items()}
        self.first = sum(self.done_steps.values())  # resumed runs' steps: not part of this invocation's rate
        self.finished: set[Path] = set()
        self.started = self.last_line = time.monotonic()
        self.recent = deque([(self.started, self.first)])  # (time, steps) seen by summary(), for the rate
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.line_every = LINE_SECONDS if line_every is None else line_every
        self.quiet = quiet or not self.totals
        self.bar = None
        if not self.quiet and self.interactive:
            self.bar = tqdm(total=self.total, initial=self.first, unit="step", unit_scale=True, file=self.stream,
                            desc="sweep", dynamic_ncols=True, smoothing=0.05)
            self._postfix()

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    @property
    def steps(self) -> int:
        return sum(self.done_steps.values())

    def poll(self) -> None:
        """Read the running runs' logs; redraw the bar, or print the periodic line when due."""
        for run_dir, steps in self.totals.items():
            if run_dir not in self.finished:
                self.done_steps[run_dir] = max(self.done_steps[run_dir], min(logged_step(run_dir), steps))
        self._show()

    def run_finished(self, run_dir: Path, line: str) -> None:
        """A run is done: count all its steps, and say ``line`` above the bar."""
        run_dir = Path(run_dir)
        self.finished.add(run_dir)
        self.done_steps[run_dir] = self.totals[run_dir]
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)
        self._show()

    def _postfix(self) -> None:
        self.bar.set_postfix_str(f"runs {len(self.finished)}/{len(self.totals)}", refresh=False)

    def _show(self) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(self.steps - self.bar.n)
            self._postfix()
            self.bar.refresh()
            return
        now = time.monotonic()
        if now - self.last_line >= self.line_every:
            self.last_line = now
            print(self.summary(now), file=self.stream, flush=True)

    def summary(self, now: float | None = None) -> str:
        """'sweep: 120k/1.2M steps (10.0 %), runs 3/12, elapsed 5m02s, about 45m left'."""
        now = now or time.monotonic()
        elapsed = now - self.started
        rate = self._recent_rate(now)
        left = f"about {_duration((self.total - self.steps) / rate)} left" if rate > 0 else "ETA unknown"
        return (f"sweep: {self.steps:,}/{self.total:,} steps ({100 * self.steps / max(self.total, 1):.1f} %), "
                f"runs {len(self.finished)}/{len(self.totals)}, elapsed {_duration(elapsed)}, {left}")

    def _recent_rate(self, now: float) -> float:
        """Steps per second since the newest summary at least ``RATE_SECONDS`` old (the start
        until then): when a fast run finishes beside a slow one, the ETA follows the slow one."""
        self.recent.append((now, self.steps))
        while len(self.recent) > 2 and now - self.recent[1][0] >= RATE_SECONDS:
            self.recent.popleft()
        then, steps_then = self.recent[0]
        return (self.steps - steps_then) / (now - then) if now > then else 0.0

    def close(self, summary: bool = True) -> None:
        """End the bar's line, or print the last progress line (unless not ``summary``)."""
        if self.bar is not None:
            self.bar.close()
        elif summary and not self.quiet and self.totals:
            print(self.summary(), file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"
