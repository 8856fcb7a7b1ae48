"""Configuration: defaults, --set parsing and coercion, YAML round trips, --config files."""
from __future__ import annotations

import dataclasses
import json
from typing import Optional

import numpy as np
import pytest
import yaml

from veegan.cli import main
from veegan.config import DEFAULT_STEPS, ModelConfig, TrainConfig
from veegan.config_values import coerce, merge, parse_assignments, read_yaml, write_yaml
from veegan.configure import build_config, resolve_config
from veegan.errors import VeeganError

# --------------------------------------------------------------------------------------------
# defaults


def test_defaults_are_the_authors():
    c = build_config()
    assert c.method == "veegan"
    assert c.dataset == "ring"
    assert c.data_file is None
    assert c.seed == 0
    assert c.steps == DEFAULT_STEPS == 100_000  # the paper's iterations
    assert c.batch_size == 500
    assert c.model.latent_dim == 254
    assert c.model.generator_noise_dim == 1
    assert c.model.generator_hidden == (128, 128)
    assert c.model.reconstructor_hidden == (128, 128)
    assert c.model.discriminator_hidden == (128,)
    assert c.optim.lr_generator == c.optim.lr_reconstructor == c.optim.lr_discriminator == 1e-3
    assert c.optim.beta1 == 0.5
    assert c.optim.beta2 == 0.999
    assert c.schedule.eval_samples == 2500
    assert c.method_options == {
        "reconstruction_loss": "gaussian_nll",
        "real_pair_noise_std": 1.0,
        "reconstructor_adversarial_weight": 0.0,
        "reconstructor_pretrain_steps": 0,
    }


def test_gan_method_options_default():
    c = build_config({"method": "gan"})
    assert c.method_options == {"generator_loss": "non_saturating"}


def test_partial_method_options_are_completed():
    c = build_config({"method_options": {"real_pair_noise_std": "0"}})
    assert c.method_options == {
        "reconstruction_loss": "gaussian_nll",
        "real_pair_noise_std": 0.0,
        "reconstructor_adversarial_weight": 0.0,
        "reconstructor_pretrain_steps": 0,
    }


def test_layers_merge_later_wins():
    c = build_config({"steps": 10, "model": {"latent_dim": 4, "generator_noise_dim": 2}},
                     {"model": {"latent_dim": 5}})
    assert c.steps == 10
    assert c.model.latent_dim == 5
    assert c.model.generator_noise_dim == 2  # a nested layer updates, it does not replace
    assert merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}, "d": 4}) == {"a": {"b": 1, "c": 3}, "d": 4}


@pytest.mark.parametrize("layer, needle", [
    ({"nope": 1}, "'nope'"),
    ({"model": {"nope": 1}}, "'model.nope'"),
    ({"model": 3}, "model must be a mapping"),
    ({"method": "wgan"}, "unknown method 'wgan'"),
    ({"method_options": {"nope": 1}}, "'method_options.nope'"),
    ({"method": "gan", "method_options": {"generator_loss": "hinge"}}, "generator_loss"),
    ({"steps": 0}, "steps must be >= 1"),
    ({"batch_size": 0}, "batch_size must be >= 1"),
    ({"seed": -1}, "seed must be in"),
    ({"seed": 2**31}, "seed must be in"),
    ({"model": {"generator_hidden": []}}, "needs at least one width"),
    ({"model": {"latent_dim": 0}}, "model.latent_dim"),
    ({"model": {"generator_hidden": [8, 0]}}, "model.generator_hidden"),
    ({"optim": {"beta1": 1.0}}, "beta1"),
    ({"schedule": {"eval_samples": 0}}, "schedule.eval_samples"),
    ({"steps": True}, "steps must be of type int"),
    ({"steps": 1.5}, "steps must be of type int"),
])
def test_build_config_rejects(layer, needle):
    with pytest.raises(VeeganError) as info:
        build_config(layer)
    assert needle in str(info.value)


# --------------------------------------------------------------------------------------------
# --set parsing and coercion


def test_parse_assignments_nesting():
    nested = parse_assignments([
        "optim.lr_generator=2e-4",
        "steps=100",
        "model.generator_hidden=64,64",
        "model.latent_dim=3",
        "method_options.reconstruction_loss=mse",
        "data_file=a=b.csv",
    ])
    assert nested == {
        "optim": {"lr_generator": "2e-4"},
        "steps": "100",
        "model": {"generator_hidden": "64,64", "latent_dim": "3"},
        "method_options": {"reconstruction_loss": "mse"},
        "data_file": "a=b.csv",  # only the first '=' separates
    }
    c = build_config({**nested, "method": "veegan"})  # own data alone would train the GAN, which has no reconstructor
    assert c.optim.lr_generator == 2e-4
    assert c.steps == 100
    assert c.model.generator_hidden == (64, 64)
    assert c.model.latent_dim == 3
    assert c.method_options["reconstruction_loss"] == "mse"


@pytest.mark.parametrize("items", [["steps"], ["=1"], ["steps=1", "steps.x=2"]])
def test_parse_assignments_rejects(items):
    with pytest.raises(VeeganError):
        parse_assignments(items)


def test_coerce_numbers():
    assert coerce("1e-3", float, "k") == 0.001
    assert isinstance(coerce("1e-3", float, "k"), float)
    assert coerce(2, float, "k") == 2.0 and isinstance(coerce(2, float, "k"), float)
    assert coerce("25_000", int, "k") == 25_000
    assert coerce("7", int, "k") == 7
    for bad, annotation in [("1.5", int), ("abc", int), (True, int), ("fast", float), (False, float), (3, str)]:
        with pytest.raises(VeeganError, match="k must be of type"):
            coerce(bad, annotation, "k")


def test_coerce_tuples():
    assert coerce("128,64", tuple[int, ...], "k") == (128, 64)
    assert coerce("128, 64", tuple[int, ...], "k") == (128, 64)
    assert coerce("32", tuple[int, ...], "k") == (32,)
    assert coerce([8, "9"], tuple[int, ...], "k") == (8, 9)
    with pytest.raises(VeeganError, match="k"):
        coerce("a,b", tuple[int, ...], "k")
    with pytest.raises(VeeganError, match="list"):
        coerce(128, tuple[int, ...], "k")


def test_coerce_bools():
    for text in ("true", "True", "yes", "on", "1"):
        assert coerce(text, bool, "k") is True
    for text in ("false", "FALSE", "no", "off", "0"):
        assert coerce(text, bool, "k") is False
    assert coerce(False, bool, "k") is False
    with pytest.raises(VeeganError, match="bool"):
        coerce("maybe", bool, "k")
    with pytest.raises(VeeganError):
        coerce(1, bool, "k")


def test_coerce_optional():
    assert coerce("none", Optional[str], "k") is None
    assert coerce(None, str | None, "k") is None
    assert coerce("x.csv", str | None, "k") == "x.csv"
    assert build_config({"data_file": "null"}).data_file is None


# --------------------------------------------------------------------------------------------
# YAML


def _non_default() -> TrainConfig:
    return build_config(parse_assignments([
        "method=veegan", "dataset=grid", "seed=7", "steps=123", "batch_size=64",
        "model.latent_dim=5", "model.generator_noise_dim=0", "model.generator_hidden=16,32,16",
        "model.reconstructor_hidden=12", "model.discriminator_hidden=9,9",
        "optim.lr_generator=2e-4", "optim.lr_discriminator=3e-4", "optim.beta1=0.1", "optim.fused=false",
        "schedule.eval_samples=99", "schedule.tensorboard=no", "runtime.threads=2",
        "method_options.reconstruction_loss=mse", "method_options.real_pair_noise_std=0.5",
    ]))


def test_write_yaml_round_trip(tmp_path):
    config = _non_default()
    assert config != TrainConfig()
    write_yaml(config, tmp_path / "config.yaml")
    again = build_config(read_yaml(tmp_path / "config.yaml"))
    assert again == config
    assert again.model.generator_hidden == (16, 32, 16)
    assert again.to_dict() == config.to_dict()
    # and the file is plain YAML: lists, not Python tuples
    raw = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert raw["model"]["generator_hidden"] == [16, 32, 16]


def test_defaults_round_trip(tmp_path):
    write_yaml(build_config(), tmp_path / "config.yaml")
    assert build_config(read_yaml(tmp_path / "config.yaml")) == build_config()


@pytest.mark.parametrize("text, needle", [
    ("steps: [1\n", "not valid YAML"),
    ("- 1\n- 2\n", "mapping"),
    ("stepz: 3\n", "'stepz'"),
])
def test_read_bad_yaml(tmp_path, text, needle):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(VeeganError) as info:
        build_config(read_yaml(path))
    assert needle in str(info.value)


def test_read_missing_yaml(tmp_path):
    with pytest.raises(VeeganError, match="cannot read configuration file"):
        read_yaml(tmp_path / "absent.yaml")


def test_resolve_config_precedence(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("steps: 30\nseed: 4\nbatch_size: 40\nmodel:\n  latent_dim: 6\n")
    c = resolve_config(config_file=path, steps=20, overrides=["batch_size=10"], base={"seed": 1, "steps": 99})
    assert c.steps == 20  # explicit argument beats the file and the base
    assert c.seed == 4  # file beats the base
    assert c.batch_size == 10  # --set beats everything
    assert c.model.latent_dim == 6
    c = resolve_config(overrides={"model": {"latent_dim": "7"}})
    assert c.model.latent_dim == 7


# --------------------------------------------------------------------------------------------
# --config on the command line


def test_cli_config_file_and_set(tmp_path, capsys):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({
        "seed": 5,
        "steps": 3,
        "batch_size": 16,
        "model": {"latent_dim": 3, "generator_hidden": [8, 8], "reconstructor_hidden": [8, 8],
                  "discriminator_hidden": [8]},
        "optim": {"lr_generator": "2e-4"},
        "schedule": {"eval_samples": 200, "tensorboard": False},
        "method_options": {"reconstruction_loss": "mse"},
    }))
    out = tmp_path / "run"
    rc = main(["train", "--config", str(path), "--set", "batch_size=8", "--set", "model.latent_dim=2",
               "--out", str(out), "--quiet"])
    _, err = capsys.readouterr()
    assert rc == 0, err
    stored = build_config(read_yaml(out / "config.yaml"))
    assert stored.seed == 5 and stored.steps == 3  # from the file
    assert stored.optim.lr_generator == 2e-4
    assert stored.model.generator_hidden == (8, 8)
    assert stored.method_options["reconstruction_loss"] == "mse"
    assert stored.schedule.eval_samples == 200 and stored.schedule.tensorboard is False
    assert stored.batch_size == 8 and stored.model.latent_dim == 2  # --set wins over the file
    final = json.loads((out / "metrics.json").read_text())
    assert final["step"] == 3 and final["samples"] == 200
    # the checkpoint was built with the merged model: latent_dim 2
    np.save(tmp_path / "x.npy", np.zeros((4, 2)))
    rc = main(["encode", str(out), "--data", str(tmp_path / "x.npy"), "--out", str(tmp_path / "z.npy")])
    assert rc == 0
    assert np.load(tmp_path / "z.npy").shape == (4, 2)


def test_cli_bad_config_file(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  latent_dims: 3\n")
    rc = main(["train", "--config", str(path), "--out", str(tmp_path / "run"), "--quiet"])
    _, err = capsys.readouterr()
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "model.latent_dims" in lines[0]
    assert not (tmp_path / "run").exists()


def test_dataclasses_are_the_single_source_of_defaults():
    # build_config() with no layer is exactly the dataclass defaults, method_options filled in
    c = build_config()
    plain = TrainConfig()
    assert dataclasses.replace(c, method_options={}) == plain
    assert c.model == ModelConfig()
