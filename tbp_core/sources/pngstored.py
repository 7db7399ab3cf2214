"""Small PNGs whose zlib stream stores the scanlines uncompressed, for libpng to unfilter.

The stream check (:mod:`~tbp_core.sources.pngstream`) inflates the image data
itself; libpng is then asked only to undo the PNG filters. :class:`StoredPng`
lays out such a PNG once (signature, IHDR, PLTE/tRNS, the IDAT chunk of
stored deflate blocks, IEND) and takes the scanlines straight into place
between the block headers, however the inflater hands them over; strips of
a plain image (:mod:`~tbp_core.sources.pngstrips`) and the Adam7 passes of
an interlaced one (:func:`raw_png`) are decoded this way.
"""

from __future__ import annotations

import struct

from isal import isal_zlib

from tbp_core.sources.pngformat import SIGNATURE, Pass, PngInfo, chunk_bytes
from tbp_core.sources.pngstream import STORED_BLOCK, colour_chunks, header_chunk, zlib_bound

__all__ = ["StoredPng", "raw_png"]


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
        blocks, allocated once at its final size (:class:`StoredPng`).
    """
    png = StoredPng(info, p)
    png.put(memoryview(scanlines))
    return png.finish()


class StoredPng:
    """A small non-interlaced PNG whose zlib stream uses stored blocks, filled in place.

    Everything but the scanlines (signature, IHDR, PLTE/tRNS, the IDAT
    header, each stored block's 5-byte header, IEND) is written when it is
    made; :meth:`put` copies scanline bytes straight to their place between
    the block headers, so they are copied once, however they arrive, and
    :meth:`finish` adds the Adler-32 and the CRC. libpng then only unfilters.

    Parameters
    ----------
    info : PngInfo
        The source file's :func:`parse_png` result (header, palette, tRNS).
    p : Pass
        The size of the image the scanlines make.
    reuse : bytearray, optional
        The result of an earlier :meth:`finish` that is no longer needed; its
        memory is used again when it has the right size.
    """

    def __init__(self, info: PngInfo, p: Pass, reuse: bytearray | None = None) -> None:
        self.size = p.height * info.header.scanline_bytes(p.width)
        blocks = max(1, -(-self.size // STORED_BLOCK))
        zlib_size = zlib_bound(self.size)
        head = SIGNATURE + header_chunk(info.header, p.width, p.height, interlaced=False)
        head += colour_chunks(info)
        iend = chunk_bytes(b"IEND", b"")
        total = len(head) + 8 + zlib_size + 4 + len(iend)
        self._out = out = reuse if reuse is not None and len(reuse) == total else bytearray(total)
        out[: len(head)] = head
        struct.pack_into(">I4s", out, len(head), zlib_size, b"IDAT")
        self._idat = len(head) + 4  # the CRC covers the chunk type and data
        self._first_block = pos = len(head) + 8 + 2
        out[pos - 2 : pos] = b"\x78\x01"  # deflate, 32 KiB window, no dictionary
        for block in range(blocks):
            length = min(STORED_BLOCK, self.size - block * STORED_BLOCK)
            final = int(block == blocks - 1)
            struct.pack_into("<BHH", out, pos, final, length, length ^ 0xFFFF)
            pos += 5 + length
        self._adler = pos
        out[pos + 8 :] = iend
        self.filled = 0

    def _offset(self, position: int) -> int:
        """Where scanline byte ``position`` goes in the PNG."""
        block, within = divmod(position, STORED_BLOCK)
        return self._first_block + block * (STORED_BLOCK + 5) + 5 + within

    def put(self, data: memoryview) -> int:
        """Copy the start of ``data`` into the scanlines; return how many bytes were taken.

        Parameters
        ----------
        data : memoryview
            Scanline bytes (filter bytes included) that follow those already put.

        Returns
        -------
        int
            ``len(data)``, or fewer when the scanlines are full.
        """
        taken = 0
        wanted = min(len(data), self.size - self.filled)
        while taken < wanted:
            room = STORED_BLOCK - self.filled % STORED_BLOCK
            step = min(room, wanted - taken)
            at = self._offset(self.filled)
            self._out[at : at + step] = data[taken : taken + step]
            taken += step
            self.filled += step
        return taken

    @property
    def full(self) -> bool:
        """Whether every scanline byte has been put."""
        return self.filled == self.size

    def finish(self) -> bytearray:
        """Add the Adler-32 and the IDAT CRC; return the complete PNG.

        Returns
        -------
        bytearray
            The PNG (the builder must not be used afterwards).

        Raises
        ------
        ValueError
            Not every scanline byte was put.
        """
        if not self.full:
            raise ValueError(f"{self.size - self.filled} scanline bytes are missing")
        view = memoryview(self._out)
        adler = 1
        for start in range(0, self.size, STORED_BLOCK):
            at = self._offset(start)
            adler = isal_zlib.adler32(view[at : at + min(STORED_BLOCK, self.size - start)], adler)
        struct.pack_into(">I", self._out, self._adler, adler)
        crc = isal_zlib.crc32(view[self._idat : self._adler + 4])
        struct.pack_into(">I", self._out, self._adler + 4, crc)
        return self._out
