"""Rebuild PNG streams that libpng decodes without printing warnings.

:func:`minimal_png` keeps only the chunks the pixels need; an interlaced
image is split into its Adam7 passes (:func:`adam7_passes`), each read by
:class:`PassReader` and wrapped by :func:`raw_png` as a small
non-interlaced PNG.
"""

from __future__ import annotations

import struct
import zlib

from tbp_core.sources.pngformat import (
    SIGNATURE,
    Header,
    Pass,
    PngInfo,
    PngStructureError,
    chunk_bytes,
    inflated,
)

#: Largest payload of one stored (uncompressed) deflate block.
_STORED_BLOCK = 65535
#: Output size of one zlib call while inflating image data.
_INFLATE_STEP = 4 * 1024 * 1024

#: Adam7 passes as (x0, y0, dx, dy).
_ADAM7: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)
)  # fmt: skip


def _header_chunk(header: Header, width: int, height: int, interlaced: bool) -> bytes:
    fields = struct.pack(
        ">IIBBBBB", width, height, header.bit_depth, header.colour_type, 0, 0, int(interlaced)
    )
    return chunk_bytes(b"IHDR", fields)


def _colour_chunks(info: PngInfo) -> bytes:
    parts = []
    if info.palette is not None:
        parts.append(chunk_bytes(b"PLTE", info.palette))
    if info.transparency is not None:
        parts.append(chunk_bytes(b"tRNS", info.transparency))
    return b"".join(parts)


def minimal_png(data: bytes, info: PngInfo) -> bytes:
    """Rebuild the file with only the chunks needed for its pixels.

    Parameters
    ----------
    data : bytes
        The original file.
    info : PngInfo
        Its :func:`parse_png` result.

    Returns
    -------
    bytes
        Signature, IHDR, PLTE/tRNS when used, the original IDAT chunks and
        IEND: a stream libpng decodes without printing warnings about
        metadata chunks.
    """
    view = memoryview(data)
    h = info.header
    parts: list[bytes | memoryview] = [
        SIGNATURE,
        _header_chunk(h, h.width, h.height, h.interlaced),
        _colour_chunks(info),
    ]
    parts.extend(view[c.start - 8 : c.end + 4] for c in info.idat)
    parts.append(chunk_bytes(b"IEND", b""))
    return b"".join(parts)


def adam7_passes(header: Header) -> list[Pass]:
    """The non-empty reduced images of an interlaced PNG (or the whole image).

    Parameters
    ----------
    header : Header
        The image header.

    Returns
    -------
    list of Pass
        Seven Adam7 passes minus the empty ones; a single full-size pass when
        the image is not interlaced.
    """
    if not header.interlaced:
        return [Pass(0, 0, 1, 1, header.width, header.height)]
    passes = []
    for x0, y0, dx, dy in _ADAM7:
        width = (header.width - x0 + dx - 1) // dx
        height = (header.height - y0 + dy - 1) // dy
        if width > 0 and height > 0:
            passes.append(Pass(x0, y0, dx, dy, width, height))
    return passes


class PassReader:
    """Decompress the image data one pass at a time.

    Parameters
    ----------
    data : bytes
        The whole file.
    info : PngInfo
        Its :func:`parse_png` result.
    """

    def __init__(self, data: bytes, info: PngInfo) -> None:
        view = memoryview(data)
        self._header = info.header
        inputs = [view[c.start : c.end] for c in info.idat]
        self._output = inflated(zlib.decompressobj(), inputs, _INFLATE_STEP)
        self._left = memoryview(b"")

    def read(self, p: Pass) -> bytearray:
        """The filtered scanlines of the next pass.

        Parameters
        ----------
        p : Pass
            The pass to read (passes must be read in order).

        Returns
        -------
        bytearray
            Its raw scanlines, filter bytes included.

        Raises
        ------
        PngStructureError
            The compressed data is corrupt or ends early.
        """
        size = p.height * self._header.scanline_bytes(p.width)
        out = bytearray(size)
        filled = 0
        while filled < size:
            if not self._left:
                try:
                    piece = next(self._output, None)
                except zlib.error as exc:
                    raise PngStructureError(
                        f"its compressed pixel data is corrupt ({exc})"
                    ) from None
                if piece is None:
                    raise PngStructureError(
                        "its compressed pixel data ends early (the file is truncated)"
                    )
                self._left = memoryview(piece)
            take = min(len(self._left), size - filled)
            out[filled : filled + take] = self._left[:take]
            self._left = self._left[take:]
            filled += take
        return out


def raw_png(info: PngInfo, p: Pass, scanlines: bytearray) -> bytearray:
    """Wrap one pass's filtered scanlines as a small non-interlaced PNG.

    Parameters
    ----------
    info : PngInfo
        The source file's :func:`parse_png` result (header, palette, tRNS).
    p : Pass
        Which pass the scanlines belong to (gives the size).
    scanlines : bytearray
        The pass's raw scanlines from :meth:`PassReader.read`.

    Returns
    -------
    bytearray
        A complete PNG whose zlib stream uses stored (uncompressed) deflate
        blocks, allocated once at its final size.
    """
    size = len(scanlines)
    blocks = max(1, -(-size // _STORED_BLOCK))
    zlib_size = 2 + 5 * blocks + size + 4
    head = SIGNATURE + _header_chunk(info.header, p.width, p.height, interlaced=False)
    head += _colour_chunks(info)
    iend = chunk_bytes(b"IEND", b"")
    out = bytearray(len(head) + 8 + zlib_size + 4 + len(iend))
    out[: len(head)] = head
    struct.pack_into(">I4s", out, len(head), zlib_size, b"IDAT")
    pos = len(head) + 8
    out[pos : pos + 2] = b"\x78\x01"  # deflate, 32 KiB window, no dictionary
    pos += 2
    view = memoryview(scanlines)
    for block in range(blocks):
        piece = view[block * _STORED_BLOCK : (block + 1) * _STORED_BLOCK]
        final = int(block == blocks - 1)
        struct.pack_into("<BHH", out, pos, final, len(piece), len(piece) ^ 0xFFFF)
        pos += 5
        out[pos : pos + len(piece)] = piece
        pos += len(piece)
    struct.pack_into(">I", out, pos, zlib.adler32(view))
    pos += 4
    struct.pack_into(">I", out, pos, zlib.crc32(memoryview(out)[len(head) + 4 : pos]))
    out[pos + 4 :] = iend
    return out
