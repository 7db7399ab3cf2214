"""The PNG format's building blocks: signature, chunk and header records, errors, zlib.

Shared by :mod:`tbp_core.sources.pngchunks` (checking a file and reading its
metadata) and :mod:`tbp_core.sources.pngstream` (streams rebuilt for libpng).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Input given to zlib per call (it copies what it leaves unused).
INPUT_STEP = 256 * 1024

COLOUR_TYPE_NAMES = {0: "grey", 2: "RGB", 3: "palette", 4: "grey+alpha", 6: "RGBA"}
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


class PngStructureError(ValueError):
    """The chunk structure is broken; the message says how, without the file name."""


class AppleCgbiError(PngStructureError):
    """The file is Apple's CgBI variant of PNG, which standard decoders cannot read."""


@dataclass(frozen=True)
class Chunk:
    """One chunk: its type and where its data lies in the file."""

    type: str
    start: int
    length: int

    @property
    def end(self) -> int:
        """Offset just past the chunk's data (where its CRC begins)."""
        return self.start + self.length


@dataclass(frozen=True)
class Header:
    """The values of the IHDR chunk."""

    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlaced: bool

    @property
    def channels(self) -> int:
        """Samples per pixel as stored (a palette index counts as one)."""
        return CHANNELS[self.colour_type]

    def scanline_bytes(self, width: int) -> int:
        """Bytes of one filtered scanline of ``width`` pixels, filter byte included."""
        return (width * self.channels * self.bit_depth + 7) // 8 + 1


@dataclass(frozen=True)
class PngInfo:
    """What :func:`parse_png` found.

    Attributes
    ----------
    header : Header
        The IHDR values.
    idat : tuple of Chunk
        The image data chunks, in order.
    palette : bytes or None
        PLTE entries for a palette image (at most ``2**bit_depth`` of them).
    transparency : bytes or None
        A usable tRNS chunk; None when absent or ignored (see ``notices``).
    exif : bytes or None
        Raw EXIF from eXIf (or an ImageMagick text chunk), TIFF header first.
    icc_profile : bytes or None
        The decompressed iCCP profile when it fits the image's colour type.
    text : dict of str to str
        tEXt/zTXt/iTXt keyword → text (repeated keywords joined by newlines).
    notices : tuple of str
        Things worth telling the user (ignored chunks, skipped text).
    libpng_ready : bool
        True when the file can go to libpng as it is without it printing
        warnings; otherwise decode :func:`minimal_png` instead.
    animated : bool
        An APNG animation control chunk was present (only the default image
        is decoded).
    """

    header: Header
    idat: tuple[Chunk, ...]
    palette: bytes | None
    transparency: bytes | None
    exif: bytes | None
    icc_profile: bytes | None
    text: dict[str, str]
    notices: tuple[str, ...]
    libpng_ready: bool
    animated: bool

    @property
    def idat_size(self) -> int:
        """Total bytes of compressed image data."""
        return sum(c.length for c in self.idat)


@dataclass(frozen=True)
class Pass:
    """One reduced image of an interlaced PNG, or the whole image otherwise."""

    x0: int
    y0: int
    dx: int
    dy: int
    width: int
    height: int


def u32(data: bytes | memoryview, offset: int) -> int:
    """The big-endian unsigned 32-bit integer at ``offset``."""
    value: int = struct.unpack_from(">I", data, offset)[0]
    return value


def chunk_bytes(chunk_type: bytes, payload: bytes | memoryview) -> bytes:
    """Serialise one chunk (length, type, data, CRC-32)."""
    crc = zlib.crc32(payload, zlib.crc32(chunk_type))
    return b"".join((struct.pack(">I", len(payload)), chunk_type, payload, struct.pack(">I", crc)))


def inflated(
    inflater: zlib._Decompress, inputs: Sequence[memoryview], step: int
) -> Iterator[bytes]:
    """Decompress ``inputs`` in order, yielding output pieces of at most ``step`` bytes.

    Input is fed in small slices: zlib copies whatever input it has not used
    yet, so a large slice would be copied again and again.
    """
    for view in inputs:
        for start in range(0, len(view), INPUT_STEP):
            pending: bytes | memoryview = view[start : start + INPUT_STEP]
            while pending:
                piece = inflater.decompress(pending, step)
                if piece:
                    yield piece
                pending = inflater.unconsumed_tail
                if inflater.eof:
                    return
    while not inflater.eof:  # output held back by the step limit
        piece = inflater.decompress(b"", step)
        if not piece:
            return
        yield piece
