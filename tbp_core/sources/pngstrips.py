"""Decode a PNG from the scanlines its stream check inflates: one inflation, not two.

:func:`~tbp_core.sources.pngstream.check_stream` inflates the whole image data to
verify it. For the common layouts (grey, grey+alpha, RGB, RGBA at 8 or 16 bits,
not interlaced, no tRNS), where each decoded row holds exactly the bytes of the
unfiltered scanline, :class:`StripDecoder` takes that inflated output as it
comes and hands it to libpng in strips: each strip is wrapped as a small PNG
whose zlib stream uses stored blocks (:func:`~tbp_core.sources.pngstream.raw_png`),
so libpng only unfilters it. PNG filters refer to the row above, so every
strip after the first starts with the previous strip's last decoded row,
stored unfiltered (filter type 0) — libpng then unfilters the strip's first real
row against exactly the row the original stream meant — and that extra row is
written back over itself. The decoded pixels are the ones a whole-file decode
gives; only one strip of scanlines is held at a time.
"""

from __future__ import annotations

import sys

import imagecodecs
import numpy as np

from tbp_core.sources.pngformat import Pass, PngInfo, PngStructureError
from tbp_core.sources.pngstream import raw_png

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

    Parameters
    ----------
    info : PngInfo
        The file's :func:`~tbp_core.sources.pngchunks.parse_png` result; must
        satisfy :func:`decodes_in_strips`.
    target : numpy.ndarray
        The output, shaped (rows, columns) or (rows, columns, channels), native
        8- or 16-bit samples, C-contiguous.
    """

    def __init__(self, info: PngInfo, target: np.ndarray) -> None:
        self._info = info
        self._target = target
        self._line = info.header.scanline_bytes(info.header.width)
        self._pending = bytearray()
        self._row = 0
        self._left = info.header.height * self._line  # bytes still wanted; surplus is dropped

    def __call__(self, piece: bytes) -> None:
        """Take the next inflated bytes; decode every complete strip."""
        if self._left <= 0:
            return
        take = memoryview(piece)[: self._left]
        self._pending += take
        self._left -= len(take)
        strip = STRIP_ROWS * self._line
        while len(self._pending) >= strip:
            self._decode(STRIP_ROWS)
        if self._left == 0 and self._pending:
            self._decode(len(self._pending) // self._line)

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

    def _decode(self, rows: int) -> None:
        size = rows * self._line
        scanlines = self._pending[:size]
        del self._pending[:size]
        first = self._row
        if first > 0:  # seed: the row above, unfiltered, in PNG (big-endian) order
            above = self._target[first - 1]
            if above.dtype.itemsize == 2 and sys.byteorder == "little":
                above = above.byteswap()
            scanlines[0:0] = b"\x00" + above.tobytes()
            first -= 1
        count = self._row + rows - first
        small = raw_png(self._info, Pass(0, 0, 1, 1, self._info.header.width, count), scanlines)
        del scanlines
        imagecodecs.png_decode(small, out=self._target[first : self._row + rows])
        self._row += rows
