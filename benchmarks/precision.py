"""Training steps per second in each precision and memory format (``runtime.precision``,
``runtime.channels_last``), as ratios to float32 measured in one process.

    python benchmarks/precision.py --mnist ../shared/data/mnist [--threads 1] [--json FILE]
    python benchmarks/precision.py --device cuda --mnist DIR      # adds fp16 (CUDA only)

Cases: a DCGAN step on Stacked MNIST (the paper's width 64, batch 64, Table 2's settings; GAN
and VEEGAN) in fp32 and bf16 (and fp16 on CUDA), each contiguous and channels_last; and the 2-D
VEEGAN step on the ring (MLPs, batch 500), where channels_last does not apply. Every variant of
a case is built from the same seed and timed in interleaved rounds (median of ``--repeats``), as
``benchmarks/steps.py`` times the project's step. Nothing here runs in the test suite.
"""
from __future__ import annotations

import argparse
import gzip
import json
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.steps import Runner, set_threads, steps_per_second  # noqa: E402

CASES = [("gan", "stacked_mnist"), ("veegan", "stacked_mnist"), ("veegan", "ring")]


def variants(dataset: str, device: str) -> list[tuple[str, bool]]:
    """(precision, channels_last) pairs to time: fp32 contiguous first (the reference)."""
    precisions = ["fp32", "bf16"] + (["fp16"] if device.startswith("cuda") else [])
    layouts = [False, True] if dataset == "stacked_mnist" else [False]
    return [(p, c) for p in precisions for c in layouts]


def case_config(method: str, dataset: str, precision: str, channels_last: bool, args: argparse.Namespace) -> Any:
    from veegan.configure import build_config

    runtime = {"threads": args.threads, "device": args.device, "precision": precision, "channels_last": channels_last}
    values: dict[str, Any] = {"method": method, "dataset": dataset, "runtime": runtime}
    if dataset == "stacked_mnist":  # Table 2's step without VEEGAN's pre-training transient
        values |= {"model": {"conv_width": args.conv_width, "image_net": args.image_net}, "data_dir": args.mnist,
                   "method_options": {"reconstructor_pretrain_steps": 0} if method == "veegan" else {}}
    return build_config(values)

def random_mnist(folder: Path, n: int = 10_000) -> Path:
    """MNIST's training files (IDX, gzip) holding ``n`` random 28 x 28 images and labels."""
    rng = np.random.default_rng(0)
    for name, array in (("train-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
                        ("train-labels-idx1-ubyte.gz", rng.integers(0, 10, n, dtype=np.uint8))):
        header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
        (folder / name).write_bytes(gzip.compress(header + array.tobytes(), compresslevel=1))
    return folder


def label(precision: str, channels_last: bool) -> str:
    return precision + (" channels_last" if channels_last else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--conv-width", type=int, default=64, help="DCGAN's base width (64: the paper's)")
    parser.add_argument("--image-net", default="dcgan", help="model.image_net: dcgan (four-stage) or dcgan_mnist")
    parser.add_argument("--mnist", help="folder of the MNIST files (default: random pixels in MNIST's format; "
                        "a step costs the same)")
    parser.add_argument("--cases", nargs="+", default=[f"{m}:{d}" for m, d in CASES], metavar="METHOD:DATASET")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one timed round")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    import torch

    scratch = tempfile.TemporaryDirectory()
    args.mnist = args.mnist or str(random_mnist(Path(scratch.name)))

    print(f"torch {torch.__version__}, {args.threads} thread(s), device {args.device}, "
          f"{args.image_net} width {args.conv_width}")
    print("| method | dataset | precision | steps/s | x fp32 |\n|---|---|---|---:|---:|")
    records = []
    for case in args.cases:
        method, dataset = case.split(":")
        runners = {label(p, c): Runner("project", case_config(method, dataset, p, c, args))
                   for p, c in variants(dataset, args.device)}
        rates = steps_per_second(runners, args.repeats, args.seconds)
        reference = rates[label("fp32", False)]
        for name, rate in rates.items():
            records.append({"method": method, "dataset": dataset, "variant": name, "steps_per_s": rate,
                            "ratio_to_fp32": rate / reference})
            print(f"| {method} | {dataset} | {name} | {rate:.2f} | {rate / reference:.2f} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"threads": args.threads, "device": args.device,
                                               "conv_width": args.conv_width, "image_net": args.image_net, "torch": torch.__version__,
                                               "results": records}, indent=1))
    scratch.cleanup()


if __name__ == "__main__":
    main()
