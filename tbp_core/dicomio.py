"""Write DICOM Part 10 files (reading arrives with the inspection work).

Writing never copies the pixels: Pixel Data holds the decoder's buffer and
pydicom streams it straight to the file.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from tbp_core import __version__

#: Identifies files written by this software (deterministic, under pydicom's root).
IMPLEMENTATION_CLASS_UID = generate_uid(entropy_srcs=["TBP DICOM Studio", "tbp-dicom"])
IMPLEMENTATION_VERSION_NAME = f"TBPDICOM_{__version__}"[:16]


def file_meta_for(
    ds: Dataset, transfer_syntax_uid: UID = ExplicitVRLittleEndian
) -> FileMetaDataset:
    """Build the File Meta Information group for a dataset.

    Parameters
    ----------
    ds : Dataset
        A dataset with SOPClassUID and SOPInstanceUID.
    transfer_syntax_uid : str
        The transfer syntax the dataset will be written in.

    Returns
    -------
    FileMetaDataset
    """
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = transfer_syntax_uid
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    return meta


def write(ds: Dataset, target: str | Path | BinaryIO) -> None:
    """Write ``ds`` as a DICOM Part 10 file (preamble, ``DICM``, file meta).

    The file meta is built (or refreshed) from the dataset; an existing
    transfer syntax is kept, explicit VR little endian is the default.

    Parameters
    ----------
    ds : Dataset
        The dataset to write.
    target : str, Path or binary file object
        Where to write.
    """
    syntax: UID = ExplicitVRLittleEndian
    existing = getattr(ds, "file_meta", None)
    if existing is not None and "TransferSyntaxUID" in existing:
        syntax = existing.TransferSyntaxUID
    ds.file_meta = file_meta_for(ds, syntax)
    ds.preamble = b"\x00" * 128
    dcmwrite(target, ds, enforce_file_format=True)


def to_bytes(ds: Dataset) -> bytes:
    """Return the Part 10 file for ``ds`` as bytes (for downloads).

    Parameters
    ----------
    ds : Dataset
        The dataset to write.

    Returns
    -------
    bytes
    """
    buffer = io.BytesIO()
    write(ds, buffer)
    return buffer.getvalue()
