"""A zero-copy, seekable reader over decoded pixels, for pydicom's buffered elements.

pydicom 3 writes an OB/OW element whose value is a binary stream by streaming
it in chunks. Wrapping the decoder's buffer this way lets a 150 MB image be
written without ever making a second full copy of its pixels.
"""

from __future__ import annotations

import io
from typing import Any


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
