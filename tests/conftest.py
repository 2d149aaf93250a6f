"""Shared fixtures: the project root, one CPU thread for tiny networks, and the book built once per test session."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> pathlib.Path:
    return ROOT


@pytest.fixture
def one_thread():
    """Tiny networks and matrices: one intra-op thread is fastest, and immune to a busy second core."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def float64():
    """Build tensors and networks in float64 for the test (``torch.set_default_dtype``).

    Tests that check two code paths compute the same training run (an ensemble member against the
    single run of its seed, two processes against one, fused against foreach Adam) compare
    trajectories of tens of Adam steps. In float32 those trajectories are chaotic: Adam divides by
    near-zero second moments, so a rounding difference of 1e-7 between two kernels grows to 4e-4-4e-3
    in 50 steps, and which kernels run depends on the CPU (AVX2, AVX-512, AMX). In float64 the same
    growth starts from 1e-16: an ensemble member and the single run of its seed differ by at most
    4e-16 after 50 steps, measured with torch's AVX-512, AVX2 and unvectorised kernels
    (ATEN_CPU_CAPABILITY, MKL_ENABLE_INSTRUCTIONS), so a tolerance of 1e-8 separates "the same
    computation" from a real difference (which moves weights by 1e-3 or more) on any CPU."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch.float64
    torch.set_default_dtype(before)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> pathlib.Path:
    """Build the whole book once per session, from scratch (--all), into a temporary folder."""
    out = tmp_path_factory.mktemp("book")
    jb = pathlib.Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run(
        [str(jb), "build", str(ROOT), "--all", "--warningiserror", "--nitpick", "--keep-going", "--path-output", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        timeout=900,
    )
    assert proc.returncode == 0, f"jupyter-book build failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    return out / "_build" / "html"


