"""CPU workers: independent runs on every core, each with one thread, and the allocator setting that
keeps the ensembles' large activations from page-faulting.

* :func:`parallel_map`: call a function on each item in forked worker processes, one CPU thread
  each (independent seeds on every core; :func:`ganlib.recipes.seeds.run_seeds` is built on it).
* :func:`one_cpu_thread`: run a block with one intra-op CPU thread.
* :func:`keep_freed_memory`: let glibc's ``malloc`` keep freed buffers for reuse instead of
  returning them to the kernel (the ensemble's activations would otherwise page-fault every step).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import warnings
from typing import Any, Callable, List, Optional, Sequence

import torch

__all__ = ["parallel_map", "one_cpu_thread", "keep_freed_memory"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
_KEPT: Optional[bool] = None


def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 512 << 20) -> bool:
    """Make glibc's ``malloc`` reuse freed CPU tensors instead of unmapping them; True if it did.

    By default glibc serves every allocation above 128 KiB (a threshold that adapts, up to 32 MiB)
    with a fresh ``mmap`` and gives the pages back on ``free``, so a loop that allocates
    megabyte-sized activations each step touches new pages each step: one page fault per 4 KiB.
    The ensemble's stacked activations are such buffers (the ring's MLPs at S = 8: about 1,600
    page faults per step, measured with ``getrusage``). ``mallopt(M_MMAP_THRESHOLD)`` serves
    allocations below ``mmap_threshold`` from the heap, and ``mallopt(M_TRIM_THRESHOLD)`` keeps up
    to ``trim_threshold`` bytes of freed heap for reuse. This is process-wide and changes no
    result; it only trades returning memory to the system for not faulting it in again (the
    effect of PyTorch's advice to run CPU training under jemalloc or tcmalloc). A no-op, returning
    False, where the C library is not glibc (macOS, Windows, musl). Called by
    :class:`ganlib.engine.ensemble.EnsembleTrainer` on the CPU; idempotent.

    Example:
        >>> from ganlib.engine.workers import keep_freed_memory
        >>> keep_freed_memory() in (True, False)  # False off glibc
        True
    """
    global _KEPT
    if _KEPT is None:
        _KEPT = False
        name = ctypes.util.find_library("c")
        if name and os.name == "posix":
            try:
                libc = ctypes.CDLL(name)
                if hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version"):
                    _KEPT = bool(libc.mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold))) and \
                        bool(libc.mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)))
            except OSError:
                _KEPT = False
    return _KEPT


@contextlib.contextmanager
def one_cpu_thread():
    """Run the block with one intra-op CPU thread, then restore the previous count.

    The 1-D networks here are tiny: extra threads only add synchronisation, and on a busy machine
    (more runnable threads than cores) they slow these loops down by an order of magnitude.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


_JOB: Optional[tuple] = None  # (fn, items) of the parallel_map in progress, inherited by forked workers


def _one_thread() -> None:
    torch.set_num_threads(1)


def _run_item(i: int) -> Any:
    fn, items = _JOB  # type: ignore[misc]
    return fn(items[i])


def parallel_map(fn: Callable[[Any], Any], items: Sequence[Any], processes: Optional[int] = None) -> List[Any]:
    """Return ``[fn(item) for item in items]``, computed in ``processes`` forked worker processes.

    Made for independent training runs on the CPU (seeds, or chunks of seeds for
    :class:`ganlib.engine.ensemble.EnsembleTrainer`): each worker runs with one PyTorch thread, so that
    two workers on two cores do not fight over them. The workers are forked, so ``fn`` may be a
    closure or a lambda defined in a notebook (nothing but the results is pickled); the results
    must be picklable (numbers, arrays, lists, dicts). The order of the results is that of
    ``items``, whatever the order in which the workers finish, and so is what each item computes:
    the number of processes changes the wall time, not the results.

    ``processes=None`` uses one worker per CPU core, at most one per item. It runs the items
    one after another in this process, also with one thread (so with the same results), when ``processes`` is 1, when there is one
    item, where the operating system cannot fork (Windows), or when CUDA is initialised (a forked
    child cannot use it).

    Raises:
        ValueError: ``processes`` below 1.
        RuntimeError: a worker died (killed, out of memory) instead of returning; its item is named.
        Exception: whatever ``fn`` raised in a worker, re-raised here.

    Example:
        >>> from ganlib.engine.workers import parallel_map
        >>> parallel_map(lambda n: n * n, [1, 2, 3], processes=2)
        [1, 4, 9]
    """
    global _JOB
    items = list(items)
    if processes is not None and (isinstance(processes, bool) or int(processes) != processes or processes < 1):
        raise ValueError(f"processes must be an integer >= 1 or None, got {processes!r}")
    workers = min(len(items), processes or os.cpu_count() or 1)
    forkable = "fork" in multiprocessing.get_all_start_methods() and not torch.cuda.is_initialized()
    if workers <= 1 or not forkable or _JOB is not None:  # _JOB set: already inside a worker
        with one_cpu_thread():  # as in a worker: the thread count changes the rounding of a result
            return [fn(item) for item in items]
    _JOB = (fn, items)
    try:
        with warnings.catch_warnings():  # Python >= 3.12 warns that fork() in a threaded process may
            warnings.simplefilter("ignore", DeprecationWarning)  # deadlock; the workers fork at once
            with concurrent.futures.ProcessPoolExecutor(workers, multiprocessing.get_context("fork"),
                                                        initializer=_one_thread) as pool:
                futures = [pool.submit(_run_item, i) for i in range(len(items))]
                results = []
                for i, future in enumerate(futures):
                    try:
                        results.append(future.result())
                    except concurrent.futures.process.BrokenProcessPool as e:
                        raise RuntimeError(f"parallel_map: a worker process died while computing item {i} "
                                           "(killed, or out of memory)") from e
                return results
    finally:
        _JOB = None
