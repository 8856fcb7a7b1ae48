"""Tests that fail when a rule of the protocol or of the run bookkeeping breaks: each one was
found still passing with its feature broken by a mutation read-through (IvOM's minimum over
restarts and its pixel units, a sweep reusing a shorter run, seed as a resumable change, the
evaluation seed's dependence on the step)."""
import pytest
import torch
from torch import nn

from veegan.configure import resolve_config
from veegan.errors import VeeganError
from veegan.evaluation.evaluate import evaluation_seed
from veegan.evaluation.ivom import IvomOptions, ivom, mean_ivom
from veegan.experiments.sweep import Job, finished
from veegan.training import session, trainer


class FirstLatentImage(nn.Module):
    """A 'generator' whose image is z_0 in every pixel: its error against a black image is z_0^2."""

    noise_dim = 1

    def forward(self, z: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return z[:, :1].view(-1, 1, 1, 1).expand(-1, 1, 2, 2)


def test_ivom_keeps_the_best_restart_of_each_image():
    """docs/protocol.md, "IvOM": the best (smallest) error over the restarts counts. With a step
    size of ~0 every restart stays at its random start, so the answer is known."""
    images, restarts, latent = torch.zeros(4, 1, 2, 2), 3, 2
    options = IvomOptions(restarts=restarts, steps=1, lr=1e-12, batch_size=64)
    starts = torch.randn(4 * restarts, latent, generator=torch.Generator().manual_seed(5))
    expected = starts[:, 0].square().view(4, restarts).min(dim=1).values
    got = ivom(FirstLatentImage(), latent, images, options, seed=5)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-9)
    assert not torch.allclose(got, starts[:, 0].square().view(4, restarts).max(dim=1).values)


def test_mean_ivom_is_in_units_of_pixels_in_0_1():
    """A mid-grey generator (0 in [-1, 1], 0.5 in [0, 1]) against white images: the squared error
    per pixel is 1 in [-1, 1] units and 0.25 with pixels in [0, 1], the unit the paper reports."""

    class Grey(FirstLatentImage):
        def forward(self, z, noise):
            return 0 * super().forward(z, noise)

    value = mean_ivom(Grey(), 2, torch.ones(3, 1, 2, 2), IvomOptions(restarts=2, steps=1))
    assert value == pytest.approx(0.25)


def test_a_sweep_does_not_reuse_a_run_shorter_than_asked(tiny, tmp_path):
    short = resolve_config(method="gan", dataset="ring", steps=10, overrides=tiny)
    trainer.train(short, tmp_path / "run", progress=False)
    assert finished(Job("k", short, tmp_path / "run"))["step"] == 10
    longer = resolve_config(method="gan", dataset="ring", steps=20, overrides=tiny)
    assert finished(Job("k", longer, tmp_path / "run")) is None


def test_resume_refuses_another_seed(tiny, tmp_path):
    trainer.train(resolve_config(method="gan", dataset="ring", steps=10, seed=0, overrides=tiny), tmp_path / "run",
                  progress=False)
    other = resolve_config(method="gan", dataset="ring", steps=20, seed=1, overrides=tiny)
    with pytest.raises(VeeganError, match="seed=0"):
        trainer.train(other, tmp_path / "run", resume=True, progress=False)


def test_every_evaluation_draws_with_its_own_seed(tiny, tmp_path, monkeypatch):
    """Each evaluation of a run (every eval_every steps, then the final one) draws from a seed
    of its own step, so successive evaluations are not the same draw over and over."""
    seeds = []
    evaluate, final_report = session.evaluate, session.final_report
    monkeypatch.setattr(session, "evaluate", lambda m, d, n, seed: seeds.append(seed) or evaluate(m, d, n, seed))
    monkeypatch.setattr(session, "final_report", lambda *args: seeds.append(args[4]) or final_report(*args))
    config = resolve_config(method="gan", dataset="ring", steps=20, seed=3, overrides=tiny)  # eval every 10 steps
    trainer.train(config, tmp_path / "run", progress=False)
    assert seeds == [evaluation_seed(3, 10), evaluation_seed(3, 20)]
    assert len({evaluation_seed(3, 10), evaluation_seed(3, 20), evaluation_seed(4, 10)}) == 3
