r"""One game across N processes: the training loop under ``torchrun`` and DistributedDataParallel.

Launch any ``python -m ganlib train ...`` (or a script that builds a :class:`ganlib.engine.loop.Trainer`
after :func:`init_from_env`) with ``torchrun --nproc_per_node=N``; each process then trains the same
game on its shard of every minibatch:

.. math::

    \nabla_\theta \frac1m \sum_{i=1}^{m} \ell_i
    = \frac1N \sum_{r=1}^{N} \nabla_\theta \frac{N}{m} \sum_{i \in B_r} \ell_i ,

the left side Algorithm 1's minibatch gradient for the global batch of :math:`m` samples, the right
side what :class:`torch.nn.parallel.DistributedDataParallel` computes: rank :math:`r`'s mean over its
:math:`m/N` samples :math:`B_r`, averaged over ranks by an all-reduce during the backward pass.
Every rank then takes the same optimizer step and the weights stay identical.

How the loop is laid out over ranks (:class:`Shard`):

* ``batch_size`` is the **global** :math:`m`; each rank gets :math:`m/N` (an error names the
  remainder when :math:`N` does not divide :math:`m`). The epoch, the learning rates and the
  schedule are those of the single-process run with batch :math:`m`.
* Every rank draws the *whole* global batch's indices, noise and gradient-penalty interpolation
  weights from the run's shared generator (same seed on every rank) and keeps its own rows. So a run
  on N processes is the single-process run with batch :math:`m` up to the order of floating-point
  sums, whatever N is, and the shared generator's state is the same on every rank (one checkpoint
  serves all). Drawing m rows instead of m/N costs a few microseconds per step.
* What the loop does not draw itself, dropout masks and augmentations from the global generator,
  is decorrelated across ranks: each process reseeds it from the run seed and its rank.
* :math:`D` is wrapped for its own update; :math:`G`'s update goes through the plain, frozen
  :math:`D` (its parameters get no gradient, so DDP has nothing to reduce there), and :math:`G`
  is wrapped for its own update. A gradient penalty differentiates through the plain :math:`D`
  and its parameter gradient joins the wrapped forward's in the one backward that DDP reduces.
  Two separate :math:`D` forwards (a :math:`D` with batch norm) run inside one wrapped call.
* Batch norm normalises with each rank's own batch statistics (as :class:`torch.nn.BatchNorm2d`
  does under DDP). DDP copies rank 0's running statistics to every rank at the start of each
  wrapped forward, and the forward then updates them locally, so they drift apart between copies;
  rank 0's are the ones checkpointed and sampled with. :class:`torch.nn.SyncBatchNorm` would
  reproduce the single-process statistics but needs a GPU and an all-reduce per layer.
* Rank 0 alone writes checkpoints and files and shows the progress bar; the statistics of the
  history are averaged over ranks when they are read back, every ``log_every`` steps.
* Like every step of the loop, :meth:`~ganlib.engine.loop.Loop.save_checkpoint` and
  :meth:`~ganlib.engine.loop.Trainer.state_dict` are collective under a process group (they gather the
  ranks' generators): every rank calls them, as the loop and the command line do; a call on one
  rank alone would wait for the others.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Optional, Tuple

import torch
import torch.distributed as dist
from torch import Tensor, nn

__all__ = ["world", "init_from_env", "Shard"]


def world() -> Tuple[int, int]:
    """``(rank, world_size)`` of this process: ``(0, 1)`` outside an initialised process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_from_env(device: str = "auto") -> bool:
    """Join the process group ``torchrun`` describes in the environment (``WORLD_SIZE`` > 1):
    NCCL when the run trains on CUDA, gloo on the CPU. Returns True when this process is now in a
    group of two or more; a no-op (False) for a plain ``python`` launch."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or not dist.is_available():
        return False
    if not dist.is_initialized():
        cuda = torch.cuda.is_available() and str(device).split(":")[0] in ("auto", "cuda")
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if cuda else "gloo")
    return dist.get_world_size() > 1


class _BothBatches(nn.Module):
    """``D(x), D(fake)`` in one call, so DDP sees one forward before the one backward."""

    def __init__(self, D: nn.Module) -> None:
        super().__init__()
        self.D = D

    def forward(self, x: Tensor, fake: Tensor) -> Tuple[Tensor, Tensor]:
        return self.D(x), self.D(fake)


class Shard:
    """This process's part of a run (see the module docstring); the identity for one process.

    Args:
        batch_size: the global minibatch size :math:`m`.
        device: the device the run asked for (``torch.device``); under a process group on CUDA,
            this rank's ``cuda:LOCAL_RANK``.

    Raises:
        ValueError: ``batch_size`` not divisible by the number of processes.
    """

    def __init__(self, batch_size: int, device: torch.device) -> None:
        self.rank, self.world = world()
        if batch_size % self.world:
            raise ValueError(f"batch_size {batch_size} (the global batch) must be divisible by the {self.world} "
                             f"processes: each rank trains on batch_size / {self.world} samples")
        self.local = batch_size // self.world
        self.rows = slice(self.rank * self.local, (self.rank + 1) * self.local)
        if self.world > 1 and device.type == "cuda" and device.index is None:
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        self.device, self.main = device, self.rank == 0

    def take(self, t: Tensor) -> Tensor:
        """This rank's rows of a global batch ``t`` (``(world * n, ...)`` -> ``(n, ...)``)."""
        return t if self.world == 1 else t.narrow(0, self.rank * (len(t) // self.world), len(t) // self.world)

    def rand(self, generator: torch.Generator) -> Optional[Callable[[Tuple[int, ...]], Tensor]]:
        """A penalty's ``rand``: this rank's rows of uniform draws for the global batch (None for one process)."""
        if self.world == 1:
            return None
        return lambda shape: self.take(torch.rand((shape[0] * self.world, *shape[1:]), generator=generator,
                                                  device=self.device))

    def reseed(self, seed: int) -> None:
        """Give each rank its own global generator (dropout, augmentation), derived from seed and rank."""
        if self.world > 1:
            torch.manual_seed(seed * 100_003 + 7_919 * (self.rank + 1))

    def players(self, g: nn.Module, d: nn.Module, fuse: bool) -> Tuple[Callable, Callable, Callable, Callable]:
        """The loop's forwards ``(G, D for its update, D frozen for G's update, D on two batches)``:
        DDP wrappers under a process group, the modules themselves otherwise. ``fuse``: D's update
        is one forward on ``[x; G(z)]`` (else two, in one wrapped call). One DDP instance per
        module: two would both hook the same parameters."""
        pair = lambda x, f: (d(x), d(f))  # noqa: E731
        if self.world == 1:
            return g, d, d, pair
        ids = [self.device.index] if self.device.type == "cuda" else None
        wrap = lambda m: nn.parallel.DistributedDataParallel(m, device_ids=ids)  # noqa: E731
        return (wrap(g), wrap(d), d, pair) if fuse else (wrap(g), d, d, wrap(_BothBatches(d)))

    def average_(self, t: Tensor) -> Tensor:
        """All-reduce ``t`` to its mean over ranks, in place (a no-op for one process)."""
        if self.world > 1:
            dist.all_reduce(t)
            t.div_(self.world)
        return t

    def barrier(self) -> None:
        """Wait for every rank (a no-op for one process)."""
        if self.world > 1:
            dist.barrier()

    def rng_states(self, state: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
        """``{"rng_ranks": [every rank's state()]}`` for a checkpoint (collective: every rank calls it)."""
        if self.world == 1:
            return {}
        states: list = [None] * self.world
        dist.all_gather_object(states, state())
        return {"rng_ranks": states}

    def load_rng_state(self, saved: Dict[str, Any], restore: Callable[[Dict[str, Any]], None], seed: int) -> None:
        """Restore this rank's global generator from a checkpoint of as many ranks; after a change in
        the number of processes, reseed it from the seed, the rank and the number of ranks."""
        ranks = saved.get("rng_ranks")
        if self.world > 1 and ranks is not None and len(ranks) == self.world:
            restore(ranks[self.rank])
        elif self.world > 1:
            self.reseed(seed * 31 + self.world)
