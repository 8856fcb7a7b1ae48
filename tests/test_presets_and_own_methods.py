"""Datasets that carry their own settings, and methods defined outside the package, as a user
meets them on the command line."""
from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from veegan.configure import build_config
from veegan.training import checkpoint

from .test_cli_errors import TINY, cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = f"{ROOT / 'examples' / 'custom_method.py'}:CustomGan"


def test_config_prints_the_paper_image_settings_for_image_datasets(capsys):
    rc, out, _ = cli(capsys, "config", "--dataset", "cifar10")
    config = yaml.safe_load(out)
    assert rc == 0
    assert (config["batch_size"], config["steps"]) == (64, 50_000)
    assert config["model"]["latent_dim"] == 100 and config["model"]["generator_noise_dim"] == 0
    assert config["model"]["reconstructor_hidden"] == [512] and config["model"]["discriminator_hidden"] == [512]
    assert config["optim"]["lr_generator"] == config["optim"]["lr_discriminator"] == 2e-4
    assert config["method_options"]["reconstructor_pretrain_steps"] == 100
    rc, out, _ = cli(capsys, "config", "--dataset", "cifar10", "--method", "gan", "--set", "batch_size=32")
    config = yaml.safe_load(out)
    assert config["batch_size"] == 32 and config["model"]["latent_dim"] == 100  # --set wins, the rest stays
    assert "reconstructor_pretrain_steps" not in config["method_options"]


def test_synthetic_data_and_own_arrays_keep_the_synthetic_defaults(tmp_path):
    assert build_config({"dataset": "ring"}).model.latent_dim == 254
    assert build_config({"dataset": "cifar10", "data_file": str(tmp_path / "x.npy")}).batch_size == 500
    assert build_config({"dataset": "cifar10", "data_file": "null"}).batch_size == 64  # --set data_file=null


def test_a_method_file_outside_the_package_trains_evaluates_and_compares(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "custom"
    rc, stdout, err = cli(capsys, "train", "--method", "examples/custom_method.py:CustomGan", "--dataset", "ring",
                          "--steps", "50", "--out", out, "--quiet", *TINY[2:])
    assert rc == 0, err
    assert yaml.safe_load((out / "config.yaml").read_text())["method"] == EXAMPLE  # stored absolute
    assert json.loads((out / "metrics.json").read_text())["step"] == 50
    monkeypatch.chdir(tmp_path)  # later commands run elsewhere
    rc, stdout, err = cli(capsys, "evaluate", out, "--json")
    assert rc == 0, err
    assert json.loads(stdout)["method"] == EXAMPLE
    rc, _, err = cli(capsys, "compare", "--methods", "gan", EXAMPLE, "--steps", "6", "--out", tmp_path / "cmp",
                     "--workers", "1", *TINY[2:])
    assert rc == 0, err
    assert (tmp_path / "cmp" / "CustomGan" / "seed0" / "metrics.json").is_file()
    assert "| CustomGan |" in (tmp_path / "cmp" / "comparison.md").read_text()


def test_a_bad_method_name_is_one_line(capsys, tmp_path):
    (tmp_path / "broken.py").write_text("import nothing_here\n")
    (tmp_path / "plain.py").write_text("class NotAMethod:\n    pass\n")
    for method, needle in [(f"{tmp_path}/missing.py:X", "does not exist"),
                           (f"{tmp_path}/broken.py:X", "ModuleNotFoundError"),
                           (f"{tmp_path}/plain.py:NotAMethod", "no method class"),
                           ("no_such_module_here:X", "cannot load method")]:
        rc, _, err = cli(capsys, "train", "--method", method, "--out", tmp_path / "r", *TINY)
        assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1, err


def test_a_run_saved_before_a_configuration_key_existed_still_resumes(capsys, tmp_path):
    """Runs trained before runtime.cpu_routes existed resume as long as the new key keeps its default."""
    out = tmp_path / "old"
    assert cli(capsys, "train", "--method", "gan", "--out", out, *TINY)[0] == 0
    stored = yaml.safe_load((out / "config.yaml").read_text())
    del stored["runtime"]["cpu_routes"]
    (out / "config.yaml").write_text(yaml.safe_dump(stored, sort_keys=False))
    state = checkpoint.load(out / "checkpoint.pt")
    del state["config"]["runtime"]["cpu_routes"]
    os.remove(out / "checkpoint.pt")
    checkpoint.save_atomic({k: v for k, v in state.items() if k != "format_version"}, out / "checkpoint.pt")
    rc, _, err = cli(capsys, "train", "--method", "gan", "--out", out, "--resume", *TINY[:1], "8", *TINY[2:])
    assert rc == 0, err
    assert json.loads((out / "metrics.json").read_text())["step"] == 8


def test_own_methods_that_cannot_train_are_refused_in_one_line(capsys, tmp_path):
    (tmp_path / "m.py").write_text(
        "from dataclasses import dataclass\n"
        "from veegan.methods import Method\n"
        "class NoLoss(Method):\n    pass\n"
        "class NotADataclass(Method):\n    class Options:\n        pass\n"
        "    def training_loss(self, x, step):\n        return {}\n"
        "@dataclass\nclass Required:\n    weight: float\n"
        "class RequiredOption(NotADataclass):\n    Options = Required\n")
    for cls, needle in [("NoLoss", "with its own training_loss"), ("NotADataclass", "must be a dataclass"),
                        ("RequiredOption", "fields all have defaults")]:
        rc, _, err = cli(capsys, "train", "--method", f"{tmp_path}/m.py:{cls}", "--out", tmp_path / "r", *TINY)
        assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1, err


def test_two_methods_of_one_name_are_refused(capsys, tmp_path):
    (tmp_path / "other.py").write_text("from veegan.methods.gan import Gan\nclass CustomGan(Gan):\n    pass\n")
    rc, _, err = cli(capsys, "compare", "--methods", EXAMPLE, f"{tmp_path}/other.py:CustomGan", "--out", tmp_path / "c")
    assert rc == 2 and "both called 'CustomGan'" in err


def test_a_checkpoint_of_other_networks_is_refused(capsys, tmp_path):
    """The optimizer's state is matched by position, so the networks must line up by name."""
    out = tmp_path / "run"
    assert cli(capsys, "train", "--method", "gan", "--out", out, *TINY)[0] == 0
    state = checkpoint.load(out / "checkpoint.pt")
    state["optimizer"]["param_groups"].reverse()
    checkpoint.save_atomic({k: v for k, v in state.items() if k != "format_version"}, out / "checkpoint.pt")
    rc, _, err = cli(capsys, "evaluate", out)
    assert rc == 2 and "its networks are ['discriminator', 'generator']" in err
