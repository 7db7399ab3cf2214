"""Generators for the crafted cases of issue 11 (sizes chosen so a case stays quick).

Each generator returns a :class:`~tests.fuzz.mutator.Case`; :func:`crafted_cases`
lists them all. The large bombs live in ``tests/tbp_core/fileio/test_limits.py``
(their generators are reused here at smaller sizes).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from pydicom.uid import DeflatedExplicitVRLittleEndian, RLELossless

from tests.fuzz.mutator import Case
from tests.tbp_core.fileio.test_limits import (
    _element,
    _part10,
    _start,
    deflate_bomb,
    element_bomb,
    item_bomb,
)

DATA = Path(__file__).resolve().parent.parent / "data"


def wrong_vr_charset(vr: bytes = b"US") -> Case:
    """Specific Character Set with a wrong VR: once a charset TypeError in table/export."""
    body = _element(0x0008, 0x0005, vr, b"\x01\x00") + _start()
    body += _element(0x0010, 0x0010, b"PN", b"Doe^John")
    return Case(f"charset-{vr.decode()}.dcm", _part10(body), f"crafted charset VR {vr!r}")


def wrong_vr_sop_class(vr: bytes = b"US") -> Case:
    """SOP Class UID with a wrong VR (a few hundred bytes)."""
    body = _element(0x0008, 0x0005, b"CS", b"ISO_IR 100")
    body += _element(0x0008, 0x0016, vr, b"\x07\x00")
    body += _element(0x0008, 0x0018, b"UI", b"1.2.3.4\x00")
    return Case(f"sopclass-{vr.decode()}.dcm", _part10(body), f"crafted SOP Class VR {vr!r}")


def command_group() -> Case:
    """Command-group elements (0000,xxxx) and a stray item tag in the data set."""
    body = _element(0x0000, 0x0000, b"UL", struct.pack("<I", 18))
    body += _element(0x0000, 0x0100, b"US", struct.pack("<H", 1))
    body += _start()
    body += struct.pack("<HHI", 0xFFFE, 0xE000, 4) + b"abcd"
    return Case("command-group.dcm", _part10(body), "crafted command group + stray item")


def deflated(size: int = 64) -> Case:
    """A small, valid deflated data set."""
    body = _start() + _element(0x0010, 0x0010, b"PN", b"Deflated^" + b"x" * size)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = compressor.compress(body) + compressor.flush()
    return Case("deflated.dcm", _part10(data, DeflatedExplicitVRLittleEndian), "crafted deflated")


def rle_garbage(segments: int = 3, seed: int = 0) -> Case:
    """RLE Lossless pixel data whose segments are garbage (once Rust panics in preview)."""
    rows = cols = 8
    header = struct.pack("<I", segments) + b"".join(
        struct.pack("<I", 64 + 7 * i) for i in range(segments)
    )
    header += b"\0" * (64 - len(header))
    rng = bytes((i * 37 + seed * 11) % 256 for i in range(7 * segments + 3))
    fragment = header + rng
    if len(fragment) % 2:
        fragment += b"\0"
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 0)  # empty offset table
    item += struct.pack("<HHI", 0xFFFE, 0xE000, len(fragment)) + fragment
    item += struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    body = _element(0x0008, 0x0016, b"UI", b"1.2.840.10008.5.1.4.1.1.7\x00")
    body += _element(0x0008, 0x0018, b"UI", b"1.2.3.4\x00")
    body += _element(0x0028, 0x0002, b"US", struct.pack("<H", 3))
    body += _element(0x0028, 0x0004, b"CS", b"RGB ")
    body += _element(0x0028, 0x0006, b"US", struct.pack("<H", 0))
    body += _element(0x0028, 0x0010, b"US", struct.pack("<H", rows))
    body += _element(0x0028, 0x0011, b"US", struct.pack("<H", cols))
    body += _element(0x0028, 0x0100, b"US", struct.pack("<H", 8))
    body += _element(0x0028, 0x0101, b"US", struct.pack("<H", 8))
    body += _element(0x0028, 0x0102, b"US", struct.pack("<H", 7))
    body += _element(0x0028, 0x0103, b"US", struct.pack("<H", 0))
    body += struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OB", 0, 0xFFFFFFFF) + item
    return Case(f"rle-{segments}-{seed}.dcm", _part10(body, RLELossless), "crafted RLE garbage")


def png_with(idat: bytes, *, width: int = 100, height: int = 100, crc_ok: bool = True) -> Case:
    """A grey PNG with the given IDAT payload."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) if crc_ok else 0
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
    return Case("crafted.png", data + chunk(b"IEND", b""), f"crafted PNG {len(idat)} B IDAT")


def png_long_idat(megabytes: int = 2) -> Case:
    """A 100×100 PNG whose IDAT inflates far past the image size."""
    return png_with(zlib.compress(bytes(megabytes << 20), 9))


def png_bad_adler() -> Case:
    """A 100×100 PNG whose zlib stream has a wrong Adler-32."""
    good = zlib.compress(bytes(101 * 100))
    return png_with(good[:-4] + b"\0\0\0\0")


def crafted_cases(*, bombs: bool = True) -> list[Case]:
    """Every crafted case; ``bombs=False`` leaves out the three that take seconds."""
    makers: list[Callable[[], Case]] = [
        lambda: wrong_vr_charset(b"US"),
        lambda: wrong_vr_charset(b"SQ"),
        lambda: wrong_vr_charset(b"OB"),
        lambda: wrong_vr_sop_class(b"US"),
        lambda: wrong_vr_sop_class(b"SQ"),
        lambda: wrong_vr_sop_class(b"FD"),
        command_group,
        deflated,
        lambda: rle_garbage(1),
        lambda: rle_garbage(3, 1),
        lambda: rle_garbage(3, 2),
        lambda: rle_garbage(15, 3),
        png_long_idat,
        png_bad_adler,
    ]
    if not bombs:
        return [make() for make in makers]
    makers += [
        lambda: Case("bomb.dcm", deflate_bomb(64), "crafted deflate bomb 64 MiB"),
        lambda: Case("items.dcm", item_bomb(200_000), "crafted 200k items"),
        lambda: Case("elements.dcm", element_bomb(100_000), "crafted 100k elements"),
    ]
    return [make() for make in makers]
