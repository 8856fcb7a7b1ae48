"""A run's log of training and evaluation records: metrics.jsonl, and TensorBoard events."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .run_dir import METRICS_LOG_NAME, TENSORBOARD_DIR


RESUMED = "resume"  # the kind of the record a resumed run logs first, at the step it resumed from


class MetricsLog:
    """Appends records to metrics.jsonl and, optionally, TensorBoard event files."""

    def __init__(self, out_dir: Path, tensorboard: bool, keep_until: int = 0) -> None:
        path = out_dir / METRICS_LOG_NAME
        if path.exists():  # a resumed run drops what was logged after its checkpoint (and the
            # record of an earlier resumption from that same checkpoint, which it writes again)
            kept = [line for line in path.read_text().splitlines() if _kept(line, keep_until)]
            tmp = path.with_suffix(".jsonl.tmp")
            tmp.write_text("".join(line + "\n" for line in kept))
            os.replace(tmp, path)
        self.file = open(path, "a")
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step drops TensorBoard events logged after the checkpoint being resumed
            self.writer = SummaryWriter(str(out_dir / TENSORBOARD_DIR), purge_step=keep_until + 1 if keep_until else None)

    @classmethod
    def discarding(cls) -> MetricsLog:
        """A log that writes nothing (the ranks other than 0 of a multi-process run)."""
        log = cls.__new__(cls)
        log.file, log.writer = None, None
        return log

    def write(self, step: int, kind: str, values: dict[str, Any]) -> None:
        if self.file is None:
            return
        self.file.write(json.dumps({"step": step, "kind": kind, **values}) + "\n")
        self.file.flush()
        if self.writer is not None:
            for key, value in values.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self.writer.add_scalar(f"{kind}/{key}", value, step)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        if self.writer is not None:
            self.writer.close()


def _kept(line: str, keep_until: int) -> bool:
    """Whether a resumed run keeps this line of its log: a record up to its checkpoint's step,
    but not a torn last line from a killed run, nor an earlier resumption's record at that step."""
    try:
        record = json.loads(line)
        return record["step"] < keep_until or (record["step"] == keep_until and record.get("kind") != RESUMED)
    except (ValueError, KeyError, TypeError):
        return False
