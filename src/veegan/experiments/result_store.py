"""A folder of finished runs' small files (configuration, final metrics, the samples a figure
panel shows), kept where checkpoints are not: in git, beside a table. A sweep that is given one
counts a run found there as finished, so a protocol of many hours can be continued by a later
session, on another machine, from the files alone."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..data.download import file_md5
from ..errors import VeeganError
from ..evaluation.plots import projection_basis
from ..training import checkpoint
from ..training import run_dir as runs
from .curves import CURVE_NAME, evaluation_curve

FIGURE_NAME = "figure.npz"  # the final evaluation's samples, as a density panel needs them, and their step
IMAGE_SAMPLES = 64  # images kept for a sample grid (8 x 8)
COPIED_FILES = (runs.CONFIG_NAME, runs.FINAL_METRICS_NAME, FIGURE_NAME)
KEPT_FILES = (*COPIED_FILES, CURVE_NAME)  # the curve is extracted from the run's log
DATA_DIGEST = "data_md5"  # in a kept run of a user's table: its file's md5, which the path alone does not pin


def write_figure_samples(run_dir: Path) -> Path:
    """Save the final evaluation's generated and real samples of a finished run (float16), in
    the plane its density plot uses: data above 2-D is stored projected (with the basis), so
    that hd1200's 1200-D samples cost kilobytes, not megabytes. Images: 64 of each, as 8-bit
    pixels, for a sample grid. ``step`` says which checkpoint they were drawn from."""
    from ..api import load

    run = load(run_dir)
    path = Path(run_dir) / FIGURE_NAME
    arrays: dict[str, np.ndarray] = {"step": np.int64(run.step)}
    if len(run.dataset.shape) > 1:
        images = run.evaluation_samples(IMAGE_SAMPLES)  # pixels in [-1, 1]
        for name, x in zip(("generated", "real"), images):
            arrays[name] = np.clip(np.rint((x + 1) * 127.5), 0, 255).astype(np.uint8)
        np.savez_compressed(path, **arrays)
        return path
    generated, real = run.evaluation_samples()
    means = getattr(run.dataset, "means", None)
    means = None if means is None else means.numpy()
    basis = projection_basis(means, real)
    for name, points in (("generated", generated), ("real", real), ("means", means)):
        if points is not None:
            arrays[name] = (points if basis is None else points @ basis).astype(np.float16 if name != "means" else np.float64)
    if basis is not None:
        arrays["basis"] = basis.astype(np.float32)
    np.savez_compressed(path, **arrays)
    return path


def figure_is_current(run_dir: Path) -> bool:
    """Whether a finished run's figure samples were drawn at its final step: a run continued for
    more steps (``--steps`` raised on a resumed sweep) needs new ones, not the shorter run's."""
    path, final = Path(run_dir) / FIGURE_NAME, Path(run_dir) / runs.FINAL_METRICS_NAME
    if not (path.is_file() and final.is_file()):
        return False
    with np.load(path) as figure:
        step = int(figure["step"]) if "step" in figure.files else None
    return step == json.loads(final.read_text()).get("step")


def _same_data(place: Path, final: Mapping[str, Any], config: Any) -> bool:
    """Whether a kept run of a user's table was trained on the content of the file ``config``
    names, wherever that file now lies (a table's absolute path differs between machines);
    a kept run of other content under the same name is an error. False where that cannot be
    told (no table, no digest kept, no file): the paths are then compared as they are."""
    if config.data_file is None or DATA_DIGEST not in final or not Path(config.data_file).is_file():
        return False
    if file_md5(config.data_file) != final[DATA_DIGEST]:
        raise VeeganError(f"{place} keeps a run trained on other data than {config.data_file} (its md5 differs)")
    return True


class ResultStore:
    """``root/<run name>/`` mirrors ``out/<run name>/`` with the KEPT_FILES only."""

    def __init__(self, root: str | Path, out: str | Path) -> None:
        self.root, self.out = Path(root), Path(out)

    def place(self, run_dir: Path) -> Path:
        return self.root / Path(run_dir).relative_to(self.out)

    def finished(self, run_dir: Path, config: Any) -> dict[str, Any] | None:
        """The kept final metrics of a finished run of ``config``, else None. A kept run of
        another configuration, or of an earlier definition of its dataset, is an error."""
        place = self.place(run_dir)
        if not (place / runs.FINAL_METRICS_NAME).is_file():
            return None
        stored = runs.read_run_config(place).to_dict()
        final = json.loads((place / runs.FINAL_METRICS_NAME).read_text())
        runs.check_same_run(stored, config, f"{place} keeps a run trained",
                            allowed=runs.RESUMABLE_CHANGES | ({"data_file"} if _same_data(place, final, config) else set()))
        runs.check_data_definition(config, lambda: final)
        return final if final.get("step") == config.steps else None

    def has_every_file(self, run_dir: Path) -> bool:
        return all((self.place(run_dir) / name).is_file() for name in KEPT_FILES)

    def keep(self, run_dir: Path) -> Path:
        """Copy a finished run's small files here (writing its figure samples first, and its
        package version into the kept metrics, which the data-definition check reads)."""
        run_dir = Path(run_dir)
        if not figure_is_current(run_dir):
            write_figure_samples(run_dir)
        place = self.place(run_dir)
        place.mkdir(parents=True, exist_ok=True)
        (place / CURVE_NAME).write_text(json.dumps(evaluation_curve(run_dir)) + "\n")
        for name in COPIED_FILES:
            shutil.copyfile(run_dir / name, place / name)
        final = json.loads((place / runs.FINAL_METRICS_NAME).read_text())
        state = checkpoint.load(run_dir / checkpoint.CHECKPOINT_NAME)
        final.setdefault("veegan_version", str(state.get("veegan_version", "0")))
        if data_file := runs.read_run_config(run_dir).data_file:
            final[DATA_DIGEST] = file_md5(data_file)
        (place / runs.FINAL_METRICS_NAME).write_text(json.dumps(final, indent=2) + "\n")
        return place

    def log_place(self, run_dir: Path) -> Path:
        """Where a run's evaluations over training are: its run directory's log, else the kept curve."""
        return Path(run_dir) if (Path(run_dir) / runs.METRICS_LOG_NAME).is_file() else self.place(run_dir)

    def figure_source(self, run_dir: Path) -> Path | None:
        """Where the figure samples of a run are: its run directory or its kept copy."""
        for place in (Path(run_dir), self.place(run_dir)):
            if (place / FIGURE_NAME).is_file():
                return place / FIGURE_NAME
        return None

    def figure_panel(self, run_dir: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """(the figure samples, the final metrics) of a finished run, kept or in its directory
        (written from its checkpoint where missing or drawn before the final step); None if
        neither is at hand."""
        if (Path(run_dir) / checkpoint.CHECKPOINT_NAME).is_file() and not figure_is_current(run_dir):
            write_figure_samples(run_dir)
        source = self.figure_source(run_dir)
        if source is None:
            return None
        return dict(np.load(source)), json.loads((source.parent / runs.FINAL_METRICS_NAME).read_text())
