"""Decoders for each supported container: PNG (libpng), JPEG and TIFF (Pillow).

Each ``load_*`` function turns a whole file into an upright
:class:`~tbp_core.sources.sourceimage.SourceImage` or raises a one-line
:class:`~tbp_core.errors.ImageLoadError` / :class:`~tbp_core.errors.UnsupportedImageError`.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import imagecodecs
import numpy as np
from PIL import Image, TiffImagePlugin

from tbp_core.errors import ImageLoadError, UnsupportedImageError, one_line
from tbp_core.sources import pngchunks, pngstream, pngstrips
from tbp_core.sources.decodernotes import native_warnings, pillow_warnings
from tbp_core.sources.imagepixels import (
    Pixels,
    from_pillow,
    orient,
    resolve_alpha,
)
from tbp_core.sources.sourceimage import AlphaPolicy, SourceImage

#: Deflate cannot expand data by more than this factor; less data is truncated.
_MAX_DEFLATE_RATIO = 1032

#: Exceptions Pillow raises for malformed files (its plugins are not uniform:
#: a broken TIFF header can give TypeError or KeyError, a short read EOFError).
_PILLOW_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    zlib.error,
    TypeError,
    KeyError,
    IndexError,
)

_PILLOW_FAILURES: tuple[type[Exception], ...] = (
    *_PILLOW_ERRORS,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)

#: Pillow warnings that stop a decode instead of becoming a note.
_PILLOW_FATAL: tuple[type[Warning], ...] = (Image.DecompressionBombWarning,)

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

#: TIFF tags read from IFD0: Orientation, and ImageWidth/ImageLength.
_ORIENTATION = frozenset({274})
_WIDTH_HEIGHT = frozenset({256, 257})

#: Pillow TIFF modes we convert: samples per pixel, bits, description, raw dtype.
_TIFF_MODES: dict[str, tuple[int, int, str, str]] = {
    "L": (1, 8, "grey 8-bit", "u1"),
    "RGB": (3, 8, "RGB 8-bit", "u1"),
    "I;16": (1, 16, "grey 16-bit", "<u2"),
    "I;16L": (1, 16, "grey 16-bit", "<u2"),
    "I;16B": (1, 16, "grey 16-bit", ">u2"),
}
_PILLOW_MODE_NAMES = {
    "1": "1-bit black and white",
    "P": "palette",
    "PA": "palette with alpha",
    "LA": "grey with alpha",
    "RGBA": "RGB with alpha",
    "CMYK": "CMYK",
    "I": "32-bit integer",
    "I;16S": "signed 16-bit",
    "F": "32-bit floating point",
}


def _amount(pixels: int) -> str:
    if pixels >= 100_000:
        return f"{pixels / 1e6:.1f} MP"
    return f"{pixels:,} pixels"


def _check_size(name: str, width: int, height: int, limit: int) -> None:
    if width * height > limit:
        raise UnsupportedImageError(
            f"'{name}' is {width}×{height} = {_amount(width * height)}, above the "
            f"{_amount(limit)} limit — downscale it or crop it, then try again"
        )


def _pillow_limit(max_pixels: int) -> int:
    """The size limit for Pillow formats: ours, but never above Pillow's bomb guard."""
    guard = Image.MAX_IMAGE_PIXELS
    return max_pixels if guard is None else min(max_pixels, guard)


# --------------------------------------------------------------------------- PNG


def load_png(data: bytes, name: str, alpha: AlphaPolicy, max_pixels: int) -> SourceImage:
    """Check a PNG chunk by chunk, decode it with libpng, remove alpha and turn it upright."""
    try:
        info = pngchunks.parse_png(data)
    except pngchunks.AppleCgbiError:
        raise ImageLoadError(
            f"'{name}' is an Apple-optimised PNG (CgBI, made by Xcode for iPhone apps) that "
            "standard decoders cannot read — open it in Preview and re-save it as a normal PNG"
        ) from None
    except pngchunks.PngStructureError as exc:
        raise ImageLoadError(
            f"'{name}' is a damaged PNG file: {exc} — re-export it or copy the original again"
        ) from None
    header = info.header
    _check_size(name, header.width, header.height, max_pixels)
    needed = pngstream.filtered_size(header)
    if needed > info.idat_size * _MAX_DEFLATE_RATIO + 1024:
        raise ImageLoadError(
            f"'{name}' is a damaged PNG file: it holds far too little pixel data for "
            f"{header.width}×{header.height} pixels (truncated) — re-export it"
        )
    notices = list(info.notices)
    pixels = _decode_png(data, name, info, notices)
    if info.animated:
        notices.append("animated PNG: only its default image was converted")
    if pixels.channels in (2, 4):
        resolve_alpha(name, pixels, alpha, notices)
    pixels, orientation = orient(pixels, _exif_orientation(info.exif), notices)
    mode = f"{pngchunks.COLOUR_TYPE_NAMES[header.colour_type]} {header.bit_depth}-bit"
    if info.transparency is not None:
        mode += " + tRNS"
    return SourceImage(
        name=name,
        format="PNG",
        buffer=pixels.buffer,
        rows=pixels.rows,
        columns=pixels.columns,
        samples_per_pixel=pixels.channels,
        bits_allocated=pixels.bits,
        source_bit_depth=header.bit_depth,
        source_mode=mode,
        interlaced=header.interlaced,
        orientation=orientation,
        icc_profile=info.icc_profile,
        exif=info.exif,
        text=dict(info.text),
        lossy=False,
        file_size=len(data),
        notices=tuple(notices),
    )


def _damaged_png(name: str, exc: Exception) -> ImageLoadError:
    return ImageLoadError(
        f"'{name}' is a damaged PNG file: {exc} — re-export it or copy the original again"
    )


def _decode_png(data: bytes, name: str, info: pngchunks.PngInfo, notices: list[str]) -> Pixels:
    """Verify the image data, then decode with libpng into a new buffer.

    Common layouts are decoded from the verifying inflation itself, strip by
    strip (:mod:`~tbp_core.sources.pngstrips`); the others by libpng afterwards.
    """
    header = info.header
    channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}[header.colour_type]
    if info.transparency is not None:
        channels += 1
    pixels = Pixels.new(header.height, header.width, channels, 16 if header.bit_depth == 16 else 8)
    strips = None
    if pngstrips.decodes_in_strips(info):
        strips = pngstrips.StripDecoder(info, _png_target(pixels))
    try:
        with native_warnings(notices):
            check = pngstream.check_stream(data, info, sink=strips)
            if strips is not None:
                strips.finish()
    except pngchunks.PngStructureError as exc:
        raise _damaged_png(name, exc) from None
    except (imagecodecs.PngError, ValueError) as exc:
        raise ImageLoadError(
            f"'{name}' has damaged pixel data (libpng: {one_line(exc)}) — "
            "re-export it or copy the original again"
        ) from exc
    if check.trailing:
        notices.append(
            f"ignored {check.trailing:,} bytes after the end of the compressed pixel data"
        )
    if check.surplus:
        notices.append(
            f"ignored {check.surplus:,} bytes of decompressed pixel data beyond what "
            f"{info.header.width}×{info.header.height} pixels need"
        )
    if strips is not None:
        if pixels.bits == 16 and sys.byteorder == "big":
            _png_target(pixels).byteswap(inplace=True)
        return pixels
    try:
        with native_warnings(notices):
            _png_into(data, info, check, pixels)
    except pngchunks.PngStructureError as exc:
        raise _damaged_png(name, exc) from None
    except (imagecodecs.PngError, ValueError) as exc:
        raise ImageLoadError(
            f"'{name}' has damaged pixel data (libpng: {one_line(exc)}) — "
            "re-export it or copy the original again"
        ) from exc
    return pixels


def _png_target(pixels: Pixels) -> np.ndarray:
    """The pixel buffer as the array libpng decodes into: (rows, columns[, channels])."""
    native = np.uint16 if pixels.bits == 16 else np.uint8
    shape: tuple[int, ...] = (pixels.rows, pixels.columns)
    if pixels.channels > 1:
        shape += (pixels.channels,)
    return np.frombuffer(pixels.buffer, native).reshape(shape)


def _png_into(
    data: bytes, info: pngchunks.PngInfo, check: pngstream.StreamCheck, pixels: Pixels
) -> None:
    target = _png_target(pixels)
    native, shape = target.dtype, target.shape
    if not info.header.interlaced and not check.surplus:
        if info.libpng_ready and not check.trailing:
            source = data
        else:
            source = pngstream.minimal_png(data, info, check.consumed)
        imagecodecs.png_decode(source, out=target)
    else:  # pass by pass; a surplus is left unread
        reader = pngstream.PassReader(data, info)
        for p in pngstream.adam7_passes(info.header):
            scanlines = reader.read(p)
            small = pngstream.raw_png(info, p, scanlines)
            del scanlines
            part = np.empty((p.height, p.width, *shape[2:]), native)
            imagecodecs.png_decode(small, out=part)
            del small
            target[p.y0 :: p.dy, p.x0 :: p.dx] = part
    if pixels.bits == 16 and sys.byteorder == "big":
        target.byteswap(inplace=True)


def _exif_block(raw: bytes | None, notices: list[str]) -> bytes | None:
    if not raw:
        return None
    block = raw[6:] if raw.startswith(b"Exif\0") else raw
    if block[:4] in (b"II*\0", b"MM\0*") and len(block) >= 8:
        return block
    notices.append("ignored EXIF data that is not readable")
    return None


def _pillow_failure(name: str, kind: str, exc: Exception, max_pixels: int) -> Exception:
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return UnsupportedImageError(
            f"'{name}' is larger than the {_amount(_pillow_limit(max_pixels))} limit "
            f"({one_line(exc)}) — downscale it or crop it, then try again"
        )
    return ImageLoadError(
        f"'{name}' could not be decoded as {kind}: {one_line(exc)} — the file is damaged "
        "or incomplete; re-export it or copy the original again"
    )


# --------------------------------------------------------------------------- JPEG


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


def load_jpeg(data: bytes, name: str, max_pixels: int) -> SourceImage:
    """Decode a JPEG with Pillow; keep its bitstream when it can be encapsulated as is."""
    limit = _pillow_limit(max_pixels)
    frame = _jpeg_frame(data)
    if frame is not None and frame.height:
        _check_size(name, frame.width, frame.height, limit)
    notices: list[str] = []
    try:
        with (
            pillow_warnings(notices, fatal=_PILLOW_FATAL),
            Image.open(io.BytesIO(data), formats=["JPEG"]) as im,
        ):
            _check_size(name, im.width, im.height, limit)
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
    except _PILLOW_FAILURES as exc:
        raise _pillow_failure(name, "JPEG", exc, max_pixels) from exc
    exif = _exif_block(info.get("exif"), notices)
    pixels, orientation = orient(pixels, _exif_orientation(exif), notices)
    if frame is not None:
        process = _JPEG_PROCESSES.get(frame.marker, "hierarchical")
    else:
        process = "progressive" if info.get("progressive") else "baseline"
    text: dict[str, str] = {}
    comment = info.get("comment")
    if isinstance(comment, bytes) and comment.strip(b"\0 "):
        text["Comment"] = comment.rstrip(b"\0").decode("utf-8", errors="replace")
    keep = (
        frame is not None
        and frame.marker in (0xC0, 0xC1)
        and frame.precision == 8
        and colour in ("grey", "YCbCr")
        and orientation == 1
    )
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
        orientation=orientation,
        icc_profile=icc,
        exif=exif,
        text=text,
        lossy=True,
        file_size=len(data),
        notices=tuple(notices),
        original=_jpeg_bitstream(data, frame) if keep and frame is not None else None,
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


# --------------------------------------------------------------------------- TIFF


def _ifd0_integers(data: bytes, wanted: frozenset[int]) -> dict[int, int]:
    """SHORT or LONG values of the ``wanted`` tags in IFD0 of a classic TIFF structure.

    Reads a TIFF file's header or a raw EXIF block (which has the same
    layout); unreadable data gives an empty result.
    """
    if data[:4] not in (b"II*\0", b"MM\0*") or len(data) < 8:
        return {}
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", data, 4)
    if ifd + 2 > len(data):
        return {}
    (count,) = struct.unpack_from(order + "H", data, ifd)
    found: dict[int, int] = {}
    for i in range(min(count, (len(data) - ifd - 2) // 12)):
        entry = ifd + 2 + 12 * i
        tag, kind, n = struct.unpack_from(order + "HHI", data, entry)
        if tag in wanted and tag not in found and n >= 1 and kind in (3, 4):
            fmt = order + ("H" if kind == 3 else "I")
            found[tag] = struct.unpack_from(fmt, data, entry + 8)[0]
    return found


def _exif_orientation(exif: bytes | None) -> int | None:
    """The Orientation (274) value in IFD0 of a raw EXIF block, if present."""
    return None if exif is None else _ifd0_integers(exif, _ORIENTATION).get(274)


def _tiff_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the first IFD of a classic TIFF, if readable."""
    found = _ifd0_integers(data, _WIDTH_HEIGHT)
    if 256 in found and 257 in found:
        return found[256], found[257]
    return None


def load_tiff(data: bytes, name: str, max_pixels: int) -> SourceImage:
    """Decode the first page of a grey or RGB TIFF with Pillow."""
    limit = _pillow_limit(max_pixels)
    size = _tiff_size(data)
    if size is not None:
        _check_size(name, *size, limit)
    notices: list[str] = []
    try:
        with (
            pillow_warnings(notices, fatal=_PILLOW_FATAL),
            Image.open(io.BytesIO(data), formats=["TIFF"]) as im,
        ):
            _check_size(name, im.width, im.height, limit)
            spec = _TIFF_MODES.get(im.mode)
            if spec is None:
                what = _PILLOW_MODE_NAMES.get(im.mode, im.mode)
                raise UnsupportedImageError(
                    f"'{name}' is a {what} TIFF (Pillow mode {im.mode}), which cannot be "
                    "converted — re-export it as an 8-bit RGB PNG and try again"
                )
            channels, bits, mode, raw = spec
            pages = getattr(im, "n_frames", 1)
            if pages > 1:
                notices.append(f"the TIFF has {pages} pages; only the first was converted")
            im.seek(0)
            tags = im.tag_v2 if isinstance(im, TiffImagePlugin.TiffImageFile) else {}
            stated = tags.get(274)
            exif = _exif_block(im.getexif().tobytes(), notices)
            im.load()  # Pillow turns TIFF images upright itself while loading
            pixels = from_pillow(im, channels, bits, raw)
    except _PILLOW_FAILURES as exc:
        raise _pillow_failure(name, "TIFF", exc, max_pixels) from exc
    orientation = stated if isinstance(stated, int) and 2 <= stated <= 8 else 1
    if orientation != 1:
        notices.append(f"rotated upright from EXIF orientation {orientation}")
    return SourceImage(
        name=name,
        format="TIFF",
        buffer=pixels.buffer,
        rows=pixels.rows,
        columns=pixels.columns,
        samples_per_pixel=channels,
        bits_allocated=bits,
        source_bit_depth=bits,
        source_mode=f"TIFF {mode}",
        orientation=orientation,
        exif=exif,
        file_size=len(data),
        notices=tuple(notices),
    )
