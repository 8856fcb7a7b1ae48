"""The MNIST digit classifier that labels Stacked-MNIST samples (Section 5.2, after Che et al.
2017): each colour channel of a generated image is classified as a digit, so an image maps to
one of 1,000 digit triples (``veegan.data.stacked_mnist``). ``veegan classifier train`` trains it on real MNIST and saves it with
its test accuracy, which every score it produces reports beside itself.
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as tf
from torch import nn

from ..backend.device import to_cpu
from ..data.base import pixels_to_float
from ..data.download import default_cache_dir
from ..data.mnist import load_mnist
from ..errors import VeeganError
from ..training import checkpoint

CLASSIFIER_KIND = "mnist_digit_classifier"


def default_path() -> Path:
    """``$VEEGAN_MNIST_CLASSIFIER``, else ``classifiers/mnist.pt`` in the cache directory."""
    override = os.environ.get("VEEGAN_MNIST_CLASSIFIER")
    return Path(override) if override else default_cache_dir() / "classifiers" / "mnist.pt"


class DigitClassifier(nn.Module):
    """28 x 28 grey digit in [-1, 1] -> 10 logits: two 3 x 3 convolutions (32, 64 channels)
    with ReLU and 2 x 2 max-pooling, a 128-unit hidden layer with dropout, a linear output."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    @torch.no_grad()
    def predict(self, digits: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
        """Digit labels (N,) of images (N, 28, 28) or (N, 1, 28, 28) in [-1, 1]."""
        return self.predict_with_confidence(digits, batch_size)[0]

    @torch.no_grad()
    def predict_with_confidence(self, digits: torch.Tensor, batch_size: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
        """Digit labels (N,) and the classifier's probability of each label (N,), its confidence."""
        was_training = self.training
        self.eval()
        digits = digits.reshape(-1, 1, 28, 28)
        device = next(self.parameters()).device
        probabilities = torch.cat([self(chunk.to(device)).softmax(1).cpu() for chunk in digits.split(batch_size)])
        self.train(was_training)
        confidence, labels = probabilities.max(1)
        return labels, confidence


def accuracy(model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of ``images`` (N, 28, 28) in [-1, 1] labelled correctly."""
    return (model.predict(images) == labels.cpu()).float().mean().item()


def train_classifier(
    mnist_dir: str | Path, out: str | Path, *, epochs: int = 5, batch_size: int = 128, lr: float = 3e-3,
    seed: int = 0, say: Callable[[str], None] = print, device: torch.device = torch.device("cpu"),
) -> dict[str, Any]:
    """Train on the 60,000 MNIST training digits in ``mnist_dir``, measure on the 10,000 test
    digits, save to ``out`` (atomically) and return {"test_accuracy", "epochs", "seconds"}."""
    train_x, train_y = (torch.from_numpy(a) for a in load_mnist(mnist_dir, "train"))
    test_x, test_y = (torch.from_numpy(a) for a in load_mnist(mnist_dir, "test"))
    train_x, test_x = pixels_to_float(train_x[..., 0]), pixels_to_float(test_x[..., 0])
    torch.manual_seed(seed)
    with torch.device("cpu"):
        model = DigitClassifier()  # initialised on the CPU: the same start on every device
    model.to(device)
    train_x, train_y = train_x.to(device), train_y.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = math.ceil(len(train_x) / batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train_x)).to(device)
        for batch in order.split(batch_size):
            loss = tf.cross_entropy(model(train_x[batch].unsqueeze(1)), train_y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        say(f"epoch {epoch + 1}/{epochs}: test accuracy {100 * accuracy(model, test_x, test_y):.2f} %")
    result = {"test_accuracy": accuracy(model, test_x, test_y), "epochs": epochs,
              "seconds": time.perf_counter() - start}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    checkpoint.save_atomic({"kind": CLASSIFIER_KIND, "state_dict": to_cpu(model.state_dict()), **result}, out)
    return result


def load_classifier(path: str | Path | None = None) -> tuple[DigitClassifier, float]:
    """The saved classifier and its MNIST test accuracy; a missing or foreign file gets a
    one-line error that says how to make one."""
    path = Path(path) if path is not None else default_path()
    if not path.is_file():
        raise VeeganError(f"no MNIST classifier at {path}: train one with `veegan classifier train --mnist DIR`")
    state = checkpoint.load(path)
    if state.get("kind") != CLASSIFIER_KIND:
        raise VeeganError(f"{path} is a veegan checkpoint but not an MNIST classifier")
    model = DigitClassifier()
    try:
        model.load_state_dict(state["state_dict"])
    except (KeyError, RuntimeError) as exc:
        raise VeeganError(f"the classifier in {path} does not fit: {str(exc).splitlines()[0]}") from None
    return model, float(state["test_accuracy"])
