"""Checkpoints: atomic writes, safe loads, and every random-number generator's state.

A checkpoint is a plain dictionary of tensors, numbers, strings, lists and dicts, so it loads with
``torch.load(..., weights_only=True)`` (no arbitrary pickle code runs). :func:`save_checkpoint`
writes it to a temporary file in the same folder and renames it over the target, so a crash
mid-write never leaves a truncated checkpoint: the previous one stays intact. It also records
``format_version`` (:data:`FORMAT_VERSION`) and ``checksum``, a SHA-256 of everything else (every
tensor's dtype, shape and bytes, every other value's ``repr``), which :func:`load_checkpoint` checks:
a file changed after it was written (one flipped byte of a tensor) or written by a newer ganlib is
refused in one line. Checkpoints of ganlib 0.2 and earlier carry neither and load as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Union

import numpy as np
import torch

__all__ = ["FORMAT_VERSION", "write_atomic", "hold_folder", "save_checkpoint", "load_checkpoint", "checksum", "get_rng_state", "set_rng_state"]

#: The version of the checkpoint layout this ganlib writes; a larger one is refused on load.
FORMAT_VERSION = 1


def _digest(obj: Any, h: "hashlib._Hash") -> None:
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, dict):
        h.update(f"D{len(obj)}".encode())
        for key in sorted(obj, key=repr):
            h.update(repr(key).encode())
            _digest(obj[key], h)
    elif isinstance(obj, (list, tuple)):
        h.update(f"L{len(obj)}".encode())
        for item in obj:
            _digest(item, h)
    else:
        h.update(repr(obj).encode())


def checksum(state: Dict[str, Any]) -> str:
    """SHA-256 (hex) of a checkpoint's content, its ``checksum`` entry left out.

    Example:
        >>> import torch
        >>> from ganlib.engine.checkpoint import checksum
        >>> a = {"w": torch.ones(3), "step": 2}
        >>> checksum(a) == checksum({"step": 2, "w": torch.ones(3)}), checksum(a) == checksum({**a, "step": 3})
        (True, False)
    """
    h = hashlib.sha256()
    _digest({k: v for k, v in state.items() if k != "checksum"}, h)
    return h.hexdigest()


def write_atomic(path: Union[str, Path], write: Any) -> Path:
    """Write a file so that it is never seen half-written: ``write(f)`` (or ``f.write(write)`` for bytes
    or text) into a temporary file in the same folder, fsync, rename over ``path``, fsync the folder.
    On any error the temporary file is removed and ``path`` keeps its previous content."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(write):
                write(f)
            else:
                f.write(write.encode() if isinstance(write, str) else write)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # the rename itself survives a power cut once the folder is synced (POSIX)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:
        pass  # folders cannot be opened or synced on some systems (Windows)
    return path


def save_checkpoint(obj: Dict[str, Any], path: Union[str, Path]) -> Path:
    """Write ``obj`` to ``path`` atomically (:func:`write_atomic`), with its ``format_version`` and ``checksum``."""
    obj = {**obj, "format_version": FORMAT_VERSION}
    obj["checksum"] = checksum(obj)
    return write_atomic(path, lambda f: torch.save(obj, f))


@contextlib.contextmanager
def hold_folder(out: Union[str, Path]) -> Iterator[Path]:
    """Hold a run folder while writing it: one writer at a time, through a lock file ``.lock`` naming
    this process, refused (ValueError, one line naming the holder) while its holder is alive and taken
    over when it is not. Temporary files left by a killed writer are removed once the folder is held;
    a folder this call created and left empty is removed again."""
    out = Path(out)
    lock = out / ".lock"
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            try:
                holder = int(lock.read_text().strip() or 0)
                os.kill(holder, 0)  # raises if no such process
            except (ValueError, ProcessLookupError, FileNotFoundError):
                lock.unlink(missing_ok=True)  # its holder is gone: a stale lock
                continue
            except PermissionError:
                pass  # alive, someone else's
            raise ValueError(f"{out} is being written by another process (pid {holder}, {lock}); wait for it or "
                             "choose another --out") from None
    else:
        raise ValueError(f"cannot take the lock {lock}")
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    for tmp in out.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    try:
        yield out
    finally:
        lock.unlink(missing_ok=True)
        if created and not any(out.iterdir()):
            out.rmdir()


def load_checkpoint(path: Union[str, Path], map_location: Union[str, torch.device, None] = "cpu") -> Dict[str, Any]:
    """Load a checkpoint with ``torch.load(..., weights_only=True)``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a checkpoint (truncated or corrupt, not a torch file, or holding
            pickled Python objects, which ``weights_only=True`` refuses to run), its content does not
            match its checksum, or its format is newer than this ganlib's; the message names the file
            and the problem in one line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch.load raises many kinds for a bad file (UnpicklingError, RuntimeError, KeyError, ...)
        text = str(e)
        if "Weights only load failed" in text and "unsupported global" in text.lower():  # any torch's wording
            raise ValueError(f"{path} holds pickled Python objects, which a checkpoint must not (refused by "
                             "torch.load(weights_only=True), so no code in it ran)") from None
        if isinstance(e, (RuntimeError, EOFError)) and ("zip" in text.lower() or isinstance(e, EOFError)):
            raise ValueError(f"{path} is not a readable checkpoint (truncated or corrupt)") from None
        raise ValueError(f"{path} is not a checkpoint (not a file written by torch.save)") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path} is not a checkpoint (it holds a {type(state).__name__}, not a dict)")
    version = state.get("format_version")
    if version is not None and (not isinstance(version, int) or version > FORMAT_VERSION):
        raise ValueError(f"{path} has checkpoint format {version!r}, newer than this ganlib reads ({FORMAT_VERSION}): "
                         "update ganlib")
    if version is not None and state.get("checksum") != checksum(state):
        raise ValueError(f"{path} is corrupt: its content does not match the checksum it was written with")
    return state


def get_rng_state(generator: Optional[torch.Generator] = None) -> Dict[str, Any]:
    """States of Python's ``random``, NumPy's global generator, torch's CPU (and CUDA) generators
    and an optional dedicated ``generator``, as plain data / tensors (``weights_only``-safe)."""
    version, internal, gauss = random.getstate()
    np_state = np.random.get_state()
    state: Dict[str, Any] = {
        "python": {"version": version, "state": list(internal), "gauss": gauss},
        "numpy": {
            "name": str(np_state[0]),
            "key": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if generator is not None:
        state["generator"] = generator.get_state()
    return state


def set_rng_state(state: Dict[str, Any], generator: Optional[torch.Generator] = None) -> None:
    """Restore what :func:`get_rng_state` captured (into ``generator`` too, if given)."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))
    npst = state["numpy"]
    np.random.set_state(
        (npst["name"], npst["key"].cpu().numpy().astype(np.uint32), npst["pos"], npst["has_gauss"], npst["cached_gaussian"])
    )
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    if generator is not None and "generator" in state:
        generator.set_state(state["generator"].cpu())
