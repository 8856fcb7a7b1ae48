"""The project's optimised training step follows the same trajectory as the straightforward
step of benchmarks/plain.py (one optimizer and one backward pass per network, concatenated
inputs): same seed and weights in, the same losses and parameters out, to float rounding. On
images both use the DCGAN networks, so batch normalisation must see the same batches in both."""
import pytest
import torch
from torch import nn

from benchmarks.plain import PLAIN_STEPS, joined_parameters, plain_step
from veegan.configure import build_config
from veegan.data.base import Dataset
from veegan.data.catalog import make_dataset
from veegan.methods import METHODS, build_method
from veegan.training.trainer import make_optimizer, training_step

from .conftest import TINY
from .image_helpers import write_mnist

STEPS = 4
OPTIONS = {"veegan": {"reconstructor_pretrain_steps": 0},  # images preset F pre-training; the plain step has none
           "veegan_dae": {"data_loss_weight": 0.5}, "ali": {}, "gan": {"generator_loss": "minimax"},
           "pacgan": {}, "unrolled": {"unroll_steps": 2}}
# DCGAN networks of base width 4 on tiny Stacked MNIST batches
TINY_IMAGES = {"dataset": "stacked_mnist", "batch_size": 8, "model": {"conv_width": 4}}


def test_the_plain_references_are_of_registered_methods():
    """The trajectory test covers the methods benchmarks/plain.py has a plain step for; a new
    method needs none (the contract test covers every method)."""
    assert set(PLAIN_STEPS) <= set(METHODS.names())
    assert set(OPTIONS) == set(PLAIN_STEPS)


def biases_before_batch_norm(network: nn.Module) -> set[int]:
    """ids of the biases of layers that batch norm follows directly (DCGAN's convolutions).
    Batch norm removes them, so their gradient is zero up to rounding (~1e-17), which Adam
    divides by about its eps (1e-8): they drift apart by ~1e-10 while nothing depends on them."""
    cancelled = set()
    for module in network.modules():
        children = list(module.children())
        for layer, after in zip(children, children[1:]):
            if isinstance(after, nn.BatchNorm2d) and getattr(layer, "bias", None) is not None:
                cancelled.add(id(layer.bias))
    return cancelled


def compared_parameters(network: nn.Module) -> torch.Tensor:
    """The network's parameters that both steps must agree on, joined as in ``nn.Sequential``."""
    cancelled = biases_before_batch_norm(network)
    return torch.cat([p.flatten() for p in joined_parameters(network) if id(p) not in cancelled])


def assert_same_trajectory(config, dataset: Dataset) -> None:
    """Both steps from the same weights and seed: the same D losses and final parameters."""
    torch.manual_seed(0)
    method = build_method(config.method, dataset.shape, config.model, config.method_options)
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
        expected, got = compared_parameters(network), compared_parameters(getattr(method, name))
        torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-11, msg=f"{name} of {config.method}")


@pytest.mark.parametrize("method_name", sorted(OPTIONS))
@pytest.mark.parametrize("dataset_name", ["ring", "hd1200"])
def test_project_step_matches_the_plain_loop(method_name, dataset_name, float64):
    config = build_config(TINY, {"method": method_name, "dataset": dataset_name, "method_options": OPTIONS[method_name]})
    dataset = make_dataset(config.dataset)
    dataset.means, dataset.basis = dataset.means.double(), None if dataset.basis is None else dataset.basis.double()
    if hasattr(dataset, "data"):  # hd1200's fixed set
        dataset.data = dataset.data.double()
    assert_same_trajectory(config, dataset)


@pytest.mark.parametrize("method_name", sorted(OPTIONS))
def test_project_step_matches_the_plain_loop_through_custom_products(method_name, float64, custom_products_always):
    """Every narrow product of the ring step through veegan.backend.products' own route, as at
    full size."""
    config = build_config(TINY, {"method": method_name, "dataset": "ring", "method_options": OPTIONS[method_name]})
    dataset = make_dataset(config.dataset)
    dataset.means = dataset.means.double()
    assert_same_trajectory(config, dataset)


@pytest.mark.parametrize("method_name", sorted(OPTIONS))
def test_project_step_matches_the_plain_loop_on_images(method_name, tmp_path, float64):
    write_mnist(tmp_path, n_train=20)
    config = build_config(TINY, TINY_IMAGES, {"method": method_name, "data_dir": str(tmp_path),
                                              "method_options": OPTIONS[method_name]})
    dataset = make_dataset(config.dataset, data_dir=config.data_dir)
    draw = dataset.sample
    dataset.sample = lambda n, generator=None: draw(n, generator).double()  # pixels come as float32
    assert_same_trajectory(config, dataset)
