"""A sweep's live progress (one bar over all runs' steps; periodic lines on a non-interactive
stderr) and its curves.png (modes and % high quality against steps, per method)."""
import io
import json

from veegan.experiments import progress
from veegan.experiments.compare import compare
from veegan.experiments.curves import evaluation_curve
from veegan.experiments.progress import SweepProgress, logged_step


SETS = ["batch_size=16", "model.latent_dim=3", "model.generator_hidden=8,8", "model.reconstructor_hidden=8,8",
        "model.discriminator_hidden=8", "schedule.eval_samples=200", "schedule.tensorboard=false",
        "schedule.log_every=10", "schedule.eval_every=20"]

def _log(run_dir, *steps):
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "metrics.jsonl", "a") as f:
        for step in steps:
            f.write(json.dumps({"step": step, "kind": "train", "loss": 1.0}) + "\n")

def test_progress_counts_steps_across_runs_from_their_logs(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _log(a, 100, 200)  # a resumed run: its first 200 steps are not this invocation's
    with open(a / "metrics.jsonl", "a") as f:
        f.write('{"step": 3')  # a torn last line is skipped
    assert logged_step(a) == 200 and logged_step(tmp_path / "none") == 0
    stream = io.StringIO()
    bar = SweepProgress([(a, 1000), (b, 500)], stream=stream, line_every=0)
    assert (bar.steps, bar.total) == (200, 1500)
    _log(b, 100, 300)
    bar.poll()
    assert bar.steps == 500
    assert "sweep: 500/1,500 steps (33.3 %), runs 0/2" in stream.getvalue()
    bar.run_finished(a, "[1/2] a: done")
    assert bar.steps == 1300 and "[1/2] a: done" in stream.getvalue() and "runs 1/2" in stream.getvalue()
    bar.run_finished(b, "[2/2] b: done")
    bar.close()
    assert stream.getvalue().splitlines()[-1].startswith("sweep: 1,500/1,500 steps (100.0 %), runs 2/2")

    quiet = io.StringIO()
    SweepProgress([(a, 1000)], quiet=True, stream=quiet, line_every=0).poll()
    assert quiet.getvalue() == ""

def test_the_lines_eta_follows_the_recent_rate_when_a_fast_run_finishes(tmp_path):
    fast, slow = tmp_path / "fast", tmp_path / "slow"
    bar = SweepProgress([(fast, 10_000), (slow, 10_000)], stream=io.StringIO(), line_every=1e9)
    t0 = bar.started
    for minute in range(1, 7):  # the fast run does 5,000 steps a minute and ends at minute 2, the slow one 1,000
        if minute <= 2:
            _log(fast, 5_000 * minute)
        _log(slow, 1_000 * minute)
        bar.poll()
        if minute == 2:
            bar.run_finished(fast, "fast: done")
        line = bar.summary(t0 + 60 * minute)
    # at minute 6 the slow run has 4,000 steps left at 1,000 a minute; the average since the start
    # (16,000 steps in 6 minutes) would say 1m30s
    assert line.endswith("runs 1/2, elapsed 6m00s, about 4m00s left"), line


def test_compare_reports_progress_to_100_percent_and_writes_curves(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress, "LINE_SECONDS", 0.0)  # pytest's stderr is not a terminal: periodic lines
    compare(["gan", "veegan"], "ring", out=tmp_path, seeds=2, steps=60, overrides=SETS, workers=2)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("sweep: ")]
    assert lines and lines[-1].startswith("sweep: 240/240 steps (100.0 %), runs 4/4")
    assert err.count("/4] ") == 4  # one line per finished run
    curve = evaluation_curve(tmp_path / "veegan" / "seed1")
    assert [r["step"] for r in curve] == [20, 40, 60] and all(r["modes"] is not None for r in curve)
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
