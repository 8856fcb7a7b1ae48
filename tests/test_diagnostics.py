"""``veegan diagnose``: the gradient norms are each term's own, D's view is read from the logits
of its own loss, looking inside changes nothing, and the command prints or refuses in one line."""
import json
import math

import pytest
import torch

import veegan
from veegan.cli import main
from veegan.data.catalog import make_dataset
from veegan.evaluation.diagnostics import diagnose, discriminator_accuracy
from veegan.methods.losses import logistic_discriminator_loss

from .gradients import tiny_method


def test_discriminator_accuracy_counts_each_side_by_its_sign():
    # D's loss pushes generated logits up: 2 of 4 generated and 4 of 4 real are labelled right
    generated, real = torch.tensor([1.0, 2.0, -1.0, -0.5]), torch.tensor([-1.0, -2.0, -3.0, -0.1])
    assert discriminator_accuracy(generated, real) == pytest.approx(0.5 * (0.5 + 1.0))


def test_diagnose_measures_each_term_and_ds_view_of_its_own_loss(float64):
    method, _ = tiny_method("veegan")
    ring = make_dataset("ring")
    values = diagnose(method, ring, batch=64, seed=3)

    # the same batch and draws by hand: each term's gradient norm on each network it trains
    g = torch.Generator().manual_seed(3)
    torch.manual_seed(3)
    x = ring.sample(64, g).double()
    terms = method.training_loss(x, 0)
    for term, network in (("adversarial", "generator"), ("reconstruction", "reconstructor"),
                          ("discriminator", "discriminator")):
        grads = torch.autograd.grad(terms[term], list(getattr(method, network).parameters()), retain_graph=True)
        assert values[f"grad_norm/{term}/{network}"] == pytest.approx(math.sqrt(sum(g.square().sum() for g in grads)))
        assert values[f"loss/{term}"] == pytest.approx(terms[term].item())
    assert 0 <= values["discriminator/accuracy"] <= 1
    assert values["latent/generated_mean_square"] == pytest.approx(1.0, abs=0.5)  # z ~ N(0, I)
    assert values["latent/real_mean_square"] > 1  # F(x) + N(0, I): at least the noise's 1
    assert values["scale/data_std"] == pytest.approx(x.std(dim=0).mean().item())


def test_looking_inside_changes_nothing(float64):
    method, _ = tiny_method("gan")
    x = torch.randn(16, 2)
    torch.manual_seed(0)
    plain = method.training_loss(x, 0)
    method.observing = True
    torch.manual_seed(0)
    observed = method.training_loss(x, 0)
    method.observing = False
    for name in plain:
        assert torch.equal(plain[name], observed[name])
    seen = method.observed  # the logits D's loss was made of (eq. 6), detached
    assert not seen["logits_real"].requires_grad and seen["real"][0] is not x and torch.equal(seen["real"][0], x)
    assert logistic_discriminator_loss(seen["logits_generated"], seen["logits_real"]).item() == plain["discriminator"].item()
    diagnose(method, make_dataset("ring"), batch=16)
    assert method.observing is False and method.observed is None and method.training


def test_a_method_without_d_has_no_d_view(tiny, tmp_path):
    veegan.train("vae", "ring", out=tmp_path / "vae", steps=5, overrides=tiny, progress=False)
    values = diagnose(veegan.load(tmp_path / "vae").method, make_dataset("ring"), batch=16)
    assert "grad_norm/kl/encoder" in values and not any(k.startswith("discriminator/") for k in values)


def test_the_diagnose_command(tiny, tmp_path, capsys):
    overrides = {**tiny, "ema": {"decay": 0.5}}
    veegan.train("veegan", "ring", out=tmp_path / "run", steps=5, overrides=overrides, progress=False)
    assert main(["diagnose", str(tmp_path / "run"), "--json", "--batch", "32"]) == 0
    values = json.loads(capsys.readouterr().out)
    assert values["step"] == 5 and values["grad_norm/adversarial/generator"] > 0  # the trained G, not the average
    assert main(["diagnose", str(tmp_path / "run")]) == 0
    assert "discriminator/accuracy" in capsys.readouterr().out
    assert main(["diagnose", str(tmp_path / "run"), "--batch", "1"]) == 2
    assert capsys.readouterr().err.strip() == "veegan: error: --batch must be >= 2"
    assert main(["diagnose", str(tmp_path / "missing")]) == 2


def test_several_runs_make_one_table_with_a_column_each(tiny, tmp_path, capsys):
    veegan.train("veegan", "ring", out=tmp_path / "veegan", steps=5, overrides=tiny, progress=False)
    veegan.train("gan", "ring", out=tmp_path / "gan", steps=5, overrides=tiny, progress=False)
    assert main(["diagnose", str(tmp_path / "veegan"), str(tmp_path / "gan"), "--batch", "32"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"| quantity | {tmp_path / 'veegan'} | {tmp_path / 'gan'} |"
    alone = json.dumps(diagnose(veegan.load(tmp_path / "veegan", average=False).method, make_dataset("ring"), batch=32))
    latent = next(line for line in lines if line.startswith("| latent/real_mean_square |"))
    assert latent.endswith("|  |")  # the GAN has no latent side: an empty cell
    assert f"{json.loads(alone)['latent/real_mean_square']:.4g}" in latent
    assert main(["diagnose", str(tmp_path / "veegan"), str(tmp_path / "gan"), "--json", "--batch", "32"]) == 0
    assert [json.loads(line)["method"] for line in capsys.readouterr().out.splitlines()] == ["veegan", "gan"]
