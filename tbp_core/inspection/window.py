"""Grey-level windows: DICOM's linear window function (PS3.3 C.11.2.1.2) to 8-bit display."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class Window:
    """A grey-level window (DICOM Window Center / Window Width).

    Attributes
    ----------
    centre : float
        Window Center, in the values' units.
    width : float
        Window Width (at least 1).
    source : str
        Where the window came from, for a caption (e.g. ``"Window Center/Width
        in the file"``).
    """

    centre: float
    width: float
    source: str = ""

    @property
    def bounds(self) -> tuple[float, float]:
        """The values shown black and white: see :func:`window_bounds`."""
        return window_bounds(self.centre, self.width)


def window_bounds(centre: float, width: float) -> tuple[float, float]:
    """The values at and below which pixels are black, and above which white.

    DICOM's linear window function (PS3.3 C.11.2.1.2.1): with centre ``c`` and
    width ``w``, values ``<= c - 0.5 - (w-1)/2`` are black, values
    ``> c - 0.5 + (w-1)/2`` white, and the values between form a linear ramp.

    Parameters
    ----------
    centre : float
        Window Center.
    width : float
        Window Width, at least 1.

    Returns
    -------
    (float, float)
        ``(lower, upper)``.

    Raises
    ------
    ValueError
        When ``width`` is below 1.
    """
    if not width >= 1:
        raise ValueError(f"a window width must be at least 1, not {width}")
    half = (width - 1) / 2
    return centre - 0.5 - half, centre - 0.5 + half


def apply_window(
    values: Array, centre: float, width: float, *, invert: bool = False
) -> npt.NDArray[np.uint8]:
    """Map values through a linear window to 8-bit display values.

    Parameters
    ----------
    values : numpy.ndarray
        Grey values (any shape) or colour samples (each channel windowed alike).
    centre, width : float
        The window (see :func:`window_bounds`).
    invert : bool
        Show low values white (``MONOCHROME1``).

    Returns
    -------
    numpy.ndarray of uint8
        The same shape as ``values``.
    """
    lower, upper = window_bounds(centre, width)
    # Float pixel data: NaN is shown black, infinities black or white.
    data = np.nan_to_num(
        np.asarray(values, dtype=np.float32), nan=lower, posinf=upper, neginf=lower
    )
    if upper <= lower:  # width 1: a threshold at the centre
        out = np.where(data > lower, np.uint8(255), np.uint8(0)).astype(np.uint8)
    else:
        scaled = (data - np.float32(lower)) * np.float32(255.0 / (upper - lower))
        out = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    if invert:
        out = np.uint8(255) - out
    return out


def window_spanning(low: float, high: float, source: str) -> Window:
    """The window whose black level is ``low`` and white level ``high``."""
    width = max(high - low + 1, 1.0)
    return Window(centre=low + 0.5 + (width - 1) / 2, width=width, source=source)
