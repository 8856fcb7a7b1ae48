"""A practitioner's first hour (issue 57): a table as pandas writes it (its index, a `;` file
with decimal commas), `config --data`, `--version`, help that shows defaults and one protocol's
options, `reproduce ... --steps N` on every protocol, one-seed tables without "± 0.00", and a
Ctrl-C that ends in one line."""
from __future__ import annotations

import argparse
import os
import pty
import select
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from veegan.arguments import build_parser
from veegan.cli import interrupted_message, main
from veegan.data.table_files import read_table
from veegan.errors import VeeganError
from veegan.training_length import OWN_DATA_EPOCHS

from .test_cli_errors import TINY, assert_one_line_error, cli


def _frame(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"height": rng.normal(170, 10, rows), "weight": rng.normal(70, 5, rows),
                         "kind": rng.choice(["a", "b", "c"], rows)})


# --------------------------------------------------------------------------------------------
# reading a table as pandas writes it


def test_the_index_that_to_csv_writes_is_left_out_with_a_note(tmp_path):
    frame = _frame()
    frame.to_csv(tmp_path / "people.csv")  # no index=False: an unnamed first column 0..n-1
    notes: list[str] = []
    read = read_table(tmp_path / "people.csv", notes=notes)
    assert list(read.columns) == ["height", "weight", "kind"]
    np.testing.assert_allclose(read["height"], frame["height"], rtol=1e-6)
    assert len(notes) == 1 and "people.csv" in notes[0] and "index" in notes[0] and "\n" not in notes[0]
    # any distinct integers (a filtered frame's index), and columns that pandas left unnamed
    frame[frame["kind"] != "a"].to_csv(tmp_path / "filtered.csv")
    assert list(read_table(tmp_path / "filtered.csv").columns) == ["height", "weight", "kind"]
    pd.DataFrame(np.random.default_rng(1).normal(size=(20, 3))).to_csv(tmp_path / "numbers.csv")
    assert list(read_table(tmp_path / "numbers.csv").columns) == ["0", "1", "2"]


def test_an_unnamed_first_column_that_is_not_an_index_is_kept(tmp_path):
    (tmp_path / "repeats.csv").write_text(",a\n" + "".join(f"{i % 3},{i}.5\n" for i in range(20)))
    notes: list[str] = []
    assert list(read_table(tmp_path / "repeats.csv", notes=notes).columns) == ["Unnamed: 0", "a"]
    assert notes == []
    (tmp_path / "named.csv").write_text("id,a\n" + "".join(f"{i},{i}.5\n" for i in range(20)))
    assert list(read_table(tmp_path / "named.csv").columns) == ["id", "a"]


def test_training_on_a_to_csv_file_says_the_index_is_left_out_and_the_config_names_the_file(capsys, tmp_path):
    _frame().to_csv(tmp_path / "people.csv")
    out = tmp_path / "run"
    rc, _, err = cli(capsys, "train", "--data", tmp_path / "people.csv", "--out", out, *TINY)
    assert rc == 0, err
    assert "people.csv: its first column has no name" in err
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["data_file"] == str((tmp_path / "people.csv").resolve()) and "dataset" not in config
    rc, _, err = cli(capsys, "sample", out, "-n", "5", "--out", tmp_path / "s.csv")
    assert rc == 0, err
    assert list(pd.read_csv(tmp_path / "s.csv").columns) == ["height", "weight", "kind"]


def test_a_semicolon_file_with_decimal_commas_is_read_as_numbers(tmp_path, capsys):
    frame = _frame()
    frame.to_csv(tmp_path / "euro.csv", sep=";", decimal=",", index=False)
    assert "," in (tmp_path / "euro.csv").read_text().splitlines()[1]
    read = read_table(tmp_path / "euro.csv")
    assert list(read.columns) == ["height", "weight", "kind"] and read["height"].dtype.kind == "f"
    np.testing.assert_allclose(read[["height", "weight"]], frame[["height", "weight"]], rtol=1e-6)
    # no header, and a comma in every field: still ';' between the fields
    frame[["height", "weight"]].to_csv(tmp_path / "bare.csv", sep=";", decimal=",", header=False, index=False)
    bare = read_table(tmp_path / "bare.csv")
    assert list(bare.columns) == ["c0", "c1"]
    np.testing.assert_allclose(bare.to_numpy(), frame[["height", "weight"]].to_numpy(), rtol=1e-6)
    # thousands grouped by dots, and a column of decimal points beside one of decimal commas
    (tmp_path / "mixed.csv").write_text("a;b\n" + "3,5;1.5\n" * 10 + "1.234,5;2\n")
    mixed = read_table(tmp_path / "mixed.csv")
    assert mixed["a"].tolist()[-2:] == [3.5, 1234.5] and mixed["b"].tolist()[-2:] == [1.5, 2.0]
    rc, _, err = cli(capsys, "train", "--data", tmp_path / "euro.csv", "--out", tmp_path / "run", *TINY, "--quiet")
    assert rc == 0, err


@pytest.mark.parametrize("text, needles", [
    pytest.param('a,b\n' + '"3,5",1\n' * 10, ["column 'a'", "'3,5' in data row 1", "decimal point", "';'"], id="commas-between"),
    pytest.param("a;b\n" + "3,5;1\n" * 10 + "3.5;1\n", ["column 'a'", "'3.5' in data row 11", "alike"], id="mixed-marks"),
])
def test_numbers_with_a_comma_that_cannot_be_read_are_refused_naming_the_column_and_the_fix(tmp_path, capsys, text, needles):
    (tmp_path / "t.csv").write_text(text)
    with pytest.raises(VeeganError) as caught:
        read_table(tmp_path / "t.csv")
    assert all(needle in str(caught.value) for needle in needles), str(caught.value)
    rc, _, err = cli(capsys, "train", "--data", tmp_path / "t.csv", "--out", tmp_path / "run", *TINY)
    assert_one_line_error(rc, err, *needles)


# --------------------------------------------------------------------------------------------
# commands: config --data, --version, help


def test_config_takes_data_and_says_the_file_not_a_dataset(capsys, tmp_path):
    _frame().to_csv(tmp_path / "people.csv", index=False)
    rc, out, err = cli(capsys, "config", "--data", tmp_path / "people.csv", "--columns", "height,kind", "--labels", "kind")
    assert rc == 0, err
    config = yaml.safe_load(out)
    assert config["data_file"] == str((tmp_path / "people.csv").resolve()) and "dataset" not in config
    assert config["table"]["columns"] == ["height", "kind"] and config["table"]["labels"] == "kind"
    assert config["method"] == "gan" and config["epochs"] == OWN_DATA_EPOCHS  # the defaults for a table
    assert 1 <= config["steps"] <= 100_000  # its passes over the rows, in steps
    assert "dataset" in yaml.safe_load(cli(capsys, "config")[1])  # a built-in dataset's config names it
    rc, _, err = cli(capsys, "config", "--data", tmp_path / "absent.csv")
    assert_one_line_error(rc, err, "absent.csv", "does not exist")


def test_an_option_is_never_taken_for_the_abbreviation_of_another(capsys, tmp_path):
    rc, _, err = cli(capsys, "config", "--datas", "ring")
    assert_one_line_error(rc, err, "unrecognized arguments: --datas")
    rc, _, err = cli(capsys, "train", "--ste", "5", "--out", tmp_path / "r")
    assert_one_line_error(rc, err, "--ste")


def test_version(capsys):
    rc, out, _ = cli(capsys, "--version")
    assert rc == 0 and out.strip() == f"veegan {metadata.version('veegan')}"


def _help(capsys, *argv: str) -> str:
    rc, out, _ = cli(capsys, *argv, "--help")
    assert rc == 0
    return " ".join(out.split())  # one line: argparse wraps at the terminal's width


def test_the_main_help_opens_with_whole_sentences(capsys):
    text = _help(capsys)
    description = text.split("positional arguments")[0].split("...", 1)[1].strip()
    assert description.endswith(".") and "What each" not in description
    assert "--version" in text


def test_train_help_says_what_a_table_trains_for(capsys):
    text = _help(capsys, "train")
    assert "--data FILE on your own table, 10,000 passes over its training rows (at most 100,000 steps) unless " \
           "--steps N" in " ".join(text.split())
    assert "random seed (default: 0)" in text


def _parsers(parser: argparse.ArgumentParser, name: str = "veegan"):
    """Every parser under ``parser`` with its command line, e.g. ('veegan reproduce table1', parser)."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from _parsers(child, f"{name} {sub}")


def test_every_help_shows_every_default(capsys):
    for name, parser in _parsers(build_parser()):
        text = " ".join(parser.format_help().split())
        for action in parser._actions:
            default = action.default
            if not action.option_strings or default is None or default is False or default == [] \
                    or default is argparse.SUPPRESS:
                continue
            shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default)
            written = action.help or ""  # a default stated in the help's own words must name the value
            assert f"default: {shown}" in text or ("default" in written and shown in written), (name, action.option_strings)


OWN_OPTIONS = {"table1": [], "table2": ["--preset", "--mnist", "--cifar10"], "stabilisers": ["--stabilisers"],
               "beyond2d": ["--set", "--preset", "--tag"], "recipe": ["--set", "--screen-only", "--candidates"]}


@pytest.mark.parametrize("table", OWN_OPTIONS)
def test_each_protocol_has_its_own_help_and_only_its_own_options(capsys, table):
    text = _help(capsys, "reproduce", table)
    for option in ["--methods", "--seeds", "--budget", "--steps", "--results", "--no-train", "--workers", "--out"]:
        assert option in text, option
    for other, options in OWN_OPTIONS.items():
        for option in options:
            assert (option in text) == (option in OWN_OPTIONS[table]), (table, option)
    assert "(default: " in text


def test_another_protocols_option_is_refused_naming_it(capsys, tmp_path):
    rc, _, err = cli(capsys, "reproduce", "table1", "--preset", "best", "--out", tmp_path)
    assert_one_line_error(rc, err, "--preset is an option of `reproduce table2` and `reproduce beyond2d` only")
    rc, _, err = cli(capsys, "reproduce", "stabilisers", "--mnist", tmp_path, "--out", tmp_path)
    assert_one_line_error(rc, err, "--mnist is an option of `reproduce table2` only")


# --------------------------------------------------------------------------------------------
# reproduce ... --steps N: every protocol, every run


class _Jobs(Exception):
    """Raised in place of training, with the jobs a protocol built."""


@pytest.fixture
def no_training(monkeypatch):
    """Every protocol's sweep: the jobs it would train, raised as :class:`_Jobs` before any run."""
    from veegan.experiments import beyond2d, recipe, stabilisers, table1, table2

    def capture(jobs, *args, **kwargs):
        raise _Jobs(list(jobs))

    for module in (table1, table2, stabilisers, beyond2d, recipe):
        monkeypatch.setattr(module, "run_jobs", capture)


def _jobs(tmp_path: Path, *argv: str) -> list:
    with pytest.raises(_Jobs) as caught:
        main(["reproduce", *argv, "--out", str(tmp_path / "out")])
    return caught.value.args[0]


@pytest.mark.parametrize("table", OWN_OPTIONS)
def test_steps_n_trains_every_run_of_every_protocol_n_steps(tmp_path, no_training, table, monkeypatch):
    monkeypatch.setenv("VEEGAN_CACHE", str(tmp_path / "cache"))  # recipe's screen writes its real tables there
    jobs = _jobs(tmp_path, table, "--steps", "200")
    assert jobs and {job.config.steps for job in jobs} == {200}


def test_steps_per_dataset_keeps_its_form(tmp_path, no_training):
    from veegan.experiments.table1 import BUDGETS
    from veegan.experiments.table2 import BUDGETS as IMAGE_BUDGETS

    jobs = _jobs(tmp_path, "table1", "--steps", "hd1200=50")
    assert {job.config.dataset: job.config.steps for job in jobs} == {"ring": 10_000, "grid": 10_000, "hd1200": 50}
    jobs = _jobs(tmp_path, "table1", "--steps", "200", "--steps", "grid=30")
    assert {job.config.dataset: job.config.steps for job in jobs} == {"ring": 200, "grid": 30, "hd1200": 200}
    jobs = _jobs(tmp_path, "table2", "--methods", "gan", "--datasets", "stacked_mnist", "--steps", "stacked_mnist=7",
                 "--preset", "best")
    assert {job.config.steps for job in jobs} == {7}
    assert IMAGE_BUDGETS["cpu"]["steps"]["stacked_mnist"] == 2_000 and BUDGETS["quick"]["steps"]["ring"] == 10_000  # restored


@pytest.mark.parametrize("argv, needle", [
    (["table1", "--steps", "0"], "--steps wants N or DATASET=N"),
    (["stabilisers", "--steps", "hd1200=5"], "--steps names hd1200, which this table does not train"),
    (["beyond2d", "--steps", "ring=5"], "--steps N, not --steps ring=N"),
    (["beyond2d", "--steps", "5", "--set", "steps=6"], "--steps N and --set steps=N say the same"),
    (["recipe", "--steps", "5", "--steps", "ring=6"], "do not go together"),
])
def test_steps_that_cannot_be_followed_are_refused_in_one_line(capsys, tmp_path, argv, needle):
    rc, _, err = cli(capsys, "reproduce", *argv, "--no-train", "--out", tmp_path)
    assert_one_line_error(rc, err, needle)


# --------------------------------------------------------------------------------------------
# one seed: a value, not "± 0.00"


def test_a_mean_over_one_seed_prints_the_value_alone_and_keeps_an_empty_std():
    from veegan.experiments import beyond2d, stabilisers, table1, table2
    from veegan.experiments.tables import csv_text, format_mean_std, mean_std, metric_rows

    assert mean_std([0.25]) == (0.25, None) and format_mean_std([0.25, None]) == "0.25"
    assert format_mean_std([1.0, 3.0]) == "2.00 ± 1.41"
    final = {"modes": 8, "max_modes": 8, "high_quality_pct": 90.0, "reverse_kl": 0.1,
             "real": {"modes": 8, "max_modes": 8, "high_quality_pct": 99.0, "reverse_kl": 0.0}}
    rows = metric_rows({("gan", "ring", "ema", 0): final}, group=lambda key: key[:3], real_group=lambda key: ("real data", key[1], ""))
    header, first = csv_text(rows).splitlines()[:2]
    assert rows[0]["modes_std"] is None and first.split(",")[header.split(",").index("modes_std")] == ""
    tables = [stabilisers.stabiliser_markdown(rows, ["gan"], ["ema"], {"ring": 10}),
              beyond2d._cell(rows[0]),
              table1.table1_markdown([{**row, "hq_rule": "calibrated", "paper_modes": None, "paper_high_quality_pct": None}
                                      for row in rows], ["ring"], "quick", {"ring": 10}),
              table2.table2_markdown(table2.table2_rows({("gan", "stacked_mnist", 0): {"modes": 900, "kl": 0.5,
                                                                                       "digits_pct": 98.0}},
                                                        {("gan", 0): 0.01}, ["gan"], ["stacked_mnist"]), "cpu")]
    for text in tables:
        assert "±" not in text.replace("mean ± std", "").replace("0.0068 ± 0.0001", "").replace("0.00844 ± 0.002", ""), text
    assert "| gan | 1 | 8.0 | — | 90.0 | — | 0.100 |" in tables[2]


# --------------------------------------------------------------------------------------------
# Ctrl-C


def test_the_interrupt_message_promises_a_checkpoint_only_where_there_is_one(tmp_path):
    from veegan.training.checkpoint import CHECKPOINT_NAME

    train = argparse.Namespace(command="train", out=str(tmp_path))
    assert "nothing to resume" in interrupted_message(train)
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"")
    assert "--resume" in interrupted_message(train)
    assert "checkpoint" not in interrupted_message(argparse.Namespace(command="evaluate"))


SWEEP_SETS = [a for s in ("batch_size=16", "model.latent_dim=3", "model.generator_hidden=8,8", "model.discriminator_hidden=8",
                          "model.reconstructor_hidden=8,8", "schedule.tensorboard=false") for a in ("--set", s)]
DEFAULT_SIGINT = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "  # as a terminal's shell
                  "from veegan.cli import main; sys.exit(main())")  # leaves it, whatever pytest's parent set


def _interrupt(argv: list[str], terminal: bool) -> tuple[int, str]:
    """Run ``veegan argv`` in a process group of its own, its stderr a terminal or a pipe; once
    its workers are being started, send SIGINT to the group as a terminal's Ctrl-C does. Returns
    (exit status, stderr)."""
    reader, writer = pty.openpty() if terminal else os.pipe()
    proc = subprocess.Popen([sys.executable, "-c", DEFAULT_SIGINT, *argv], stdout=subprocess.DEVNULL, stderr=writer,
                            start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    os.close(writer)
    text, deadline, signalled = b"", time.monotonic() + 240, False
    try:
        while time.monotonic() < deadline:
            if not signalled and b"to train on" in text:
                time.sleep(0.3)  # the workers are importing torch
                os.killpg(proc.pid, signal.SIGINT)
                signalled = True
            if select.select([reader], [], [], 0.5)[0]:
                try:
                    chunk = os.read(reader, 65536)
                except OSError:  # a terminal whose other side has closed
                    chunk = b""
                if not chunk:
                    break
                text += chunk
        rc = proc.wait(timeout=120)
    finally:
        os.close(reader)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert signalled, text.decode()
    return rc, text.decode().replace("\r\n", "\n")


@pytest.mark.parametrize("argv, terminal", [
    pytest.param(["compare", "--methods", "gan", "veegan", "--steps", "3000", "--workers", "2", *SWEEP_SETS], False,
                 id="compare"),
    pytest.param(["reproduce", "table1", "--methods", "gan", "--datasets", "ring", "--seeds", "3", "--steps", "3000",
                  "--workers", "2"], True, id="reproduce-on-a-terminal"),
])
def test_ctrl_c_while_workers_start_ends_in_one_line(tmp_path, argv, terminal):
    rc, err = _interrupt([*argv, "--out", str(tmp_path / "out")], terminal)
    assert rc == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    message = "veegan: interrupted; run the same command again to go on (finished runs are skipped"
    assert err.count("veegan: interrupted") == 1 and message in err, err
    before, after = err.split("veegan: interrupted")
    assert before.rstrip("\r ").endswith("\n"), repr(before[-200:])  # on a line of its own, not the bar's
    assert after.strip().count("\n") == 0, err


@pytest.mark.parametrize("delay", [0.2, 1.0, 2.0])
def test_ctrl_c_while_the_command_line_starts_ends_in_one_line(tmp_path, delay):
    """A Ctrl-C while `veegan` still imports torch (or just after) ends in one line, status 130."""
    proc = subprocess.Popen([sys.executable, "-c", "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                             "from veegan.console import main; sys.exit(main())", "train", "--dataset", "ring",
                             "--out", str(tmp_path / "run")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    err = proc.communicate(timeout=120)[1].decode()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.count("veegan: interrupted") == 1, err
