"""Rows of one kind (``veegan sample --where COLUMN=VALUE``, ``Run.sample(n, where=...)``): every
row holds the asked values, conditions combine, a seed repeats the draw, every mistake is one
line, and a value the generator does not make stops after a bounded number of draws."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import veegan
from tests.conftest import TINY as TINY_CONFIG
from tests.test_cli_errors import TINY, assert_one_line_error, cli
from tests.test_own_table import penguin_like
from veegan.conditional import Condition, draw_where, parse_where
from veegan.errors import VeeganError

# 300 steps of a small GAN (about 2 s): every species, year and sex is produced, Adelie rarely (about 3 %)
OVERRIDES = {**TINY_CONFIG, "batch_size": 64,
             "model": {**TINY_CONFIG["model"], "generator_hidden": [32, 32], "discriminator_hidden": [32]},
             "table": {"labels": "species", "categorical": ["year"]}}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("where") / "run"
    veegan.train("gan", data=penguin_like(), out=out, steps=300, seed=0, progress=False, overrides=OVERRIDES)
    return out


@pytest.fixture(scope="module")
def run(run_dir) -> veegan.Run:
    return veegan.load(run_dir)


def test_every_row_holds_the_asked_value(run):
    plain = run.sample(2000, seed=0)
    for species in ("Adelie", "Chinstrap", "Gentoo"):
        rows = run.sample(300, seed=0, where={"species": species})
        assert len(rows) == 300 and (rows["species"] == species).all(), species
        assert list(rows.columns) == list(plain.columns) and (rows.dtypes == plain.dtypes).all()
    assert run.sample(5, seed=0, where={}).equals(run.sample(5, seed=0))  # no condition: the plain draw


def test_two_conditions_and_values_of_booleans_and_integer_categories(run):
    rows = run.sample(200, seed=1, where={"species": "Gentoo", "male": "False", "year": "2008"})
    assert len(rows) == 200 and (rows["species"] == "Gentoo").all() and (~rows["male"]).all() and (rows["year"] == 2008).all()
    typed = run.sample(50, seed=1, where={"male": True, "year": 2009})  # the API's values may be Python values
    assert typed["male"].all() and (typed["year"] == 2009).all()


def test_a_seed_repeats_the_draw(run):
    first = run.sample(100, seed=3, where={"species": "Adelie"})
    pd.testing.assert_frame_equal(first, run.sample(100, seed=3, where={"species": "Adelie"}))
    assert not first.equals(run.sample(100, seed=4, where={"species": "Adelie"}))


def test_the_cli_writes_the_rows_asked_for(capsys, tmp_path, run_dir):
    rc, stdout, err = cli(capsys, "sample", run_dir, "-n", "40", "--seed", "0", "--where", "species=Gentoo",
                          "--where", "male=True", "--out", tmp_path / "g.csv")
    assert rc == 0, err
    assert "wrote 40 samples with species=Gentoo, male=True" in stdout
    rows = pd.read_csv(tmp_path / "g.csv")
    assert len(rows) == 40 and (rows["species"] == "Gentoo").all() and rows["male"].all()
    pd.testing.assert_frame_equal(rows, veegan.load(run_dir).sample(40, seed=0, where={"species": "Gentoo", "male": "True"}),
                                  check_dtype=False)


@pytest.mark.parametrize("where, needles", [
    (["species"], ["--where expects COLUMN=VALUE", "'species'"]),
    (["=Gentoo"], ["--where expects COLUMN=VALUE"]),
    (["species=Adelie", "species=Gentoo"], ["names column 'species' twice"]),
    (["spcies=Gentoo"], ["has no column 'spcies'", "its columns: species, bill_mm, body_mass_g, year, male"]),
    (["bill_mm=44.0"], ["--where takes categorical columns", "'bill_mm' is a numeric column"]),
    (["species=gentoo"], ["never holds 'gentoo'", "its values: Adelie, Chinstrap, Gentoo", "did you mean 'Gentoo'?"]),
    (["species=GENTOO"], ["never holds 'GENTOO'", "did you mean 'Gentoo'? values match exactly, case included"]),
    (["male=true"], ["never holds 'true'", "its values: False, True", "did you mean 'True'?"]),
    (["year=2008.0"], ["never holds '2008.0'", "its values: 2007, 2008, 2009", "did you mean '2008'?"]),
])
def test_each_mistake_is_one_line(capsys, tmp_path, run_dir, where, needles):
    argv = [arg for item in where for arg in ("--where", item)]
    rc, _, err = cli(capsys, "sample", run_dir, "-n", "5", *argv, "--out", tmp_path / "s.csv")
    assert_one_line_error(rc, err, *needles)
    assert not (tmp_path / "s.csv").exists()


def test_a_run_on_a_builtin_dataset_or_a_scored_only_labels_column_is_refused(capsys, tmp_path, run):
    ring = tmp_path / "ring"
    assert cli(capsys, "train", "--out", ring, "--quiet", *TINY)[0] == 0
    rc, _, err = cli(capsys, "sample", ring, "-n", "5", "--where", "species=Gentoo", "--out", tmp_path / "s.npy")
    assert_one_line_error(rc, err, "--where picks rows of your own table", "(trained on ring)")
    scored = veegan.train("gan", data=penguin_like(), out=tmp_path / "scored", steps=4, progress=False,
                          overrides={**TINY_CONFIG, "table": {"labels": "species", "train_labels": False}})
    with pytest.raises(VeeganError, match=r"the labels column 'species' is scored only \(table.train_labels=false\)"):
        scored.sample(5, where={"species": "Gentoo"})
    with pytest.raises(VeeganError, match="has no column 'island'"):
        run.sample(5, where={"island": "Biscoe"})


def never_gentoo(run: veegan.Run) -> None:
    """Make the generator's species block pick Adelie (its first level) in every row."""
    start, end = run.encoding.offsets[run.encoding.names.index("species")]

    def force(module, inputs, output):
        output = output.clone()
        output[:, start:end] = 0.0
        output[:, start] = 1.0
        return output

    run.method.generator.register_forward_hook(force)


def test_a_value_the_generator_never_makes_gives_up_after_bounded_draws(capsys, tmp_path, run_dir, monkeypatch):
    run = veegan.load(run_dir)
    never_gentoo(run)
    assert (run.sample(500, seed=0)["species"] == "Adelie").all()
    share = 100 * (run.dataset.train_labels == "Gentoo").mean()
    with pytest.raises(VeeganError, match=rf"^the model produced 0 rows with species=Gentoo in 1,000,000 draws \(0 %; "
                                          rf"{share:.3g} % of the training rows have it\), fewer than the 3 asked: ask for fewer"):
        run.sample(3, seed=0, where={"species": "Gentoo"})
    from veegan import api

    loaded = api.load
    monkeypatch.setattr(api, "load", lambda *a, **k: (lambda r: never_gentoo(r) or r)(loaded(*a, **k)))
    rc, _, err = cli(capsys, "sample", run_dir, "-n", "2", "--where", "species=Gentoo", "--max-draws", "5000",
                     "--out", tmp_path / "s.csv")
    assert_one_line_error(rc, err, "produced 0 rows with species=Gentoo in 5,000 draws", "--max-draws")
    assert not (tmp_path / "s.csv").exists()


def test_draws_come_in_large_bounded_batches():
    sizes: list[int] = []

    def draw(size: int) -> np.ndarray:
        sizes.append(size)
        rows = torch.zeros(size, 2)
        rows[:, 1] = (torch.arange(size) % 100 == 0).float()  # one row in 100 holds the level asked
        rows[:, 0] = 1 - rows[:, 1]
        return rows.numpy()

    found = [Condition("c", "b", (0, 2), 1)]
    assert draw_where(draw, 1000, found, width=2).shape == (1000, 2)
    assert sizes[0] == 4096 and max(sizes) == 65536 and len(sizes) <= 4, sizes
    sizes.clear()
    with pytest.raises(VeeganError, match="produced 10 rows with c=b in 1,000 draws"):
        draw_where(draw, 50, found, width=2, max_draws=1000)
    assert sum(sizes) == 1000
    assert parse_where(["a=b=c", "d=", "a=b=c"]) == {"a": "b=c", "d": ""}
