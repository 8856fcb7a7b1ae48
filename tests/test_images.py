"""Image experiments: DCGAN networks, image datasets, every method on images, the MNIST
classifier, Stacked-MNIST metrics and an end-to-end image run, all on small data written here."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from veegan import api
from veegan.configure import resolve_config
from veegan.data.stacked_mnist import stacked_mnist_metrics
from veegan.evaluation.classifier import DigitClassifier, load_classifier, train_classifier
from veegan.config import ModelConfig
from veegan.nets.dcgan import DcganDiscriminator, DcganFeatures, DcganGenerator, feature_sides
from veegan.nets.dcgan_mnist import TwoStageDiscriminator, TwoStageFeatures, TwoStageGenerator
from veegan.data.catalog import make_dataset
from veegan.errors import VeeganError
from veegan.data.images import ImageDataset
from veegan.evaluation.grids import image_grid
from veegan.methods import METHODS, build_method
from veegan.training.trainer import make_optimizer, training_step

from .image_helpers import raises_one_line, write_mnist, write_stripe_mnist

SMALL_IMAGES = {"latent_dim": 6, "conv_width": 4, "reconstructor_hidden": [16, 16], "discriminator_hidden": [16]}


@pytest.mark.parametrize("side, smallest", [(28, 2), (32, 2), (64, 4)])
def test_dcgan_shapes_follow_the_image_size(side, smallest):
    assert feature_sides(side)[-1] == smallest
    generator = DcganGenerator(10, 1, (3, side, side), width=4)
    images = generator(torch.randn(5, 10))
    assert images.shape == (5, 3, side, side)
    assert images.abs().max() <= 1
    assert DcganDiscriminator((3, side, side), width=4)(images).shape == (5,)
    features = DcganFeatures((3, side, side), width=4)
    assert features(images).shape == (5, features.dim) and features.dim == 32 * smallest**2


@pytest.mark.parametrize("side, smallest", [(28, 7), (32, 8), (16, 4)])
def test_two_stage_shapes_follow_the_image_size(side, smallest):
    generator = TwoStageGenerator(10, 1, (3, side, side), width=4)
    images = generator(torch.randn(5, 10))
    assert images.shape == (5, 3, side, side) and images.abs().max() <= 1
    assert TwoStageDiscriminator((3, side, side), width=4)(images).shape == (5,)
    features = TwoStageFeatures((3, side, side), width=4)
    assert features(images).shape == (5, features.dim) and features.dim == (4 + 10) * smallest**2


def test_two_stage_network_has_dcgan_tensorflows_mnist_layers():
    """The layers of DCGAN-tensorflow's MNIST model at its defaults (gf_dim = df_dim = 64,
    gfc_dim = dfc_dim = 1024, z of 100, 5 x 5 kernels), without the label inputs (y_dim = 10
    remains in D's channel counts): docs/protocol.md, "Image networks"."""
    def shapes(module):
        return [tuple(p.shape) for p in module.parameters()]

    generator = TwoStageGenerator(100, 0, (1, 28, 28), width=64)
    assert shapes(generator) == [(1024, 100), (1024,), (1024,), (1024,), (6272, 1024), (6272,), (6272,), (6272,),
                                 (128, 128, 5, 5), (128,), (128,), (128,), (128, 1, 5, 5), (1,)]
    discriminator = TwoStageDiscriminator((1, 28, 28), width=64)
    assert shapes(discriminator) == [(11, 1, 5, 5), (11,), (74, 11, 5, 5), (74,), (74,), (74,),
                                     (1024, 74 * 49), (1024,), (1024,), (1024,), (1, 1024), (1,)]


def test_image_net_is_checked_and_reaches_every_network():
    with pytest.raises(VeeganError, match="model.image_net must be one of dcgan, dcgan_mnist, not 'unet'"):
        ModelConfig(image_net="unet")
    model = ModelConfig(**SMALL_IMAGES, image_net="dcgan_mnist")
    for name in ("gan", "pacgan", "veegan", "ali"):
        method = build_method(name, (3, 16, 16), model, {})
        assert isinstance(method.generator, TwoStageGenerator)
        features = method.discriminator.features
        assert isinstance(features, TwoStageFeatures) or isinstance(features.features, TwoStageFeatures), name


def test_dcgan_generator_needs_square_images():
    with pytest.raises(ValueError):
        DcganGenerator(10, 1, (3, 28, 32), width=4)


def random_images(n: int = 32, side: int = 16) -> ImageDataset:
    rng = np.random.default_rng(0)
    return ImageDataset("random", torch.from_numpy(rng.integers(0, 256, (n, 3, side, side), dtype=np.uint8)))


def test_image_dataset_draws_scaled_batches():
    dataset = random_images()
    batch = dataset.sample(7, torch.Generator().manual_seed(0))
    assert batch.shape == (7, 3, 16, 16) and dataset.shape == (3, 16, 16) and dataset.dim == 768
    assert batch.min() >= -1 and batch.max() <= 1
    assert torch.equal(batch, dataset.sample(7, torch.Generator().manual_seed(0)))
    with pytest.raises(VeeganError):
        ImageDataset("bad", torch.zeros(4, 16, 16, dtype=torch.uint8))


@pytest.mark.parametrize("image_net", ["dcgan", "dcgan_mnist"])
@pytest.mark.parametrize("name", sorted(METHODS.names()))
def test_every_method_trains_on_images(name, image_net, tiny):
    """Two steps of each method on 16 x 16 colour images with each image network: finite
    losses, every network moves, and batch-norm statistics are those of D's real batches
    (Unrolled's look-ahead leaves them)."""
    torch.manual_seed(0)
    dataset = random_images()
    options = {"unroll_steps": 2} if name == "unrolled" else {}
    model = {**SMALL_IMAGES, "image_net": image_net}
    method = build_method(name, dataset.shape, ModelConfig(**model), options)
    config = resolve_config(method=name, overrides={"batch_size": 8, "model": model, "method_options": options})
    optimizer = make_optimizer(method, config)
    before = {k: v.clone() for k, v in method.state_dict().items()}
    for step in range(2):
        terms = training_step(method, optimizer, dataset, 8, step)
        assert all(torch.isfinite(v) for v in terms.values())
    after = method.state_dict()
    for network in ("generator", "discriminator", "reconstructor", "encoder"):
        keys = [k for k in before if k.startswith(network + ".") and before[k].is_floating_point()]
        if keys:
            assert any(not torch.equal(before[k], after[k]) for k in keys), network
    if name == "unrolled":  # D's statistics move with its two real batches per step, not the look-ahead's
        counts = [v for k, v in after.items() if k.startswith("discriminator.") and k.endswith("num_batches_tracked")]
        assert counts and all(int(c) == 4 for c in counts)
    samples = method.sample(5, torch.Generator().manual_seed(1))
    assert samples.shape == (5, 3, 16, 16)


def test_pacgan_packs_images_along_channels():
    method = build_method("pacgan", (3, 16, 16), ModelConfig(**SMALL_IMAGES), {"pack_size": 3})
    assert method.discriminator.features.net[0].in_channels == 9


def test_unrolled_on_images_differentiates_through_the_look_ahead():
    """Conv D: the second-order generator gradient differs from the first-order one."""
    grads = {}
    for first_order in (False, True):
        torch.manual_seed(0)
        method = build_method("unrolled", (3, 16, 16), ModelConfig(**SMALL_IMAGES), {"unroll_steps": 2, "first_order": first_order})
        config = resolve_config(method="unrolled", overrides={"batch_size": 8, "model": SMALL_IMAGES})
        optimizer = make_optimizer(method, config)
        training_step(method, optimizer, random_images(), 8, 0)  # D's Adam has moments now
        torch.manual_seed(1)
        terms = method.training_loss(random_images().sample(8), 1)
        method.zero_grad()
        sum(terms.values()).backward()
        grads[first_order] = torch.cat([p.grad.flatten() for p in method.generator.parameters()])
    assert not torch.allclose(grads[False], grads[True])


def test_generated_data_takes_no_data_dir(tmp_path):
    raises_one_line(make_dataset, "ring", data_dir=str(tmp_path), naming="ring")


def test_image_folders_as_datasets(tmp_path):
    from PIL import Image

    for c, name in enumerate(["cat", "dog"]):
        (tmp_path / "cifar" / "train" / name).mkdir(parents=True)
        (tmp_path / "faces").mkdir(exist_ok=True)
        for i in range(3):
            Image.new("RGB", (32, 32), (80 * c, 10 * i, 0)).save(tmp_path / "cifar" / "train" / name / f"{i}.jpg")
            Image.new("RGB", (40, 50), (5, 10 * i, 200)).save(tmp_path / "faces" / f"{c}{i}.png")
    cifar = make_dataset("cifar10", data_dir=str(tmp_path / "cifar"))
    assert cifar.shape == (3, 32, 32) and len(cifar.images) == 6 and cifar.labels.tolist() == [0, 0, 0, 1, 1, 1]
    faces = make_dataset("celeba", data_dir=str(tmp_path / "faces"))
    assert faces.shape == (3, 64, 64)
    raises_one_line(make_dataset, "images", data_dir=str(tmp_path / "empty"), naming="empty")


def test_image_grid_layout():
    images = torch.stack([torch.full((3, 4, 4), v) for v in (-1.0, 1.0, 0.0)])
    grid = image_grid(images, columns=2, gap=1)
    assert grid.shape == (9, 9, 3) and grid.dtype == np.uint8
    assert (grid[:4, :4] == 0).all() and (grid[:4, 5:] == 255).all() and (grid[5:, :4] == 128).all()


# --------------------------------------------------------------------------------------------
# the MNIST classifier and the Stacked-MNIST metrics


def test_stacked_mnist_metrics_by_hand():
    """Classifier stub: a channel's first pixel decides the digit, its second pixel the confidence.
    4 samples over 3 distinct triples; 9 of the 12 channels confident (>= 0.9)."""

    class Stub(DigitClassifier):
        def predict_with_confidence(self, digits, batch_size=2048):
            flat = digits.reshape(-1, 28 * 28)
            return flat[:, 0].round().long(), flat[:, 1]

    samples = torch.zeros(4, 3, 28, 28)
    for i, triple in enumerate([(1, 2, 3), (1, 2, 3), (0, 0, 7), (9, 9, 9)]):
        for c, digit in enumerate(triple):
            samples[i, c, 0, 0] = digit
            samples[i, c, 0, 1] = 0.5 if i == 3 else 0.9  # the last sample's channels are unsure
    result = stacked_mnist_metrics(samples, Stub(), 0.99)
    p = np.array([0.5, 0.25, 0.25])
    assert result["modes"] == 3 and result["max_modes"] == 1000 and result["classifier_accuracy"] == 0.99
    assert result["kl"] == pytest.approx(float((p * np.log(p * 1000)).sum()))
    assert result["digits_pct"] == pytest.approx(75.0)
    raises_one_line(stacked_mnist_metrics, torch.zeros(2, 1, 28, 28), Stub(), 0.99, naming="3 x 28 x 28")


def test_classifier_learns_saves_and_loads(tmp_path):
    folder = write_stripe_mnist(tmp_path / "mnist")
    out = tmp_path / "classifier.pt"
    result = train_classifier(folder, out, epochs=2, batch_size=32, say=lambda text: None)
    assert result["test_accuracy"] >= 0.9
    model, accuracy = load_classifier(out)
    assert accuracy == result["test_accuracy"]
    raises_one_line(load_classifier, tmp_path / "missing.pt", naming="veegan classifier train")
    torch.save({"format_version": 1, "kind": "something else"}, tmp_path / "other.pt")
    raises_one_line(load_classifier, tmp_path / "other.pt", naming="not an MNIST classifier")


def test_stacked_mnist_run_end_to_end(tmp_path, monkeypatch):
    """`veegan classifier train`, then a VEEGAN run on Stacked MNIST drawn from the same
    files: metrics.json holds modes and KL beside the real-data row, samples.png is a PNG."""
    folder = write_stripe_mnist(tmp_path / "mnist")
    classifier_path = tmp_path / "classifier.pt"
    command = [sys.executable, "-m", "veegan.cli", "classifier", "train", "--mnist", str(folder), "--out", str(classifier_path), "--epochs", "2"]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "MNIST test accuracy" in done.stdout
    monkeypatch.setenv("VEEGAN_MNIST_CLASSIFIER", str(classifier_path))
    overrides = {"batch_size": 8, "model": {**SMALL_IMAGES, "latent_dim": 6},
                 "schedule": {"eval_samples": 300, "tensorboard": False, "log_every": 2, "eval_every": 4, "checkpoint_every": 4}}
    run = api.train("veegan", "stacked_mnist", out=tmp_path / "run", data_dir=folder, steps=4, overrides=overrides, progress=False)
    final = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert 1 <= final["modes"] <= 1000 and math.isfinite(final["kl"])
    assert final["real"]["modes"] > final["modes"] or final["real"]["kl"] < final["kl"]
    assert (tmp_path / "run" / "samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run.sample(3).shape == (3, 3, 28, 28)
    assert run.encode(run.dataset.sample(2)).shape == (2, 6)
    from veegan.cli import main

    np.save(tmp_path / "x.npy", run.dataset.sample(3).numpy())
    assert main(["encode", str(tmp_path / "run"), "--data", str(tmp_path / "x.npy"), "--out", str(tmp_path / "z.npy")]) == 0
    assert np.load(tmp_path / "z.npy").shape == (3, 6)
    np.save(tmp_path / "flat.npy", np.zeros((3, 5), dtype=np.float32))
    assert main(["encode", str(tmp_path / "run"), "--data", str(tmp_path / "flat.npy"), "--out", str(tmp_path / "z.npy")]) == 2


def test_classifier_command_reports_missing_mnist(tmp_path):
    write_mnist(tmp_path / "partial", n_train=4, n_test=2)
    (tmp_path / "partial" / "t10k-labels-idx1-ubyte").unlink()
    done = subprocess.run([sys.executable, "-m", "veegan.cli", "classifier", "train", "--mnist", str(tmp_path / "partial"),
                           "--out", str(tmp_path / "c.pt")], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "t10k-labels" in done.stderr


# --------------------------------------------------------------------------------------------
# IvOM, figures and `reproduce table2` on tiny data


def test_ivom_finds_an_image_the_generator_can_make():
    """A target generated from a known z is recovered (error near 0); an image the generator
    cannot make (a checkerboard far from its range) keeps a larger error."""
    from veegan.evaluation.ivom import IvomOptions, ivom

    torch.manual_seed(0)
    generator = DcganGenerator(4, 0, (1, 16, 16), width=4).eval()
    with torch.no_grad():
        reachable = generator(torch.randn(2, 4))
    checkerboard = (torch.arange(16)[:, None] + torch.arange(16)).remainder(2).float().mul(2).sub(1).expand(1, 1, 16, 16)
    before = [p.clone() for p in generator.parameters()]
    errors = ivom(generator, 4, torch.cat([reachable, checkerboard]), IvomOptions(restarts=2, steps=300, lr=0.05))
    assert errors.shape == (3,)
    assert errors[:2].max() < 0.1 * errors[2]
    assert all(torch.equal(a, b) for a, b in zip(before, generator.parameters()))


def test_nearest_and_inference_figures(tmp_path):
    from PIL import Image

    from veegan.evaluation.grids import inference_figure, nearest_figure, nearest_samples

    real = torch.stack([torch.full((3, 4, 4), v) for v in (-0.9, 0.9)])
    generated = torch.stack([torch.full((3, 4, 4), v) for v in (1.0, -1.0, 0.0)])
    assert torch.equal(nearest_samples(real, generated), generated[[1, 0]])
    with Image.open(nearest_figure(real, {"a": generated, "b": generated}, tmp_path / "nearest.png")) as image:
        assert image.size == (2 * (3 * 4 + 2 * 2), 2 * (2 * 4 + 2))
    with Image.open(inference_figure(real, generated[:2], tmp_path / "inference.png")) as image:
        assert image.size == (2 * (2 * 4 + 2), 2 * (2 * 4 + 2))


def write_cifar_folder(root, per_class: int = 3):
    from PIL import Image

    for split in ("train", "test"):
        for c, name in enumerate(["cat", "dog"]):
            (root / split / name).mkdir(parents=True)
            for i in range(per_class):
                Image.new("RGB", (32, 32), (100 * c, 20 * i, 50)).save(root / split / name / f"{i}.png")
    return root


def test_reproduce_table2_end_to_end(tmp_path, monkeypatch):
    """A tiny budget: every output of `veegan reproduce table2` is written, IvOM is cached,
    and the table has a row per method plus the real-data row."""
    from veegan.experiments import table2
    from veegan.cli import main

    mnist = write_stripe_mnist(tmp_path / "mnist")
    train_classifier(mnist, tmp_path / "classifier.pt", epochs=1, batch_size=32, say=lambda text: None)
    monkeypatch.setenv("VEEGAN_MNIST_CLASSIFIER", str(tmp_path / "classifier.pt"))
    cifar = write_cifar_folder(tmp_path / "cifar")
    monkeypatch.setitem(table2.BUDGETS, "cpu", {"steps": {"stacked_mnist": 3, "cifar10": 3}, "conv_width": 4, "seeds": 1,
                                                 "ivom": {"images": 4, "restarts": 2, "steps": 3},
                                                 "overrides": {"batch_size": 8,
                                                               "schedule": {"eval_samples": 200, "tensorboard": False}}})
    out = tmp_path / "t2"
    args = ["reproduce", "table2", "--methods", "gan", "veegan", "--workers", "2", "--out", str(out),
            "--mnist", str(mnist), "--cifar10", str(cifar)]
    assert main(args) == 0
    markdown = (out / "table2.md").read_text()
    for row in ("| gan |", "| veegan |", "| real data |"):
        assert row in markdown
    assert "s per run, stacked_mnist | s per run, cifar10 |" in markdown  # every run's wall time
    assert "the 4 runs took" in markdown
    for name in ("table2.csv", "samples_stacked_mnist.png", "samples_cifar10.png", "inference_cifar10.png", "nearest.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG" or name.endswith(".csv")
    assert json.loads((out / "cifar10" / "veegan" / "seed0" / "ivom.json").read_text())["ivom"] > 0
    assert main(args) == 0  # a second call reuses the finished runs and the cached IvOM


def test_table2_continues_from_kept_runs_alone_with_fewer_seeds_for_a_slow_method(tmp_path, monkeypatch):
    """--results keeps each run's small files and its IvOM; with the run directories gone (another
    session), --no-train still gives the table, the IvOM and the sample grids."""
    import shutil

    from veegan.cli import main
    from veegan.experiments import table2

    mnist = write_stripe_mnist(tmp_path / "mnist")
    train_classifier(mnist, tmp_path / "classifier.pt", epochs=1, batch_size=32, say=lambda text: None)
    monkeypatch.setenv("VEEGAN_MNIST_CLASSIFIER", str(tmp_path / "classifier.pt"))
    cifar = write_cifar_folder(tmp_path / "cifar")
    monkeypatch.setitem(table2.BUDGETS, "cpu", {"steps": {"stacked_mnist": 3, "cifar10": 3}, "conv_width": 4, "seeds": 2,
                                                 "method_seeds": {"veegan": 1}, "ivom": {"images": 4, "restarts": 2, "steps": 3},
                                                 "overrides": {"batch_size": 8,
                                                               "schedule": {"eval_samples": 200, "tensorboard": False}}})
    out, kept = tmp_path / "t2", tmp_path / "kept"
    args = ["reproduce", "table2", "--methods", "gan", "veegan", "--workers", "2", "--out", str(out),
            "--mnist", str(mnist), "--cifar10", str(cifar), "--results", str(kept), "--quiet"]
    assert main(args) == 0
    first = (out / "table2.md").read_text()
    assert sorted(p.parent.parent.name for p in kept.glob("stacked_mnist/*/seed*/metrics.json")) == ["gan", "gan", "veegan"]
    assert json.loads((kept / "cifar10" / "gan" / "seed1" / "ivom.json").read_text())["ivom"] > 0
    shutil.rmtree(out)
    assert main([*args, "--no-train"]) == 0
    again = (out / "table2.md").read_text()
    def method_rows(markdown):
        return [line for line in markdown.splitlines() if line.startswith(("| gan |", "| veegan |"))]

    assert method_rows(again) == method_rows(first)  # modes, KL, digits %, IvOM, wall time: all kept
    assert "| gan | 2 |" in again and "| veegan | 1 |" in again and "n/a" not in again.split("| gan |")[1].split("\n")[0]
    assert (out / "samples_cifar10.png").read_bytes()[:4] == b"\x89PNG" and not (out / "nearest.png").exists()


def test_a_foreign_classifier_file_is_reported_when_training_starts(tmp_path, monkeypatch):
    folder = write_stripe_mnist(tmp_path / "mnist", n_train=20, n_test=10)
    torch.save({"format_version": 1, "kind": "something else"}, tmp_path / "other.pt")
    monkeypatch.setenv("VEEGAN_MNIST_CLASSIFIER", str(tmp_path / "other.pt"))
    dataset = make_dataset("stacked_mnist", data_dir=str(folder))
    raises_one_line(lambda: dataset.has_metrics, naming="not an MNIST classifier")
    monkeypatch.setenv("VEEGAN_MNIST_CLASSIFIER", str(tmp_path / "missing.pt"))
    assert not make_dataset("stacked_mnist", data_dir=str(folder)).has_metrics


def test_own_images_of_different_sizes_each_give_their_largest_square(tmp_path):
    from PIL import Image

    (tmp_path / "mine").mkdir()
    Image.new("RGB", (80, 60), (255, 0, 0)).save(tmp_path / "mine" / "a.png")
    Image.new("RGB", (40, 50), (0, 0, 255)).save(tmp_path / "mine" / "b.png")
    dataset = make_dataset("images", data_dir=str(tmp_path / "mine"))
    assert dataset.shape == (3, 64, 64) and len(dataset.images) == 2


def test_data_autoencoder_loss_sums_every_pixel():
    from veegan.methods.veegan_dae import data_autoencoder_loss

    x = torch.zeros(2, 3, 4, 4)
    assert data_autoencoder_loss(x, x + 1).item() == 48.0
    assert data_autoencoder_loss(torch.zeros(5, 2), torch.ones(5, 2)).item() == 2.0


def test_table2_best_preset_takes_r3gans_image_gamma_and_the_digits_budget_its_network(tmp_path):
    """`reproduce table2 --preset best`: each method's pick, with every R1/R2 gamma it turns on
    replaced by R3GAN's image gamma (annealed to a tenth), nothing else of the pick changed; the
    digits budget trains the two-stage network; a method without a pick is refused."""
    from veegan.experiments import table2
    from veegan.methods import method_class

    jobs = {job.key[0]: job.config for job in table2.table2_jobs(["gan", "ali", "veegan"], ["stacked_mnist"], 1, "digits",
                                                                 tmp_path, {}, "best")}
    gan, ali, veegan = jobs["gan"], jobs["ali"], jobs["veegan"]
    assert (gan.loss.objective, gan.loss.r1_gamma, gan.loss.r2_gamma) == ("rpgan", table2.IMAGE_GAMMA, table2.IMAGE_GAMMA)
    assert gan.optim.final_lr_fraction == method_class("gan").best_preset["optim"]["final_lr_fraction"]
    assert (ali.loss.r1_gamma, ali.loss.r2_gamma, ali.ema.decay) == (table2.IMAGE_GAMMA, 0.0, 0.999)
    assert veegan.method_options["reconstruction_loss"] == "mse" and veegan.loss.r1_gamma == table2.IMAGE_GAMMA
    for config in jobs.values():
        assert config.loss.final_gamma_fraction == table2.IMAGE_FINAL_GAMMA_FRACTION
        assert (config.model.image_net, config.model.conv_width, config.steps) == ("dcgan_mnist", 64, table2.DIGITS_STEPS)
    paper = table2.table2_jobs(["gan"], ["stacked_mnist"], 1, "digits", tmp_path, {})[0].config
    assert (paper.loss.objective, paper.loss.r1_gamma, paper.ema.decay) == ("paper", 0.0, 0.0)
    raises_one_line(table2.reproduce_table2, out=tmp_path / "t", methods=["veegan_dae"], budget="digits", preset="best",
                    naming="made no pick for veegan_dae")
    assert not (tmp_path / "t" / "stacked_mnist").exists()
