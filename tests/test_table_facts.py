"""Synthetic rows a practitioner can use as is (issue 57): the labels column trained on and given
back, each numeric column's plain facts kept (its range, its decimals, a point mass such as 0 on
half the rows), dates as dates in their own format, ``--exclude``; and runs trained before these
keys existed still loading as they were trained."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.test_cli_errors import assert_one_line_error, cli
from tests.test_own_table import QUICK, penguins_csv  # noqa: F401 - penguins_csv: a fixture
from veegan.data.own_table import TableDataset
from veegan.data.table_columns import MIXED, observed_decimals
from veegan.table_config import BEFORE_KEYS, TableConfig

LONGER = ["--steps", "1500", "--set", "batch_size=64", "--set", "model.generator_hidden=32,32",
          "--set", "model.discriminator_hidden=32", "--set", "model.latent_dim=3", "--set", "runtime.threads=1",
          "--set", "schedule.tensorboard=false", "--set", "schedule.eval_every=1000", "--set", "schedule.checkpoint_every=1000",
          "--set", "schedule.eval_samples=60"]
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def shop_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A zero-inflated non-negative column with two decimals (0 on half the rows), a one-decimal
    column, an integer column, a date column, a date-and-time column and a text class column."""
    rng = np.random.default_rng(seed)
    tier = rng.choice(["basic", "premium", "gold"], n, p=[0.5, 0.3, 0.2])
    spend = np.where(rng.random(n) < 0.5, 0.0, rng.gamma(2.0, 40.0, n) + np.where(tier == "gold", 100.0, 0.0)).round(2)
    day = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    when = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24 * 4, n) * 15, unit="min")
    rating = rng.normal(pd.Series(tier).map({"basic": 2.6, "premium": 3.6, "gold": 4.5}), 0.3).clip(1, 5).round(1)
    return pd.DataFrame({"spend": spend, "rating": rating, "visits": rng.poisson(6, n),
                         "day": day.strftime("%Y-%m-%d"), "when": when.strftime("%Y-%m-%d %H:%M"), "tier": tier})


@pytest.fixture
def shop_csv(tmp_path) -> Path:
    path = tmp_path / "shop.csv"
    shop_frame().to_csv(path, index=False)
    return path


def test_samples_keep_the_labels_range_decimals_point_mass_and_dates(capsys, tmp_path, shop_csv):
    out = tmp_path / "run"
    rc, _, err = cli(capsys, "train", "--data", shop_csv, "--labels", "tier", "--method", "gan", "--out", out, *LONGER)
    assert rc == 0, err
    config = yaml.safe_load((out / "config.yaml").read_text())["table"]
    assert config["train_labels"] and config["clip"] and config["round"] and config["point_mass"] and config["dates"]
    codes = {c["name"]: c for c in json.loads((out / "table.json").read_text())["columns"]}
    assert codes["spend"]["kind"] == MIXED and codes["spend"]["levels"] == [0.0] and codes["spend"]["decimals"] == 2
    assert codes["day"]["unit"] == "D" and codes["when"]["unit"] == "min" and codes["tier"]["kind"] == "categorical"
    rc, _, err = cli(capsys, "sample", out, "-n", "2000", "--seed", "0", "--out", tmp_path / "s.csv")
    assert rc == 0, err
    real = pd.read_csv(shop_csv)
    text = pd.read_csv(tmp_path / "s.csv", dtype=str)  # as written: the decimals of each cell
    samples = pd.read_csv(tmp_path / "s.csv")
    assert list(samples.columns) == list(real.columns)  # the labels column given back, last as in the file
    assert set(samples["tier"]) <= {"basic", "premium", "gold"} and len(set(samples["tier"])) >= 2
    for name in ("spend", "rating", "visits"):
        assert real[name].min() <= samples[name].min() and samples[name].max() <= real[name].max(), name
    assert text["rating"].str.fullmatch(r"\d+(\.\d)?").all()  # one decimal at most
    assert text["spend"].str.fullmatch(r"\d+(\.\d{1,2})?").all() and samples["visits"].dtype.kind == "i"
    zeros = (samples["spend"] == 0).mean()
    assert 0.15 < zeros < 0.85, zeros  # the point mass is produced exactly, on a share of the rows (real: 0.5)
    assert text["day"].str.fullmatch(DAY.pattern).all() and text["when"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").all()
    days = pd.to_datetime(samples["day"])
    assert days.min() >= pd.Timestamp("2021-01-01") and days.max() <= pd.Timestamp("2021-12-31")
    when = pd.to_datetime(samples["when"])
    assert when.min() >= pd.Timestamp("2021-01-01") and when.max() < pd.Timestamp("2022-01-01")
    rc, stdout, err = cli(capsys, "evaluate", out, "--json")
    assert rc == 0, err
    result = json.loads(stdout)
    assert result["classes"] == 3 and 0 <= result["label_agreement"] <= 1 and "classifier_accuracy" in result


def test_the_facts_and_the_labels_can_be_switched_off(capsys, tmp_path, shop_csv):
    out = tmp_path / "plain"
    switches = ["--set", "table.clip=false", "--set", "table.round=false", "--set", "table.point_mass=false",
                "--set", "table.train_labels=false"]
    rc, _, err = cli(capsys, "train", "--data", shop_csv, "--labels", "tier", "--exclude", "day,when", "--method", "gan",
                     "--out", out, *QUICK, *switches)
    assert rc == 0, err
    table = yaml.safe_load((out / "config.yaml").read_text())["table"]
    assert not (table["clip"] or table["round"] or table["point_mass"] or table["train_labels"]) and table["exclude"] == ["day", "when"]
    rc, _, err = cli(capsys, "sample", out, "-n", "200", "--seed", "0", "--out", tmp_path / "s.csv")
    assert rc == 0, err
    samples = pd.read_csv(tmp_path / "s.csv")
    assert list(samples.columns) == ["spend", "rating", "visits"]  # excluded, and the labels column scored only
    assert (samples["rating"] * 10 % 1 != 0).any()  # not rounded
    final = json.loads((out / "metrics.json").read_text())
    assert final["classes"] == 3 and "label_agreement" not in final  # classes read by the classifier


def test_a_run_from_before_the_keys_loads_and_resumes_as_it_was_trained(capsys, tmp_path, penguins_csv):
    out = tmp_path / "old"
    before = [arg for key, value in BEFORE_KEYS.items() for arg in ("--set", f"table.{key}={str(value).lower()}")]
    rc, _, err = cli(capsys, "train", "--data", penguins_csv, "--labels", "species", "--method", "gan", "--out", out,
                     *QUICK, *before)
    assert rc == 0, err
    stored = json.loads((out / "table.json").read_text())["columns"]
    assert all(set(c) == {"name", "kind", "dtype", "mean", "std", "levels"} for c in stored)  # as table.json was
    config = yaml.safe_load((out / "config.yaml").read_text())
    for key in [*BEFORE_KEYS, "exclude", "point_mass_share"]:
        del config["table"][key]  # a config.yaml written before these keys
    (out / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    rc, _, err = cli(capsys, "sample", out, "-n", "50", "--seed", "0", "--out", tmp_path / "s.csv")
    assert rc == 0, err
    samples = pd.read_csv(tmp_path / "s.csv")
    assert "species" not in samples.columns and (samples["bill_mm"] * 10 % 1 != 0).any()  # no labels, unrounded
    rc, stdout, err = cli(capsys, "evaluate", out, "--json")
    assert rc == 0 and "label_agreement" not in json.loads(stdout), err
    rc, _, err = cli(capsys, "train", "--data", penguins_csv, "--method", "gan", "--out", out, "--resume", *QUICK,
                     "--steps", "8")
    assert rc == 0, err
    assert not yaml.safe_load((out / "config.yaml").read_text())["table"]["clip"]


def test_label_agreement_reads_whether_the_other_columns_match_the_label(shop_csv):
    """The training rows agree with their labels as often as the classifier reads them right;
    the same rows with their labels shuffled agree less."""
    dataset = TableDataset(shop_csv, TableConfig(labels="tier"))
    rows = dataset.data.numpy()
    own = dataset.coverage.score(rows)
    start, end = dataset.categorical_spans[-1]  # the labels column, trained on last
    shuffled = rows.copy()
    shuffled[:, start:end] = rows[np.random.default_rng(0).permutation(len(rows)), start:end]
    assert own["label_agreement"] == pytest.approx(own["classifier_accuracy"])
    assert dataset.coverage.score(shuffled)["label_agreement"] < own["label_agreement"] - 0.1
    assert own["classes_produced"] == 3 and own["class_kl"] < 0.01


def test_encoding_keeps_point_values_and_scores_rows_as_plain_numbers(shop_csv):
    dataset = TableDataset(shop_csv, TableConfig(labels="tier"))
    plain = TableDataset(shop_csv, TableConfig(labels="tier", point_mass=False, clip=False, round=False))
    rows = dataset.data.numpy()
    real = pd.read_csv(shop_csv).iloc[dataset.train_rows].reset_index(drop=True)
    decoded = dataset.encoding.decode(rows)
    assert (decoded["spend"] == 0).sum() == (real["spend"] == 0).sum()
    pd.testing.assert_series_equal(decoded["day"], real["day"], check_dtype=False)
    pd.testing.assert_series_equal(decoded["when"], real["when"], check_dtype=False)
    # a generated row: the point value where the block picks it, else its value clipped to the range and rounded
    codes = dict(zip(dataset.encoding.names, zip(dataset.encoding.columns, dataset.encoding.offsets)))
    (spend, (start, end)), (rating, (at, _)) = codes["spend"], codes["rating"]
    generated = rows.copy()
    generated[:, start:end - 1] = np.eye(2, dtype=np.float32)[np.arange(len(rows)) % 2]  # point, none, point, ...
    generated[:, end - 1] = np.linspace(-3, 30, len(rows))  # far beyond the range at the end
    generated[:, at] = np.linspace(-20, 20, len(rows)) + 0.01234
    made = dataset.encoding.decode(generated)
    assert (made["spend"][::2] == 0).all() and (made["spend"][1::2] > 0).any()
    assert made["spend"].max() == pytest.approx(real["spend"].max())  # a float32 column: compared at its precision
    assert made["rating"].min() == pytest.approx(real["rating"].min()) and made["rating"].max() == pytest.approx(real["rating"].max())
    np.testing.assert_allclose(made["rating"], made["rating"].round(1), atol=1e-6)
    np.testing.assert_allclose(made["spend"], made["spend"].round(2), atol=1e-4)
    # what the metrics score does not depend on the point masses: the standardised values, categories one-hot
    np.testing.assert_allclose(dataset.encoding.scored_rows(rows, facts=False), plain.data.numpy(), atol=1e-5)
    assert dataset.encoding.scored_spans == plain.categorical_spans


def test_observed_decimals_at_the_precision_of_the_column():
    assert observed_decimals(np.array([13.05, 2.3, 680.0], dtype=np.float32)) == 2
    assert observed_decimals(np.array([1.0, 16.0])) == 0 and observed_decimals(np.arange(5)) == 0
    assert observed_decimals(np.random.default_rng(0).normal(size=50)) is None
    assert observed_decimals(np.array([123456.7], dtype=np.float32)) is None  # float32 cannot tell


def test_a_date_cell_out_of_its_format_is_one_line(capsys, tmp_path, shop_csv):
    out = tmp_path / "run"
    assert cli(capsys, "train", "--data", shop_csv, "--labels", "tier", "--method", "veegan", "--out", out, *QUICK)[0] == 0
    frame = shop_frame()
    frame.loc[3, "day"] = "2021/13/45"
    frame.to_csv(tmp_path / "other.csv", index=False)
    rc, _, err = cli(capsys, "encode", out, "--data", tmp_path / "other.csv", "--out", tmp_path / "z.npy")
    assert_one_line_error(rc, err, "column 'day'", "%Y-%m-%d", "--exclude day")


def test_a_date_column_pairs_in_the_comparison_figure(tmp_path, shop_csv):
    """`compare --pairs day:spend` plots a date column as its days since 1970 (it failed on the
    text before)."""
    from veegan.data.own_table import TableDataset
    from veegan.evaluation.table_plots import plot_table_comparison
    from veegan.table_config import TableConfig

    dataset = TableDataset(shop_csv, TableConfig(labels="tier"))
    real = dataset.encoding.encode(shop_frame())
    out = plot_table_comparison({"gan": real[::-1].copy()}, real, dataset.encoding, [("day", "spend"), ("when", "tier")],
                                tmp_path / "comparison.png")
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_decimal_labels_and_a_labels_only_table_are_scored(tmp_path, capsys):
    """A class column of decimals (0.1, 0.2, 0.3) is scored as its own classes, the real rows
    producing every one with full agreement; a table whose only varying column is the labels
    column trains and scores in one piece (the classifier reads the commonest class)."""
    from veegan.data.own_table import TableDataset
    from veegan.table_config import TableConfig

    rng = np.random.default_rng(0)
    grade = rng.choice([0.1, 0.2, 0.3], 120)
    pd.DataFrame({"x": grade * 10 + rng.normal(0, 0.01, 120), "grade": grade}).to_csv(tmp_path / "g.csv", index=False)
    dataset = TableDataset(tmp_path / "g.csv", TableConfig(labels="grade"))
    reference = dataset.coverage
    real = reference.score(dataset.data.numpy())  # the training rows, as the networks see them
    assert real["classes_produced"] == 3 and real["class_kl"] < 0.05 and real["label_agreement"] > 0.95

    pd.DataFrame({"a": [1.0] * 40, "y": rng.choice(["p", "q"], 40)}).to_csv(tmp_path / "one.csv", index=False)
    rc, _, err = cli(capsys, "train", "--data", tmp_path / "one.csv", "--labels", "y", "--out", tmp_path / "run", *LONGER[:2],
                     "--steps", "20", "--set", "schedule.eval_samples=60")
    assert rc == 0 and "Traceback" not in err, err


def test_thousands_grouped_by_commas_are_numbers(tmp_path):
    """1,000 in a tab-separated file or a quoted comma-separated one is a thousand, not 1.0; in a
    file that writes decimal commas (3,5) it stays a decimal comma."""
    from veegan.data.table_files import read_table

    (tmp_path / "t.tsv").write_text("city\tpopulation\tarea\nA\t1,000\t3.5\nB\t25,000\t4.5\nC\t300\t1.25\nD\t1,234,567\t2\n")
    assert read_table(tmp_path / "t.tsv")["population"].tolist() == [1000, 25000, 300, 1234567]
    (tmp_path / "q.csv").write_text('a,b\n"1,000",2\n"2,000",3\n')
    assert read_table(tmp_path / "q.csv")["a"].tolist() == [1000, 2000]
    (tmp_path / "e.csv").write_text("a;b\n3,5;1,000\n4,25;2,5\n1;3\n")
    assert read_table(tmp_path / "e.csv")["b"].tolist() == pytest.approx([1.0, 2.5, 3.0])


def test_an_old_run_on_an_indexed_csv_with_its_labels_trained_loads_as_trained(capsys, tmp_path):
    """A run of before the reading keys, on a `df.to_csv()` file with its index and the labels
    trained on (then the last column): it samples the index column and the labels last, as it
    was trained, where reading it as a new run would (the data file has not changed)."""
    from tests.test_own_table import penguin_like

    penguin_like().to_csv(tmp_path / "indexed.csv")  # index=True: the pandas index as the first column
    out = tmp_path / "old"
    before = {**BEFORE_KEYS, "train_labels": True}
    sets = [arg for key, value in before.items() for arg in ("--set", f"table.{key}={str(value).lower()}")]
    rc, _, err = cli(capsys, "train", "--data", tmp_path / "indexed.csv", "--labels", "species", "--method", "gan",
                     "--out", out, *QUICK, *sets)
    assert rc == 0, err
    config = yaml.safe_load((out / "config.yaml").read_text())
    for key in [k for k in BEFORE_KEYS if k != "train_labels"] + ["exclude", "point_mass_share"]:
        del config["table"][key]
    (out / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    rc, _, err = cli(capsys, "sample", out, "-n", "5", "--seed", "0", "--out", tmp_path / "s.csv")
    assert rc == 0, err
    assert list(pd.read_csv(tmp_path / "s.csv").columns) == ["Unnamed: 0", "bill_mm", "body_mass_g", "year", "male", "species"]
