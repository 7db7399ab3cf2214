"""Pixel buffers of decoded images: alpha removal and EXIF orientation, in place or banded.

Alpha removal and compositing are exact integer maths in the sample's own bit
depth (see :mod:`tbp_core.sources.images`); large images are processed in
bands of about 4 MiB so temporaries stay small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from tbp_core.errors import UnsupportedImageError
from tbp_core.sources.sourceimage import AlphaPolicy

#: Rows are processed in bands of about this many bytes to bound temporaries.
_BAND_BYTES = 4 * 1024 * 1024


@dataclass
class Pixels:
    """A bytearray of samples (little-endian) with its layout; internal, mutable."""

    buffer: bytearray
    rows: int
    columns: int
    channels: int
    bits: int

    @classmethod
    def new(cls, rows: int, columns: int, channels: int, bits: int) -> Pixels:
        """A zero-filled buffer for ``rows`` x ``columns`` pixels of ``channels`` samples."""
        size = rows * columns * channels * (bits // 8)
        return cls(bytearray(size), rows, columns, channels, bits)

    @property
    def dtype(self) -> np.dtype[np.uint8] | np.dtype[np.uint16]:
        """The NumPy sample type: little-endian uint16 or uint8."""
        return np.dtype("<u2") if self.bits == 16 else np.dtype(np.uint8)

    def array(self) -> npt.NDArray[np.uint8] | npt.NDArray[np.uint16]:
        """A (rows, columns, channels) view of the buffer."""
        shape = (self.rows, self.columns, self.channels)
        return np.frombuffer(self.buffer, self.dtype).reshape(shape)  # type: ignore[return-value]


# --------------------------------------------------------------------------- alpha


def resolve_alpha(name: str, pixels: Pixels, policy: AlphaPolicy, notices: list[str]) -> None:
    """Remove the last channel (alpha) in place as ``policy`` says."""
    if _alpha_is_opaque(pixels):
        notices.append("removed an alpha channel in which every pixel is fully opaque")
        _strip_alpha(pixels, "drop")
        return
    if policy == "refuse":
        raise UnsupportedImageError(
            f"'{name}' has transparent pixels (alpha channel); DICOM images have no "
            "transparency — choose --alpha drop (keep colours), white or black "
            "(composite onto that background)"
        )
    notices.append(
        "transparent pixels: alpha channel dropped, colours kept"
        if policy == "drop"
        else f"transparent pixels composited onto {policy}"
    )
    _strip_alpha(pixels, policy)


def bands(pixels: Pixels) -> range:
    """First rows of bands of about 4 MiB each; ``.step`` is the band height."""
    row_bytes = pixels.columns * pixels.channels * (pixels.bits // 8)
    return range(0, pixels.rows, max(1, _BAND_BYTES // row_bytes))


def _alpha_is_opaque(pixels: Pixels) -> bool:
    arr = pixels.array()
    top = (1 << pixels.bits) - 1
    step = bands(pixels).step
    return all(bool((arr[y : y + step, :, -1] == top).all()) for y in bands(pixels))


def _strip_alpha(pixels: Pixels, policy: AlphaPolicy) -> None:
    """Write the colour channels over the start of the same buffer, then shrink it."""
    _write_without_alpha(pixels, policy)
    kept = pixels.channels - 1
    del pixels.buffer[pixels.rows * pixels.columns * kept * (pixels.bits // 8) :]
    pixels.channels = kept


def _write_without_alpha(pixels: Pixels, policy: AlphaPolicy) -> None:
    # Output band k ends before input band k+1 starts, and each band is read
    # into a temporary before it is written, so working in place is safe.
    src = pixels.array()
    kept = pixels.channels - 1
    dst = np.frombuffer(pixels.buffer, pixels.dtype, count=src.size // pixels.channels * kept)
    dst = dst.reshape(pixels.rows, pixels.columns, kept)
    top = (1 << pixels.bits) - 1
    background = top if policy == "white" else 0
    # Compositing works in uint32 (c * a <= top**2 < 2**32): use thinner bands.
    step = bands(pixels).step
    if policy != "drop":
        step = max(1, step * (pixels.bits // 8) // 4)
    for y in range(0, pixels.rows, step):
        band = src[y : y + step]
        if policy == "drop":
            dst[y : y + step] = band[..., :kept].copy()
            continue
        alpha = band[..., kept:].astype(np.uint32)
        mixed = band[..., :kept].astype(np.uint32)
        mixed *= alpha
        if background:
            mixed += (np.uint32(top) - alpha) * np.uint32(background)
        mixed += np.uint32(top // 2)
        mixed //= np.uint32(top)
        np.copyto(dst[y : y + step], mixed, casting="unsafe")


# --------------------------------------------------------------------------- orientation


def orient(pixels: Pixels, orientation: int | None, notices: list[str]) -> tuple[Pixels, int]:
    """Apply an EXIF orientation; returns the upright pixels and the value applied."""
    if orientation is None or orientation == 1:
        return pixels, 1
    if not 2 <= orientation <= 8:
        notices.append(f"ignored an invalid EXIF orientation value {orientation}")
        return pixels, 1
    upright = Pixels.new(
        *((pixels.columns, pixels.rows) if orientation >= 5 else (pixels.rows, pixels.columns)),
        pixels.channels,
        pixels.bits,
    )
    np.copyto(upright.array(), _oriented_view(pixels.array(), orientation))
    verb = {3: "rotated", 6: "rotated", 8: "rotated", 2: "flipped", 4: "flipped"}
    notices.append(
        f"{verb.get(orientation, 'rotated and flipped')} upright from EXIF orientation "
        f"{orientation}"
    )
    return upright, orientation


def _oriented_view(arr: npt.NDArray[np.generic], orientation: int) -> npt.NDArray[np.generic]:
    """A view of (rows, columns, channels) pixels as EXIF ``orientation`` says to display them."""
    swapped = arr.transpose(1, 0, 2)
    views = {
        2: arr[:, ::-1],  # mirrored horizontally
        3: arr[::-1, ::-1],  # rotated 180°
        4: arr[::-1],  # mirrored vertically
        5: swapped,  # transposed
        6: swapped[:, ::-1],  # stored rotated 90° anticlockwise: turn clockwise
        7: swapped[::-1, ::-1],  # transversed
        8: swapped[::-1],  # stored rotated 90° clockwise: turn anticlockwise
    }
    return views[orientation]


def from_pillow(im: Image.Image, channels: int, bits: int, raw: str) -> Pixels:
    """Copy a loaded Pillow image into a new buffer, band by band."""
    width, height = im.size
    pixels = Pixels.new(height, width, channels, bits)
    dst = pixels.array()
    step = bands(pixels).step
    for y in bands(pixels):
        y1 = min(height, y + step)
        band = np.frombuffer(im.crop((0, y, width, y1)).tobytes(), raw)
        dst[y:y1] = band.reshape(y1 - y, width, channels)
    return pixels
