"""A seeded mutator over the project's test files.

Case ``i`` of a run with seed ``s`` is a pure function of ``(s, i)`` and the
seed files, so any finding can be reproduced from its two numbers. Mutations:
byte flips, truncations, insertions, deleted ranges, corrupted DICOM lengths
and VRs, PNG IHDR fields and IDAT data (CRCs fixed up so the decoder gets
past them) and JPEG marker segments.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"

#: Seed folders: DICOM files, pictures, and earlier findings.
SEED_FOLDERS = ("dicom", "heldout", "png", "images", "exif", "corrupt", "fuzz")

#: Seeds larger than this are skipped (cases stay quick).
MAX_SEED_SIZE = 400_000

_VRS = (
    b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL "
    b"UN UR US UT UV".split()
)
_LONG_VRS = frozenset(b"OB OD OF OL OV OW SQ UC UN UR UT SV UV".split())
_LENGTHS = (0, 1, 2, 3, 0xFFFF, 0xFFFE, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFFFFFE, 0x10000, 12)


@dataclass(frozen=True)
class Case:
    """One fuzz input: its bytes, a file name (the suffix tells images apart), and how made."""

    name: str
    data: bytes
    recipe: str


def seed_files(max_size: int = MAX_SEED_SIZE) -> list[Path]:
    """The seed files, sorted, each at most ``max_size`` bytes."""
    files = [
        path
        for folder in SEED_FOLDERS
        for path in sorted((DATA / folder).glob("*"))
        if path.is_file() and path.suffix != ".md" and 0 < path.stat().st_size <= max_size
    ]
    return files


def _flip(rng: random.Random, data: bytearray) -> str:
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(data))
        data[at] = rng.randrange(256) if rng.random() < 0.5 else data[at] ^ (1 << rng.randrange(8))
    return "flip"


def _truncate(rng: random.Random, data: bytearray) -> str:
    del data[rng.randrange(len(data)) :]
    return "truncate"


def _insert(rng: random.Random, data: bytearray) -> str:
    at = rng.randrange(len(data) + 1)
    if rng.random() < 0.5:
        start = rng.randrange(len(data))
        chunk = bytes(data[start : start + rng.randint(1, 64)])
    else:
        chunk = rng.randbytes(rng.randint(1, 32))
    data[at:at] = chunk
    return "insert"


def _delete(rng: random.Random, data: bytearray) -> str:
    at = rng.randrange(len(data))
    del data[at : at + rng.randint(1, 64)]
    return "delete"


def _element_headers(data: bytes) -> list[int]:
    """Offsets of explicit VR element headers (tag then a known VR) after the preamble."""
    found = []
    for vr in _VRS:
        at = data.find(vr, 132)
        while at != -1 and len(found) < 4000:
            if at >= 4:
                found.append(at - 4)
            at = data.find(vr, at + 1)
    return sorted(found)


def _dicom_length(rng: random.Random, data: bytearray) -> str:
    headers = _element_headers(bytes(data))
    if not headers:
        return _flip(rng, data)
    at = rng.choice(headers)
    vr = bytes(data[at + 4 : at + 6])
    value = rng.choice(_LENGTHS) if rng.random() < 0.7 else rng.randrange(1 << 32)
    if vr in _LONG_VRS:
        data[at + 8 : at + 12] = struct.pack("<I", value & 0xFFFFFFFF)
    else:
        data[at + 6 : at + 8] = struct.pack("<H", value & 0xFFFF)
    return "dicom-length"


def _dicom_vr(rng: random.Random, data: bytearray) -> str:
    headers = _element_headers(bytes(data))
    if not headers:
        return _flip(rng, data)
    at = rng.choice(headers)
    data[at + 4 : at + 6] = rng.choice([*_VRS, b"xx", b"\0\0"])
    return "dicom-vr"


def _dicom_tag(rng: random.Random, data: bytearray) -> str:
    headers = _element_headers(bytes(data))
    if not headers:
        return _flip(rng, data)
    at = rng.choice(headers)
    tags = (0x00000000, 0x00020010, 0x00080005, 0x00080016, 0xFFFEE000, 0xFFFEE0DD, 0x7FE00010)
    tag = rng.choice(tags) if rng.random() < 0.7 else rng.randrange(1 << 32)
    data[at : at + 4] = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    return "dicom-tag"


def _png_chunks(data: bytes) -> list[tuple[int, bytes, int]]:
    """(offset, type, length) of each PNG chunk."""
    chunks, at = [], 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        if at + 12 + length > len(data):
            break
        chunks.append((at, data[at + 4 : at + 8], length))
        at += 12 + length
    return chunks


def _fix_crc(data: bytearray, at: int, length: int) -> None:
    end = at + 8 + length
    if end + 4 <= len(data):
        data[end : end + 4] = struct.pack(">I", zlib.crc32(data[at + 4 : end]))


def _png(rng: random.Random, data: bytearray) -> str:
    chunks = _png_chunks(bytes(data))
    if not chunks:
        return _flip(rng, data)
    at, kind, length = rng.choice(chunks)
    if kind == b"IHDR" and length == 13 and rng.random() < 0.8:
        field = rng.randrange(7)
        offsets = (8, 12, 16, 17, 18, 19, 20)
        pos = at + offsets[field]
        if field < 2:
            size = rng.choice((0, 1, 0x7FFFFFFF, 65535, 100000, rng.randrange(1, 5000)))
            data[pos : pos + 4] = struct.pack(">I", size)
        else:
            data[pos] = rng.choice((0, 1, 2, 3, 4, 6, 7, 8, 16, 255))
        _fix_crc(data, at, length)
        return "png-ihdr"
    if kind == b"IDAT" and length and rng.random() < 0.7:
        for _ in range(rng.randint(1, 4)):
            pos = at + 8 + rng.randrange(length)
            data[pos] = rng.randrange(256)
        if rng.random() < 0.8:
            _fix_crc(data, at, length)
        return "png-idat"
    if rng.random() < 0.5:  # duplicate a chunk
        whole = bytes(data[at : at + 12 + length])
        data[at:at] = whole
        return "png-duplicate"
    data[at : at + 4] = struct.pack(">I", rng.choice(_LENGTHS) & 0xFFFFFFFF)
    return "png-length"


def _jpeg_markers(data: bytes) -> list[int]:
    return [i for i in range(len(data) - 3) if data[i] == 0xFF and 0xC0 <= data[i + 1] <= 0xFE][
        :2000
    ]


def _jpeg(rng: random.Random, data: bytearray) -> str:
    markers = _jpeg_markers(bytes(data))
    if not markers:
        return _flip(rng, data)
    at = rng.choice(markers)
    choice = rng.randrange(4)
    if choice == 0:  # segment length
        data[at + 2 : at + 4] = struct.pack(
            ">H", rng.choice((0, 1, 2, 0xFFFF, rng.randrange(65536)))
        )
        return "jpeg-length"
    if choice == 1:  # marker kind
        data[at + 1] = rng.choice((0xC0, 0xC2, 0xC4, 0xD8, 0xD9, 0xDA, 0xDB, 0xE1, 0xFE, 0xDD))
        return "jpeg-marker"
    if choice == 2 and data[at + 1] in (0xC0, 0xC1, 0xC2) and at + 9 < len(data):  # SOF sizes
        pos = at + 5 + 2 * rng.randrange(2)
        data[pos : pos + 2] = struct.pack(">H", rng.choice((0, 1, 65535, rng.randrange(65536))))
        return "jpeg-sof"
    end = markers[markers.index(at) + 1] if markers.index(at) + 1 < len(markers) else len(data)
    del data[at:end]  # drop a segment
    return "jpeg-drop"


_GENERIC: tuple[Callable[[random.Random, bytearray], str], ...] = (
    _flip,
    _truncate,
    _insert,
    _delete,
)


def _mutations(data: bytes, name: str) -> tuple[Callable[[random.Random, bytearray], str], ...]:
    if data.startswith(b"\x89PNG"):
        return (*_GENERIC, _png, _png, _png)
    if data.startswith(b"\xff\xd8"):
        return (*_GENERIC, _jpeg, _jpeg, _jpeg)
    return (*_GENERIC, _dicom_length, _dicom_length, _dicom_vr, _dicom_vr, _dicom_tag)


def mutate(seed: int, index: int, seeds: list[Path]) -> Case:
    """Case ``index`` of the run with ``seed``: one to three mutations of one seed file.

    Parameters
    ----------
    seed : int
        The run's seed.
    index : int
        The case's number in the run.
    seeds : list of Path
        From :func:`seed_files`.

    Returns
    -------
    Case
    """
    rng = random.Random(f"{seed}:{index}")
    source = seeds[rng.randrange(len(seeds))]
    original = source.read_bytes()
    data = bytearray(original)
    steps = []
    choices = _mutations(original, source.name)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not data:
            break
        steps.append(rng.choice(choices)(rng, data))
    recipe = f"seed={seed} case={index} {source.parent.name}/{source.name} {'+'.join(steps)}"
    return Case(name=source.name, data=bytes(data), recipe=recipe)
