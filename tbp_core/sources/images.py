"""Decode PNG, JPEG and TIFF files into upright pixel arrays ready for DICOM.

:func:`load_image` takes a file's bytes and returns a :class:`SourceImage`
whose :attr:`~SourceImage.buffer` can become Pixel Data without another copy.

Formats are recognised by their first bytes, never by the file name:

* **PNG** is checked chunk by chunk first (:mod:`tbp_core.sources.pngchunks`), so a
  damaged file gets one clear message and libpng never prints warnings for
  it. Pixels are then decoded by libpng (imagecodecs) straight into the
  output buffer: 16-bit samples stay 16-bit, palettes are expanded to RGB,
  1/2/4-bit grey is scaled to 8 bits (``v * 255 // (2**b - 1)``) and a tRNS
  chunk becomes an alpha channel. Interlaced files are decoded pass by pass
  (each Adam7 pass as a small non-interlaced PNG) and scattered into place.
* **JPEG** and **TIFF** are decoded by Pillow, whose decompression-bomb guard
  stays on.

Alpha channels (PNG only; see :data:`AlphaPolicy`) are removed: a fully
opaque channel silently, otherwise as the caller chose — ``"refuse"`` raises,
``"drop"`` keeps the colours, ``"white"``/``"black"`` composite onto that
background with exact integer maths in the sample's own bit depth::

    out = (c * a + bg * (m - a) + m // 2) // m      # m = 255 or 65535

which is ``round((c*a + bg*(m-a)) / m)``; ties cannot occur because ``m`` is
odd. The EXIF Orientation tag (PNG eXIf chunk, JPEG APP1, TIFF tag 274) is
applied to the pixels, so every image comes out upright.

Memory: for a non-interlaced PNG that needs no alpha or orientation work only
one full-size pixel buffer ever exists; removing an alpha channel happens
inside that same buffer. Rotating needs a second buffer, and so does an
interlaced PNG (its largest Adam7 pass is half the image, held twice while it
is decoded). JPEG and TIFF pixels are copied once out of Pillow's image.

The EXIF block is returned as stored in the file: its Orientation tag may
still say "rotated"; :attr:`SourceImage.orientation` says what was applied.

Every problem caused by the input raises :class:`~tbp_core.errors.ImageLoadError`
(unreadable) or :class:`~tbp_core.errors.UnsupportedImageError` (readable but
not convertible as asked) with a one-line message naming the file.

One known limit: libpng itself still prints a warning for a PNG whose
compressed data carries padding after its end, or more data than the image
needs. Finding that beforehand would mean decompressing every image twice.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import imagecodecs
import numpy as np
import numpy.typing as npt
from PIL import Image, TiffImagePlugin

from tbp_core.errors import ImageLoadError, UnsupportedImageError
from tbp_core.sources import pngchunks

AlphaPolicy = Literal["refuse", "drop", "white", "black"]
ImageFormat = Literal["PNG", "JPEG", "TIFF"]

#: Largest image accepted, in pixels (rows x columns). Stays below Pillow's
#: decompression-bomb threshold so that guard never has to fire first.
DEFAULT_MAX_PIXELS = 80_000_000


@dataclass(frozen=True)
class SourceImage:
    r"""A decoded image, upright, with everything a DICOM builder needs.

    Attributes
    ----------
    name : str
        The file name the image came from (used for output names and messages).
    format : {"PNG", "JPEG", "TIFF"}
        Container format of the source file.
    buffer : bytearray
        The pixel samples, row by row, samples interleaved (colour-by-pixel),
        little-endian for 16-bit. Written to Pixel Data without copying.
    rows, columns : int
        Image size after orientation was applied.
    samples_per_pixel : int
        1 (grey, ``MONOCHROME2``) or 3 (``RGB``).
    bits_allocated : int
        8 or 16: bits per stored sample.
    source_bit_depth : int
        Bits per sample in the file (1, 2, 4, 8 or 16); lower depths are
        scaled to 8 bits as the PNG specification prescribes.
    source_mode : str
        Human-readable description, e.g. ``"palette 4-bit + tRNS"``.
    interlaced : bool
        Whether the source was interlaced/progressive.
    orientation : int
        The EXIF Orientation value that was applied (1 when already upright).
    icc_profile : bytes or None
        Embedded ICC profile.
    exif : bytes or None
        Raw EXIF block starting with the TIFF header (``II*\0`` or ``MM\0*``).
    text : Mapping[str, str]
        Textual metadata (PNG tEXt/zTXt/iTXt, JPEG comment).
    lossy : bool
        True for JPEG sources (lossy compression already happened).
    file_size : int
        Size of the source file in bytes.
    notices : tuple of str
        Things the user should know, e.g. ``"CMYK converted to RGB"``.
    original : bytes or None
        The untouched JPEG bitstream when it can be encapsulated as is
        (baseline/extended JPEG, no orientation change, no CMYK); else None.
    """

    name: str
    format: ImageFormat
    buffer: bytearray = field(repr=False)
    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    source_bit_depth: int
    source_mode: str
    interlaced: bool = False
    orientation: int = 1
    icc_profile: bytes | None = field(default=None, repr=False)
    exif: bytes | None = field(default=None, repr=False)
    text: Mapping[str, str] = field(default_factory=dict)
    lossy: bool = False
    file_size: int = 0
    notices: tuple[str, ...] = ()
    original: bytes | None = field(default=None, repr=False)

    @property
    def photometric_interpretation(self) -> str:
        """``"MONOCHROME2"`` for grey images, ``"RGB"`` for colour."""
        return "RGB" if self.samples_per_pixel == 3 else "MONOCHROME2"

    @property
    def pixels(self) -> npt.NDArray[np.uint8] | npt.NDArray[np.uint16]:
        """A zero-copy NumPy view of :attr:`buffer` shaped (rows, columns[, 3])."""
        dtype = np.dtype("<u2") if self.bits_allocated == 16 else np.dtype(np.uint8)
        shape: tuple[int, ...] = (self.rows, self.columns)
        if self.samples_per_pixel > 1:
            shape = (*shape, self.samples_per_pixel)
        return np.frombuffer(self.buffer, dtype=dtype).reshape(shape)  # type: ignore[return-value]


_ALPHA_POLICIES = ("refuse", "drop", "white", "black")
#: Rows are processed in bands of about this many bytes to bound temporaries.
_BAND_BYTES = 4 * 1024 * 1024
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

_OTHER_FORMATS = (
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"8BPS", "a Photoshop (PSD) file"),
    (b"\xff\x4f\xff\x51", "a JPEG 2000 image"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (b"\xff\x0a", "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL ", "a JPEG XL image"),
    (b"qoif", "a QOI image"),
)
_HEIF_BRANDS = {b"heic": "a HEIC image", b"heix": "a HEIC image", b"mif1": "a HEIF image"}
_HEIF_BRANDS |= {b"msf1": "a HEIF image", b"avif": "an AVIF image", b"avis": "an AVIF image"}

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


@dataclass
class _Pixels:
    """A bytearray of samples (little-endian) with its layout; internal, mutable."""

    buffer: bytearray
    rows: int
    columns: int
    channels: int
    bits: int

    @classmethod
    def new(cls, rows: int, columns: int, channels: int, bits: int) -> _Pixels:
        size = rows * columns * channels * (bits // 8)
        return cls(bytearray(size), rows, columns, channels, bits)

    @property
    def dtype(self) -> np.dtype[np.uint8] | np.dtype[np.uint16]:
        return np.dtype("<u2") if self.bits == 16 else np.dtype(np.uint8)

    def array(self) -> npt.NDArray[np.uint8] | npt.NDArray[np.uint16]:
        """A (rows, columns, channels) view of the buffer."""
        shape = (self.rows, self.columns, self.channels)
        return np.frombuffer(self.buffer, self.dtype).reshape(shape)  # type: ignore[return-value]


def load_image(
    data: bytes,
    name: str = "image",
    *,
    alpha: AlphaPolicy = "refuse",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> SourceImage:
    """Decode an image file's bytes into an upright :class:`SourceImage`.

    Parameters
    ----------
    data : bytes
        The whole file (PNG, JPEG or TIFF; recognised by content).
    name : str, optional
        The file name, used in messages and kept in the result.
    alpha : {"refuse", "drop", "white", "black"}, optional
        What to do with transparent pixels: refuse the image (default),
        drop the alpha channel keeping the colours, or composite onto a white
        or black background. A fully opaque alpha channel is always dropped.
    max_pixels : int, optional
        Largest accepted rows × columns, checked from the header before any
        pixel is decoded.

    Returns
    -------
    SourceImage
        Upright pixels (grey or RGB, 8 or 16 bits) and the file's metadata.

    Raises
    ------
    ImageLoadError
        The data is empty, not a PNG/JPEG/TIFF image, damaged or truncated.
    UnsupportedImageError
        The image has transparent pixels and ``alpha="refuse"``, is larger
        than ``max_pixels``, or uses a TIFF/JPEG layout that is not converted.
    ValueError
        ``alpha`` is not one of the four policies (a programming error).

    Examples
    --------
    >>> image = load_image(open("back.png", "rb").read(), "back.png")  # doctest: +SKIP
    >>> image.rows, image.columns, image.photometric_interpretation  # doctest: +SKIP
    (4000, 6000, 'RGB')
    """
    if alpha not in _ALPHA_POLICIES:
        raise ValueError(f"alpha must be one of {', '.join(_ALPHA_POLICIES)}, not {alpha!r}")
    kind = _sniff(data, name)
    if kind == "PNG":
        return _load_png(data, name, alpha, max_pixels)
    if kind == "JPEG":
        return _load_jpeg(data, name, max_pixels)
    return _load_tiff(data, name, max_pixels)


# --------------------------------------------------------------------------- sniffing


def _sniff(data: bytes, name: str) -> ImageFormat:
    """The container format from the first bytes, or an ImageLoadError saying what it is."""
    if not data:
        raise ImageLoadError(
            f"'{name}' is empty (0 bytes) — choose the picture file again or export it as PNG"
        )
    if data.startswith(pngchunks.SIGNATURE):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        return "TIFF"
    fix = "export the picture as PNG and try again"
    if (
        data[0] == 0x89
        and sum(a == b for a, b in zip(data[:8], pngchunks.SIGNATURE, strict=False)) >= 5
    ):
        raise ImageLoadError(
            f"'{name}' starts like a PNG but its signature is damaged (often by a text-mode "
            f"transfer that changed line endings) — copy the original file again or {fix}"
        )
    if data[128:132] == b"DICM":
        raise ImageLoadError(
            f"'{name}' is already a DICOM file, not a PNG, JPEG or TIFF image — "
            "inspect it with validate or dump instead of converting it"
        )
    what = _describe_other(data)
    if what is not None:
        raise ImageLoadError(f"'{name}' is {what}, not a PNG, JPEG or TIFF image — {fix}")
    if _looks_like_text(data[:256]):
        detail = "it starts with text"
    else:
        detail = f"it starts with bytes {data[:4].hex(' ')}"
    raise ImageLoadError(f"'{name}' is not a PNG, JPEG or TIFF image ({detail}) — {fix}")


def _describe_other(data: bytes) -> str | None:
    for magic, what in _OTHER_FORMATS:
        if data.startswith(magic):
            return what
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "a WebP image"
    if data[4:8] == b"ftyp":
        return _HEIF_BRANDS.get(data[8:12], "an MP4/QuickTime file")
    if data[:2] == b"BM" and len(data) > 26 and data[6:10] == b"\0\0\0\0":
        return "a BMP image"
    return None


def _looks_like_text(sample: bytes) -> bool:
    if b"\0" in sample:
        return False
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 3:  # not merely a character cut at the end
            return False
        decoded = sample[: exc.start].decode("utf-8")
    return bool(decoded) and all(c.isprintable() or c in "\t\n\r\f\v\ufeff" for c in decoded)


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


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


# --------------------------------------------------------------------------- PNG


def _load_png(data: bytes, name: str, alpha: AlphaPolicy, max_pixels: int) -> SourceImage:
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
    needed = sum(p.height * header.scanline_bytes(p.width) for p in pngchunks.adam7_passes(header))
    if needed > info.idat_size * _MAX_DEFLATE_RATIO + 1024:
        raise ImageLoadError(
            f"'{name}' is a damaged PNG file: it holds far too little pixel data for "
            f"{header.width}×{header.height} pixels (truncated) — re-export it"
        )
    pixels = _decode_png(data, name, info)
    notices = list(info.notices)
    if info.animated:
        notices.append("animated PNG: only its default image was converted")
    if pixels.channels in (2, 4):
        _resolve_alpha(name, pixels, alpha, notices)
    pixels, orientation = _orient(pixels, _exif_orientation(info.exif), notices)
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


def _decode_png(data: bytes, name: str, info: pngchunks.PngInfo) -> _Pixels:
    """Decode with libpng into a new buffer laid out as libpng delivers it."""
    header = info.header
    channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}[header.colour_type]
    if info.transparency is not None:
        channels += 1
    pixels = _Pixels.new(header.height, header.width, channels, 16 if header.bit_depth == 16 else 8)
    try:
        _png_into(data, info, pixels)
    except pngchunks.PngStructureError as exc:
        raise ImageLoadError(
            f"'{name}' is a damaged PNG file: {exc} — re-export it or copy the original again"
        ) from None
    except (imagecodecs.PngError, ValueError) as exc:
        raise ImageLoadError(
            f"'{name}' has damaged pixel data (libpng: {_one_line(exc)}) — "
            "re-export it or copy the original again"
        ) from exc
    return pixels


def _png_into(data: bytes, info: pngchunks.PngInfo, pixels: _Pixels) -> None:
    native = np.uint16 if pixels.bits == 16 else np.uint8
    shape: tuple[int, ...] = (pixels.rows, pixels.columns)
    if pixels.channels > 1:
        shape += (pixels.channels,)
    target = np.frombuffer(pixels.buffer, native).reshape(shape)
    if not info.header.interlaced:
        source = data if info.libpng_ready else pngchunks.minimal_png(data, info)
        imagecodecs.png_decode(source, out=target)
    else:
        reader = pngchunks.PassReader(data, info)
        for p in pngchunks.adam7_passes(info.header):
            scanlines = reader.read(p)
            small = pngchunks.raw_png(info, p, scanlines)
            del scanlines
            part = np.empty((p.height, p.width, *shape[2:]), native)
            imagecodecs.png_decode(small, out=part)
            del small
            target[p.y0 :: p.dy, p.x0 :: p.dx] = part
    if pixels.bits == 16 and sys.byteorder == "big":
        target.byteswap(inplace=True)


# --------------------------------------------------------------------------- alpha


def _resolve_alpha(name: str, pixels: _Pixels, policy: AlphaPolicy, notices: list[str]) -> None:
    """Remove the last channel (alpha) in place as ``policy`` says."""
    if _alpha_is_opaque(pixels):
        notices.append("removed an alpha channel in which every pixel is fully opaque")
        _strip_alpha(pixels, "drop")
        return
    if policy == "refuse":
        raise UnsupportedImageError(
            f"'{name}' has transparent pixels (alpha channel); DICOM images have no "
            "transparency — choose --alpha drop (keep colours), white or black "
            "(composite onto that background)"
        )
    notices.append(
        "transparent pixels: alpha channel dropped, colours kept"
        if policy == "drop"
        else f"transparent pixels composited onto {policy}"
    )
    _strip_alpha(pixels, policy)


def _bands(pixels: _Pixels) -> range:
    row_bytes = pixels.columns * pixels.channels * (pixels.bits // 8)
    return range(0, pixels.rows, max(1, _BAND_BYTES // row_bytes))


def _alpha_is_opaque(pixels: _Pixels) -> bool:
    arr = pixels.array()
    top = (1 << pixels.bits) - 1
    step = _bands(pixels).step
    return all(bool((arr[y : y + step, :, -1] == top).all()) for y in _bands(pixels))


def _strip_alpha(pixels: _Pixels, policy: AlphaPolicy) -> None:
    """Write the colour channels over the start of the same buffer, then shrink it."""
    _write_without_alpha(pixels, policy)
    kept = pixels.channels - 1
    del pixels.buffer[pixels.rows * pixels.columns * kept * (pixels.bits // 8) :]
    pixels.channels = kept


def _write_without_alpha(pixels: _Pixels, policy: AlphaPolicy) -> None:
    # Output band k ends before input band k+1 starts, and each band is read
    # into a temporary before it is written, so working in place is safe.
    src = pixels.array()
    kept = pixels.channels - 1
    dst = np.frombuffer(pixels.buffer, pixels.dtype, count=src.size // pixels.channels * kept)
    dst = dst.reshape(pixels.rows, pixels.columns, kept)
    top = (1 << pixels.bits) - 1
    background = top if policy == "white" else 0
    # Compositing works in uint32 (c * a <= top**2 < 2**32): use thinner bands.
    step = _bands(pixels).step
    if policy != "drop":
        step = max(1, step * (pixels.bits // 8) // 4)
    for y in range(0, pixels.rows, step):
        band = src[y : y + step]
        if policy == "drop":
            dst[y : y + step] = band[..., :kept].copy()
            continue
        alpha = band[..., kept:].astype(np.uint32)
        mixed = band[..., :kept].astype(np.uint32)
        mixed *= alpha
        if background:
            mixed += (np.uint32(top) - alpha) * np.uint32(background)
        mixed += np.uint32(top // 2)
        mixed //= np.uint32(top)
        np.copyto(dst[y : y + step], mixed, casting="unsafe")


# --------------------------------------------------------------------------- orientation


def _exif_orientation(exif: bytes | None) -> int | None:
    """The Orientation (274) value in IFD0 of a raw EXIF block, if present."""
    if exif is None or len(exif) < 8 or exif[:2] not in (b"II", b"MM"):
        return None
    order = "<" if exif[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", exif, 4)
    if ifd + 2 > len(exif):
        return None
    (count,) = struct.unpack_from(order + "H", exif, ifd)
    for i in range(min(count, (len(exif) - ifd - 2) // 12)):
        entry = ifd + 2 + 12 * i
        tag, kind, n = struct.unpack_from(order + "HHI", exif, entry)
        if tag != 274 or n < 1:
            continue
        if kind == 3:
            value: int = struct.unpack_from(order + "H", exif, entry + 8)[0]
            return value
        if kind == 4:
            value = struct.unpack_from(order + "I", exif, entry + 8)[0]
            return value
        return None
    return None


def _orient(pixels: _Pixels, orientation: int | None, notices: list[str]) -> tuple[_Pixels, int]:
    """Apply an EXIF orientation; returns the upright pixels and the value applied."""
    if orientation is None or orientation == 1:
        return pixels, 1
    if not 2 <= orientation <= 8:
        notices.append(f"ignored an invalid EXIF orientation value {orientation}")
        return pixels, 1
    upright = _Pixels.new(
        *((pixels.columns, pixels.rows) if orientation >= 5 else (pixels.rows, pixels.columns)),
        pixels.channels,
        pixels.bits,
    )
    np.copyto(upright.array(), _oriented_view(pixels.array(), orientation))
    verb = {3: "rotated", 6: "rotated", 8: "rotated", 2: "flipped", 4: "flipped"}
    notices.append(
        f"{verb.get(orientation, 'rotated and flipped')} upright from EXIF orientation "
        f"{orientation}"
    )
    return upright, orientation


def _oriented_view(arr: npt.NDArray[np.generic], orientation: int) -> npt.NDArray[np.generic]:
    """A view of (rows, columns, channels) pixels as EXIF ``orientation`` says to display them."""
    swapped = arr.transpose(1, 0, 2)
    views = {
        2: arr[:, ::-1],  # mirrored horizontally
        3: arr[::-1, ::-1],  # rotated 180°
        4: arr[::-1],  # mirrored vertically
        5: swapped,  # transposed
        6: swapped[:, ::-1],  # stored rotated 90° anticlockwise: turn clockwise
        7: swapped[::-1, ::-1],  # transversed
        8: swapped[::-1],  # stored rotated 90° clockwise: turn anticlockwise
    }
    return views[orientation]


# --------------------------------------------------------------------------- Pillow


def _from_pillow(im: Image.Image, channels: int, bits: int, raw: str) -> _Pixels:
    """Copy a loaded Pillow image into a new buffer, band by band."""
    width, height = im.size
    pixels = _Pixels.new(height, width, channels, bits)
    dst = pixels.array()
    step = _bands(pixels).step
    for y in _bands(pixels):
        y1 = min(height, y + step)
        band = np.frombuffer(im.crop((0, y, width, y1)).tobytes(), raw)
        dst[y:y1] = band.reshape(y1 - y, width, channels)
    return pixels


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
            f"({_one_line(exc)}) — downscale it or crop it, then try again"
        )
    return ImageLoadError(
        f"'{name}' could not be decoded as {kind}: {_one_line(exc)} — the file is damaged "
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


def _load_jpeg(data: bytes, name: str, max_pixels: int) -> SourceImage:
    limit = _pillow_limit(max_pixels)
    frame = _jpeg_frame(data)
    if frame is not None and frame.height:
        _check_size(name, frame.width, frame.height, limit)
    notices: list[str] = []
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as im:
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
                pixels = _from_pillow(rgb, 3, 8, "u1")
            else:
                pixels = _from_pillow(im, 1 if im.mode == "L" else 3, 8, "u1")
    except _PILLOW_FAILURES as exc:
        raise _pillow_failure(name, "JPEG", exc, max_pixels) from exc
    exif = _exif_block(info.get("exif"), notices)
    pixels, orientation = _orient(pixels, _exif_orientation(exif), notices)
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


def _tiff_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the first IFD of a classic TIFF, if readable."""
    if data[:4] not in (b"II*\0", b"MM\0*") or len(data) < 8:
        return None
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", data, 4)
    if ifd + 2 > len(data):
        return None
    (count,) = struct.unpack_from(order + "H", data, ifd)
    found: dict[int, int] = {}
    for i in range(min(count, (len(data) - ifd - 2) // 12)):
        tag, kind, _ = struct.unpack_from(order + "HHI", data, ifd + 2 + 12 * i)
        if tag in (256, 257) and kind in (3, 4):
            fmt = order + ("H" if kind == 3 else "I")
            found[tag] = struct.unpack_from(fmt, data, ifd + 2 + 12 * i + 8)[0]
    if 256 in found and 257 in found:
        return found[256], found[257]
    return None


def _load_tiff(data: bytes, name: str, max_pixels: int) -> SourceImage:
    limit = _pillow_limit(max_pixels)
    size = _tiff_size(data)
    if size is not None:
        _check_size(name, *size, limit)
    notices: list[str] = []
    try:
        with Image.open(io.BytesIO(data), formats=["TIFF"]) as im:
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
            pixels = _from_pillow(im, channels, bits, raw)
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
