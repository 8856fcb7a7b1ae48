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


def test_data_describe_and_sample(capsys, tmp_path):
    rc, out, _ = cli(capsys, "data", "describe", "--dataset", "hd1200")
    assert rc == 0 and "c = (-1, -0.5, 0, 0.5, -2, -2.5, 10" in out
    assert "calibrated 28.08" in out and "paper 10 (10 std)" in out and "modes: 10" in out
    rc, out, _ = cli(capsys, "data", "describe", "--dataset", "cifar10")
    assert rc == 0 and "'batch_size': 64" in out and "reads files: yes" in out
    rc, _, err = cli(capsys, "data", "sample", "--dataset", "ring", "-n", "7", "--out", tmp_path / "ring.npy")
    assert rc == 0, err
    import numpy as np

    ring = np.load(tmp_path / "ring.npy")
    assert ring.shape == (7, 2) and np.allclose(np.linalg.norm(ring, axis=1), 2, atol=0.2)
    from .image_helpers import write_mnist

    write_mnist(tmp_path / "mnist", n_train=20)
    rc, _, err = cli(capsys, "data", "sample", "--dataset", "stacked_mnist", "--data-dir", tmp_path / "mnist",
                     "-n", "3", "--out", tmp_path / "stacked.npy")
    assert rc == 0, err
    images = np.load(tmp_path / "stacked.npy")
    assert images.shape == (3, 3, 28, 28) and images.min() >= -1 and images.max() <= 1
    rc, _, err = cli(capsys, "data", "sample", "--dataset", "ring", "-n", "0", "--out", tmp_path / "x.npy")
    assert rc == 2 and "-n must be >= 1" in err


def test_evaluate_reports_its_high_quality_rule(capsys, tmp_path):
    out = tmp_path / "run"
    assert cli(capsys, "train", "--method", "gan", "--dataset", "hd1200", "--out", out, *TINY)[0] == 0
    rc, stdout, _ = cli(capsys, "evaluate", out, "--json")
    calibrated = json.loads(stdout)
    assert rc == 0 and calibrated["hq_rule"] == "calibrated" and calibrated["real"]["high_quality_pct"] > 95
    rc, stdout, _ = cli(capsys, "evaluate", out, "--json", "--hq-rule", "paper")
    paper = json.loads(stdout)
    assert paper["hq_rule"] == "paper" and paper["hq_radius"] == 10 and paper["real"]["high_quality_pct"] == 0


def test_a_run_on_the_earlier_hd1200_is_refused(capsys, tmp_path):
    """hd1200 changed its definition in 0.2.0: a run trained before must not continue on new data."""
    out = tmp_path / "run"
    assert cli(capsys, "train", "--method", "gan", "--dataset", "hd1200", "--out", out, *TINY)[0] == 0
    state = checkpoint.load(out / "checkpoint.pt")
    state["veegan_version"] = "0.1.0"
    checkpoint.save_atomic({k: v for k, v in state.items() if k != "format_version"}, out / "checkpoint.pt")
    for argv in (["evaluate", out], ["train", "--method", "gan", "--dataset", "hd1200", "--out", out, "--resume",
                                      *TINY[:1], "8", *TINY[2:]]):
        rc, _, err = cli(capsys, *argv)
        assert rc == 2 and "use dataset=hd1200_embedded" in err and len(err.strip().splitlines()) == 1, err
