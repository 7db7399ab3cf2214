"""Transfer syntaxes for produced files: native, lossless compression, JPEG passthrough.

RLE goes through pydicom's encoder plugin. JPEG-LS, JPEG 2000 and HTJ2K
(High-Throughput JPEG 2000, Part 15) lossless are encoded by imagecodecs
straight from the pixel buffer (no intermediate copies): JPEG-LS by CharLS
(sample-interleaved, colour stays RGB; the SPIFF header CharLS adds is left
out, as DICOM encoders do), JPEG 2000 by OpenJPEG with one thread per core and
HTJ2K by OpenJPH, both with the reversible 5/3 wavelet, a J2K codestream, and
for colour the reversible colour transform that YBR_RCT announces. JPEG
sources can instead be encapsulated untouched, which keeps the camera's own
bitstream (no second lossy step, no growth in size).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

from PIL import Image, JpegImagePlugin
from pydicom.dataset import Dataset
from pydicom.pixels.encoders.base import get_encoder
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    HTJ2KLossless,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSLossless,
    RLELossless,
)

from tbp_core.building.jpegsegments import strip_metadata
from tbp_core.building.transfersyntaxes import (
    JPEG_PASSTHROUGH,
    TRANSFER_SYNTAXES,
    TransferSyntaxChoice,
)
from tbp_core.errors import CodecUnavailableError, ConversionError
from tbp_core.fileio.dicomio import file_meta_for
from tbp_core.machine import usable_cores
from tbp_core.sources.images import SourceImage

#: A codestream, or a view of the part of one that is kept.
_Bytes = bytes | bytearray | memoryview

#: Python packages that provide each encoder, for the "install X" hint.
_ENCODER_PACKAGES: dict[str, str] = {
    JPEGLSLossless: "imagecodecs",
    JPEG2000Lossless: "imagecodecs",
    HTJ2KLossless: "imagecodecs",
    RLELossless: "pydicom (built in)",
}


def available_transfer_syntaxes(image: SourceImage | None = None) -> list[TransferSyntaxChoice]:
    """Transfer syntaxes that can be written here (for ``image`` when given).

    Parameters
    ----------
    image : SourceImage, optional
        When given, JPEG passthrough is listed only if this image allows it.

    Returns
    -------
    list of TransferSyntaxChoice
    """
    choices = []
    for choice in TRANSFER_SYNTAXES.values():
        if choice.name == JPEG_PASSTHROUGH:
            if image is not None and image.original is not None:
                choices.append(choice)
        elif choice.uid in (ExplicitVRLittleEndian, *_CODESTREAM_UIDS) or (
            get_encoder(choice.uid).is_available
        ):
            choices.append(choice)
    return choices


def encode(ds: Dataset, image: SourceImage, name: str) -> tuple[str, ...]:
    """Put ``ds``'s Pixel Data in the transfer syntax called ``name``.

    Parameters
    ----------
    ds : Dataset
        A dataset built from ``image`` with native Pixel Data.
    image : SourceImage
        The image the dataset was built from.
    name : str
        A key of :data:`TRANSFER_SYNTAXES`.

    Returns
    -------
    tuple of str
        Notices for the user.

    Raises
    ------
    ConversionError
        If the name is unknown or the image cannot be written that way.
    CodecUnavailableError
        If no installed encoder supports the transfer syntax.
    """
    choice = TRANSFER_SYNTAXES.get(name)
    if choice is None:
        raise ConversionError(
            f"unknown transfer syntax '{name}': choose one of {', '.join(TRANSFER_SYNTAXES)}"
        )
    if choice.name == JPEG_PASSTHROUGH:
        return _encapsulate_jpeg(ds, image)
    if choice.uid in _CODESTREAM_UIDS:
        return _encode_codestream(ds, image, choice)
    _set_transfer_syntax(ds, ExplicitVRLittleEndian)
    if choice.uid == ExplicitVRLittleEndian:
        return ()
    encoder = get_encoder(choice.uid)
    if not encoder.is_available:
        raise CodecUnavailableError(
            f"no encoder for {choice.description} is installed — install "
            f"{_ENCODER_PACKAGES.get(choice.uid, 'an encoder plugin')} or choose explicit-le"
        )
    try:
        ds.compress(choice.uid, image.pixels, generate_instance_uid=False)
    except (RuntimeError, ValueError) as exc:
        raise ConversionError(
            f"'{image.name}' could not be encoded as {choice.description} ({exc}) — "
            "choose explicit-le"
        ) from exc
    return (f"Pixel Data encoded as {choice.description}",)


def encoder_threads() -> int:
    """Threads the JPEG 2000 encoder uses: the cores this process may run on."""
    return usable_cores()


def _jpeg2000(image: SourceImage) -> bytes:
    import imagecodecs  # only when encoding

    return bytes(
        imagecodecs.jpeg2k_encode(
            image.pixels,
            level=0,
            codecformat="J2K",
            reversible=True,
            mct=image.samples_per_pixel == 3,
            bitspersample=image.bits_allocated,
            numthreads=encoder_threads(),
        )
    )


def _htj2k(image: SourceImage) -> bytes:
    import imagecodecs  # only when encoding

    return bytes(
        imagecodecs.htj2k_encode(image.pixels, reversible=True, rgb=image.samples_per_pixel == 3)
    )


def _jpegls(image: SourceImage) -> _Bytes:
    import imagecodecs  # only when encoding

    return _without_spiff(imagecodecs.jpegls_encode(image.pixels, level=0))


_SPIFF_START = b"\xff\xd8\xff\xe8"
#: The SPIFF end-of-directory entry: APP8, length 8, tag 1, then the image's own SOI.
_SPIFF_END = b"\xff\xe8\x00\x08\x00\x00\x00\x01\xff\xd8"


def _without_spiff(codestream: bytes | bytearray) -> _Bytes:
    """The JPEG-LS codestream without a leading SPIFF header (a view, no copy)."""
    if not codestream.startswith(_SPIFF_START) or codestream[6:12] != b"SPIFF\0":
        return codestream
    end = 4 + int.from_bytes(codestream[4:6], "big")
    if codestream[end : end + len(_SPIFF_END)] != _SPIFF_END:
        return codestream
    return memoryview(codestream)[end + len(_SPIFF_END) - 2 :]


#: Codecs encoded by imagecodecs into one codestream, rather than by pydicom's plugins.
_CODESTREAM_ENCODERS: dict[str, Callable[[SourceImage], _Bytes]] = {
    JPEGLSLossless: _jpegls,
    JPEG2000Lossless: _jpeg2000,
    HTJ2KLossless: _htj2k,
}
_CODESTREAM_UIDS = tuple(_CODESTREAM_ENCODERS)
#: Wavelet codecs whose colour images use the reversible colour transform.
_WAVELET_UIDS = (JPEG2000Lossless, HTJ2KLossless)


def _encode_codestream(
    ds: Dataset, image: SourceImage, choice: TransferSyntaxChoice
) -> tuple[str, ...]:
    """Encapsulate one lossless codestream (JPEG 2000 colour with the reversible transform)."""
    try:
        codestream = _CODESTREAM_ENCODERS[choice.uid](image)
    except (RuntimeError, ValueError) as exc:  # imagecodecs' codec errors derive from these
        raise ConversionError(
            f"'{image.name}' could not be encoded as {choice.description} ({exc}) — "
            "choose explicit-le"
        ) from exc
    ds.PixelData = encapsulate_one(codestream)
    del codestream
    ds["PixelData"].VR = "OB"
    if image.samples_per_pixel == 3 and choice.uid in _WAVELET_UIDS:
        ds.PhotometricInterpretation = "YBR_RCT"
    _set_transfer_syntax(ds, choice.uid)
    return (f"Pixel Data encoded as {choice.description}",)


def encapsulate_one(frame: bytes | bytearray | memoryview) -> bytes:
    """Encapsulate one frame as one fragment, copying it once.

    The same bytes as ``pydicom.encaps.encapsulate([frame])`` (a Basic Offset
    Table with the one offset 0, then the fragment padded to an even length),
    which copies a frame three times: for a 50 MP image that is hundreds of MiB.

    Parameters
    ----------
    frame : bytes, bytearray or memoryview
        One compressed frame.

    Returns
    -------
    bytes
        The encapsulated Pixel Data value (without its sequence delimiter).
    """
    size = len(frame) + len(frame) % 2
    head = _ITEM + struct.pack("<I", 4) + bytes(4) + _ITEM + struct.pack("<I", size)
    return b"".join((head, frame, bytes(len(frame) % 2)))


#: Item tag (FFFE,E000), little endian.
_ITEM = b"\xfe\xff\x00\xe0"


def _set_transfer_syntax(ds: Dataset, uid: str) -> None:
    """Record the transfer syntax in the dataset's file meta."""
    ds.file_meta = file_meta_for(ds, UID(uid))


def _encapsulate_jpeg(ds: Dataset, image: SourceImage) -> tuple[str, ...]:
    """Replace Pixel Data with the source's own JPEG bitstream."""
    if image.original is None:
        raise ConversionError(
            f"'{image.name}' cannot be passed through as JPEG: only unrotated baseline or "
            "extended JPEG sources can — choose explicit-le, rle, jpeg-ls or jpeg2000"
        )
    with Image.open(io.BytesIO(image.original)) as jpeg:
        if not isinstance(jpeg, JpegImagePlugin.JpegImageFile):
            raise ConversionError(f"'{image.name}' is not a JPEG — choose explicit-le")
        extended = _frame_marker(image.original) == _SOF1
        photometric = _jpeg_photometric(jpeg)
    if photometric not in _PASSTHROUGH_PHOTOMETRICS:
        raise ConversionError(
            f"'{image.name}' is a {_describe(photometric)} JPEG, which DICOM cannot carry "
            "as it is (encapsulated baseline JPEG must be grey or chroma-subsampled "
            "YBR_FULL_422) — choose explicit-le, rle, jpeg-ls or jpeg2000"
        )
    stripped = strip_metadata(image.original, image.name)
    ds.PixelData = encapsulate_one(stripped.data)
    ds["PixelData"].VR = "OB"
    ds.PhotometricInterpretation = photometric
    _set_transfer_syntax(ds, JPEGExtended12Bit if extended else JPEGBaseline8Bit)
    notes = ["the source JPEG's compressed pixels were encapsulated unchanged (no re-compression)"]
    if stripped.removed:
        notes.append(
            "left out of the encapsulated JPEG (they can identify people or devices): "
            + "; ".join(stripped.removed)
        )
    return tuple(notes)


_SOF1 = 0xFFC1
#: Photometric Interpretations an encapsulated baseline JPEG may have (dciodvfy agrees).
_PASSTHROUGH_PHOTOMETRICS = frozenset({"MONOCHROME2", "YBR_FULL_422"})


def _describe(photometric: str) -> str:
    """Plain words for a JPEG's colour layout."""
    return {"YBR_FULL": "4:4:4 (not subsampled) YCbCr", "RGB": "RGB-coded"}.get(
        photometric, photometric
    )


_FRAME_MARKERS = frozenset({0xFFC0, 0xFFC1, 0xFFC2, 0xFFC3, *range(0xFFC5, 0xFFD0)}) - {
    0xFFC8,
    0xFFCC,
}


def _frame_marker(data: bytes) -> int | None:
    """Return the JPEG's start-of-frame marker (0xFFC0 baseline, 0xFFC1 extended, …)."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = int.from_bytes(data[position : position + 2], "big")
        if marker in _FRAME_MARKERS:
            return marker
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        position += 2 + length
    return None


def _jpeg_photometric(jpeg: JpegImagePlugin.JpegImageFile) -> str:
    """Photometric Interpretation that describes a JPEG's colour components."""
    if jpeg.mode == "L":
        return "MONOCHROME2"
    if jpeg.info.get("adobe_transform") == 0:
        return "RGB"
    subsampled = JpegImagePlugin.get_sampling(jpeg) in (1, 2)
    return "YBR_FULL_422" if subsampled else "YBR_FULL"
