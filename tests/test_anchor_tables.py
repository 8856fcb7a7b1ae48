"""The own-data study's real tables from statsmodels (veegan.data.bundled_tables) and the anchors'
harness (benchmarks/anchors.py): its arguments, where it writes, what it resumes, and how it
encodes an anchor's samples. The anchors themselves (SDV, ForestDiffusion, MOSTLY AI) live in
.venv-anchors and are not needed here."""
from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from benchmarks import anchors
from veegan.data import bundled_tables
from veegan.errors import VeeganError

# name: (rows, columns in order, the text columns, the labels column and its classes)
STATSMODELS_TABLES = {
    "anes96": (944, ["popul", "TVnews", "selfLR", "ClinLR", "DoleLR", "PID", "age", "educ", "income", "vote"],
               ["selfLR", "ClinLR", "DoleLR", "PID", "educ", "income", "vote"], "vote", {"Clinton", "Dole"}),
    "fair": (6366, ["rate_marriage", "age", "yrs_married", "children", "religious", "educ", "occupation", "occupation_husb",
                    "affairs"], ["rate_marriage", "religious", "educ", "occupation", "occupation_husb"], "rate_marriage",
             {"very poor", "poor", "fair", "good", "very good"}),
    "randhie": (20190, ["mdvis", "lncoins", "idp", "lpi", "fmde", "physlm", "disea", "health"], ["health"], "health",
                {"excellent", "good", "fair", "poor"}),
}


@pytest.mark.parametrize("name", list(STATSMODELS_TABLES))
def test_the_statsmodels_tables_come_with_their_documented_labels_as_text(name):
    pytest.importorskip("statsmodels", reason="the anes96, fair and randhie tables need statsmodels (pip install statsmodels)")
    rows, columns, text, labels, classes = STATSMODELS_TABLES[name]
    frame = bundled_tables.bundled_frame(name)
    assert frame.shape == (rows, len(columns)) and list(frame.columns) == columns and not frame.isna().any().any()
    assert [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c])] == text
    assert all(pd.api.types.is_numeric_dtype(frame[c]) for c in columns if c not in text)
    assert bundled_tables.labels_column(name) == labels and set(frame[labels]) == classes


def test_the_statsmodels_tables_keep_their_numbers():
    pytest.importorskip("statsmodels", reason="needs statsmodels (pip install statsmodels)")
    anes, fair, rand = (bundled_tables.bundled_frame(name) for name in STATSMODELS_TABLES)
    assert anes["age"].dtype == np.int64 and anes["age"].between(19, 91).all() and anes["income"].nunique() == 24
    assert (fair["affairs"] == 0).mean() == pytest.approx(0.6775, abs=1e-4) and fair["affairs"].max() == pytest.approx(57.6, abs=0.01)
    assert rand["mdvis"].dtype == np.int64 and (rand["mdvis"] == 0).mean() == pytest.approx(0.312, abs=1e-3)
    # the three health dummies, one text column: excellent where all three were 0
    import statsmodels.datasets

    dummies = statsmodels.datasets.randhie.load_pandas().data[["hlthg", "hlthf", "hlthp"]]
    assert rand["health"].value_counts().to_dict() == {"excellent": 11019, "good": 7309, "fair": 1560, "poor": 302}
    assert (rand["health"] == "good").equals(dummies["hlthg"] == 1) and (rand["health"] == "poor").equals(dummies["hlthp"] == 1)


def test_a_statsmodels_table_without_its_package_is_one_clear_line(monkeypatch):
    for name in ("statsmodels", "statsmodels.datasets"):
        monkeypatch.setitem(sys.modules, name, None)  # import statsmodels then raises ImportError
    with pytest.raises(VeeganError, match="the fair table needs the statsmodels package: pip install statsmodels"):
        bundled_tables.bundled_frame("fair")


# --- benchmarks/anchors.py
def test_the_anchors_arguments():
    args = anchors.parser().parse_args(["--anchor", "tvae", "--data", "t.csv", "--results", "r", "--option", "epochs=100",
                                        "--option", "model=MOSTLY_AI/Small"])
    assert args.seeds == [0, 1, 2] and not args.before_keys and args.samples is None
    assert dict(args.option) == {"epochs": 100, "model": "MOSTLY_AI/Small"}
    assert anchors.run_name("tvae", dict(args.option)) == "tvae+epochs=100+model=MOSTLY_AI/Small"
    assert anchors.run_name("tvae", {}) == "tvae"
    assert set(anchors.ANCHORS) == {"gaussian_copula", "ctgan", "tvae", "forest_diffusion", "mostlyai"}
    with pytest.raises(SystemExit):
        anchors.parser().parse_args(["--anchor", "tabddpm", "--data", "t.csv", "--results", "r"])
    with pytest.raises(SystemExit):
        anchors.parser().parse_args(["--anchor", "tvae", "--data", "t.csv", "--results", "r", "--option", "epochs"])
    assert anchors.table_config("species", before_keys=True).train_labels is False
    assert anchors.table_config("species", before_keys=False).train_labels is True


def test_the_samples_never_go_into_the_repository(tmp_path):
    assert anchors.samples_root(tmp_path / "results", None) == tmp_path / "results"  # beside the metrics
    assert anchors.samples_root(anchors.ROOT / "docs" / "results", None) == anchors.SCRATCH_SAMPLES
    with pytest.raises(SystemExit, match="not kept in the repository"):
        anchors.samples_root(tmp_path, anchors.ROOT / "runs" / "samples")


def test_the_anchors_resume_what_is_missing(tmp_path):
    results, samples = tmp_path / "results", tmp_path / "samples"

    def put(root, seed, name, text="{}"):
        path = root / "wine" / "tvae" / f"seed{seed}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    put(results, 1, "metrics.json")
    put(samples, 1, "samples.csv", "a\n1\n")  # fitted, quality missing: quality only
    put(results, 2, "metrics.json")  # fitted, samples lost: nothing more to do
    put(results, 3, "metrics.json")
    put(results, 3, "quality.json")  # done
    assert anchors.plan(results, samples, "wine", "tvae", [0, 1, 2, 3]) == [(0, "fit"), (1, "quality"), (2, "kept"), (3, "kept")]


def test_json_is_written_whole(tmp_path):
    anchors.write_json(tmp_path / "a" / "metrics.json", {"coverage": 0.5})
    assert json.loads((tmp_path / "a" / "metrics.json").read_text()) == {"coverage": 0.5}
    assert not list(tmp_path.glob("a/*.tmp"))


@pytest.fixture
def small_table(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"length": rng.normal(40, 5, 60).round(1), "kind": rng.choice(["a", "b", "c"], 60),
                          "count": rng.integers(0, 5, 60), "same": 7})
    path = tmp_path / "small.csv"
    frame.to_csv(path, index=False)
    return anchors.study_table(path, anchors.table_config("kind", before_keys=False))


def test_an_anchor_is_given_the_training_rows_veegan_trains_on_as_written(small_table):
    dataset = small_table.dataset
    assert len(small_table.train) == len(dataset.train_rows) == 48 and small_table.n == len(dataset.holdout_rows) == 12
    assert small_table.train["length"].dtype == np.float64 and small_table.train["length"].tolist() == \
        small_table.train["length"].round(1).tolist()  # 39.1, not float32's 39.0999985
    assert small_table.kinds == {"length": "float", "kind": "categorical", "count": "integer"}  # the constant left out


def test_a_category_the_table_lacks_scores_as_no_category(small_table):
    samples = small_table.heldout.copy()
    samples.loc[:2, "kind"] = "_RARE_"  # an anchor's rare-category token
    rows, unknown = anchors.encode_samples(small_table, samples)
    start, end = small_table.dataset.encoding.offsets[small_table.dataset.encoding.names.index("kind")]
    assert unknown == 3 and (rows[:3, start:end] == 0).all() and (rows[3:, start:end].sum(axis=1) == 1).all()
