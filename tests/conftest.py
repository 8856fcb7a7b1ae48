import pytest

# Networks small enough that a training step takes well under a millisecond.
TINY = {
    "batch_size": 16,
    "model": {"latent_dim": 3, "generator_hidden": [8, 8], "reconstructor_hidden": [8, 8], "discriminator_hidden": [8]},
    "schedule": {"eval_samples": 200, "tensorboard": False, "log_every": 5, "eval_every": 10, "checkpoint_every": 10},
    "runtime": {"threads": 1},
}


@pytest.fixture
def tiny() -> dict:
    import copy

    return copy.deepcopy(TINY)


@pytest.fixture
def float64():
    """Double precision by default for the duration of one test (gradient comparisons)."""
    import torch

    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


@pytest.fixture
def custom_products_always(monkeypatch):
    """veegan.backend.products' narrow route for every narrow product, however small (the tests'
    tiny networks are below the sizes where it pays, so they would not reach it otherwise)."""
    from veegan.backend import products

    monkeypatch.setattr(products, "MIN_ELEMENTS", 0)
