"""The project's optimised training step follows the same trajectory as the straightforward
step of benchmarks/plain.py (one optimizer and one backward pass per network, concatenated
inputs): same seed and weights in, the same losses and parameters out, to float rounding."""
import pytest
import torch

from benchmarks.plain import PLAIN_STEPS, joined_parameters, plain_step
from veegan.config import build_config
from veegan.datasets import make_dataset
from veegan.methods import METHODS, build_method
from veegan.trainer import make_optimizer, training_step

from .conftest import TINY

STEPS = 4
OPTIONS = {"veegan": {}, "veegan_dae": {"data_loss_weight": 0.5}, "ali": {}, "gan": {"generator_loss": "minimax"},
           "pacgan": {}, "unrolled": {"unroll_steps": 2}}


def test_every_method_has_a_plain_reference():
    assert set(PLAIN_STEPS) == set(METHODS.names()) == set(OPTIONS)


@pytest.mark.parametrize("method_name", sorted(OPTIONS))
@pytest.mark.parametrize("dataset_name", ["ring", "hd1200"])
def test_project_step_matches_the_plain_loop(method_name, dataset_name, float64):
    config = build_config(TINY, {"method": method_name, "dataset": dataset_name, "method_options": OPTIONS[method_name]})
    dataset = make_dataset(config.dataset)
    dataset.means, dataset.basis = dataset.means.double(), None if dataset.basis is None else dataset.basis.double()
    torch.manual_seed(0)
    method = build_method(config.method, dataset.dim, config.model, config.method_options)
    optimizer = make_optimizer(method, config)
    plain = plain_step(config, dataset)
    plain.load_from(method)

    torch.manual_seed(1)
    project_terms = [training_step(method, optimizer, dataset, config.batch_size, step) for step in range(STEPS)]
    torch.manual_seed(1)
    plain_losses = [plain.step() for _ in range(STEPS)]

    # the discriminator's loss is defined identically by both; it sees every earlier update
    for ours, theirs in zip(project_terms, plain_losses):
        assert ours["discriminator"].item() == pytest.approx(theirs["discriminator"], rel=1e-9, abs=1e-12)
    for name, network in plain.networks.items():
        expected = torch.cat([p.flatten() for p in network.parameters()])
        got = torch.cat([p.flatten() for p in joined_parameters(getattr(method, name))])
        torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-11, msg=f"{name} of {method_name}")

