"""The contract every method keeps with the shared trainer, checked for every registered method
and for the example method written outside the package (examples/custom_method.py). A new
method is covered by existing: registering it, or naming it here as FILE.py:Class, is all."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import veegan
from veegan.config import ModelConfig
from veegan.configure import resolve_config
from veegan.data.catalog import make_dataset
from veegan.methods import METHODS, build_method
from veegan.methods.gan import Gan
from veegan.training.trainer import make_optimizer

EXAMPLE = f"{Path(__file__).resolve().parents[1] / 'examples' / 'custom_method.py'}:CustomGan"
ALL = METHODS.names() + [EXAMPLE]
IDS = METHODS.names() + ["custom_method.py:CustomGan"]


def _setup(name, tiny, seed=0):
    config = resolve_config(method=name, dataset="ring", seed=seed, overrides=tiny)
    torch.manual_seed(seed)
    method = build_method(config.method, 2, config.model, config.method_options)
    return config, method, make_optimizer(method, config)


def assert_terms_train_only_their_networks(method, x: torch.Tensor) -> None:
    """Each loss term's gradient reaches exactly the networks ``trains`` names for it (all of
    their parameters together receive a non-zero gradient), and no other network."""
    networks = dict(method.named_children())
    terms = method.training_loss(x, step=0)
    assert set(terms) == set(method.trains), f"terms {sorted(terms)} but trains declares {sorted(method.trains)}"
    declared = {name for names in method.trains.values() for name in names}
    assert declared <= set(networks), f"trains names {sorted(declared - set(networks))}, which are not networks"
    assert declared == set(networks), f"no term trains {sorted(set(networks) - declared)}"
    for term, value in terms.items():
        for name, network in networks.items():
            params = list(network.parameters())
            grads = torch.autograd.grad(value, params, retain_graph=True, allow_unused=True)
            reached = any(g is not None and g.abs().sum() > 0 for g in grads)
            if name in method.trains[term]:
                assert reached, f"the {term!r} term gives {name} no gradient"
            else:
                assert not reached, f"the {term!r} term trains {name}, which it may not"


@pytest.mark.parametrize("name", ALL, ids=IDS)
def test_each_loss_term_trains_only_its_networks(name, tiny):
    config, method, _ = _setup(name, tiny)
    assert_terms_train_only_their_networks(method, make_dataset("ring").sample(config.batch_size))


class LeakyGan(Gan):
    """A broken GAN: its generator term calls D with live parameters (``D(x)`` where
    ``frozen(D, x)`` belongs), so it trains D too."""

    def training_loss(self, x_real, step):
        terms = super().training_loss(x_real, step)
        x_generated = self.generator(self.sample_latent(len(x_real)))
        terms["generator"] = terms["generator"] + self.generator_loss(self.discriminator(x_generated))
        return terms


def test_the_contract_check_catches_a_term_that_trains_the_wrong_network(tiny):
    config, _, _ = _setup("gan", tiny)
    leaky = LeakyGan((2,), config.model, Gan.Options())
    with pytest.raises(AssertionError, match="'generator' term trains discriminator"):
        assert_terms_train_only_their_networks(leaky, make_dataset("ring").sample(16))


@pytest.mark.parametrize("name", ALL, ids=IDS)
def test_one_step_is_finite_and_updates_every_network(name, tiny):
    config, method, optimizer = _setup(name, tiny)
    before = {id(p): p.detach().clone() for p in method.parameters()}
    x = make_dataset("ring").sample(config.batch_size)
    terms = method.training_loss(x, step=0)
    assert terms and all(t.dim() == 0 and math.isfinite(t.item()) for t in terms.values())
    optimizer.zero_grad(set_to_none=True)
    sum(terms.values()).backward()
    optimizer.step()
    for group in optimizer.param_groups:
        unchanged = [p.shape for p in group["params"] if torch.equal(p, before[id(p)])]
        assert not unchanged, f"{group['name']}: parameters of shape {unchanged} were not updated"


@pytest.mark.parametrize("name", ALL, ids=IDS)
def test_parameter_groups_cover_every_parameter_once(name, tiny):
    config, method, optimizer = _setup(name, tiny)
    grouped = [id(p) for g in optimizer.param_groups for p in g["params"]]
    assert sorted(grouped) == sorted(id(p) for p in method.parameters())
    lrs = {g["name"]: g["lr"] for g in optimizer.param_groups}
    assert lrs["generator"] == config.optim.lr_generator
    if "discriminator" in lrs:  # every method but the VAEs
        assert lrs["discriminator"] == config.optim.lr_discriminator
    if "encoder" in lrs:  # ALI's and the VAEs' encoders have the reconstructor's rate
        assert lrs["encoder"] == config.optim.lr_reconstructor
    for name in ("observation", "prior"):  # the VAEs' sigma and flow prior: the generator's rate
        if name in lrs:
            assert lrs[name] == config.optim.lr_generator


@pytest.mark.parametrize("name", ALL, ids=IDS)
def test_training_is_deterministic_and_round_trips(name, tiny, tmp_path):
    runs = [veegan.train(name, "ring", out=tmp_path / f"run{i}", steps=12, seed=5, overrides=tiny, progress=False)
            for i in range(2)]
    for key, value in runs[0].method.state_dict().items():
        assert torch.equal(value, runs[1].method.state_dict()[key]), key
    loaded = veegan.load(tmp_path / "run0")
    assert loaded.step == 12
    np.testing.assert_array_equal(loaded.sample(50, seed=1), runs[0].sample(50, seed=1))
    assert loaded.sample(50, seed=1).shape == (50, 2)
    assert not np.array_equal(loaded.sample(50, seed=1), loaded.sample(50, seed=2))


# float64 sums of every parameter of each method built under torch.manual_seed(0) on 2-D data
# with the default configuration. The order in which a method builds its networks is part of
# what a seed means: changing it silently changes every published number.
INITIAL_PARAMETER_SUMS = {
    "veegan": 12.612613078497589, "ali": 12.612613078497589, "veegan_dae": 12.612613078497589,
    "gan": -1.4877549784869188, "unrolled": -1.4877549784869188, "pacgan": 0.5031950417760527,
}


@pytest.mark.parametrize("name", sorted(INITIAL_PARAMETER_SUMS))
def test_a_seed_still_gives_the_same_initial_networks(name):
    torch.manual_seed(0)
    method = build_method(name, 2, ModelConfig(), {})
    total = sum(float(p.detach().double().sum()) for p in method.parameters())
    assert total == pytest.approx(INITIAL_PARAMETER_SUMS[name], rel=1e-12)
