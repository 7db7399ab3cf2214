"""The JPEG decoder: Pillow, or a verify-only pass for JPEGs encapsulated as they are.

:func:`load_jpeg` decodes a JPEG into an upright
:class:`~tbp_core.sources.sourceimage.SourceImage` and keeps the file's own
bitstream when it can become encapsulated Pixel Data unchanged (8-bit
baseline or extended, grey or YCbCr, upright). When the caller will do just
that (JPEG passthrough), such a JPEG's scan is only verified, not kept.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from tbp_core.errors import UnsupportedImageError
from tbp_core.sources.decodernotes import pillow_warnings
from tbp_core.sources.imagedecoders import (
    PILLOW_FAILURES,
    PILLOW_FATAL,
    check_size,
    exif_block,
    exif_orientation,
    pillow_failure,
    pillow_limit,
)
from tbp_core.sources.imagepixels import Pixels, from_pillow, orient
from tbp_core.sources.sourceimage import SourceImage

__all__ = ["load_jpeg"]

_JPEG_PROCESSES = {
    0xC0: "baseline",
    0xC1: "extended",
    0xC2: "progressive",
    0xC3: "lossless",
    0xC9: "arithmetic",
    0xCA: "progressive arithmetic",
    0xCB: "lossless arithmetic",
}
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class _JpegFrame:
    marker: int
    precision: int
    height: int
    width: int
    components: int
    scan_start: int  # offset of the first SOS marker, or -1


def _jpeg_frame(data: bytes) -> _JpegFrame | None:
    """Walk the JPEG markers up to the first scan; the frame header, if found."""
    pos = 2
    frame: tuple[int, int, int, int, int] | None = None
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            pos += 2
            continue
        if marker == 0xDA:
            return None if frame is None else _JpegFrame(*frame, scan_start=pos)
        if marker == 0xD9:
            return None
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker in _JPEG_FRAMES and pos + 10 <= len(data):
            precision, height, width, comps = struct.unpack_from(">BHHB", data, pos + 4)
            frame = (marker, precision, height, width, comps)
        pos += 2 + length
    return None if frame is None else _JpegFrame(*frame, scan_start=-1)


def load_jpeg(data: bytes, name: str, max_pixels: int, *, passthrough: bool = False) -> SourceImage:
    """Decode a JPEG with Pillow; keep its bitstream when it can be encapsulated as is.

    With ``passthrough`` (the caller encapsulates the JPEG itself), a JPEG that
    can be passed through is only verified: its whole scan is entropy-decoded
    at 1/8 scale (so truncated or corrupt data is refused as in a full
    decode), and the result's :attr:`~SourceImage.buffer` is empty. Other
    JPEGs are decoded in full.
    """
    limit = pillow_limit(max_pixels)
    frame = _jpeg_frame(data)
    if frame is not None and frame.height:
        check_size(name, frame.width, frame.height, limit)
    if passthrough and frame is not None:
        verified = _verify_for_passthrough(data, name, frame, max_pixels)
        if verified is not None:
            return verified
    notices: list[str] = []
    try:
        with (
            pillow_warnings(notices, fatal=PILLOW_FATAL),
            Image.open(io.BytesIO(data), formats=["JPEG"]) as im,
        ):
            check_size(name, im.width, im.height, limit)
            if im.mode not in ("L", "RGB", "CMYK"):
                raise UnsupportedImageError(
                    f"'{name}' is a JPEG in Pillow mode {im.mode}, which cannot be converted "
                    "— re-export it as an 8-bit RGB JPEG or PNG"
                )
            im.load()
            info: dict[Any, Any] = dict(im.info)
            colour = _jpeg_colour(im.mode, info, frame)
            icc = info.get("icc_profile") or None
            if im.mode == "CMYK":
                rgb, icc, notice = _cmyk_to_rgb(im, icc)
                notices.append(notice)
                pixels = from_pillow(rgb, 3, 8, "u1")
            else:
                pixels = from_pillow(im, 1 if im.mode == "L" else 3, 8, "u1")
    except PILLOW_FAILURES as exc:
        raise pillow_failure(name, "JPEG", exc, max_pixels) from exc
    exif = exif_block(info.get("exif"), notices)
    pixels, orientation = orient(pixels, exif_orientation(exif), notices)
    keep = frame is not None and _passes_through(frame, colour) and orientation == 1
    return _jpeg_image(
        data,
        name,
        frame,
        pixels,
        colour,
        info,
        _JpegExtras(icc, exif, orientation, tuple(notices)),
        original=_jpeg_bitstream(data, frame) if keep and frame is not None else None,
    )


def _passes_through(frame: _JpegFrame, colour: str) -> bool:
    """Whether an upright JPEG can be encapsulated as it is (8-bit baseline/extended)."""
    return frame.marker in (0xC0, 0xC1) and frame.precision == 8 and colour in ("grey", "YCbCr")


@dataclass(frozen=True)
class _JpegExtras:
    icc: bytes | None
    exif: bytes | None
    orientation: int
    notices: tuple[str, ...]


def _verify_for_passthrough(
    data: bytes, name: str, frame: _JpegFrame, max_pixels: int
) -> SourceImage | None:
    """Check a JPEG that can be passed through without keeping its pixels; else None."""
    notices: list[str] = []
    original = _jpeg_bitstream(data, frame)
    try:
        with (
            pillow_warnings(notices, fatal=PILLOW_FATAL),
            Image.open(io.BytesIO(data), formats=["JPEG"]) as im,
        ):
            check_size(name, im.width, im.height, pillow_limit(max_pixels))
            info: dict[Any, Any] = dict(im.info)
            colour = _jpeg_colour(im.mode, info, frame)
            exif_notes: list[str] = []
            exif = exif_block(info.get("exif"), exif_notes)
            if (
                original is None
                or im.mode not in ("L", "RGB")
                or not _passes_through(frame, colour)
                or exif_orientation(exif) not in (None, 1)
            ):
                return None
            channels = 1 if im.mode == "L" else 3
            width, height = im.size
            # libjpeg's 1/8 scale still decodes every entropy-coded block.
            im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
            im.load()
    except PILLOW_FAILURES as exc:
        raise pillow_failure(name, "JPEG", exc, max_pixels) from exc
    empty = Pixels(bytearray(), height, width, channels, 8)
    extras = _JpegExtras(info.get("icc_profile") or None, exif, 1, (*notices, *exif_notes))
    return _jpeg_image(data, name, frame, empty, colour, info, extras, original=original)


def _jpeg_image(
    data: bytes,
    name: str,
    frame: _JpegFrame | None,
    pixels: Pixels,
    colour: str,
    info: Mapping[str, object],
    extras: _JpegExtras,
    *,
    original: bytes | None,
) -> SourceImage:
    if frame is not None:
        process = _JPEG_PROCESSES.get(frame.marker, "hierarchical")
    else:
        process = "progressive" if info.get("progressive") else "baseline"
    text: dict[str, str] = {}
    comment = info.get("comment")
    if isinstance(comment, bytes) and comment.strip(b"\0 "):
        text["Comment"] = comment.rstrip(b"\0").decode("utf-8", errors="replace")
    return SourceImage(
        name=name,
        format="JPEG",
        buffer=pixels.buffer,
        rows=pixels.rows,
        columns=pixels.columns,
        samples_per_pixel=pixels.channels,
        bits_allocated=8,
        source_bit_depth=8,
        source_mode=f"JPEG {colour} 8-bit {process}",
        interlaced="progressive" in process,
        orientation=extras.orientation,
        icc_profile=extras.icc,
        exif=extras.exif,
        text=text,
        lossy=True,
        file_size=len(data),
        notices=extras.notices,
        original=original,
    )


def _jpeg_colour(mode: str, info: Mapping[str, object], frame: _JpegFrame | None) -> str:
    transform = info.get("adobe_transform")
    if mode == "L":
        return "grey"
    if mode == "CMYK":
        return "YCCK" if transform == 2 else "CMYK"
    if transform == 0 and "adobe" in info:
        return "RGB"  # Adobe APP14 says the components are stored as RGB
    return "YCbCr"


def _jpeg_bitstream(data: bytes, frame: _JpegFrame) -> bytes | None:
    """The JPEG up to its EOI marker (drops trailers such as MPF second images)."""
    if frame.scan_start < 0:
        return None
    end = data.find(b"\xff\xd9", frame.scan_start)
    if end < 0:
        return None
    return data if end + 2 == len(data) else data[: end + 2]


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None, str]:
    """Convert CMYK to RGB, through the embedded ICC profile to sRGB when possible."""
    managed = _cms_to_srgb(im, icc) if icc else None
    if managed is not None:
        return managed[0], managed[1], "CMYK converted to RGB (sRGB) with its ICC profile"
    return (
        im.convert("RGB"),
        None,
        "CMYK converted to RGB (approximate colours: no usable CMYK ICC profile)",
    )


def _cms_to_srgb(im: Image.Image, icc: bytes) -> tuple[Image.Image, bytes] | None:
    try:
        from PIL import ImageCms
    except ImportError:  # Pillow built without LittleCMS
        return None
    try:
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        rgb = ImageCms.profileToProfile(im, source, srgb, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # unusable profile: the caller falls back to a plain conversion
    return None if rgb is None else (rgb, srgb.tobytes())
