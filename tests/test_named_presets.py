"""Named presets (veegan.presets): ``paper`` changes nothing, ``robust`` sets exactly a method's
declared values and nothing else, it is the default for the user's own data only, and every
later layer still overrides it."""
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import veegan
from veegan.cli import main
from veegan.configure import resolve_config
from veegan.errors import VeeganError
from veegan.methods import method_class, method_names
from veegan.presets import BEST_METHOD, preset_values


def _flat(mapping, prefix=""):
    out = {}
    for key, value in mapping.items():
        if isinstance(value, dict) and key != "method_options":
            out.update(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, dict):
            out.update({f"{prefix}{key}.{k}": v for k, v in value.items()})
        else:
            out[f"{prefix}{key}"] = value
    return out


def _data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.npy"
    np.save(path, np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32))
    return path


@pytest.mark.parametrize("method", method_names())
def test_robust_sets_the_methods_declared_values_and_nothing_else(method):
    paper = _flat(resolve_config(method=method, dataset="ring", preset="paper").to_dict())
    robust = _flat(resolve_config(method=method, dataset="ring", preset="robust").to_dict())
    assert paper == _flat(resolve_config(method=method, dataset="ring").to_dict())  # the built-in default
    declared = _flat(method_class(method).robust_preset)
    changed = {key for key in paper if paper[key] != robust[key]}
    assert changed == {key for key, value in declared.items() if paper[key] != value}
    assert all(robust[key] == value for key, value in declared.items())


def test_veegans_robust_preset_is_the_measured_setting():
    config = resolve_config(method="veegan", dataset="ring", preset="robust")
    assert config.method_options["reconstruction_loss"] == "mse"
    assert config.method_options["reconstructor_adversarial_weight"] == 1.0
    assert config.loss.r1_gamma == 10.0 and config.loss.r1_gamma == config.loss.r1_gammas[0]
    assert preset_values("robust", "gan") == {"loss": {"r1_gamma": 10.0}}
    assert preset_values("robust", "unrolled") == {}  # not measured: the paper's settings


def test_own_data_defaults_to_the_studys_method_and_pick_and_a_named_method_to_robust(tmp_path):
    data = _data_file(tmp_path)
    default = resolve_config(data=data)
    assert default.method == BEST_METHOD and default.loss.objective == "rpgan" and default.optim.final_lr_fraction == 0.25
    assert resolve_config(method=BEST_METHOD, data=data).to_dict() == default.to_dict()
    assert resolve_config(data=data, preset="robust").loss.objective != "rpgan"
    assert resolve_config(dataset="ring").method == "veegan"  # a built-in dataset: VEEGAN with the paper's settings
    own = resolve_config(method="veegan", data=data)
    assert own.loss.r1_gamma == 10.0 and own.method_options["reconstruction_loss"] == "mse"
    paper = resolve_config(method="veegan", data=data, preset="paper")
    assert paper.loss.r1_gamma == 0.0 and paper.method_options["reconstruction_loss"] == "gaussian_nll"
    assert resolve_config(method="veegan", dataset="mix-d50-k20-equal-s4").loss.r1_gamma == 0.0  # built-in: paper


def test_later_layers_override_the_preset(tmp_path):
    config = resolve_config(method="veegan", data=_data_file(tmp_path), overrides=["loss.r1_gamma=2"])
    assert config.loss.r1_gamma == 2.0 and config.method_options["reconstructor_adversarial_weight"] == 1.0


def test_a_resumed_run_keeps_the_preset_it_was_trained_with(tiny, tmp_path):
    data = _data_file(tmp_path)
    veegan.train("veegan", out=tmp_path / "run", data=data, steps=4, overrides=tiny, preset="paper", progress=False)
    stored = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert stored["loss"]["r1_gamma"] == 0.0
    veegan.train(out=tmp_path / "run", data=data, steps=8, resume=True, progress=False)
    resumed = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert resumed["loss"] == stored["loss"] and resumed["method_options"] == stored["method_options"]
    assert resumed["steps"] == 8


def test_an_unknown_preset_is_one_line_on_stderr(capsys):
    with pytest.raises(VeeganError, match="preset must be one of paper, robust"):
        preset_values("sturdy", "veegan")
    assert main(["config", "--preset", "sturdy"]) == 2  # argparse's refusal, as an exit status
    err = capsys.readouterr().err
    assert "invalid choice: 'sturdy'" in err and "Traceback" not in err


def test_the_command_line_says_what_own_data_trains_with(tiny, tmp_path, capsys):
    data = _data_file(tmp_path)
    sets = [a for key, value in (("batch_size", "16"), ("model.latent_dim", "3"), ("model.generator_hidden", "8,8"),
                                 ("model.reconstructor_hidden", "8,8"), ("model.discriminator_hidden", "8"),
                                 ("schedule.tensorboard", "false"), ("schedule.eval_samples", "200"),
                                 ("runtime.threads", "1")) for a in ("--set", f"{key}={value}")]
    assert main(["train", "--data", str(data), "--method", "veegan", "--steps", "3", "--out", str(tmp_path / "a"), *sets]) == 0
    assert "your own data trains veegan with the robust preset" in capsys.readouterr().err
    assert "r1_gamma: 10.0" in (tmp_path / "a" / "config.yaml").read_text()
    assert main(["train", "--data", str(data), "--steps", "3", "--out", str(tmp_path / "b"), *sets]) == 0
    assert f"your own data trains {BEST_METHOD} with the best preset" in capsys.readouterr().err
    stored = yaml.safe_load((tmp_path / "b" / "config.yaml").read_text())
    assert stored["method"] == BEST_METHOD and stored["loss"]["objective"] == "rpgan"
    assert main(["train", "--data", str(data), "--steps", "3", "--preset", "paper", "--out", str(tmp_path / "c"), *sets]) == 0
    assert "your own data trains" not in capsys.readouterr().err
    assert "r1_gamma: 0.0" in (tmp_path / "c" / "config.yaml").read_text()
    assert main(["config", "--preset", "robust"]) == 0
    assert "reconstruction_loss: mse" in capsys.readouterr().out


def test_compare_trains_every_run_with_the_preset_it_is_given(tmp_path, capsys):
    data = _data_file(tmp_path)
    sets = [a for key, value in (("batch_size", "16"), ("model.latent_dim", "3"), ("model.generator_hidden", "8,8"),
                                 ("model.discriminator_hidden", "8"), ("schedule.tensorboard", "false"),
                                 ("schedule.eval_samples", "200"), ("runtime.threads", "1")) for a in ("--set", f"{key}={value}")]
    for preset, objective in (("robust", "paper"), (None, "rpgan")):
        out = tmp_path / str(preset)
        args = ["compare", "--data", str(data), "--methods", "gan", "--steps", "3", "--out", str(out), "--workers", "1", *sets]
        assert main(args + (["--preset", preset] if preset else [])) == 0, capsys.readouterr().err
        stored = yaml.safe_load((out / "gan" / "seed0" / "config.yaml").read_text())
        assert stored["loss"]["objective"] == objective and (stored["loss"]["r2_gamma"] == 10.0) == (preset is None)


def test_reproduce_beyond2d_trains_every_run_with_the_preset(tmp_path):
    from veegan.experiments.beyond2d import beyond2d_jobs

    jobs = beyond2d_jobs(["veegan", "gan"], ["mix-d5-k10-equal-s4"], 2, 10, [], "robust", tmp_path, preset="robust")
    jobs += beyond2d_jobs(["unrolled"], ["mix-d5-k10-equal-s4"], 1, 10, [], "robust", tmp_path, preset="robust")
    assert [job.config.loss.r1_gamma for job in jobs] == [10.0, 10.0, 10.0, 10.0, 0.0]  # unrolled: none declared
    assert all(job.run_dir.parent.parent.parent.name == "robust" for job in jobs)


@pytest.mark.parametrize("method", [m for m in method_names() if method_class(m).best_preset is not None])
def test_best_sets_the_methods_picked_values_and_nothing_else(method):
    paper = _flat(resolve_config(method=method, dataset="ring", preset="paper").to_dict())
    best = _flat(resolve_config(method=method, dataset="ring", preset="best").to_dict())
    declared = _flat(method_class(method).best_preset)
    assert {key for key in paper if paper[key] != best[key]} == {key for key, value in declared.items() if paper[key] != value}
    assert all(best[key] == value for key, value in declared.items())


def test_best_is_each_methods_pick_in_the_kept_screen(tmp_path, capsys):
    """The contract between the code and the evidence: a method's ``best_preset`` is exactly the
    candidate the study's rule picks from the kept screen (docs/results/recipe), with the checks
    it passed after (``AMENDMENTS``, next test), and a method whose screen is not complete there has none."""
    from veegan.experiments.recipe import RECIPE_METHODS, amended, reproduce_recipe

    kept = Path(__file__).resolve().parents[1] / "docs" / "results" / "recipe"
    picks = reproduce_recipe(out=tmp_path / "tab", results=kept, stages=("screen",), train=False, tables=tmp_path / "tables")
    for method in RECIPE_METHODS:
        expected = amended(method, picks[method])[1] if method in picks else None
        assert method_class(method).best_preset == expected, method
    assert set(picks) == set(RECIPE_METHODS)  # every screen is complete: the winner the docs and --help name
    assert json.loads((tmp_path / "tab" / "picks.json").read_text())["preset"]["method"] == BEST_METHOD


def test_each_check_a_pick_passed_wins_by_the_selection_rule_in_its_kept_runs(tmp_path):
    """The evidence of each amendment: both arms of its check (the pick as it is, in
    docs/results/recipe-long; with the check's values, in docs/results/recipe-<check>) complete on
    the screening set at the check's budget, and the rule prefers the amended arm."""
    from veegan.config_values import merge
    from veegan.experiments.recipe import AMENDMENTS, CHECK_STEPS, pick, reproduce_recipe

    kept = Path(__file__).resolve().parents[1] / "docs" / "results"
    for (method, name), checks in AMENDMENTS.items():
        for check, values in checks.items():
            scores = {}
            for arm, results, extra in (("as it is", "recipe-long", {}), (check, f"recipe-{check}", values)):
                out = tmp_path / check / results
                reproduce_recipe(out=out, methods=[method], only=[name], overrides=merge({"steps": CHECK_STEPS}, extra),
                                 results=kept / results, stages=("screen",), train=False, tables=tmp_path / "tables")
                record = json.loads((out / "picks.json").read_text())[method]  # absent unless every run is kept
                scores[arm] = (record["coverage"][0], record["quality"][0])
            assert pick(scores) == check, (method, name, check, scores)


def test_best_refuses_a_method_the_study_did_not_pick_for_in_one_line(capsys):
    unpicked = next(m for m in method_names() if method_class(m).best_preset is None)
    with pytest.raises(VeeganError, match=f"made no pick for {unpicked}"):
        preset_values("best", unpicked)
    assert main(["config", "--method", unpicked, "--preset", "best"]) != 0
    err = capsys.readouterr().err
    assert "made no pick" in err and "Traceback" not in err


def test_a_stored_own_data_run_lacking_newer_keys_loads_with_their_defaults_not_a_presets(tmp_path):
    from veegan.training.run_dir import CONFIG_NAME, read_run_config

    stored = resolve_config(method=BEST_METHOD, data=_data_file(tmp_path), preset="robust").to_dict()
    del stored["optim"]["final_lr_fraction"], stored["loss"]["final_gamma_fraction"]  # saved before they existed
    (tmp_path / CONFIG_NAME).write_text(yaml.safe_dump(stored))
    loaded = read_run_config(tmp_path)
    assert loaded.optim.final_lr_fraction == 1.0 and loaded.loss.final_gamma_fraction == 1.0  # not best's annealing
    assert loaded.loss.objective == stored["loss"]["objective"]
