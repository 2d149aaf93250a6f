r"""Mixed precision for the two players: autocast, and one gradient scaler per player for float16.

:attr:`ganlib.engine.config.TrainConfig.amp` picks the mode:

* ``None``: float32 throughout.
* ``"bf16"``: :func:`torch.autocast` to bfloat16. bfloat16 keeps float32's exponent range, so
  gradients neither overflow nor underflow more than in float32 and no scaler is needed.
* ``"fp16"``: autocast to float16 with a :class:`torch.amp.GradScaler` per player. float16's largest
  value is 65504 and its smallest normal :math:`6.1\cdot10^{-5}`, so small gradients underflow
  to zero. The scaler multiplies the loss by :math:`s` before back-propagating,

  .. math:: \nabla_\theta (s\,L) = s\,\nabla_\theta L, \qquad
            \theta \leftarrow \operatorname{step}\big(\tfrac1s \nabla_\theta (s\,L)\big),

  divides the gradients by :math:`s` before the optimiser step, skips the step when a scaled
  gradient overflowed (and halves :math:`s`), and doubles :math:`s` after 2000 steps without
  overflow. :math:`D` and :math:`G` minimise different losses whose gradients overflow at
  different scales, so each player gets its own scaler. Arithmetic that leaves float16's range is
  done in float32 inside the autocast region: the minibatch standard deviation
  (:func:`ganlib.nets.layers.minibatch_std`): in float16 its :math:`\epsilon = 10^{-8}` is 0 and so is
  the square of any deviation below :math:`2.4\cdot10^{-4}`, which put its square root at 0 and made
  every gradient upstream of it infinite at every scale (the ``mnist`` preset trained nothing in fp16).
* ``"auto"``: bf16 on a CUDA device with native bfloat16 (compute capability 8.0 and up), fp16
  on older CUDA devices (T4, V100); bf16 on a CPU with bfloat16 instructions (AVX512-BF16 or
  AMX: Intel Xeon from Cooper Lake on, AMD Zen 4 and later), float32 on other CPUs and on Apple
  MPS. ``"bf16"`` works on every CPU when asked for, but without those instructions it is
  emulated: on a 2-core AVX2 CPU a training step of the paper's MNIST networks took 9.5 times
  as long in bf16 as in float32 (680 against 71 ms), where a CPU with them ran it about twice as
  fast as float32.

The gradient penalty of WGAN-GP differentiates :math:`D` with respect to its input inside
:math:`D`'s update. Under a scaler that inner gradient is taken of :math:`\frac sN\sum_i D(\hat x_i)`
(the scale a loss's mean would carry) and multiplied by :math:`N/s` before its norm is taken (:meth:`Precision.grad_scale`, the recipe of PyTorch's
automatic mixed precision notes), so the penalty sees the true gradient and float16 does not
flush it to zero.

Example:
    >>> import torch
    >>> from ganlib.engine.precision import Precision
    >>> p = Precision("fp16", torch.device("cpu"))
    >>> p.dtype, sorted(p.scalers)
    (torch.float16, ['d', 'g'])
    >>> Precision("auto", torch.device("mps")).dtype is None  # float32 on Apple's GPU
    True
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Dict, Optional

import torch
from torch import Tensor

__all__ = ["AMP_MODES", "native_bf16_cpu", "resolve_amp", "Precision"]

#: Values of :attr:`ganlib.engine.config.TrainConfig.amp`.
AMP_MODES = (None, "bf16", "fp16", "auto")


def _native_bf16(device: torch.device) -> bool:
    if device.type != "cuda":
        return False
    try:
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    except TypeError:  # torch < 2.3 has no including_emulation; it then reports native support only
        return bool(torch.cuda.is_bf16_supported())


def native_bf16_cpu() -> bool:
    """Whether this CPU has bfloat16 instructions (AVX512-BF16 or AMX tiles), so that bf16 autocast
    is fast on it rather than emulated (what ``amp="auto"`` picks on the CPU).

    Example:
        >>> from ganlib.engine.precision import native_bf16_cpu
        >>> isinstance(native_bf16_cpu(), bool)
        True
    """
    cpu = getattr(torch, "cpu", None)
    checks = [getattr(cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(bool(check()) for check in checks if check is not None)


def resolve_amp(amp: Optional[str], device: torch.device) -> Optional[torch.dtype]:
    """The autocast dtype of ``amp`` (one of :data:`AMP_MODES`) on ``device``, or ``None`` for float32.

    Example:
        >>> import torch
        >>> from ganlib.engine.precision import resolve_amp
        >>> resolve_amp("bf16", torch.device("cpu")), resolve_amp(None, torch.device("cpu"))
        (torch.bfloat16, None)
    """
    if amp not in AMP_MODES:
        raise ValueError(f"amp must be one of {', '.join(map(repr, AMP_MODES))}, got {amp!r}")
    if amp == "auto":
        if device.type == "cpu":
            return torch.bfloat16 if native_bf16_cpu() else None
        if device.type != "cuda":
            return None
        return torch.bfloat16 if _native_bf16(device) else torch.float16
    return {None: None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]


class Precision:
    """Autocast and (for float16) one :class:`torch.amp.GradScaler` per player (``"d"``, ``"g"``).

    The training loop runs each player's forward in :meth:`autocast`, back-propagates with
    :meth:`backward` and updates with :meth:`step`; checkpoints keep :meth:`state_dict` (the
    scalers' scales and counters), so a resumed float16 run continues bit-identically.

    Attributes:
        dtype: the autocast dtype (``torch.bfloat16``, ``torch.float16``) or ``None`` for float32.
        scalers: ``{"d": GradScaler, "g": GradScaler}`` under float16, else empty.
    """

    def __init__(self, amp: Optional[str], device: torch.device) -> None:
        self.device, self.dtype = device, resolve_amp(amp, device)
        self.scalers: Dict[str, torch.amp.GradScaler] = {}
        if self.dtype == torch.float16:
            self.scalers = {p: torch.amp.GradScaler(device.type) for p in ("d", "g")}

    def autocast(self):
        """``torch.autocast`` to ``dtype``, or a no-op context in float32."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def grad_scale(self, player: str) -> Optional[Tensor]:
        """The scale :math:`s` of ``player``'s scaler as a 0-dim tensor on the device (no host
        synchronisation), or ``None`` without a scaler: what a penalty multiplies :math:`D(\\hat x)` by
        before differentiating it and divides its input gradient by afterwards."""
        scaler = self.scalers.get(player)
        return None if scaler is None else scaler.scale(torch.ones((), device=self.device))

    def backward(self, loss: Tensor, player: str) -> None:
        """``loss.backward()``, of the scaled loss :math:`s\\,L` under a scaler."""
        scaler = self.scalers.get(player)
        (loss if scaler is None else scaler.scale(loss)).backward()

    def step(self, optimizer: torch.optim.Optimizer, player: str, plain_step: Callable[[torch.optim.Optimizer], None]) -> None:
        """``plain_step(optimizer)`` in float32 and bf16; under a scaler, ``scaler.step`` (unscale,
        skip when a gradient overflowed) then ``scaler.update``."""
        scaler = self.scalers.get(player)
        if scaler is None:
            plain_step(optimizer)
            return
        scaler.step(optimizer)
        scaler.update()

    def schedule(self, scheduler: Optional[Any]) -> None:
        """``scheduler.step()`` (nothing for ``None``). Under a scaler, torch's warning that the
        scheduler stepped before the optimiser (true when the scaler skipped the step) is silenced:
        the schedule follows training steps, skipped or not."""
        if scheduler is None:
            return
        if not self.scalers:
            scheduler.step()
            return
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)` before")
            scheduler.step()

    def state_dict(self) -> Dict[str, Any]:
        """The scalers' states (empty without a scaler), ``weights_only``-safe."""
        return {p: s.state_dict() for p, s in self.scalers.items()}

    def load_state_dict(self, state: Optional[Dict[str, Any]]) -> None:
        """Restore :meth:`state_dict`; a checkpoint without scalers leaves them as they are."""
        for p, s in (state or {}).items():
            if p in self.scalers:
                self.scalers[p].load_state_dict(s)
