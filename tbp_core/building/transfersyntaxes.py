"""The transfer syntaxes ``convert`` can write, under their command-line names.

Only the names, UIDs and descriptions: what encodes each one is
:mod:`tbp_core.building.codecs`. Kept apart, without pydicom, so that the
command line can list the choices without importing pydicom, numpy and the
codecs: ``tbp-dicom convert`` then reads its image while those are imported
(:mod:`tbp_core.fileio.readahead`), and ``convert --help`` stays instant. The
UIDs are the standard's (PS3.6 Annex A), the same values as pydicom's
constants of the same names (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_TRANSFER_SYNTAX",
    "JPEG_PASSTHROUGH",
    "TRANSFER_SYNTAXES",
    "TransferSyntaxChoice",
]


@dataclass(frozen=True)
class TransferSyntaxChoice:
    """A transfer syntax the converter can write, under its command-line name."""

    name: str
    uid: str
    description: str


#: The choice that encapsulates a JPEG source as it is.
JPEG_PASSTHROUGH = "jpeg-passthrough"

TRANSFER_SYNTAXES: dict[str, TransferSyntaxChoice] = {
    choice.name: choice
    for choice in (
        # Explicit VR Little Endian
        TransferSyntaxChoice("explicit-le", "1.2.840.10008.1.2.1", "uncompressed (default)"),
        # RLE Lossless
        TransferSyntaxChoice("rle", "1.2.840.10008.1.2.5", "RLE lossless"),
        # JPEG-LS Lossless Image Compression
        TransferSyntaxChoice("jpeg-ls", "1.2.840.10008.1.2.4.80", "JPEG-LS lossless"),
        # JPEG 2000 Image Compression (Lossless Only)
        TransferSyntaxChoice("jpeg2000", "1.2.840.10008.1.2.4.90", "JPEG 2000 lossless"),
        # High-Throughput JPEG 2000 Image Compression (Lossless Only)
        TransferSyntaxChoice(
            "htj2k", "1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 lossless"
        ),
        # JPEG Baseline (Process 1)
        TransferSyntaxChoice(
            JPEG_PASSTHROUGH, "1.2.840.10008.1.2.4.50", "the source JPEG, encapsulated untouched"
        ),
    )
}

#: The choice when none is given: native pixels, the format every reader opens.
DEFAULT_TRANSFER_SYNTAX = "explicit-le"
