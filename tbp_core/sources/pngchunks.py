"""Walk and check the chunks of a PNG file before any decoder sees it.

libpng (used through imagecodecs to decode the pixels) reports many problems
by printing ``PNG warning: ...`` lines from C straight to the process's
stderr. This module finds those problems first, in Python, so that

* a damaged file becomes one clear message (signature, chunk lengths, every
  chunk's CRC-32, IHDR values, PLTE/tRNS rules, IDAT present, IEND present),
* the metadata chunks are read with bounded decompression (eXIf, iCCP,
  tEXt/zTXt/iTXt), and
* libpng is only given the file as it is when every chunk it would parse is
  known to be well formed. Otherwise
  :func:`~tbp_core.sources.pngstream.minimal_png` rebuilds a stream holding
  only the chunks needed for the pixels, and interlaced images are split into
  their seven Adam7 passes (:mod:`tbp_core.sources.pngstream`), each of which
  libpng decodes as a small non-interlaced image without complaint.

Nothing here decodes pixels.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

from isal import isal_zlib

from tbp_core.sources.pngformat import (
    COLOUR_TYPE_NAMES,
    SIGNATURE,
    AppleCgbiError,
    Chunk,
    Header,
    PngInfo,
    PngStructureError,
    inflated,
    u32,
)

__all__ = [
    "COLOUR_TYPE_NAMES",
    "MAX_ICC_BYTES",
    "MAX_TEXT_BYTES",
    "SIGNATURE",
    "AppleCgbiError",
    "Chunk",
    "Header",
    "PngInfo",
    "PngStructureError",
    "parse_png",
]

#: Largest embedded ICC profile read (decompressed), in bytes.
MAX_ICC_BYTES = 16 * 1024 * 1024
#: Largest decompressed text chunk read, in bytes; larger ones are skipped.
MAX_TEXT_BYTES = 1024 * 1024
#: Text chunks before the first IDAT beyond which libpng's chunk cache warns.
_MAX_EARLY_TEXT_CHUNKS = 500
#: Output size of one zlib call while inflating metadata.
_TEXT_STEP = 256 * 1024

_ALLOWED_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}

#: Ancillary chunks libpng 1.6 parses when they come before the image data.
#: Chunks outside this set are skipped by libpng without a word.
_LIBPNG_KNOWN = frozenset(
    {
        "bKGD", "cHRM", "cICP", "cLLI", "mDCV", "eXIf", "gAMA", "hIST", "iCCP",
        "iTXt", "oFFs", "pCAL", "pHYs", "sBIT", "sCAL", "sPLT", "sRGB", "sTER",
        "tEXt", "tIME", "tRNS", "zTXt", "acTL", "fcTL", "fdAT",
    }
)  # fmt: skip
_BEFORE_PLTE = frozenset({"cHRM", "gAMA", "iCCP", "sRGB", "sBIT"})
_SINGLE = frozenset({"bKGD", "cHRM", "eXIf", "gAMA", "iCCP", "pHYs", "sBIT", "sRGB", "tIME"})
_TEXT = frozenset({"tEXt", "zTXt", "iTXt"})


def _chunks(data: bytes) -> list[Chunk]:
    """Split the file into chunks, checking lengths, names and CRCs; stop after IEND."""
    if not data.startswith(SIGNATURE):
        raise PngStructureError("its PNG signature is damaged")
    view = memoryview(data)
    chunks: list[Chunk] = []
    pos = len(SIGNATURE)
    while True:
        if pos + 8 > len(data):
            last = f"after the {chunks[-1].type} chunk" if chunks else "after the signature"
            raise PngStructureError(f"it ends {last} without an IEND chunk (the file is truncated)")
        length = u32(data, pos)
        raw_type = bytes(view[pos + 4 : pos + 8])
        if not raw_type.isalpha() or not raw_type.isascii():
            raise PngStructureError(f"it has an invalid chunk name {raw_type!r} at byte {pos + 4}")
        name = raw_type.decode("ascii")
        if length > 0x7FFFFFFF:
            raise PngStructureError(f"the {name} chunk at byte {pos} has an impossible length")
        start = pos + 8
        if start + length + 4 > len(data):
            raise PngStructureError(f"it ends inside the {name} chunk (the file is truncated)")
        stored_crc = u32(data, start + length)
        if isal_zlib.crc32(view[start : start + length], isal_zlib.crc32(raw_type)) != stored_crc:
            raise PngStructureError(f"the {name} chunk at byte {pos} fails its CRC check")
        if name == "CgBI" and not chunks:
            raise AppleCgbiError("Apple CgBI")
        chunks.append(Chunk(name, start, length))
        pos = start + length + 4
        if name == "IEND":
            return chunks


def _header(data: bytes, chunks: Sequence[Chunk]) -> Header:
    first = chunks[0]
    if first.type != "IHDR":
        raise PngStructureError(f"its first chunk is {first.type}, not IHDR")
    if first.length != 13:
        raise PngStructureError(f"its IHDR chunk is {first.length} bytes long instead of 13")
    width, height, depth, ctype, method, filt, interlace = struct.unpack_from(
        ">IIBBBBB", data, first.start
    )
    if not 0 < width <= 0x7FFFFFFF or not 0 < height <= 0x7FFFFFFF:
        raise PngStructureError(f"its IHDR gives an impossible size {width}×{height}")
    if ctype not in _ALLOWED_DEPTHS:
        raise PngStructureError(f"its IHDR gives colour type {ctype}, which does not exist")
    if depth not in _ALLOWED_DEPTHS[ctype]:
        kind = COLOUR_TYPE_NAMES[ctype]
        raise PngStructureError(f"its IHDR gives bit depth {depth}, not allowed for {kind} images")
    if method != 0 or filt != 0:
        raise PngStructureError("its IHDR names an unknown compression or filter method")
    if interlace not in (0, 1):
        raise PngStructureError(f"its IHDR names an unknown interlace method {interlace}")
    return Header(width, height, depth, ctype, interlace == 1)


def _inflate(payload: bytes, limit: int) -> bytes | None:
    """Decompress a zlib stream; None when corrupt, incomplete or above ``limit`` bytes.

    Works in steps so that a decompression bomb costs at most ``limit`` bytes.
    """
    inflater = zlib.decompressobj()
    pieces: list[bytes] = []
    total = 0
    try:
        for piece in inflated(inflater, [memoryview(payload)], _TEXT_STEP):
            pieces.append(piece)
            total += len(piece)
            if total > limit:
                return None
    except zlib.error:
        return None
    return b"".join(pieces) if inflater.eof else None


def _split_keyword(payload: bytes) -> tuple[str, bytes] | None:
    keyword, sep, rest = payload.partition(b"\0")
    if not sep or not 1 <= len(keyword) <= 79:
        return None
    return keyword.decode("latin-1"), rest


def _read_text(kind: str, payload: bytes) -> tuple[str, str] | str:
    """Decode one text chunk: (keyword, text), or a reason it was skipped."""
    split = _split_keyword(payload)
    if split is None:
        return f"a text chunk ({kind}) without a valid keyword"
    keyword, rest = split
    if kind == "tEXt":
        return keyword, rest.decode("latin-1")
    if kind == "zTXt":
        if rest[:1] != b"\0":
            return f"the {kind} chunk '{keyword}' (unknown compression)"
        raw = _inflate(rest[1:], MAX_TEXT_BYTES)
        if raw is None:
            return f"the {kind} chunk '{keyword}' (corrupt, or larger than 1 MiB)"
        return keyword, raw.decode("latin-1")
    # iTXt: compression flag, method, language tag \0, translated keyword \0, text
    if len(rest) < 2 or rest[0] not in (0, 1) or rest[1] != 0:
        return f"the {kind} chunk '{keyword}' (bad compression fields)"
    parts = rest[2:].split(b"\0", 2)
    if len(parts) != 3:
        return f"the {kind} chunk '{keyword}' (truncated)"
    body: bytes | None = parts[2]
    if rest[0] == 1:
        body = _inflate(parts[2], MAX_TEXT_BYTES)
        if body is None:
            return f"the {kind} chunk '{keyword}' (corrupt, or larger than 1 MiB)"
    assert body is not None
    return keyword, body.decode("utf-8", errors="replace")


def _icc_problem(profile: bytes, colour_type: int) -> str | None:
    """Why an ICC profile is unusable for this PNG (None when it is fine)."""
    if len(profile) < 132 or profile[36:40] != b"acsp":
        return "is not an ICC profile"
    if u32(profile, 0) != len(profile):
        return "has a wrong length field"
    space = profile[16:20]
    grey = colour_type in (0, 4)
    if grey and space != b"GRAY":
        return f"is for colour space {space.decode('latin-1').strip()!r}, not grey"
    if not grey and space != b"RGB ":
        return f"is for colour space {space.decode('latin-1').strip()!r}, not RGB"
    return None


def _icc_is_quiet(profile: bytes) -> bool:
    """Whether libpng's own profile checks would pass without a warning."""
    if len(profile) % 4 or u32(profile, 64) > 3 or profile[20:24] not in (b"XYZ ", b"Lab "):
        return False
    if profile[12:16] not in (b"mntr", b"scnr", b"prtr", b"spac"):
        return False
    count = u32(profile, 128)
    if 132 + 12 * count > len(profile):
        return False
    for i in range(count):
        offset, size = struct.unpack_from(">II", profile, 132 + 12 * i + 4)
        if offset % 4 or offset + size > len(profile):
            return False
    return True


def _exif_block(payload: bytes) -> bytes | None:
    block = payload[6:] if payload.startswith(b"Exif\0") else payload
    return block if block[:4] in (b"II*\0", b"MM\0*") and len(block) >= 8 else None


def _exif_from_imagemagick(text: dict[str, str]) -> bytes | None:
    """EXIF stored as hex in an ImageMagick 'Raw profile type exif' text chunk."""
    value = text.get("Raw profile type exif") or text.get("Raw profile type APP1")
    if value is None:
        return None
    lines = value.strip().split("\n")
    try:
        raw = bytes.fromhex("".join(lines[2:]))
    except ValueError:
        return None
    return _exif_block(raw)


def _quiet_ancillary(
    chunk: Chunk, payload: bytes, header: Header, palette_len: int, parsed: object
) -> bool:
    """Whether libpng parses this (pre-IDAT) ancillary chunk without printing.

    ``parsed`` is what :func:`_read_text` or :func:`_iccp_profile` made of the
    chunk, so that nothing is decompressed twice.
    """
    kind = chunk.type
    depth_max = (1 << header.bit_depth) - 1
    if kind == "pHYs":
        return chunk.length == 9
    if kind == "tIME":
        if chunk.length != 7:
            return False
        month, day, hour, minute, second = payload[2:7]
        return 1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61
    if kind == "gAMA":
        return chunk.length == 4 and 0 < u32(payload, 0) <= 0x7FFFFFFF
    if kind == "cHRM":
        return chunk.length == 32 and all(0 < v <= 100000 for v in struct.unpack(">8I", payload))
    if kind == "sRGB":
        return chunk.length == 1 and payload[0] <= 3
    if kind == "sBIT":
        need = 3 if header.colour_type == 3 else header.channels
        top = 8 if header.colour_type == 3 else header.bit_depth
        return chunk.length == need and all(1 <= b <= top for b in payload)
    if kind == "bKGD":
        if header.colour_type == 3:
            return chunk.length == 1 and payload[0] < palette_len
        need = 2 if header.colour_type in (0, 4) else 6
        values = struct.unpack(f">{need // 2}H", payload) if chunk.length == need else None
        return values is not None and all(v <= depth_max for v in values)
    if kind == "eXIf":
        return payload[:4] in (b"II*\0", b"MM\0*") and chunk.length >= 8
    if kind in _TEXT:
        return isinstance(parsed, tuple)
    if kind == "iCCP":
        return (
            isinstance(parsed, bytes)
            and _icc_problem(parsed, header.colour_type) is None
            and _icc_is_quiet(parsed)
        )
    return kind not in _LIBPNG_KNOWN


def _transparency(payload: bytes, header: Header, palette_len: int) -> tuple[bytes | None, bool]:
    """A usable tRNS (or None) and whether libpng accepts the original quietly."""
    ctype = header.colour_type
    if ctype == 3:
        if not payload:
            return None, False
        if len(payload) > palette_len:
            return payload[:palette_len], False
        return payload, True
    need = 2 if ctype == 0 else 6
    if len(payload) != need:
        return None, False
    if any(v >> header.bit_depth for v in struct.unpack(f">{need // 2}H", payload)):
        # No pixel can have this value: ignoring it changes nothing.
        return None, False
    return payload, True


def parse_png(data: bytes) -> PngInfo:
    """Check a PNG file's structure and read its metadata chunks.

    Parameters
    ----------
    data : bytes
        The whole file.

    Returns
    -------
    PngInfo
        Header, image data chunks, palette, transparency and metadata.

    Raises
    ------
    AppleCgbiError
        The file is Apple's non-standard CgBI PNG.
    PngStructureError
        The signature, a chunk length or CRC, the IHDR values or the chunk
        order are broken, or there is no image data or no IEND.
    """
    chunks = _chunks(data)
    header = _header(data, chunks)
    view = memoryview(data)
    notices: list[str] = []
    text: dict[str, str] = {}
    palette: bytes | None = None
    trns: bytes | None = None
    exif: bytes | None = None
    icc: bytes | None = None
    idat: list[Chunk] = []
    seen: set[str] = set()
    ready = True
    early_text = 0
    animated = False
    after_idat = False
    for chunk in chunks[1:-1]:
        kind = chunk.type
        if kind == "IDAT":
            if after_idat:
                raise PngStructureError("its IDAT chunks are not consecutive")
            idat.append(chunk)
            continue
        if idat:
            after_idat = True
        pre_idat = not idat
        wanted = kind in _LIBPNG_KNOWN or kind == "PLTE"
        payload = bytes(view[chunk.start : chunk.end]) if wanted else b""
        if kind == "IHDR":
            raise PngStructureError("it has a second IHDR chunk")
        if kind == "CgBI":
            raise AppleCgbiError("Apple CgBI")
        if kind == "PLTE":
            if "PLTE" in seen or not pre_idat or "tRNS" in seen:
                raise PngStructureError("its PLTE chunk is repeated or misplaced")
            if not 3 <= chunk.length <= 768 or chunk.length % 3:
                raise PngStructureError(f"its PLTE chunk has an invalid length {chunk.length}")
            if header.colour_type in (0, 4):
                notices.append("ignored a palette (PLTE) chunk that a grey image must not have")
                ready = False
            elif header.colour_type == 3:
                palette = payload[: 3 << header.bit_depth]
                ready = ready and len(palette) == chunk.length
            seen.add(kind)
            continue
        if kind == "tRNS":
            if header.colour_type in (4, 6):
                notices.append("ignored a tRNS chunk: the image already has an alpha channel")
                ready = ready and not pre_idat
            elif "tRNS" in seen or not pre_idat:
                notices.append("ignored a repeated or misplaced tRNS chunk")
                ready = ready and not pre_idat
            elif header.colour_type == 3 and palette is None:
                raise PngStructureError("its tRNS chunk comes before the palette")
            else:
                trns, quiet = _transparency(payload, header, len(palette or b"") // 3)
                ready = ready and quiet
                if trns is None:
                    notices.append("ignored an unusable tRNS (transparency) chunk")
            seen.add(kind)
            continue
        if kind[0].isupper():
            raise PngStructureError(f"it has an unknown critical chunk {kind}")
        # Ancillary chunk: metadata first, then whether libpng may see it.
        parsed: object = None
        if kind in _TEXT:
            parsed = decoded = _read_text(kind, payload)
            if isinstance(decoded, str):
                notices.append(f"skipped {decoded}")
            else:
                key, value = decoded
                text[key] = f"{text[key]}\n{value}" if key in text else value
            early_text += pre_idat
        elif kind == "eXIf" and exif is None:
            exif = _exif_block(payload)
            if exif is None:
                notices.append("ignored an eXIf chunk that holds no valid EXIF data")
        elif kind == "iCCP":
            parsed = profile = _iccp_profile(payload)
            if "iCCP" not in seen:
                icc = _accept_icc(profile, header, notices)
        elif kind in ("acTL", "fcTL"):
            animated = True
        if pre_idat and ready:
            ready = (
                not (kind in _SINGLE and kind in seen)
                and not (kind in _BEFORE_PLTE and "PLTE" in seen)
                and _quiet_ancillary(chunk, payload, header, len(palette or b"") // 3, parsed)
            )
        seen.add(kind)
    if header.colour_type == 3 and palette is None:
        raise PngStructureError("it is a palette image without a PLTE (palette) chunk")
    if not idat:
        raise PngStructureError("it has no IDAT chunk (no pixel data)")
    if exif is None:
        exif = _exif_from_imagemagick(text)
    if early_text > _MAX_EARLY_TEXT_CHUNKS:
        ready = False
    return PngInfo(
        header=header,
        idat=tuple(idat),
        palette=palette,
        transparency=trns,
        exif=exif,
        icc_profile=icc,
        text=text,
        notices=tuple(dict.fromkeys(notices)),
        libpng_ready=ready and not animated,
        animated=animated,
    )


def _iccp_profile(payload: bytes) -> bytes | None:
    """The decompressed profile of an iCCP chunk (None when unreadable or too large)."""
    split = _split_keyword(payload)
    if split is None or split[1][:1] != b"\0":
        return None
    return _inflate(split[1][1:], MAX_ICC_BYTES)


def _accept_icc(profile: bytes | None, header: Header, notices: list[str]) -> bytes | None:
    if profile is None:
        notices.append("ignored an embedded ICC profile that is corrupt or larger than 16 MiB")
        return None
    problem = _icc_problem(profile, header.colour_type)
    if problem is not None:
        notices.append(f"ignored the embedded ICC profile: it {problem}")
        return None
    return profile
