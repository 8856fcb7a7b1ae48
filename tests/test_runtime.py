"""Process-wide runtime settings: the allocator setting really stops the step's page faults."""
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

from veegan.backend import runtime

ROOT = Path(__file__).resolve().parents[1]
glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")


@glibc_only
def test_retain_freed_memory_is_applied_on_glibc():
    assert runtime.retain_freed_memory() is True


@glibc_only
def test_retained_memory_keeps_the_step_free_of_page_faults():
    """Unrolled GAN on the ring page-faulted about 576 times per step without the setting and
    under 1 with it (docs/performance.md); a fresh process measures it after a warm-up."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "profile_step.py"), "--method", "unrolled", "--dataset", "ring",
         "--steps", "20", "--set", "method_options.unroll_steps=2"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    faults = float(re.search(r"([\d.]+) minor page faults per step", out).group(1))
    assert faults < 50, out
