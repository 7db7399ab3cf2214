"""Check the compressed image data, and rebuild streams libpng decodes quietly.

:func:`check_stream` inflates the image data once, in bounded steps, before
any decoder sees it, with ISA-L's inflate (package ``isal``: the same checks
as zlib, about three times as fast; its ``IgzipDecompressor`` allocates each
step's output once, so a step releases the GIL once): the Adler-32 checksum
is verified, the stream must end, and padding after its end or surplus pixel
data is measured (libpng would warn about both, and does not check the
Adler-32 when the rows end before the checksum). Consecutive IDAT chunks are
inflated in groups of :data:`GROUP_INPUT` bytes; when a group is damaged, the
stream is inflated again chunk by chunk, so what comes before the damage
still reaches the sink first. :func:`minimal_png` keeps only the chunks the
pixels need, cut at the end of the zlib stream; an interlaced image (or one
with surplus data) is split into its Adam7 passes (:func:`adam7_passes`),
each read by :class:`PassReader` and wrapped as a small non-interlaced PNG
(:mod:`~tbp_core.sources.pngstored`). :func:`in_background` runs a sink on a second thread, so
the check's inflation and the sink's decoding overlap on two cores.
"""

from __future__ import annotations

import contextlib
import queue
import re
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

from isal import igzip_lib

from tbp_core.machine import usable_cores
from tbp_core.sources.pngformat import (
    INPUT_STEP,
    SIGNATURE,
    Chunk,
    Header,
    Pass,
    PngInfo,
    PngStructureError,
    chunk_bytes,
    inflated,
)

#: Largest payload of one stored (uncompressed) deflate block.
STORED_BLOCK = 65535
#: Output size of one zlib call while inflating image data.
_INFLATE_STEP = 4 * 1024 * 1024
#: Most bytes one inflate call of the stream check returns (allocated up front,
#: so that each call releases the GIL once).
_PIECE = 512 * 1024
#: Compressed bytes given to one inflate call (gathered from consecutive IDAT chunks).
GROUP_INPUT = 256 * 1024

#: Surplus decompressed data tolerated (then dropped with a note), at least this many bytes.
MIN_SURPLUS = 1024 * 1024
#: Compressed bytes accepted beyond the worst case of deflate (padding, odd encoders).
IDAT_MARGIN = 64 * 1024

#: Adam7 passes as (x0, y0, dx, dy).
_ADAM7: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)
)  # fmt: skip


def header_chunk(header: Header, width: int, height: int, interlaced: bool) -> bytes:
    """An IHDR chunk with ``header``'s depth and colour type at another size and interlace."""
    fields = struct.pack(
        ">IIBBBBB", width, height, header.bit_depth, header.colour_type, 0, 0, int(interlaced)
    )
    return chunk_bytes(b"IHDR", fields)


def colour_chunks(info: PngInfo) -> bytes:
    """The file's PLTE and tRNS chunks, serialised (empty when it has neither)."""
    parts = []
    if info.palette is not None:
        parts.append(chunk_bytes(b"PLTE", info.palette))
    if info.transparency is not None:
        parts.append(chunk_bytes(b"tRNS", info.transparency))
    return b"".join(parts)


def filtered_size(header: Header) -> int:
    """Bytes of filtered scanlines (filter bytes included) the image's pixels take.

    Parameters
    ----------
    header : Header
        The image header.

    Returns
    -------
    int
        The sum over the Adam7 passes (or the one full image) of rows × row bytes.
    """
    return sum(p.height * header.scanline_bytes(p.width) for p in adam7_passes(header))


def zlib_bound(size: int) -> int:
    """Size of ``size`` bytes stored in a zlib stream without compression.

    Parameters
    ----------
    size : int
        Uncompressed bytes.

    Returns
    -------
    int
        2 header bytes, 5 bytes per stored deflate block of at most 65,535
        bytes, the data, and the 4-byte Adler-32: deflate's worst case, which
        encoders reach only for incompressible data.
    """
    blocks = max(1, -(-size // STORED_BLOCK))
    return 2 + 5 * blocks + size + 4


@dataclass(frozen=True)
class StreamCheck:
    """What :func:`check_stream` measured.

    Attributes
    ----------
    consumed : int
        Compressed bytes up to and including the Adler-32 checksum.
    trailing : int
        Bytes in the IDAT chunks after the end of the zlib stream (padding).
    surplus : int
        Decompressed bytes beyond what the image's pixels need.
    """

    consumed: int
    trailing: int
    surplus: int


#: What ISA-L's decompressor raises for bad data (its stub calls it an instance).
_INFLATE_ERRORS: tuple[type[Exception], ...] = (cast("type[Exception]", igzip_lib.IsalError),)


#: ISA-L's messages start with its error number ("Error -3 Invalid lookback ...").
_ERROR_PREFIX = re.compile(r"^Error -?\d+:? ")


def _inflate_problem(exc: Exception) -> str:
    text = str(exc)
    if "Incorrect checksum" in text:
        return "its compressed pixel data fails its Adler-32 checksum (the pixels are corrupt)"
    return f"its compressed pixel data is corrupt ({_ERROR_PREFIX.sub('', text)})"


def check_stream(
    data: bytes, info: PngInfo, sink: Callable[[bytes], None] | None = None
) -> StreamCheck:
    """Inflate the image data once to verify it, keeping none of the output.

    Parameters
    ----------
    data : bytes
        The whole file.
    info : PngInfo
        Its :func:`parse_png` result.
    sink : callable, optional
        Called with each inflated piece, in order, as it is produced (a strip
        decoder, :class:`~tbp_core.sources.pngstrips.StripDecoder`); what it
        did is void if the check then raises.

    Returns
    -------
    StreamCheck
        Where the zlib stream ends and how much surplus data there is.

    Raises
    ------
    PngStructureError
        The IDAT chunks hold more than :func:`idat_limit` bytes (checked
        before anything is inflated), or the stream is corrupt, fails its
        Adler-32 checksum, ends before its checksum, holds fewer bytes than
        the pixels need, or inflates to more than twice what they need (at
        least :data:`MIN_SURPLUS` extra bytes are tolerated). The work is
        bounded by that ceiling.
    """
    needed = filtered_size(info.header)
    _check_idat_size(info, needed)
    view = memoryview(data)
    grouped = _input_groups(info.idat, GROUP_INPUT)
    try:
        return _inflate_all(view, info, needed, grouped, sink, skip=0)
    except _InflateError as failure:
        fine = _input_groups(info.idat, 0)
        if len(fine) == len(grouped):
            raise PngStructureError(failure.problem) from None
        delivered = failure.delivered
    # Replay chunk by chunk, so that the sink sees every piece before the damage
    # (it may have a problem of its own to report first); what it already has is skipped.
    try:
        return _inflate_all(view, info, needed, fine, sink, skip=delivered)
    except _InflateError as again:
        raise PngStructureError(again.problem) from None


class _InflateError(Exception):
    """The stream is corrupt: the message, and how many inflated bytes the sink was given."""

    def __init__(self, problem: str, delivered: int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.delivered = delivered


def _inflate_all(
    view: memoryview,
    info: PngInfo,
    needed: int,
    groups: list[list[tuple[int, int]]],
    sink: Callable[[bytes], None] | None,
    skip: int,
) -> StreamCheck:
    """Inflate group by group; the sink gets the output from byte ``skip`` on."""
    ceiling = needed + max(needed, MIN_SURPLUS)
    inflater = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_ZLIB)
    total = fed = 0

    def take(piece: bytes) -> None:
        nonlocal total
        start = total
        total += len(piece)
        _check_ceiling(total, ceiling, needed)
        if sink is not None and total > skip:
            sink(piece if start >= skip else piece[skip - start :])

    try:
        for group in groups:
            pending = _joined(view, group)
            fed += len(pending)
            piece = inflater.decompress(pending, _PIECE)
            take(piece)
            while piece and not inflater.eof and not inflater.needs_input:  # output held back
                piece = inflater.decompress(b"", _PIECE)
                take(piece)
            if inflater.eof:
                break
    except _INFLATE_ERRORS as exc:
        raise _InflateError(_inflate_problem(exc), max(total, skip)) from None
    if total < needed:
        raise PngStructureError(
            f"its compressed pixel data ends early: {total:,} of the {needed:,} bytes its "
            "pixels need (the file is truncated)"
        )
    if not inflater.eof:
        raise PngStructureError(
            "its compressed pixel data ends without its Adler-32 checksum (the file is truncated)"
        )
    consumed = fed - len(inflater.unused_data)
    return StreamCheck(consumed, info.idat_size - consumed, total - needed)


#: Inflated pieces waiting for a background sink (each at most a few hundred KiB).
_QUEUE_DEPTH = 3


class _Background:
    """A sink's thread: takes pieces in order, keeps the first exception it raises."""

    def __init__(self, sink: Callable[[bytes], None]) -> None:
        self._sink = sink
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUE_DEPTH)
        self.error: BaseException | None = None
        self.discard = False
        self._thread = threading.Thread(target=self._run, name="tbp-png-sink", daemon=True)
        self._thread.start()

    def __call__(self, piece: bytes) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put(piece)

    def _run(self) -> None:
        while (piece := self._queue.get()) is not None:
            if self.error is None and not self.discard:
                try:
                    self._sink(piece)
                except BaseException as exc:  # handed to the caller's thread
                    self.error = exc

    def join(self) -> None:
        self._queue.put(None)
        self._thread.join()


@contextlib.contextmanager
def in_background(sink: Callable[[bytes], None] | None) -> Iterator[Callable[[bytes], None] | None]:
    """Run ``sink`` on a second thread while the block feeds it (when two cores are free).

    Parameters
    ----------
    sink : callable or None
        Takes inflated pieces in order (e.g. a
        :class:`~tbp_core.sources.pngstrips.StripDecoder`, whose libpng calls
        release the GIL). None, or a process limited to one core, runs it in
        the caller's thread as before.

    Yields
    ------
    callable or None
        What to pass to :func:`check_stream` as its ``sink``.

    Raises
    ------
    Exception
        What ``sink`` raised, in the caller's thread: when a piece is next
        handed over, or when the block ends. An error of the block itself
        (the check failing) is raised only after the pieces fed before it were
        taken, so the first problem in stream order is the one reported, as
        when the sink runs in the caller's thread. On an interruption
        (``KeyboardInterrupt``, SIGTERM) the pieces still queued are dropped.
    """
    if sink is None or usable_cores() < 2:
        yield sink
        return
    worker = _Background(sink)
    try:
        yield worker
    except Exception:
        worker.join()  # the sink takes what was fed before the failure
        if worker.error is not None:
            raise worker.error from None
        raise
    except BaseException:
        worker.discard = True
        worker.join()
        raise
    worker.join()
    if worker.error is not None:
        raise worker.error


def idat_limit(needed: int) -> int:
    """Most compressed bytes accepted for ``needed`` bytes of filtered scanlines.

    Parameters
    ----------
    needed : int
        The image's filtered size (:func:`filtered_size`).

    Returns
    -------
    int
        :func:`zlib_bound` plus a margin of one eighth (encoders that use
        fixed Huffman codes on incompressible data spend 9 bits on a byte)
        and :data:`IDAT_MARGIN` bytes for padding.
    """
    return zlib_bound(needed) + needed // 8 + IDAT_MARGIN


def _check_idat_size(info: PngInfo, needed: int) -> None:
    limit = idat_limit(needed)
    if info.idat_size > limit:
        h = info.header
        raise PngStructureError(
            f"it holds {info.idat_size:,} bytes of compressed pixel data, far more than "
            f"{h.width}×{h.height} pixels can need ({needed:,} bytes uncompressed; at most "
            f"{limit:,} compressed: {zlib_bound(needed):,} stored uncompressed plus one "
            f"eighth and {IDAT_MARGIN // 1024} KiB)"
        )


def _input_groups(idat: tuple[Chunk, ...], size: int) -> list[list[tuple[int, int]]]:
    """The image data as (offset, length) slices, gathered into groups of at most ``size`` bytes.

    Slices are at most :data:`INPUT_STEP` bytes and never cross a chunk
    boundary. A group is inflated in one call: fewer, longer calls than one
    per IDAT chunk (often 8 or 64 KiB) cost less and release the GIL for
    longer. With ``size`` 0 each slice is a group of its own.
    """
    groups: list[list[tuple[int, int]]] = []
    filled = 0
    for c in idat:
        for start in range(c.start, c.end, INPUT_STEP):
            length = min(INPUT_STEP, c.end - start)
            if not groups or filled + length > size:
                groups.append([])
                filled = 0
            groups[-1].append((start, length))
            filled += length
    return groups


def _joined(view: memoryview, group: list[tuple[int, int]]) -> bytes | memoryview:
    """One group's bytes: a view of the file for one slice, else one copy of the slices."""
    if len(group) == 1:
        start, length = group[0]
        return view[start : start + length]
    return b"".join(view[start : start + length] for start, length in group)


def _check_ceiling(total: int, ceiling: int, needed: int) -> None:
    if total > ceiling:
        raise PngStructureError(
            f"its compressed pixel data inflates to more than {ceiling:,} bytes, but its "
            f"pixels need {needed:,}"
        )


def minimal_png(data: bytes, info: PngInfo, stream_length: int | None = None) -> bytes:
    """Rebuild the file with only the chunks needed for its pixels.

    Parameters
    ----------
    data : bytes
        The original file.
    info : PngInfo
        Its :func:`parse_png` result.
    stream_length : int, optional
        Keep only this many bytes of image data (the end of the zlib stream,
        :attr:`StreamCheck.consumed`); all of it when None.

    Returns
    -------
    bytes
        Signature, IHDR, PLTE/tRNS when used, the IDAT chunks and IEND: a
        stream libpng decodes without printing warnings about metadata
        chunks or padding after the compressed data.
    """
    view = memoryview(data)
    h = info.header
    parts: list[bytes | memoryview] = [
        SIGNATURE,
        header_chunk(h, h.width, h.height, h.interlaced),
        colour_chunks(info),
    ]
    left = info.idat_size if stream_length is None else stream_length
    for c in info.idat:
        if left <= 0:
            break
        if c.length <= left:
            parts.append(view[c.start - 8 : c.end + 4])
        else:
            parts.append(chunk_bytes(b"IDAT", view[c.start : c.start + left]))
        left -= c.length
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
