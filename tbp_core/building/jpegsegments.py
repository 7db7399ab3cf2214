"""Re-wrap a JPEG bitstream without its metadata segments, pixels untouched.

Camera JPEGs carry more than pixels: EXIF (GPS position, owner name, body and
lens serial numbers, maker notes, a thumbnail), XMP, IPTC and comments, all in
APPn (0xFFE0–0xFFEF) and COM (0xFFFE) segments. :func:`strip_metadata` drops
those segments from the header and keeps every segment a decoder needs (SOF,
DQT, DHT, DRI, SOS) and the entropy-coded data byte for byte, so the decoded
pixels are identical. An ICC profile travels in DICOM's ICC Profile attribute
instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from tbp_core.errors import ConversionError
from tbp_core.standard.formatting import size_text

__all__ = ["StrippedJpeg", "strip_metadata"]

_SOI = b"\xff\xd8"
_SOS = 0xFFDA
_EOI = 0xFFD9
_COM = 0xFFFE
#: Markers without a length field (besides SOI/EOI): TEM and RSTn.
_STANDALONE = frozenset({0xFF01, *range(0xFFD0, 0xFFD8)})

_NAMES = {0xFFE0: "JFIF/JFXX (APP0)", 0xFFE1: "EXIF/XMP (APP1)", 0xFFE2: "ICC/FlashPix (APP2)"}
_NAMES |= {0xFFED: "IPTC/Photoshop (APP13)", 0xFFEE: "Adobe (APP14)", _COM: "comment (COM)"}


@dataclass(frozen=True)
class StrippedJpeg:
    """A JPEG without metadata segments, and what was removed.

    Attributes
    ----------
    data : bytes
        The re-wrapped bitstream.
    removed : tuple of str
        One description per removed segment, e.g. ``"EXIF/XMP (APP1), 12.3 kB"``.
    """

    data: bytes
    removed: tuple[str, ...]


def _is_metadata(marker: int) -> bool:
    return 0xFFE0 <= marker <= 0xFFEF or marker == _COM


def strip_metadata(data: bytes, name: str = "") -> StrippedJpeg:
    """Drop APPn and COM segments before the first scan; keep everything else.

    Parameters
    ----------
    data : bytes
        A JPEG bitstream (starting with SOI).
    name : str
        The source's name for messages.

    Returns
    -------
    StrippedJpeg
        The bitstream and the list of removed segments.

    Raises
    ------
    ConversionError
        When the header's segment structure is broken.
    """
    if not data.startswith(_SOI):
        raise ConversionError(f"'{name}' does not start like a JPEG (no SOI marker)")
    kept = [_SOI]
    removed: list[str] = []
    position = 2
    while True:
        if position + 2 > len(data) or data[position] != 0xFF:
            raise ConversionError(
                f"'{name}': the JPEG header is damaged at byte {position} — "
                "choose a transfer syntax that re-encodes the pixels (explicit-le)"
            )
        while data[position + 1] == 0xFF:  # fill bytes before a marker
            position += 1
        marker = int.from_bytes(data[position : position + 2], "big")
        if marker in _STANDALONE:
            kept.append(data[position : position + 2])
            position += 2
            continue
        if marker == _EOI:
            raise ConversionError(f"'{name}': the JPEG has no image scan (EOI before SOS)")
        if position + 4 > len(data):
            raise ConversionError(f"'{name}': the JPEG ends inside its header")
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise ConversionError(f"'{name}': a JPEG header segment runs past the end of the file")
        if marker == _SOS:
            kept.append(data[position:])  # the scans and everything after: untouched
            break
        if _is_metadata(marker):
            label = _NAMES.get(marker, f"APP{marker - 0xFFE0}")
            removed.append(f"{label}, {size_text(length - 2)}")
        else:
            kept.append(data[position:end])
        position = end
    return StrippedJpeg(b"".join(kept), tuple(removed))
