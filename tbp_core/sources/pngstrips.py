"""Decode a PNG from the scanlines its stream check inflates: one inflation, not two.

:func:`~tbp_core.sources.pngstream.check_stream` inflates the whole image data to
verify it. For the common layouts (grey, grey+alpha, RGB, RGBA at 8 or 16 bits,
not interlaced, no tRNS), where each decoded row holds exactly the bytes of the
unfiltered scanline, :class:`StripDecoder` takes that inflated output as it
comes and hands it to libpng in strips: each strip is wrapped as a small PNG
whose zlib stream uses stored blocks (:class:`~tbp_core.sources.pngstored.StoredPng`),
so libpng only unfilters it. PNG filters refer to the row above, so every
strip after the first starts with the previous strip's last decoded row,
stored unfiltered (filter type 0) — libpng then unfilters the strip's first real
row against exactly the row the original stream meant — and that extra row is
written back over itself. The decoded pixels are the ones a whole-file decode
gives; only one strip of scanlines is held at a time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import imagecodecs
import numpy as np

from tbp_core.sources.pngformat import Pass, PngInfo, PngStructureError
from tbp_core.sources.pngstored import StoredPng

#: Rows per strip: small enough to stay in cache-sized pieces, large enough
#: that libpng's per-image setup is negligible.
STRIP_ROWS = 256


def decodes_in_strips(info: PngInfo) -> bool:
    """Whether the image's decoded rows are its unfiltered scanlines byte for byte.

    Parameters
    ----------
    info : PngInfo
        The file's :func:`~tbp_core.sources.pngchunks.parse_png` result.

    Returns
    -------
    bool
        True for non-interlaced grey, grey+alpha, RGB and RGBA images of 8 or 16
        bits without a tRNS chunk (palette, low bit depths and tRNS expand
        while decoding, so a decoded row cannot seed the next strip).
    """
    h = info.header
    return (
        not h.interlaced
        and h.colour_type in (0, 2, 4, 6)
        and h.bit_depth in (8, 16)
        and info.transparency is None
    )


class StripDecoder:
    """Receive inflated scanlines in pieces and decode them into ``target`` strip by strip.

    Each piece is copied once, straight into the small PNG of its strip
    (:class:`~tbp_core.sources.pngstored.StoredPng`).

    Parameters
    ----------
    info : PngInfo
        The file's :func:`~tbp_core.sources.pngchunks.parse_png` result; must
        satisfy :func:`decodes_in_strips`.
    target : numpy.ndarray
        The output, shaped (rows, columns) or (rows, columns, channels), native
        8- or 16-bit samples, C-contiguous.
    progress : callable, optional
        Called after each strip with the number of leading rows of ``target``
        that are final: all decoded rows but the last, which the next strip
        writes again as its seed (every row after the last strip).
    """

    def __init__(
        self, info: PngInfo, target: np.ndarray, progress: Callable[[int], None] | None = None
    ) -> None:
        self._info = info
        self._target = target
        self._progress = progress
        self._line = info.header.scanline_bytes(info.header.width)
        self._strip: StoredPng | None = None
        self._spare: bytearray | None = None  # the last strip's PNG, reused by the next
        self._strip_rows = 0
        self._row = 0
        self._left = info.header.height * self._line  # bytes still wanted; surplus is dropped

    def __call__(self, piece: bytes) -> None:
        """Take the next inflated bytes; decode every complete strip."""
        if self._left <= 0:
            return
        view = memoryview(piece)[: self._left]
        self._left -= len(view)
        while view:
            strip = self._strip if self._strip is not None else self._next_strip()
            view = view[strip.put(view) :]
            if strip.full:
                self._decode(strip)

    def finish(self) -> None:
        """Check that every row was decoded (the stream check has already ended it).

        Raises
        ------
        PngStructureError
            Fewer rows arrived than the image has.
        """
        if self._row != self._info.header.height:
            raise PngStructureError(
                f"its compressed pixel data ends early: {self._row:,} of "
                f"{self._info.header.height:,} rows (the file is truncated)"
            )

    def _next_strip(self) -> StoredPng:
        """Start the next strip's PNG, seeded with the row above when there is one.

        The first strip, which has no seed, takes one row more, so that every
        full strip's PNG has the same size and reuses the last one's memory.
        """
        seeded = self._row > 0
        rows = min(STRIP_ROWS + (not seeded), self._info.header.height - self._row)
        width = self._info.header.width
        self._strip = StoredPng(self._info, Pass(0, 0, 1, 1, width, rows + seeded), self._spare)
        self._strip_rows = rows
        if seeded:  # the row above, unfiltered (filter type 0), in PNG (big-endian) order
            above = self._target[self._row - 1]
            if above.dtype.itemsize == 2 and sys.byteorder == "little":
                above = above.byteswap()
            self._strip.put(memoryview(b"\x00" + above.tobytes()))
        return self._strip

    def _decode(self, strip: StoredPng) -> None:
        first = self._row - 1 if self._row > 0 else 0
        self._strip = None
        end = self._row + self._strip_rows
        self._spare = strip.finish()
        imagecodecs.png_decode(self._spare, out=self._target[first:end])
        self._row = end
        if self._progress is not None:
            self._progress(end if end == self._info.header.height else end - 1)
