"""``veegan reproduce recipe`` (docs/recipe.md): the candidates, the selection rule fixed before
any run, and the two stages end to end at a tiny size; the bundled real tables it reads."""
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from veegan.cli import main
from veegan.configure import resolve_config
from veegan.data import bundled_tables
from veegan.errors import VeeganError
from veegan.experiments import recipe

from .conftest import TINY


def test_every_method_has_each_objective_with_and_without_ema_and_veegan_its_terms_too():
    assert len(recipe.candidates("gan")) == 8
    veegan = recipe.candidates("veegan")
    assert len(veegan) == 16
    assert veegan["rpgan_r1_r2_g1+ema+terms"] == {
        "loss": {"objective": "rpgan", "r1_gamma": 1.0, "r2_gamma": 1.0}, "ema": {"decay": 0.999},
        "method_options": {"reconstruction_loss": "mse", "reconstructor_adversarial_weight": 1.0}}
    assert veegan["paper"] == {}
    for method in recipe.RECIPE_METHODS:  # each candidate is a valid configuration of its method
        for values in recipe.candidates(method).values():
            config = resolve_config(method=method, dataset="ring", overrides=values, preset="paper")
            assert config.loss.r2_gamma == values.get("loss", {}).get("r2_gamma", 0.0)


def test_the_pick_is_the_best_quality_within_the_coverage_margin_and_ties_go_to_fewer_settings():
    scores = {"paper": (0.80, 0.90), "r1": (0.97, 0.40), "r1+ema": (0.99, 0.30), "rpgan_r1_r2_g1": (0.975, 0.50)}
    assert recipe.pick(scores) == "rpgan_r1_r2_g1"  # within 0.02 of 0.99; paper covers too little
    assert recipe.pick({"paper": (0.5, 0.5)}) == "paper"
    assert recipe.pick({"r1+ema": (0.9, 0.6), "r1": (0.9, 0.6), "paper+ema": (0.88, 0.6)}) == "r1"
    assert recipe.pick({"r1+ema": (0.9, 0.6), "paper": (0.88, 0.6)}) == "paper"  # fewer settings at equal quality


def test_a_run_is_scored_by_modes_and_high_quality_on_a_mixture_and_coverage_and_precision_on_a_table():
    assert recipe.screen_score({"modes": 15, "max_modes": 20, "high_quality_pct": 40.0}) == (0.75, 0.4)
    assert recipe.screen_score({"coverage": 0.6, "precision": 0.9, "modes": 1}) == (0.6, 0.9)


def test_a_table_run_starts_from_the_paper_preset_with_its_class_column_as_labels(tmp_path):
    config = recipe.run_config("veegan", "wine", 0, 100, recipe.candidates("veegan")["r1"], tmp_path)
    assert config.table.labels == "target" and config.data_file == str((tmp_path / "wine.csv").resolve())
    assert config.loss.r1_gamma == 10.0
    assert config.method_options["reconstruction_loss"] != "mse"  # robust's terms only as a candidate asks


def test_the_bundled_tables_are_written_once_as_a_practitioner_exports_them(tmp_path, monkeypatch):
    path = bundled_tables.bundled_table("wine", tmp_path)
    frame = pd.read_csv(path)
    assert frame.shape == (178, 14) and "target" in frame.columns
    monkeypatch.setattr(bundled_tables, "bundled_frame", lambda name: pytest.fail("read again"))
    assert bundled_tables.bundled_table("wine", tmp_path) == path
    with pytest.raises(VeeganError, match="unknown bundled table 'iris'"):
        bundled_tables.labels_column("iris")


def test_penguins_keep_their_text_columns_and_lose_the_rows_with_a_missing_cell():
    pytest.importorskip("palmerpenguins")
    frame = bundled_tables.bundled_frame("penguins")
    assert frame.shape == (333, 8) and not frame.isna().any().any()
    assert pd.api.types.is_string_dtype(frame["species"]) and bundled_tables.labels_column("penguins") == "species"


def test_penguins_without_its_package_is_one_clear_line(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_penguins(name, *args, **kwargs):
        if name == "palmerpenguins":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_penguins)
    with pytest.raises(VeeganError, match="pip install palmerpenguins"):
        bundled_tables.bundled_frame("penguins")


def test_the_screen_read_objective_by_objective_puts_each_method_and_its_terms_in_a_column():
    def cell(coverage, quality, runs=3):
        return {"runs": runs, "of": 3, "coverage": (coverage, 0.1), "quality": (quality, 0.1)}

    table = {"veegan": {"paper": cell(0.5, 0.6), "r1": cell(0.3, 0.4), "paper+terms": cell(0.2, 0.9), "r1+terms": cell(0.8, 0.7)},
             "gan": {"paper": cell(0.4, 0.5), "r1": cell(0.95, 0.65)},
             "ali": {"paper": cell(0.1, 0.1, runs=2), "r1": cell(0.2, 0.2)}}  # partial: left out
    lines = recipe.objective_markdown(table).strip().splitlines()
    assert lines[-4:] == ["| objective | gan | veegan | veegan+terms |", "|---|---|---|---|",
                          "| paper | 0.400 / 0.500 | 0.500 / 0.600 | 0.200 / 0.900 |",
                          "| r1 | 0.950 / 0.650 | 0.300 / 0.400 | 0.800 / 0.700 |"]
    assert recipe.objective_markdown({"gan": table["gan"]}) == ""  # one method: nothing to read across


@pytest.fixture
def small_study(monkeypatch, tmp_path):
    """Two objectives, two screening sets (a mixture and a table), tiny networks."""
    monkeypatch.setattr(recipe, "OBJECTIVES", {"paper": {}, "r1": {"loss": {"r1_gamma": 10.0}}})
    monkeypatch.setattr(recipe, "SCREEN_SETS", ("mix-d3-k27-equal-s4", "breast_cancer"))
    monkeypatch.setattr(bundled_tables, "default_cache_dir", lambda: tmp_path / "cache")
    tiny = {**TINY, "model": {**TINY["model"]}, "schedule": {**TINY["schedule"], "eval_every": 20, "checkpoint_every": 20}}
    return dict(methods=["gan", "veegan"], seeds=1, overrides={**tiny, "steps": 20}, workers=1,
                launch=recipe.Launch(quiet=True))


def test_the_screen_picks_one_setting_per_method_then_only_the_picks_and_the_ablation_are_evaluated(small_study, tmp_path,
                                                                                                     monkeypatch):
    monkeypatch.setattr(recipe, "RECIPE_METHODS", ("gan", "veegan"))
    out = tmp_path / "study"
    sets = ("ring", "wine", "mix-d2-k20-equal-s2")
    picks = recipe.reproduce_recipe(out=out, datasets=list(sets), results=tmp_path / "kept", **small_study)
    assert set(picks) == {"gan", "veegan"}
    assert picks["gan"] in ("paper", "r1", "paper+ema", "r1+ema")
    stored = json.loads((out / "picks.json").read_text())
    assert stored["veegan"]["values"] == recipe.candidates("veegan")[picks["veegan"]]
    assert stored["preset"]["method"] in ("gan", "veegan")
    assert stored["preset"]["candidate"] == picks[stored["preset"]["method"]]
    # some of the study's methods, each screen complete: each is picked, and no preset is named among them
    monkeypatch.setattr(recipe, "RECIPE_METHODS", ("gan", "veegan", "pacgan"))
    picked = recipe.reproduce_recipe(out=tmp_path / "some", stages=("screen",), results=tmp_path / "kept",
                                     train=False, **small_study)
    assert picked == picks and "preset" not in json.loads((tmp_path / "some" / "picks.json").read_text())
    assert "The preset" not in (tmp_path / "some" / "screen.md").read_text()
    screen = (out / "screen.md").read_text()
    assert f"pick: **{picks['veegan']}**" in screen and "4 of 4" not in screen and "2 of 2" in screen
    # the ceiling: the held-out real samples of each (set, seed), scored as the runs are, once
    real = [json.loads((tmp_path / "kept" / "screen" / name / "gan" / "paper" / "seed0" / "metrics.json").read_text())["real"]
            for name in recipe.SCREEN_SETS]
    coverage = [real[0]["modes"] / real[0]["max_modes"], real[1]["coverage"]]
    quality = [real[0]["high_quality_pct"] / 100, real[1]["precision"]]
    row = ("| real data (held out, scored the same way) | 2 of 2 | "
           + " | ".join(f"{np.mean(v):.3f} ± {np.std(v, ddof=1):.3f}" for v in (coverage, quality)) + " | ")
    assert screen.count(row) == 2  # under each method's table
    assert "| objective | gan | veegan | veegan+terms |" in screen  # the screen read objective by objective
    evaluated = {p.relative_to(out / "evaluation").parts[:3] for p in (out / "evaluation").glob("*/*/*/seed0")}
    expected = {(name, "gan", picks["gan"]) for name in sets} | {(name, "veegan", picks["veegan"]) for name in sets}
    gan_values = recipe.candidates("gan")[picks["gan"]]
    veegan_objective = {k: v for k, v in recipe.candidates("veegan")[picks["veegan"]].items() if k != "method_options"}
    if gan_values != veegan_objective:  # the ablation: the GAN with VEEGAN's pick
        expected |= {(name, "gan", "veegan-pick") for name in sets}
    assert evaluated == expected
    table = (out / "evaluation.md").read_text()
    assert "real data" in table and "Gaussian mixture (BIC)" in table and f"veegan ({picks['veegan']})" in table
    assert "Members meeting the recipe study's goal" in table  # the family's member, with the goal's count
    assert (out / "evaluation_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # ring's and wine's curves
    assert (out / "evaluation_family.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the member against its dimension


def test_a_pick_that_passed_a_check_is_evaluated_with_its_values_under_its_amended_name(small_study, tmp_path, monkeypatch):
    monkeypatch.setattr(recipe, "AMENDMENTS", {("gan", "r1"): {"anneal": recipe.ANNEALING}})
    out = tmp_path / "study"
    picks = recipe.reproduce_recipe(out=out, datasets=["ring"], only=["r1"], **{**small_study, "methods": ["gan"]})
    stored = json.loads((out / "picks.json").read_text())["gan"]
    assert picks == {"gan": "r1"} and stored["candidate"] == "r1" and stored["evaluated_as"] == "r1+anneal"
    assert stored["values"] == {"loss": {"r1_gamma": 10.0, "final_gamma_fraction": 0.1}, "optim": {"final_lr_fraction": 0.25}}
    assert len(stored["coverage"]) == len(stored["quality"]) == 2  # the pick's screen scores, mean and std
    config = yaml.safe_load((out / "evaluation" / "ring" / "gan" / "r1+anneal" / "seed0" / "config.yaml").read_text())
    trained = (config["loss"]["r1_gamma"], config["loss"]["final_gamma_fraction"], config["optim"]["final_lr_fraction"])
    assert trained == (10.0, 0.1, 0.25)
    assert "gan (r1+anneal)" in (out / "evaluation.md").read_text()


def test_a_partial_screen_picks_nothing_and_evaluates_nothing(small_study, tmp_path, capsys):
    out = tmp_path / "study"
    picks = recipe.reproduce_recipe(out=out, train=False, **small_study)
    assert picks == {} and not (out / "evaluation").exists()
    assert "not picked yet" in (out / "screen.md").read_text()


def test_candidates_screens_those_alone_and_picks_among_them(small_study, tmp_path):
    out = tmp_path / "study"
    picks = recipe.reproduce_recipe(out=out, stages=("screen",), only=["r1+ema"], **small_study)
    assert picks == {"gan": "r1+ema", "veegan": "r1+ema"}
    assert sorted(p.parent.name for p in (out / "screen").glob("*/*/*/seed0")) == ["r1+ema"] * 4
    assert "preset" not in json.loads((out / "picks.json").read_text())  # a pick among some candidates names no preset


def test_steps_sets_an_evaluation_sets_budget_and_leaves_the_screens(small_study, tmp_path, monkeypatch):
    monkeypatch.setattr(recipe, "SCREEN_STEPS", 20)
    study = {**small_study, "overrides": {k: v for k, v in small_study["overrides"].items() if k != "steps"},
             "methods": ["gan"]}
    out = tmp_path / "study"
    picks = recipe.reproduce_recipe(out=out, datasets=["ring"], steps={"ring": 30}, only=["r1"], **study)
    screened = yaml.safe_load((out / "screen" / "breast_cancer" / "gan" / "r1" / "seed0" / "config.yaml").read_text())
    evaluated = yaml.safe_load((out / "evaluation" / "ring" / "gan" / picks["gan"] / "seed0" / "config.yaml").read_text())
    assert (screened["steps"], evaluated["steps"]) == (20, 30)
    assert "ring: 30 steps a run (--steps), not the budget's." in (out / "evaluation.md").read_text()


def test_the_command_line_refuses_what_the_study_does_not_take(capsys, tmp_path):
    assert main(["reproduce", "table1", "--datasets", "wine", "--out", str(tmp_path)]) == 2
    assert "an evaluation set of `reproduce recipe` only" in capsys.readouterr().err
    assert main(["reproduce", "table1", "--screen-only", "--out", str(tmp_path)]) == 2
    assert "--screen-only is an option of `reproduce recipe` only" in capsys.readouterr().err
    assert main(["reproduce", "recipe", "--methods", "gan", "--candidates", "r1+terms", "--no-train", "--out", str(tmp_path)]) == 2
    assert "'r1+terms' is not a candidate of gan (its candidates: paper, paper+ema, r1, " in capsys.readouterr().err
    assert main(["reproduce", "recipe", "--datasets", "cifar10", "--no-train", "--out", str(tmp_path)]) == 2
    assert "'cifar10' is not an evaluation set of the recipe study" in capsys.readouterr().err
    assert main(["reproduce", "recipe", "--datasets", "ring", "--steps", "grid=10", "--no-train", "--out", str(tmp_path)]) == 2
    assert "--steps names grid, which this command does not evaluate (it evaluates ring)" in capsys.readouterr().err
    assert main(["reproduce", "recipe", "--steps", "ring=10", "--set", "steps=5", "--no-train", "--out", str(tmp_path)]) == 2
    assert "--steps and --set steps=N do not go together" in capsys.readouterr().err
    assert main(["reproduce", "beyond2d", "--steps", "ring=10", "--no-train", "--out", str(tmp_path)]) == 2
    assert "reproduce beyond2d trains every member alike: --steps N, not --steps ring=N" in capsys.readouterr().err


@pytest.mark.parametrize("table, budget, expected", [("table2", "weekly", "table2 has no budget 'weekly'; choose "),
                                                     ("recipe", "cpu", "recipe has no budget 'cpu'; choose paper or quick")])
def test_an_unknown_budget_is_one_line_naming_the_tables_own(capsys, tmp_path, table, budget, expected):
    assert main(["reproduce", table, "--budget", budget, "--out", str(tmp_path), "--no-train"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"veegan: error: {expected}") and err.count("\n") == 1


def test_across_tables_pools_every_run_and_counts_each_real_score_once():
    from veegan.experiments.recipe_tables import _across_tables_markdown

    def run(value: float, real: float, table: str) -> dict:  # each table's real draw differs (here: its bins)
        return {"coverage": value, "precision": value, "recall": value,
                "real": {"coverage": real, "precision": real, "recall": 1.0, "bins": len(table)}}

    finals = {(label, table, seed): run(0.5 + 0.25 * seed + (0.1 if label == "b" else 0.0), 0.9 if seed else 0.7, table)
              for label in ("a", "b") for table in ("wine", "digits") for seed in (0, 1)}
    finals[("a", "ring", 0)] = run(0.0, 0.0, "ring")  # not a table: left out
    text = _across_tables_markdown(finals, ["a", "b"], ["wine", "penguins", "digits"])
    assert "(wine, digits: mean ± std over every run)" in text
    assert "| a | 4 | 0.625 ± 0.144 | 0.625 ± 0.144 | 0.625 ± 0.144 |" in text
    assert "| b | 4 | 0.725 ± 0.144 |" in text
    assert "| real data | 4 | 0.800 ± 0.115 | 0.800 ± 0.115 | 1.000 ± 0.000 |" in text
