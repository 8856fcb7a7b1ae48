"""The command line: every user error is one line on stderr with a non-zero exit status and no
traceback, and the happy paths write what they promise."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from veegan.cli import main

# A few seconds of CPU at most per run.
TINY = [
    "--steps", "4",
    "--set", "batch_size=16",
    "--set", "model.latent_dim=3",
    "--set", "model.generator_hidden=8,8",
    "--set", "model.reconstructor_hidden=8,8",
    "--set", "model.discriminator_hidden=8",
    "--set", "schedule.eval_samples=200",
    "--set", "schedule.tensorboard=false",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
METRIC_KEYS = {"modes", "max_modes", "high_quality_pct", "reverse_kl"}


def cli(capsys, *argv) -> tuple[int, str, str]:
    """Run ``veegan`` in-process: (exit status, stdout, stderr)."""
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc, err: str, *needles: str) -> str:
    assert rc not in (0, None), f"expected a failure, got exit status {rc!r}"
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    line = lines[0]
    assert "error" in line, line
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


def train_quietly(out: Path, *extra: str) -> None:
    rc = main(["train", "--out", str(out), "--quiet", *TINY, *extra])
    assert rc == 0


@pytest.fixture(scope="module")
def veegan_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("veegan_run") / "run"
    train_quietly(out)
    return out


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gan_run") / "run"
    train_quietly(out, "--method", "gan")
    return out


@pytest.fixture
def veegan_copy(veegan_run, tmp_path) -> Path:
    """A private copy of the tiny veegan run that a test may damage."""
    return Path(shutil.copytree(veegan_run, tmp_path / "copy"))


# --------------------------------------------------------------------------------------------
# argparse choices


def test_unknown_method(capsys, tmp_path):
    rc, _, err = cli(capsys, "train", "--method", "wgan_nope", "--out", tmp_path / "r", *TINY)
    assert_one_line_error(rc, err, "--method", "wgan_nope")
    assert not (tmp_path / "r").exists()


def test_unknown_dataset(capsys, tmp_path):
    rc, _, err = cli(capsys, "train", "--dataset", "moons_nope", "--out", tmp_path / "r", *TINY)
    assert_one_line_error(rc, err, "--dataset", "moons_nope")
    assert not (tmp_path / "r").exists()


# --------------------------------------------------------------------------------------------
# --set: keys, types, values, method options

BAD_SETTINGS = [
    pytest.param("model.nope=1", ["model.nope", "unknown"], id="unknown-nested-key"),
    pytest.param("nope=1", ["'nope'", "unknown"], id="unknown-top-key"),
    pytest.param("steps=abc", ["steps", "int", "abc"], id="steps-not-int"),
    pytest.param("optim.lr_generator=fast", ["optim.lr_generator", "float", "fast"], id="lr-not-float"),
    pytest.param("model.generator_hidden=a,b", ["model.generator_hidden", "'a'"], id="hidden-not-ints"),
    pytest.param("steps", ["key=value", "steps"], id="no-equals"),
    pytest.param("steps=0", ["steps must be >= 1"], id="steps-zero"),
    pytest.param("optim.lr_generator=-1", ["optim.lr_generator must be a finite number > 0"], id="negative-lr"),
    pytest.param("optim.lr_generator=inf", ["optim.lr_generator must be a finite number > 0"], id="infinite-lr"),
    pytest.param("method_options.nope=1", ["method_options.nope", "unknown"], id="unknown-method-option"),
    pytest.param("method_options.reconstruction_loss=l1", ["method_options.reconstruction_loss", "'l1'"],
                 id="bad-method-option"),
]


@pytest.mark.parametrize("setting, needles", BAD_SETTINGS)
def test_bad_setting(capsys, tmp_path, setting, needles):
    out = tmp_path / "r"
    rc, _, err = cli(capsys, "train", "--out", out, *TINY, "--set", setting)
    assert_one_line_error(rc, err, *needles)
    # a configuration error is caught before anything is written
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# --data files


def _missing(d: Path) -> Path:
    return d / "absent.npy"


def _strings(d: Path) -> Path:
    np.save(d / "strings.npy", np.array([["a", "b"], ["c", "d"], ["e", "f"]]))
    return d / "strings.npy"


def _text_csv(d: Path) -> Path:
    (d / "text.csv").write_text("".join(f"{i}.0,{i}.5\n" for i in range(20)) + "3.0,hello\n5.0,6.0\n")
    return d / "text.csv"


def _nan(d: Path) -> Path:
    x = np.ones((10, 2))
    x[4, 1] = np.nan
    np.save(d / "nan.npy", x)
    return d / "nan.npy"


def _rank1(d: Path) -> Path:
    np.save(d / "rank1.npy", np.arange(10.0))
    return d / "rank1.npy"


def _rank3(d: Path) -> Path:
    np.save(d / "rank3.npy", np.zeros((4, 3, 2)))
    return d / "rank3.npy"


def _xlsx(d: Path) -> Path:
    (d / "data.xlsx").write_text("1,2\n3,4\n5,6\n")
    return d / "data.xlsx"


BAD_DATA = [
    pytest.param(_missing, "does not exist", id="missing"),
    pytest.param(_strings, "not real numbers", id="npy-strings"),
    pytest.param(_text_csv, "mixes numbers and text", id="csv-text"),
    pytest.param(_nan, "NaN", id="nan"),
    pytest.param(_rank1, "N x D", id="rank-1"),
    pytest.param(_rank3, "N x D", id="rank-3"),
    pytest.param(_xlsx, "must end in one of", id="unknown-extension"),
]


@pytest.mark.parametrize("make, needle", BAD_DATA)
def test_bad_data_file(capsys, tmp_path, make, needle):
    path = make(tmp_path)
    out = tmp_path / "r"
    rc, _, err = cli(capsys, "train", "--data", path, "--out", out, *TINY)
    assert_one_line_error(rc, err, path.name, needle)
    # no run is left behind that would block the next attempt
    assert not (out / "config.yaml").exists()
    assert not (out / "checkpoint.pt").exists()


# --------------------------------------------------------------------------------------------
# run directories: resume, overwrite


def test_resume_with_other_setting_is_refused(capsys, veegan_copy):
    config_before = (veegan_copy / "config.yaml").read_bytes()
    checkpoint_before = (veegan_copy / "checkpoint.pt").read_bytes()
    rc, _, err = cli(capsys, "train", "--resume", "--out", veegan_copy, *TINY, "--set", "batch_size=32")
    assert_one_line_error(rc, err, "cannot resume", "batch_size")
    assert (veegan_copy / "config.yaml").read_bytes() == config_before
    assert (veegan_copy / "checkpoint.pt").read_bytes() == checkpoint_before


def test_resume_with_other_method_fails_cleanly(capsys, veegan_copy):
    config_before = (veegan_copy / "config.yaml").read_bytes()
    checkpoint_before = (veegan_copy / "checkpoint.pt").read_bytes()
    rc, _, err = cli(capsys, "train", "--method", "gan", "--resume", "--out", veegan_copy, *TINY)
    assert_one_line_error(rc, err)
    assert (veegan_copy / "config.yaml").read_bytes() == config_before
    assert (veegan_copy / "checkpoint.pt").read_bytes() == checkpoint_before


def test_resume_with_other_method_names_the_difference(capsys, veegan_copy):
    rc, _, err = cli(capsys, "train", "--method", "gan", "--resume", "--out", veegan_copy, *TINY)
    line = assert_one_line_error(rc, err)
    assert "cannot resume" in line and "method='veegan'" in line


def test_existing_run_needs_overwrite(capsys, veegan_copy):
    checkpoint_before = (veegan_copy / "checkpoint.pt").read_bytes()
    config_before = (veegan_copy / "config.yaml").read_bytes()
    rc, _, err = cli(capsys, "train", "--out", veegan_copy, *TINY, "--seed", "1")
    assert_one_line_error(rc, err, "already holds a run", "--overwrite")
    assert (veegan_copy / "checkpoint.pt").read_bytes() == checkpoint_before
    assert (veegan_copy / "config.yaml").read_bytes() == config_before

    rc, _, err = cli(capsys, "train", "--out", veegan_copy, *TINY, "--seed", "1", "--overwrite", "--quiet")
    assert rc == 0, err
    assert yaml.safe_load((veegan_copy / "config.yaml").read_text())["seed"] == 1
    assert (veegan_copy / "checkpoint.pt").read_bytes() != checkpoint_before


# --------------------------------------------------------------------------------------------
# damaged or mismatched checkpoints, encode, evaluate on a non-run


def test_truncated_checkpoint(capsys, veegan_copy):
    path = veegan_copy / "checkpoint.pt"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    rc, _, err = cli(capsys, "evaluate", veegan_copy)
    assert_one_line_error(rc, err, "checkpoint")


def test_checkpoint_of_another_model(capsys, veegan_copy, gan_run):
    shutil.copyfile(gan_run / "checkpoint.pt", veegan_copy / "checkpoint.pt")
    rc, _, err = cli(capsys, "evaluate", veegan_copy)
    # the message says whose checkpoint it is
    assert_one_line_error(rc, err, "checkpoint", "'gan'")


def test_encode_without_reconstructor(capsys, gan_run, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((5, 2)))
    rc, _, err = cli(capsys, "encode", gan_run, "--data", tmp_path / "x.npy", "--out", tmp_path / "z.npy")
    assert_one_line_error(rc, err, "'gan'", "reconstructor")
    assert not (tmp_path / "z.npy").exists()


def test_encode_wrong_width(capsys, veegan_run, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((5, 3)))
    rc, _, err = cli(capsys, "encode", veegan_run, "--data", tmp_path / "x.npy", "--out", tmp_path / "z.npy")
    assert_one_line_error(rc, err, "N x 2", "(5, 3)")
    assert not (tmp_path / "z.npy").exists()


def test_evaluate_not_a_run(capsys, tmp_path):
    rc, _, err = cli(capsys, "evaluate", tmp_path)
    assert_one_line_error(rc, err, str(tmp_path), "config.yaml")


# --------------------------------------------------------------------------------------------
# the real console script


@pytest.mark.parametrize("argv, needle", [
    pytest.param(["train", "--out", "{tmp}/r", "--set", "model.nope=1"], "model.nope", id="bad-key"),
    pytest.param(["evaluate", "{tmp}"], "config.yaml", id="not-a-run"),
])
def test_console_script_errors(tmp_path, argv, needle):
    argv = [a.format(tmp=tmp_path) for a in argv]
    proc = subprocess.run([sys.executable, "-m", "veegan", *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("veegan: error:") and needle in lines[0]
    assert proc.stdout == ""


# --------------------------------------------------------------------------------------------
# happy paths


def test_run_directory_files(veegan_run):
    for name in ("config.yaml", "checkpoint.pt", "metrics.jsonl", "metrics.json", "density.png"):
        assert (veegan_run / name).is_file(), name
    assert (veegan_run / "density.png").read_bytes()[:8] == PNG_SIGNATURE
    assert not (veegan_run / "tensorboard").exists()  # schedule.tensorboard=false
    config = yaml.safe_load((veegan_run / "config.yaml").read_text())
    assert config["method"] == "veegan" and config["steps"] == 4 and config["model"]["latent_dim"] == 3
    records = [json.loads(line) for line in (veegan_run / "metrics.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in records} == {"train", "eval"}
    assert all(r["step"] == 4 for r in records)
    final = json.loads((veegan_run / "metrics.json").read_text())
    assert final["step"] == 4 and final["samples"] == 200 and final["max_modes"] == 8


def test_evaluate_json(capsys, veegan_run):
    rc, out, err = cli(capsys, "evaluate", veegan_run, "--json")
    assert rc == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert METRIC_KEYS <= result.keys()
    assert METRIC_KEYS <= result["real"].keys()
    assert result["method"] == "veegan" and result["dataset"] == "ring" and result["step"] == 4
    assert result["max_modes"] == 8 and result["real"]["modes"] == 8
    assert result["real"]["high_quality_pct"] > 90
    # by default evaluate repeats the run's final evaluation (metrics.json)
    final = json.loads((veegan_run / "metrics.json").read_text())
    for row, ref in ((result, final), (result["real"], final["real"])):
        assert row["modes"] == ref["modes"]
        assert row["high_quality_pct"] == pytest.approx(ref["high_quality_pct"])
        assert (row["reverse_kl"] is None) == (ref["reverse_kl"] is None)
        if ref["reverse_kl"] is not None:
            assert row["reverse_kl"] == pytest.approx(ref["reverse_kl"])


def test_evaluate_text(capsys, veegan_run):
    rc, out, err = cli(capsys, "evaluate", veegan_run, "--samples", "300")
    assert rc == 0, err
    assert "veegan on ring, step 4, 300 samples" in out
    assert "real data: modes 8/8" in out


def test_sample(capsys, veegan_run, tmp_path):
    rc, _, err = cli(capsys, "sample", veegan_run, "-n", "7", "--out", tmp_path / "f.npy")
    assert rc == 0, err
    x = np.load(tmp_path / "f.npy")
    assert x.shape == (7, 2)
    assert np.issubdtype(x.dtype, np.floating)
    assert np.isfinite(x).all()
    # --seed makes the draw reproducible
    for name in ("a.npy", "b.npy"):
        assert cli(capsys, "sample", veegan_run, "-n", "5", "--seed", "3", "--out", tmp_path / name)[0] == 0
    assert cli(capsys, "sample", veegan_run, "-n", "5", "--seed", "4", "--out", tmp_path / "c.npy")[0] == 0
    a, b, c = (np.load(tmp_path / n) for n in ("a.npy", "b.npy", "c.npy"))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sample_bad_output(capsys, veegan_run, tmp_path):
    rc, _, err = cli(capsys, "sample", veegan_run, "-n", "7", "--out", tmp_path / "f.txt")
    assert_one_line_error(rc, err, ".npy")
    rc, _, err = cli(capsys, "sample", veegan_run, "-n", "0", "--out", tmp_path / "f.npy")
    assert_one_line_error(rc, err, "-n")


def test_encode(capsys, veegan_run, tmp_path):
    x = np.random.default_rng(0).normal(size=(11, 2))
    np.save(tmp_path / "x.npy", x)
    rc, _, err = cli(capsys, "encode", veegan_run, "--data", tmp_path / "x.npy", "--out", tmp_path / "z.npy")
    assert rc == 0, err
    z = np.load(tmp_path / "z.npy")
    assert z.shape == (11, 3)
    assert np.isfinite(z).all()


def test_train_on_user_csv(capsys, tmp_path):
    data = np.random.default_rng(1).normal(size=(100, 3))
    path = tmp_path / "mine.csv"
    np.savetxt(path, data, delimiter=",")
    out = tmp_path / "r"
    rc, _, err = cli(capsys, "train", "--data", path, "--out", out, *TINY)
    assert rc == 0, err
    assert "Traceback" not in err
    final = json.loads((out / "metrics.json").read_text())
    # a headerless CSV: 20 % of its rows held out, and the model scored against them
    assert "modes" not in final and {"coverage", "ndb_k"} <= set(final["real"])
    assert final["samples"] == 20 and final["dataset"] == "mine"
    assert (out / "density.png").read_bytes()[:8] == PNG_SIGNATURE
    # the run knows its data: samples have the data's width
    rc, _, err = cli(capsys, "sample", out, "-n", "4", "--out", tmp_path / "s.npy")
    assert rc == 0, err
    assert np.load(tmp_path / "s.npy").shape == (4, 3)


def test_out_under_a_file(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, _, err = cli(capsys, "train", "--out", blocker / "run", *TINY)
    assert_one_line_error(rc, err, "cannot create run directory")


def test_npz_archive_named_npy(capsys, tmp_path):
    path = tmp_path / "data.npy"
    with open(path, "wb") as f:
        np.savez(f, a=np.zeros((5, 2)))
    rc, _, err = cli(capsys, "train", "--data", path, "--out", tmp_path / "run", *TINY)
    assert_one_line_error(rc, err, "archive")
    assert not (tmp_path / "run").exists()  # nothing written for a rejected input


def test_sample_into_a_directory_named_npy(capsys, veegan_run, tmp_path):
    target = tmp_path / "x.npy"
    target.mkdir()
    rc, _, err = cli(capsys, "sample", veegan_run, "-n", "3", "--out", target)
    assert_one_line_error(rc, err, "x.npy")


def test_pack_size_not_dividing_the_batch_is_refused_before_the_run_starts(capsys, tmp_path):
    rc, _, err = cli(capsys, "train", "--method", "pacgan", "--set", "method_options.pack_size=3",
                     "--out", tmp_path / "run", *TINY)
    assert_one_line_error(rc, err, "pack_size")
    assert not (tmp_path / "run").exists()
