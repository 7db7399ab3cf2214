"""Decoders for PNG (libpng) and TIFF (Pillow), and the checks every decoder shares.

Each ``load_*`` function turns a whole file into an upright
:class:`~tbp_core.sources.sourceimage.SourceImage` or raises a one-line
:class:`~tbp_core.errors.ImageLoadError` / :class:`~tbp_core.errors.UnsupportedImageError`.
The JPEG decoder (:mod:`~tbp_core.sources.jpegdecoder`) uses the size limits,
Pillow failure messages and EXIF helpers defined here.
"""

from __future__ import annotations

import contextlib
import io
import struct
import sys
import zlib
from collections.abc import Callable, Iterator

import imagecodecs
import numpy as np
from PIL import Image, TiffImagePlugin

from tbp_core.errors import ImageLoadError, UnsupportedImageError, one_line
from tbp_core.sources import pngchunks, pngstored, pngstream, pngstrips
from tbp_core.sources.decodernotes import native_warnings, pillow_warnings
from tbp_core.sources.imagepixels import (
    Pixels,
    from_pillow,
    orient,
    resolve_alpha,
)
from tbp_core.sources.sourceimage import AlphaPolicy, SourceImage

#: The note for an APNG, of which the default image is converted.
ANIMATED_NOTE = "animated PNG: only its default image was converted"

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

#: Everything a Pillow decode may raise for a bad or oversized file.
PILLOW_FAILURES: tuple[type[Exception], ...] = (
    *_PILLOW_ERRORS,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)

#: Pillow warnings that stop a decode instead of becoming a note.
PILLOW_FATAL: tuple[type[Warning], ...] = (Image.DecompressionBombWarning,)

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


def check_size(name: str, width: int, height: int, limit: int) -> None:
    """Refuse an image larger than ``limit`` pixels, naming its size and the fix.

    Parameters
    ----------
    name : str
        The file name, for the message.
    width, height : int
        The image size from its header.
    limit : int
        Largest accepted width × height.

    Raises
    ------
    UnsupportedImageError
        The image is larger than ``limit``.
    """
    if width * height > limit:
        raise UnsupportedImageError(
            f"'{name}' is {width}×{height} = {_amount(width * height)}, above the "
            f"{_amount(limit)} limit — downscale it or crop it, then try again"
        )


def pillow_limit(max_pixels: int) -> int:
    """Return the size limit for Pillow formats: ours, never above Pillow's bomb guard.

    Parameters
    ----------
    max_pixels : int
        The caller's limit.

    Returns
    -------
    int
    """
    guard = Image.MAX_IMAGE_PIXELS
    return max_pixels if guard is None else min(max_pixels, guard)


# --------------------------------------------------------------------------- PNG


def load_png(data: bytes, name: str, alpha: AlphaPolicy, max_pixels: int) -> SourceImage:
    """Check a PNG chunk by chunk, decode it with libpng, remove alpha and turn it upright."""
    info = checked_png(data, name, max_pixels)
    notices = list(info.notices)
    pixels = Pixels.new(
        info.header.height, info.header.width, png_channels(info), png_sample_bits(info)
    )
    decode_png_into(data, name, info, _png_target(pixels), notices)
    if info.animated:
        notices.append(ANIMATED_NOTE)
    if pixels.channels in (2, 4):
        resolve_alpha(name, pixels, alpha, notices)
    pixels, orientation = orient(pixels, exif_orientation(info.exif), notices)
    return png_source_image(
        data, name, info, pixels.buffer, (pixels.rows, pixels.columns, pixels.channels),
        orientation, notices,
    )  # fmt: skip


def checked_png(data: bytes, name: str, max_pixels: int) -> pngchunks.PngInfo:
    """Parse a PNG and run every check that needs no pixel decoding.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        Its name, for messages.
    max_pixels : int
        Largest accepted width × height.

    Returns
    -------
    PngInfo
        The chunks, header and metadata (:func:`~tbp_core.sources.pngchunks.parse_png`);
        callers add :data:`ANIMATED_NOTE` after decoding an animated PNG.

    Raises
    ------
    ImageLoadError
        A damaged structure, an Apple CgBI file, or far too little pixel data.
    UnsupportedImageError
        The image is larger than ``max_pixels``.
    """
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
    check_size(name, header.width, header.height, max_pixels)
    needed = pngstream.filtered_size(header)
    if needed > info.idat_size * _MAX_DEFLATE_RATIO + 1024:
        raise ImageLoadError(
            f"'{name}' is a damaged PNG file: it holds far too little pixel data for "
            f"{header.width}×{header.height} pixels (truncated) — re-export it"
        )
    return info


def png_channels(info: pngchunks.PngInfo) -> int:
    """Samples per decoded pixel: grey 1, grey+alpha 2, RGB 3, RGBA 4 (tRNS adds alpha)."""
    channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}[info.header.colour_type]
    return channels + 1 if info.transparency is not None else channels


def png_sample_bits(info: pngchunks.PngInfo) -> int:
    """Bits per decoded sample: 16 for 16-bit files, else 8 (low depths are scaled)."""
    return 16 if info.header.bit_depth == 16 else 8


def png_source_image(
    data: bytes,
    name: str,
    info: pngchunks.PngInfo,
    buffer: bytearray,
    shape: tuple[int, int, int],
    orientation: int,
    notices: list[str],
) -> SourceImage:
    """The :class:`SourceImage` of a PNG from its decoded (or still empty) buffer.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        Its name.
    info : PngInfo
        Its :func:`checked_png` result.
    buffer : bytearray
        The upright pixels; empty when they are decoded elsewhere
        (:mod:`~tbp_core.sources.pngdirect`).
    shape : tuple of int
        Rows, columns and samples per pixel of the upright image.
    orientation : int
        The EXIF orientation applied.
    notices : list of str
        What the user should know.

    Returns
    -------
    SourceImage
    """
    header = info.header
    mode = f"{pngchunks.COLOUR_TYPE_NAMES[header.colour_type]} {header.bit_depth}-bit"
    if info.transparency is not None:
        mode += " + tRNS"
    rows, columns, channels = shape
    return SourceImage(
        name=name,
        format="PNG",
        buffer=buffer,
        rows=rows,
        columns=columns,
        samples_per_pixel=channels,
        bits_allocated=png_sample_bits(info),
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


def decode_png_into(
    data: bytes,
    name: str,
    info: pngchunks.PngInfo,
    target: np.ndarray,
    notices: list[str],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Verify the image data, then decode it with libpng into ``target``.

    Common layouts are decoded from the verifying inflation itself, strip by
    strip (:mod:`~tbp_core.sources.pngstrips`), on a second thread while the
    inflation goes on; the others by libpng afterwards.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        Its name, for messages.
    info : PngInfo
        Its :func:`checked_png` result.
    target : numpy.ndarray
        Where the pixels go: (rows, columns[, channels]) of native 8- or 16-bit
        samples (:func:`png_channels`, :func:`png_sample_bits`), C-contiguous;
        16-bit samples are little-endian when this returns.
    notices : list of str
        Receives libpng's warnings and notes on ignored data.
    progress : callable, optional
        Called, possibly from the decoding thread, with the number of leading
        rows of ``target`` that are final, as they become so (strip by strip
        for the common layouts; once, at the end, for the others).

    Raises
    ------
    ImageLoadError
        The image data is corrupt, fails its checksum or ends early.
    """
    strips = None
    if pngstrips.decodes_in_strips(info):
        strips = pngstrips.StripDecoder(info, target, progress)
    with _libpng_errors(name), native_warnings(notices):
        with pngstream.in_background(strips) as sink:
            check = pngstream.check_stream(data, info, sink=sink)
        if strips is not None:
            strips.finish()
    if check.trailing:
        notices.append(
            f"ignored {check.trailing:,} bytes after the end of the compressed pixel data"
        )
    if check.surplus:
        notices.append(
            f"ignored {check.surplus:,} bytes of decompressed pixel data beyond what "
            f"{info.header.width}×{info.header.height} pixels need"
        )
    if strips is None:
        with _libpng_errors(name), native_warnings(notices):
            _png_into(data, info, check, target)
        if progress is not None:
            progress(len(target))
    if target.dtype.itemsize == 2 and sys.byteorder == "big":
        target.byteswap(inplace=True)


@contextlib.contextmanager
def _libpng_errors(name: str) -> Iterator[None]:
    """Turn a damaged stream or libpng's refusal into the one-line ImageLoadError."""
    try:
        yield
    except pngchunks.PngStructureError as exc:
        raise _damaged_png(name, exc) from None
    except (imagecodecs.PngError, ValueError) as exc:
        raise ImageLoadError(
            f"'{name}' has damaged pixel data (libpng: {one_line(exc)}) — "
            "re-export it or copy the original again"
        ) from exc


def _png_target(pixels: Pixels) -> np.ndarray:
    """The pixel buffer as the array libpng decodes into: (rows, columns[, channels])."""
    native = np.uint16 if pixels.bits == 16 else np.uint8
    shape: tuple[int, ...] = (pixels.rows, pixels.columns)
    if pixels.channels > 1:
        shape += (pixels.channels,)
    return np.frombuffer(pixels.buffer, native).reshape(shape)


def _png_into(
    data: bytes, info: pngchunks.PngInfo, check: pngstream.StreamCheck, target: np.ndarray
) -> None:
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
            small = pngstored.raw_png(info, p, scanlines)
            del scanlines
            part = np.empty((p.height, p.width, *shape[2:]), native)
            imagecodecs.png_decode(small, out=part)
            del small
            target[p.y0 :: p.dy, p.x0 :: p.dx] = part


def exif_block(raw: bytes | None, notices: list[str]) -> bytes | None:
    """Return a raw EXIF block from its TIFF header on (an ``Exif`` prefix removed).

    Parameters
    ----------
    raw : bytes or None
        The EXIF data as a decoder found it.
    notices : list of str
        Receives a note when the data is present but not readable.

    Returns
    -------
    bytes or None
    """
    if not raw:
        return None
    block = raw[6:] if raw.startswith(b"Exif\0") else raw
    if block[:4] in (b"II*\0", b"MM\0*") and len(block) >= 8:
        return block
    notices.append("ignored EXIF data that is not readable")
    return None


def pillow_failure(name: str, kind: str, exc: Exception, max_pixels: int) -> Exception:
    """Return the one-line error for a Pillow failure while decoding ``kind``.

    Parameters
    ----------
    name : str
        The file name.
    kind : str
        The format, e.g. ``"JPEG"``.
    exc : Exception
        What Pillow raised.
    max_pixels : int
        The caller's size limit (for the decompression-bomb message).

    Returns
    -------
    Exception
        An UnsupportedImageError for an oversized image, else an ImageLoadError.
    """
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return UnsupportedImageError(
            f"'{name}' is larger than the {_amount(pillow_limit(max_pixels))} limit "
            f"({one_line(exc)}) — downscale it or crop it, then try again"
        )
    return ImageLoadError(
        f"'{name}' could not be decoded as {kind}: {one_line(exc)} — the file is damaged "
        "or incomplete; re-export it or copy the original again"
    )


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


def exif_orientation(exif: bytes | None) -> int | None:
    """Return the Orientation (274) value in IFD0 of a raw EXIF block, if present.

    Parameters
    ----------
    exif : bytes or None
        A raw EXIF block (TIFF header first).

    Returns
    -------
    int or None
    """
    return None if exif is None else _ifd0_integers(exif, _ORIENTATION).get(274)


def _tiff_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the first IFD of a classic TIFF, if readable."""
    found = _ifd0_integers(data, _WIDTH_HEIGHT)
    if 256 in found and 257 in found:
        return found[256], found[257]
    return None


def load_tiff(data: bytes, name: str, max_pixels: int) -> SourceImage:
    """Decode the first page of a grey or RGB TIFF with Pillow."""
    limit = pillow_limit(max_pixels)
    size = _tiff_size(data)
    if size is not None:
        check_size(name, *size, limit)
    notices: list[str] = []
    try:
        with (
            pillow_warnings(notices, fatal=PILLOW_FATAL),
            Image.open(io.BytesIO(data), formats=["TIFF"]) as im,
        ):
            check_size(name, im.width, im.height, limit)
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
            exif = exif_block(im.getexif().tobytes(), notices)
            im.load()  # Pillow turns TIFF images upright itself while loading
            pixels = from_pillow(im, channels, bits, raw)
    except PILLOW_FAILURES as exc:
        raise pillow_failure(name, "TIFF", exc, max_pixels) from exc
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
