r"""One object for where and how a run computes: device, precision, processes and compilation.

The training loop (:mod:`ganlib.engine.loop`) asks an :class:`Accelerator` for three things, in the
shape of Hugging Face accelerate's object of the same name:

* :meth:`~Accelerator.autocast`: the players' forwards in the run's precision;
* :meth:`~Accelerator.backward`: back-propagate a player's loss (scaled under float16);
* :meth:`~Accelerator.step`: a player's optimiser step and its schedule (unscaled, and skipped
  after an overflow, under float16).

:meth:`~Accelerator.prepare` hands back the players' forwards: compiled when
``TrainConfig.compile`` asks, wrapped in DistributedDataParallel under ``torchrun``
(:mod:`ganlib.engine.distributed`). The precision is :class:`ganlib.engine.precision.Precision`;
its float16 scalers are the accelerator's checkpoint state.

Example:
    >>> import torch
    >>> from ganlib.engine.accelerator import Accelerator
    >>> acc = Accelerator(batch_size=8, device="cpu", amp="fp16")
    >>> acc.device, acc.precision.dtype, acc.shard.local
    (device(type='cpu'), torch.float16, 8)
    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> opt = torch.optim.SGD([w], lr=0.5)
    >>> with acc.autocast():
    ...     loss = (w * w).sum()
    >>> acc.update(loss, (opt, None), "g")  # backward of s * loss, unscale, step, scale update
    >>> w.detach()
    tensor([0., 0.])
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from ganlib.engine.distributed import Shard
from ganlib.engine.optim import clear_grads
from ganlib.engine.precision import Precision
from ganlib.engine.runtime import resolve_device

__all__ = ["Accelerator"]


class Accelerator:
    """Device, precision (:class:`~ganlib.engine.precision.Precision`), this process's part of the
    batch (:class:`~ganlib.engine.distributed.Shard`) and compilation, behind one object.

    Args:
        batch_size: the global minibatch size :math:`m` (split over the processes of a group).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ... (see :func:`ganlib.engine.runtime.resolve_device`).
        amp: ``None``, ``"bf16"``, ``"fp16"`` or ``"auto"`` (see :mod:`ganlib.engine.precision`).
        compile: compile the players' forwards with :func:`torch.compile`.
    """

    def __init__(self, batch_size: int, device: str = "auto", amp: Optional[str] = None, compile: bool = False) -> None:
        self.shard = Shard(batch_size, resolve_device(device))
        self.device = self.shard.device
        self.precision = Precision(amp, self.device)
        self.compile = bool(compile)

    def prepare(self, G: nn.Module, D: nn.Module, fuse: bool) -> Tuple[Callable, Callable, Callable, Callable]:
        """The loop's forwards ``(G, D for its update, D frozen for G's update, D on two batches)``:
        compiled when asked, DDP-wrapped under a process group (:meth:`Shard.players`)."""
        compiled = [torch.compile(m) if self.compile else m for m in (G, D)]
        return self.shard.players(*compiled, fuse=fuse)

    def autocast(self) -> contextlib.AbstractContextManager:
        """``torch.autocast`` to the run's precision, or a no-op context in float32."""
        return self.precision.autocast()

    def backward(self, loss: Tensor, player: str) -> None:
        """Back-propagate ``player``'s (``"d"`` or ``"g"``) loss, scaled under float16."""
        self.precision.backward(loss, player)

    def step(self, pair: Sequence[Any], player: str, step: Optional[Callable[[torch.optim.Optimizer], None]] = None) -> None:
        """The optimiser step of ``pair = (optimizer, scheduler or None)`` (``step(optimizer)`` when
        given: the ensemble's step that spares frozen members), then its schedule."""
        opt, sched = pair
        self.precision.step(opt, player, step or (lambda o: o.step()))
        self.precision.schedule(sched)

    def update(self, loss: Tensor, pair: Sequence[Any], player: str,
               step: Optional[Callable[[torch.optim.Optimizer], None]] = None) -> None:
        """One update of a player: clear its gradients, :meth:`backward`, :meth:`step`."""
        clear_grads(pair[0])
        self.backward(loss, player)
        self.step(pair, player, step)

    def grad_scale(self, player: str) -> Optional[Tensor]:
        """float16's gradient scale of ``player`` (a penalty's inner gradient needs it), else ``None``."""
        return self.precision.grad_scale(player)

    @staticmethod
    @contextlib.contextmanager
    def frozen(params: Iterable[nn.Parameter]) -> Iterator[None]:
        """No weight gradients for ``params`` inside the block (:math:`D` while :math:`G` updates)."""
        params = list(params)
        for p in params:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p in params:
                p.requires_grad_(True)

    def state_dict(self) -> dict:
        """float16's scalers (empty otherwise), ``weights_only``-safe."""
        return self.precision.state_dict()

    def load_state_dict(self, state: Optional[dict]) -> None:
        self.precision.load_state_dict(state)
