"""TensorBoard, on by default: the event files a run writes hold the logged scalars, and a run
resumed after a crash holds each step once (``purge_step`` drops what the crashed process wrote
after its checkpoint)."""
from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from veegan.configure import resolve_config
from veegan.training.trainer import train


def scalars(run_dir, tag: str) -> list[tuple[int, float]]:
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


def test_tensorboard_holds_the_logged_scalars_once_per_step_after_a_resume(tmp_path, tiny):
    tiny["schedule"]["tensorboard"] = True
    config = resolve_config(method="gan", dataset="ring", steps=30, seed=2, overrides=tiny)
    straight = train(config, tmp_path / "straight", progress=False)
    logged = [json.loads(line) for line in (straight / "metrics.jsonl").read_text().splitlines()]
    expected = [(r["step"], r["discriminator"]) for r in logged if r["kind"] == "train"]
    assert [step for step, _ in expected] == [5, 10, 15, 20, 25, 30]
    found = scalars(straight, "train/discriminator")
    assert [step for step, _ in found] == [step for step, _ in expected]
    assert [value for _, value in found] == pytest.approx([value for _, value in expected], rel=1e-6)
    assert [step for step, _ in scalars(straight, "eval/modes")] == [10, 20, 30]

    def crash(step: int) -> None:
        if step == 17:  # steps 15 is logged, then the run dies; its checkpoint is step 10's
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        train(config, tmp_path / "crashed", progress=False, hooks=[crash])
    assert [step for step, _ in scalars(tmp_path / "crashed", "train/discriminator")] == [5, 10, 15]
    train(config, tmp_path / "crashed", resume=True, progress=False)
    resumed = scalars(tmp_path / "crashed", "train/discriminator")
    assert [step for step, _ in resumed] == [5, 10, 15, 20, 25, 30]  # step 15 once: the crashed process's is purged
    assert [value for _, value in resumed] == pytest.approx([value for _, value in found], rel=1e-6)
