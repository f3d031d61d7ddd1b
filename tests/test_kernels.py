"""Every CUDA kernel source compiles to PTX, so a typo fails CI even without a GPU."""

import shutil
import subprocess
from pathlib import Path

import pytest

KERNELS = sorted((Path(__file__).resolve().parents[1] / "kernels").glob("*.cu"))


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not installed")
@pytest.mark.parametrize("src", KERNELS, ids=[p.name for p in KERNELS])
def test_kernel_compiles_to_ptx(src, tmp_path):
    out = subprocess.run(["nvcc", "-arch=sm_90", "--ptx", "-o", str(tmp_path / "k.ptx"), str(src)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
