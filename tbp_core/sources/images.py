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

The compressed image data is checked before libpng sees it
(:func:`~tbp_core.sources.pngstream.check_stream`): IDAT chunks larger than
deflate's worst case for the image size (plus a margin) are refused without
inflating anything; the zlib stream is inflated once in bounded steps, its
Adler-32 checksum verified and its end found. Padding after the stream, or
decompressed data beyond what the pixels need, is left out with a note.
This costs one extra inflation of the image data. Whatever a decoder still
prints or warns (libpng on file descriptor 2, Pillow through ``warnings``)
becomes a note (:mod:`~tbp_core.sources.decodernotes`), never raw stderr.

Layout: :mod:`~tbp_core.sources.sourceimage` holds the result type,
:mod:`~tbp_core.sources.imagedecoders` and :mod:`~tbp_core.sources.jpegdecoder`
the per-format decoders and
:mod:`~tbp_core.sources.imagepixels` the alpha and orientation work.
"""

from __future__ import annotations

from typing import get_args

from tbp_core.errors import ImageLoadError
from tbp_core.sources import pngchunks
from tbp_core.sources.imagedecoders import load_png, load_tiff
from tbp_core.sources.jpegdecoder import load_jpeg
from tbp_core.sources.sourceimage import (
    DEFAULT_MAX_PIXELS,
    AlphaPolicy,
    ImageFormat,
    SourceImage,
)

__all__ = ["DEFAULT_MAX_PIXELS", "AlphaPolicy", "ImageFormat", "SourceImage", "load_image"]

_ALPHA_POLICIES: tuple[str, ...] = get_args(AlphaPolicy)

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


def load_image(
    data: bytes,
    name: str = "image",
    *,
    alpha: AlphaPolicy = "refuse",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    jpeg_passthrough: bool = False,
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
    jpeg_passthrough : bool, optional
        The caller will encapsulate a JPEG as it is (:attr:`SourceImage.original`):
        a JPEG that allows it is then only verified (every entropy-coded block
        decoded at 1/8 scale) and its :attr:`~SourceImage.buffer` left empty.

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
        return load_png(data, name, alpha, max_pixels)
    if kind == "JPEG":
        return load_jpeg(data, name, max_pixels, passthrough=jpeg_passthrough)
    return load_tiff(data, name, max_pixels)


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
