"""Write a DICOM file whose native Pixel Data is filled in place, through a memory map.

The usual writer (:func:`tbp_core.fileio.dicomio.write`) copies a decoded
buffer into the file: for a 50 MP RGB image that is 150 MB more passed
through memory, after the decoder has already written them once.
:func:`write_mapped_pixels` writes everything before Pixel Data, reserves
the element's value on disk, maps it into memory and lets the caller's
``fill`` decode straight into the file's pages, so the pixels are written
exactly once.

The value is reserved with ``posix_fallocate`` before it is mapped: a full
disk is then an ordinary ``OSError`` here, never a ``SIGBUS`` while writing
through the map. Where that call or ``mmap`` is missing (macOS, Windows),
:func:`can_map_pixels` is False and callers write the usual way; a file
system that refuses to map a file gets the pixels written from memory.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import sys
from collections.abc import Callable
from typing import BinaryIO

from pydicom.dataset import Dataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import ExplicitVRLittleEndian

from tbp_core.fileio.dicomio import file_meta_for
from tbp_core.fileio.pixelbuffer import pixel_element_header

__all__ = ["can_map_pixels", "write_mapped_pixels"]

#: Tag of Pixel Data (7FE0,0010).
_PIXEL_DATA = 0x7FE00010

#: What ``mmap`` raises on a file system that cannot map files (some FUSE and
#: network file systems): the pixels are then written from memory instead.
_NO_MAP = frozenset({errno.ENODEV, errno.EOPNOTSUPP, errno.EINVAL, errno.EACCES})

#: Linux's MADV_POPULATE_WRITE (include/uapi/asm-generic/mman-common.h), which the
#: mmap module of Python 3.11 does not name.
_MADV_POPULATE_WRITE = 23


class _WriteBack:
    """Start writing final bytes of the value to disk while the rest is filled.

    ``POSIX_FADV_DONTNEED`` on a range starts the write-back of its dirty pages
    without waiting (mapped pages stay in memory), so the flush at the end has
    only the last pages to wait for: measured on the benchmark machine, the
    final flush of a 50 MP image took 0.002 s instead of 0.067 s, for 0.02 s
    more decoding. A hint only: where it fails, the final flush does the work.
    """

    def __init__(self, descriptor: int, start: int) -> None:
        self._descriptor = descriptor
        self._start = start
        self._done = start - start % mmap.PAGESIZE  # file offset written back up to

    def __call__(self, final: int) -> None:
        end = self._start + final
        end -= end % mmap.PAGESIZE  # whole pages only: the next one is still being written
        if end > self._done and hasattr(os, "posix_fadvise"):
            with contextlib.suppress(OSError):
                os.posix_fadvise(
                    self._descriptor, self._done, end - self._done, os.POSIX_FADV_DONTNEED
                )
            self._done = end


def _fill_and_write(
    stream: BinaryIO,
    start: int,
    length: int,
    fill: Callable[[memoryview, Callable[[int], None]], None],
) -> None:
    """Fill a buffer in memory and write it at ``start`` (the pad byte is already 0x00)."""
    buffer = bytearray(length)
    fill(memoryview(buffer), lambda final: None)
    stream.seek(start)
    stream.write(buffer)
    stream.seek(start + length + length % 2)


def _populate(mapping: mmap.mmap) -> None:
    """Make every page of the map present and writable now, in one call (Linux 5.14+).

    Without it each first write to a page faults on its own, while the
    decoder's two threads run: measured on the benchmark machine, decoding a
    50 MP image into the map then took 0.32–0.66 s, and 0.03 s of populating
    plus 0.28–0.29 s of decoding with it. Older kernels refuse the advice;
    the pages are then faulted in as they are written.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        mapping.madvise(getattr(mmap, "MADV_POPULATE_WRITE", _MADV_POPULATE_WRITE))


def can_map_pixels() -> bool:
    """Whether this platform can reserve file space and map it (Linux and other POSIX)."""
    return hasattr(os, "posix_fallocate") and hasattr(mmap, "MAP_SHARED")


def write_mapped_pixels(
    ds: Dataset,
    stream: BinaryIO,
    vr: str,
    length: int,
    fill: Callable[[memoryview, Callable[[int], None]], None],
) -> None:
    """Write ``ds`` in explicit VR little endian, then a Pixel Data element that ``fill`` fills.

    Parameters
    ----------
    ds : Dataset
        The dataset without Pixel Data and with no element after it; its
        file meta and preamble are set as :func:`~tbp_core.fileio.dicomio.write` sets them.
    stream : binary file
        A new, empty regular file open for writing (its ``fileno`` is mapped).
    vr : {"OB", "OW"}
        Pixel Data's VR.
    length : int
        Bytes of pixel samples; an odd length gets one 0x00 of padding.
    fill : callable
        Called once as ``fill(region, written)``: ``region`` is a writable
        memoryview of exactly ``length`` bytes, the element's value in the
        file; ``written(n)`` (which ``fill`` may call from any one thread)
        says that the first ``n`` bytes are final, so the disk can start
        writing them while the rest is filled. What ``fill`` raises is raised
        here (the file is then incomplete: write it through
        :func:`~tbp_core.fileio.safewrite.write_atomically`).

    Raises
    ------
    ValueError
        ``ds`` holds Pixel Data or an element after it.
    OSError
        The space cannot be reserved (disk full) or mapped.
    """
    if max(ds.keys(), default=0) >= _PIXEL_DATA:  # iterating a Dataset gives elements
        raise ValueError("the dataset must end before Pixel Data (7FE0,0010)")
    ds.file_meta = file_meta_for(ds, ExplicitVRLittleEndian)
    ds.preamble = b"\x00" * 128
    dcmwrite(stream, ds, enforce_file_format=True)
    stream.write(pixel_element_header(vr, length))
    stream.flush()
    start = stream.tell()
    end = start + length + length % 2
    descriptor = stream.fileno()
    os.posix_fallocate(descriptor, start, end - start)  # also extends the file to ``end``
    try:
        mapping = mmap.mmap(descriptor, end)
    except OSError as exc:
        if exc.errno not in _NO_MAP:
            raise
        _fill_and_write(stream, start, length, fill)  # a file system that cannot map files
        return
    _populate(mapping)
    try:
        region = memoryview(mapping)[start : start + length]
        try:
            fill(region, _WriteBack(descriptor, start))
        finally:
            # A failed fill's traceback may still hold views of the map: they
            # are released with it, and the map is unmapped then.
            with contextlib.suppress(BufferError):
                region.release()
        mapping.flush()
    finally:
        with contextlib.suppress(BufferError):
            mapping.close()
    stream.seek(end)
