"""Bounded reading: a file's work is capped before it can take a server down.

Three limits, each with a default and an environment variable to change it:

- ``TBP_MAX_INFLATED_MB`` (512): a deflated data set is inflated in steps and
  refused when it would grow past this size (a 3 MB file can inflate to GBs).
- ``TBP_MAX_ELEMENTS`` (100000): top-level elements read; reading stops there
  with a warning saying so (the elements before are kept).
- ``TBP_MAX_ITEMS`` (200000): sequence items in the data set (counted in the
  bytes before Pixel Data, without parsing them); more is refused.

The largest real files we know (a 2,000-frame enhanced MR) stay well below them.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from pydicom.tag import BaseTag

from tbp_core.errors import DicomReadError

__all__ = [
    "DEFAULT_LIMITS",
    "LimitExceededError",
    "ReadLimits",
    "count_items",
    "element_counter",
    "inflate",
    "setting",
]

_MIB = 1 << 20
_ITEM_TAGS = (b"\xfe\xff\x00\xe0", b"\xff\xfe\xe0\x00")  # (FFFE,E000), little and big endian
_PIXEL_TAGS = (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10")  # (7FE0,0010)
_CHUNK = 4 * _MIB


class LimitExceededError(DicomReadError):
    """A file is over one of the reading limits: refused in one line, never partly parsed."""


def setting(name: str, default: int) -> int:
    """A positive whole-number setting from the environment, or ``default``.

    Parameters
    ----------
    name : str
        The environment variable, e.g. ``TBP_MAX_ITEMS``.
    default : int
        Used when it is unset, not a number, or not positive.

    Returns
    -------
    int
    """
    try:
        value = int(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class ReadLimits:
    """Caps on the work reading one file may do.

    Attributes
    ----------
    max_inflated_bytes : int
        Largest inflated size of a deflated data set.
    max_elements : int
        Top-level elements read before reading stops with a warning.
    max_items : int
        Sequence items allowed in the data set.
    """

    max_inflated_bytes: int = 512 * _MIB
    max_elements: int = 100_000
    max_items: int = 200_000

    @classmethod
    def from_environment(cls) -> ReadLimits:
        """The defaults, overridden by the ``TBP_MAX_*`` environment variables."""
        return cls(
            max_inflated_bytes=setting("TBP_MAX_INFLATED_MB", 512) * _MIB,
            max_elements=setting("TBP_MAX_ELEMENTS", 100_000),
            max_items=setting("TBP_MAX_ITEMS", 200_000),
        )


DEFAULT_LIMITS = ReadLimits.from_environment()


def inflate(data: bytes, limits: ReadLimits, label: str) -> bytes:
    """Inflate a deflated data set (raw deflate, PS3.5 A.5) in bounded steps.

    Parameters
    ----------
    data : bytes
        The compressed bytes after the file meta.
    limits : ReadLimits
        Gives the largest inflated size accepted.
    label : str
        The file's name for messages.

    Returns
    -------
    bytes
        The inflated data set.

    Raises
    ------
    LimitExceededError
        When it would inflate past ``limits.max_inflated_bytes``.
    DicomReadError
        When the deflate stream is damaged.
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    parts: list[bytes] = []
    total = 0
    pending = data
    try:
        while pending or not inflater.eof:
            part = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            total += len(part)
            if total > limits.max_inflated_bytes:
                raise LimitExceededError(
                    f"'{label}' is deflated and inflates to more than "
                    f"{limits.max_inflated_bytes // _MIB} MiB "
                    f"({len(data) / _MIB:.1f} MiB compressed) — refused; raise "
                    "TBP_MAX_INFLATED_MB if the file is trusted"
                )
            parts.append(part)
            if not part and not pending:
                break
    except zlib.error as exc:
        raise DicomReadError(f"'{label}': the deflated data set is damaged ({exc})") from exc
    return b"".join(parts)


def count_items(stream: BinaryIO, start: int, limit: int) -> int:
    """Count sequence item tags from ``start`` to Pixel Data (or the end), up to ``limit + 1``.

    Parameters
    ----------
    stream : binary file
        Seekable; its position is restored.
    start : int
        Where the data set starts.
    limit : int
        Counting stops once past it.

    Returns
    -------
    int
        The number of (FFFE,E000) tags found, at most ``limit + 1``.
    """
    position = stream.tell()
    stream.seek(start)
    count = 0
    tail = b""
    try:
        while count <= limit:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            data = tail + chunk
            cut = min((i for i in (data.find(t) for t in _PIXEL_TAGS) if i >= 0), default=-1)
            if cut >= 0:
                count += sum(data[:cut].count(t) for t in _ITEM_TAGS)
                break
            count += sum(data.count(t) for t in _ITEM_TAGS)
            # a tag across the chunk border is found in the next round's tail + chunk;
            # a 4-byte tag cannot lie wholly inside the 3-byte tail, so none counts twice
            tail = data[-3:]
    finally:
        stream.seek(position)
    return count


def element_counter(
    limits: ReadLimits, stopped: list[int]
) -> Callable[[BaseTag, str | None, int], bool]:
    """A ``stop_when`` for pydicom's reader that stops after ``limits.max_elements``.

    Parameters
    ----------
    limits : ReadLimits
        Gives the element cap.
    stopped : list of int
        Receives the number of elements read when the cap stops reading.

    Returns
    -------
    callable
        ``(tag, VR, length) -> bool``, True to stop.
    """
    seen = [0]

    def stop_when(tag: BaseTag, vr: str | None, length: int) -> bool:
        seen[0] += 1
        if seen[0] > limits.max_elements:
            stopped.append(seen[0] - 1)
            return True
        return False

    return stop_when
