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


