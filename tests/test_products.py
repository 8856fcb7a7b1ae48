"""veegan.backend.products computes torch's products and their gradients, only in another layout."""
import pytest
import torch
import torch.nn.functional as tf
from torch import nn

from veegan.backend import products

# (rows, inner, columns): narrow results, narrow inner sizes (a narrow gradient), and wide ones
SHAPES = [(7, 5, 3), (9, 2, 6), (6, 4, 1), (5, 12, 10), (8, 1, 4), (10, 3, 9)]


def layouts(t: torch.Tensor) -> list[torch.Tensor]:
    """The same matrix stored row-major and column-major."""
    return [t, t.t().contiguous().t()]


@pytest.mark.parametrize("shape", SHAPES)
def test_matmul_values_and_gradients_equal_torch(shape, float64, custom_products_always):
    m, k, n = shape
    for a0 in layouts(torch.randn(m, k)):
        for b0 in layouts(torch.randn(k, n)):
            a, b = a0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
            ref_a, ref_b = a0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
            weights = torch.randn(m, n)
            out, ref = products.matmul(a, b), ref_a @ ref_b
            torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
            (out * weights).sum().backward()
            (ref * weights).sum().backward()
            torch.testing.assert_close(a.grad, ref_a.grad, rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(b.grad, ref_b.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("in_features", [1, 2, 3, 8, 9, 16])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_values_and_gradients_equal_torch(in_features, bias, float64, custom_products_always):
    x = torch.randn(11, in_features, requires_grad=True)
    weight = torch.randn(5, in_features, requires_grad=True)
    b = torch.randn(5, requires_grad=True) if bias else None
    inputs = [t for t in (x, weight, b) if t is not None]
    weights = torch.randn(11, 5)
    got = torch.autograd.grad((products.linear(x, weight, b) * weights).sum(), inputs)
    expected = torch.autograd.grad((tf.linear(x, weight, b) * weights).sum(), inputs)
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-12, atol=1e-12)


def test_narrow_products_are_twice_differentiable(float64, custom_products_always):
    a, b = torch.randn(6, 3, requires_grad=True), torch.randn(3, 2, requires_grad=True)
    assert torch.autograd.gradcheck(products.matmul, (a, b))
    assert torch.autograd.gradgradcheck(products.matmul, (a, b))
    x, w, c = torch.randn(6, 2, requires_grad=True), torch.randn(4, 2, requires_grad=True), torch.randn(4, requires_grad=True)
    assert torch.autograd.gradcheck(products.linear, (x, w, c))
    assert torch.autograd.gradgradcheck(products.linear, (x, w, c))


def test_narrow_products_take_the_transposed_route(monkeypatch):
    """The layout change is what makes them fast: a narrow product reaches torch as b^T a^T."""
    seen = []
    original = torch.Tensor.__matmul__
    monkeypatch.setattr(torch.Tensor, "__matmul__", lambda a, b: seen.append((a.shape, b.shape)) or original(a, b))
    products.mm(torch.randn(100, 16), torch.randn(16, 3))
    products.mm(torch.randn(100, 16), torch.randn(16, 32))
    assert seen == [((3, 16), (16, 100)), ((100, 16), (16, 32))]


def test_small_products_stay_with_torch(monkeypatch):
    """Below MIN_ELEMENTS the custom Function costs more than it saves: torch's own op is used."""
    calls = []
    monkeypatch.setattr(products._Linear, "apply", lambda *args: calls.append("linear") or tf.linear(*args))
    monkeypatch.setattr(products._Matmul, "apply", lambda *args: calls.append("matmul") or args[0] @ args[1])
    weight = torch.randn(128, 2, requires_grad=True)
    products.linear(torch.randn(250, 2), weight)  # PacGAN's 250 packs: torch's path
    products.matmul(torch.randn(250, 128, requires_grad=True), torch.randn(128, 3))
    assert calls == []
    products.linear(torch.randn(500, 2), weight)  # a batch of 500 2-D samples: the route
    products.matmul(torch.randn(1000, 128, requires_grad=True), torch.randn(128, 3))
    assert calls == ["linear", "matmul"]
    with torch.no_grad():  # nothing to record: the plain product
        products.linear(torch.randn(500, 2), weight)
    assert calls == ["linear", "matmul"]


def test_linear_module_is_an_nn_linear():
    """Same parameters, initialisation and state_dict as nn.Linear, so checkpoints and seeds carry over."""
    torch.manual_seed(3)
    ours = products.Linear(2, 7)
    torch.manual_seed(3)
    theirs = nn.Linear(2, 7)
    assert isinstance(ours, nn.Linear)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value)
    x = torch.randn(4, 2)
    torch.testing.assert_close(ours(x), theirs(x))


def test_the_switch_and_other_devices_take_torchs_route(monkeypatch):
    """runtime.cpu_routes=false, or a tensor on another device, never reaches the custom Functions."""
    from veegan import backend

    calls = []
    monkeypatch.setattr(products._Linear, "apply", lambda *args: calls.append("linear") or tf.linear(*args))
    weight = torch.randn(128, 2, requires_grad=True)
    backend.set_cpu_routes(False)
    try:
        products.linear(torch.randn(500, 2), weight)
    finally:
        backend.set_cpu_routes(True)
    products.linear(torch.randn(500, 2, device="meta"), weight.to("meta"))
    assert calls == []
    products.linear(torch.randn(500, 2), weight)
    assert calls == ["linear"]


# which of veegan.backend.products' Functions each method's ring step must reach
EXPECTED_ROUTES = {"gan": {"_Linear"}, "pacgan": {"_Linear"}, "veegan": {"_Linear"}, "ali": {"_Linear"},
                   "unrolled": {"_Linear", "_Matmul"}}


@pytest.mark.parametrize("method_name", sorted(EXPECTED_ROUTES))
def test_training_steps_take_the_routes(method_name, monkeypatch, custom_products_always):
    """The networks and the look-ahead really use the routes (equal values alone would not show it)."""
    from veegan.configure import build_config
    from veegan.data.catalog import make_dataset
    from veegan.methods import build_method
    from veegan.training.trainer import make_optimizer, training_step

    from .conftest import TINY

    used = set()
    for name in ("_Linear", "_Matmul"):
        original = getattr(products, name).apply
        monkeypatch.setattr(getattr(products, name), "apply",
                            lambda *args, name=name, original=original: used.add(name) or original(*args))
    config = build_config(TINY, {"method": method_name, "dataset": "ring"})
    dataset = make_dataset(config.dataset)
    method = build_method(config.method, dataset.shape, config.model, config.method_options)
    training_step(method, make_optimizer(method, config), dataset, config.batch_size, 0)
    assert EXPECTED_ROUTES[method_name] <= used
    assert not [m for m in method.modules() if type(m) is nn.Linear], "an MLP layer bypasses products.Linear"
