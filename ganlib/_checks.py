"""Argument checks shared by every package of ganlib: one place, one wording.

Each function returns the checked value in a normalised form (an ``int``, a ``float``, a float64
array) or raises one clear error that names the argument: :class:`TypeError` for the wrong kind of
object, :class:`ValueError` for a value out of range. They run before any work is done, so bad
input never costs a training run.
"""

from __future__ import annotations

import math
import numpy as np
import torch
from scipy.integrate import simpson

#: Largest allowed :math:`|\int p\,dx - 1|` of a density on its grid (see :func:`density`).
NORMALISATION_TOL = 1e-3


def positive_int(value: object, name: str, *, minimum: int = 1) -> int:
    """``value`` as an ``int`` >= ``minimum`` (a ``bool`` is not an int here)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def positive_float(value: object, name: str) -> float:
    """``value`` as a positive, finite ``float``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return float(value)


def finite_float(value: object, name: str) -> float:
    """``value`` as a finite ``float``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def open_fraction(value: object, name: str, example: str = "0.99") -> float:
    """``value`` as a ``float`` strictly between 0 and 1 (e.g. a probability mass)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), e.g. {example}, got {value!r}")
    return float(value)


def float_array(a: object, name: str) -> np.ndarray:
    """``a`` as a real float64 numpy array (any shape)."""
    if hasattr(a, "detach"):  # a torch tensor
        a = a.detach().cpu().double().numpy()
    if np.iscomplexobj(a):
        raise TypeError(f"{name} must be real-valued, got a complex array")
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers: {exc}") from None


def finite(a: np.ndarray, name: str) -> np.ndarray:
    """``a`` unchanged if every entry is finite."""
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")
    return a


def unit_interval(a: object, name: str) -> np.ndarray:
    """``a`` as a finite float64 array with every value in [0, 1] (e.g. a curve :math:`D(x)`)."""
    arr = finite(float_array(a, name), name)
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must take values in [0, 1], got range [{arr.min():.3g}, {arr.max():.3g}]")
    return arr


def points(a: object, name: str) -> np.ndarray:
    """``a`` as a finite float64 array of points, shape ``(n, dim)``; 1-D input is ``(n, 1)``."""
    arr = float_array(a, name)
    if arr.ndim == 1:  # 1-D data: one coordinate per point
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have shape (n, dim) (or (n,) for 1-D data) with n >= 1, got {arr.shape}")
    return finite(arr, name)


def grid(x: object) -> np.ndarray:
    """``x`` as a strictly increasing, finite 1-D float64 grid of at least 3 points (Simpson's rule)."""
    x = float_array(x, "x")
    if x.ndim != 1:
        raise ValueError(f"grid x must be 1-D, got shape {x.shape}")
    if x.size < 3:
        raise ValueError(f"grid x needs at least 3 points for Simpson's rule, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("grid x contains non-finite values")
    if not np.all(np.diff(x) > 0):
        raise ValueError("grid x must be strictly increasing (found a non-increasing step)")
    return x


def nonnegative(p: object, name: str) -> np.ndarray:
    """``p`` as a finite, non-negative float64 array (density values, not necessarily normalised)."""
    p = float_array(p, name)
    if not np.all(np.isfinite(p)):
        raise ValueError(f"density {name} contains non-finite values (NaN or inf)")
    if np.any(p < 0):
        raise ValueError(f"density {name} has negative values (min {p.min():.3g}); a density must be >= 0")
    return p


def density(p: object, name: str, x: np.ndarray) -> np.ndarray:
    """``p`` as a density on the checked grid ``x``: same shape, non-negative, integral 1 within
    :data:`NORMALISATION_TOL` by Simpson's rule."""
    p = nonnegative(p, name)
    if p.shape != x.shape:
        raise ValueError(f"shape mismatch: density {name} has shape {p.shape} but grid x has shape {x.shape}")
    mass = float(simpson(p, x=x))
    if abs(mass - 1.0) > NORMALISATION_TOL:
        raise ValueError(
            f"density {name} integrates to {mass:.6g} on the grid, not 1 (tolerance {NORMALISATION_TOL:g}); "
            "widen the grid to cover its support or refine it"
        )
    return p


def densities_on_grid(x: object, **named: object) -> tuple:
    """The checked grid ``x`` and each named density checked on it (:func:`grid`, :func:`density`):
    ``x, p, q = densities_on_grid(x, p=p, q=q)``."""
    x = grid(x)
    return (x, *(density(p, name, x) for name, p in named.items()))


def same_shape(a: np.ndarray, name: str, x: np.ndarray, what: str = "grid x") -> np.ndarray:
    """``a`` unchanged if it has the shape of ``x``."""
    if a.shape != x.shape:
        raise ValueError(f"shape mismatch: {name} has shape {a.shape} but {what} has shape {x.shape}")
    return a


def logits(t: object, name: str) -> "torch.Tensor":
    """``t`` unchanged if it is a non-empty floating-point tensor of discriminator outputs
    (metadata only: no host synchronisation, safe on the training hot path)."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of discriminator logits, got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor of logits, got dtype {t.dtype}")
    if t.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)}): a batch mean needs at least one logit")
    return t


def logit_pair(d_real_logits: object, d_fake_logits: object) -> None:
    """Both :func:`logits`, on the same device."""
    real = logits(d_real_logits, "d_real_logits")
    fake = logits(d_fake_logits, "d_fake_logits")
    if real.device != fake.device:
        raise ValueError(
            f"d_real_logits is on {real.device} but d_fake_logits is on {fake.device}: put both on the same device"
        )
