"""A zero-copy, seekable reader over decoded pixels, for pydicom's buffered elements.

pydicom 3 writes an OB/OW element whose value is a binary stream by streaming
it in chunks. Wrapping the decoder's buffer this way lets a 150 MB image be
written without ever making a second full copy of its pixels; when Pixel Data
is the last element, :func:`split_buffered_pixels` and
:func:`write_pixel_element` let the writer hand the buffer to the file in one
call instead of pydicom's 8 KiB pieces.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from pydicom.dataset import Dataset


class _PixelRawReader(io.RawIOBase):
    """Raw reader over a buffer, padded to even length; reads copy only the chunk asked for."""

    def __init__(self, buffer: bytes | bytearray | memoryview) -> None:
        super().__init__()
        self._view = memoryview(buffer).cast("B")
        # DICOM values have even length: an odd buffer reads with one trailing 0x00.
        self._length = len(self._view) + len(self._view) % 2
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        out = memoryview(target).cast("B")
        size = max(0, min(len(out), self._length - self._position))
        chunk = self._view[self._position : self._position + size]
        out[: len(chunk)] = chunk
        out[len(chunk) : size] = b"\x00" * (size - len(chunk))
        self._position += size
        return size

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}
        self._position = max(0, base[whence] + offset)
        return self._position

    def tell(self) -> int:
        return self._position


class PixelBufferReader(io.BufferedReader):
    """A buffered binary stream over ``buffer`` that never copies it whole.

    Parameters
    ----------
    buffer : bytes, bytearray or memoryview
        The pixel samples, exactly as they go into Pixel Data.
    """

    def __init__(self, buffer: bytes | bytearray | memoryview) -> None:
        super().__init__(_PixelRawReader(buffer), buffer_size=1 << 20)
        self.buffer_bytes = buffer

    def __deepcopy__(self, memo: dict[int, Any]) -> PixelBufferReader:
        """A new reader over the same (immutable in practice) pixel buffer."""
        return PixelBufferReader(self.buffer_bytes)


def value_length(value: object) -> int | None:
    """Length in bytes of a binary element value, without reading a buffered one.

    Parameters
    ----------
    value : object
        An element's value: bytes, bytearray, or a seekable binary stream such as
        :class:`PixelBufferReader` (pydicom's buffered values).

    Returns
    -------
    int or None
        The length, or None for values that are neither.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    if isinstance(value, io.IOBase) and value.seekable():
        position = value.tell()
        end = value.seek(0, io.SEEK_END)
        value.seek(position)
        return end
    return None


#: Tag of Pixel Data (7FE0,0010).
_PIXEL_DATA = 0x7FE00010


@dataclass(frozen=True)
class BufferedPixels:
    """A dataset split for writing: everything before Pixel Data, and the pixel buffer."""

    head: Dataset
    vr: str
    reader: PixelBufferReader


def split_buffered_pixels(ds: Dataset) -> BufferedPixels | None:
    """Split off a native Pixel Data held by a :class:`PixelBufferReader`, if it comes last.

    pydicom streams a buffered value in 8 KiB reads and writes; writing the
    buffer with one call instead is several times faster for a large image.

    Parameters
    ----------
    ds : Dataset
        The dataset about to be written in explicit VR little endian.

    Returns
    -------
    BufferedPixels or None
        None unless Pixel Data is an OB/OW :class:`PixelBufferReader` and the
        last top-level element; otherwise a new dataset sharing ``ds``'s other
        elements, file meta and preamble, plus the pixel element's VR and value.
    """
    if _PIXEL_DATA not in ds:
        return None
    element = ds[_PIXEL_DATA]
    if not isinstance(element.value, PixelBufferReader) or element.VR not in ("OB", "OW"):
        return None
    tags = list(ds.keys())  # iterating a Dataset gives elements, not tags
    if max(tags) > _PIXEL_DATA:
        return None
    head = Dataset({tag: ds.get_item(tag) for tag in tags if tag != _PIXEL_DATA})
    head.file_meta = ds.file_meta
    head.preamble = ds.preamble
    return BufferedPixels(head, element.VR, element.value)


def write_pixel_element(stream: BinaryIO, split: BufferedPixels) -> None:
    """Append the Pixel Data element in explicit VR little endian, its buffer in one write.

    Parameters
    ----------
    stream : binary file object
        Positioned after the rest of the dataset.
    split : BufferedPixels
        From :func:`split_buffered_pixels`.
    """
    view = memoryview(split.reader.buffer_bytes).cast("B")
    odd = len(view) % 2
    stream.write(pixel_element_header(split.vr, len(view)))
    stream.write(view)
    if odd:
        stream.write(b"\x00")


def pixel_element_header(vr: str, length: int) -> bytes:
    """The 12 bytes that start a native Pixel Data element in explicit VR little endian.

    Parameters
    ----------
    vr : {"OB", "OW"}
        The element's VR.
    length : int
        Bytes of pixel samples; the value length written is rounded up to even
        (the value is then padded with one 0x00).

    Returns
    -------
    bytes
        Tag (7FE0,0010), VR, two reserved bytes and the 32-bit value length.
    """
    return struct.pack("<HH2sHI", 0x7FE0, 0x0010, vr.encode(), 0, length + length % 2)
