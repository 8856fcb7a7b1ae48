"""Reading a large numeric CSV: veegan's reader against pandas alone, in time and peak memory.
Each reader runs in a fresh process (its peak resident memory is its own):

- pandas alone, ``pd.read_csv(path)`` (the C parser, pandas' default);
- pandas with the pyarrow parser, ``pd.read_csv(path, engine="pyarrow")``;
- ``veegan.data.table_files.read_table(path)`` (delimiter and header sniffed, then pyarrow);
- ``veegan.data.own_table.TableDataset(path)``: read, checked, split, encoded to float32.

    .venv/bin/python benchmarks/read_csv.py [--rows 1000000] [--columns 50] [--workdir /tmp/veegan-read-bench]

The CSV is written once into the work folder and reused. Prints a markdown table with the
ratios to pandas alone and the size of the float32 array, for scale, and the machine: the CPU
model, whether it has AVX-512, the thread settings and the load average before and after (on a
shared machine the seconds move with the load; the memory does not).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

# name: (what to import, the read that is timed)
READERS = {
    "pandas alone: pd.read_csv(path)": ("import pandas as pd", "pd.read_csv(PATH)"),
    "pandas, pyarrow parser": ("import pandas as pd", "pd.read_csv(PATH, engine='pyarrow')"),
    "veegan read_table": ("from veegan.data.table_files import read_table", "read_table(PATH)"),
    "veegan TableDataset (read, check, split, encode)": ("from veegan.data.own_table import TableDataset", "TableDataset(PATH)"),
}
# the read alone is timed; its memory is the peak above the process's after the import
MEASURE = """
import resource, time, json
PATH = {path!r}
{imports}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
result = {call}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": time.perf_counter() - started, "peak_mib": peak - before, "process_peak_mib": peak}}))
"""


def write_csv(path: Path, rows: int, columns: int) -> None:
    """Random numbers with 6 significant digits and a header row, written in blocks."""
    rng = np.random.default_rng(0)
    header = True
    for start in range(0, rows, 100_000):
        block = pd.DataFrame(rng.normal(size=(min(100_000, rows - start), columns)), columns=[f"x{i}" for i in range(columns)])
        block.to_csv(path, mode="w" if header else "a", header=header, index=False, float_format="%.6g")
        header = False


def measure(imports: str, call: str, path: Path) -> dict[str, float]:
    """Seconds of ``call`` and the peak resident memory (MiB) it adds, in a fresh Python process."""
    out = subprocess.run([sys.executable, "-c", MEASURE.format(path=str(path), imports=imports, call=call)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> str:
    """The CPU model, AVX-512 or not, the thread settings the readers see, and the load."""
    import pyarrow

    with open("/proc/cpuinfo") as cpuinfo:
        lines = cpuinfo.read().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    avx512 = "AVX-512" if any(flag.startswith("avx512") for flag in flags) else "no AVX-512"
    threads = ", ".join(f"{name}={os.environ.get(name, 'unset')}" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"))
    return (f"{model} ({avx512}), {os.cpu_count()} CPUs; {threads}; pyarrow threads {pyarrow.cpu_count()}; "
            f"load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/veegan-read-bench"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / f"numeric-{args.rows}x{args.columns}.csv"
    if not path.is_file():
        started = time.perf_counter()
        write_csv(path, args.rows, args.columns)
        print(f"wrote {path} in {time.perf_counter() - started:.0f} s")
    print(f"{args.rows:,} x {args.columns} numeric CSV, {path.stat().st_size / 2**20:,.0f} MiB on disk; {machine()}; "
          f"the float32 array {args.rows * args.columns * 4 / 2**20:,.0f} MiB, float64 {args.rows * args.columns * 8 / 2**20:,.0f} MiB\n")
    print("| reader | seconds | x pandas alone | memory added at peak (MiB) | x pandas alone | process peak RSS (MiB) |\n"
          "|---|---|---|---|---|---|")
    results = {name: measure(*reader, path) for name, reader in READERS.items()}
    first = next(iter(results.values()))
    for name, r in results.items():
        print(f"| {name} | {r['seconds']:.2f} | {r['seconds'] / first['seconds']:.2f} | {r['peak_mib']:,.0f} | "
              f"{r['peak_mib'] / first['peak_mib']:.2f} | {r['process_peak_mib']:,.0f} |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
