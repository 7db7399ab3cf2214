"""Read and write DICOM Part 10 files.

Reading defers large values (Pixel Data above all), so a 150 MB file opens in
milliseconds; writing never copies the pixels: Pixel Data holds the decoder's
buffer and pydicom streams it straight to the file.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filereader import dcmread
from pydicom.filewriter import dcmwrite
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from tbp_core import __version__
from tbp_core.errors import DicomReadError

#: Values longer than this many bytes are read only when asked for.
DEFER_SIZE = 1024

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


def read(source: bytes | str | Path, *, name: str = "") -> Dataset:
    """Read a DICOM file without loading its large values.

    Values longer than :data:`DEFER_SIZE` bytes (Pixel Data, large OB/OW
    elements) stay on disk, or in the given bytes, until they are asked for.
    Files without preamble or file meta are read too.

    Parameters
    ----------
    source : bytes, str or Path
        The file's bytes or its path.
    name : str, optional
        Name for messages when ``source`` is bytes.

    Returns
    -------
    pydicom.dataset.Dataset

    Raises
    ------
    DicomReadError
        If nothing readable is found.
    """
    label = name or (Path(source).name if not isinstance(source, bytes) else "the file")
    if isinstance(source, bytes) and not source:
        raise DicomReadError(f"'{label}' is empty — choose a DICOM file")
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        ds = dcmread(stream, force=True, defer_size=DEFER_SIZE)
    except OSError as exc:
        raise DicomReadError(f"cannot read '{label}': {exc.strerror or exc}") from exc
    except Exception as exc:  # pydicom raises many types on damaged files
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DicomReadError(f"'{label}' is not a readable DICOM file ({reason})") from exc
    if len(ds) == 0 and not getattr(ds, "file_meta", None):
        raise DicomReadError(f"'{label}' holds no DICOM elements — is it a DICOM file?")
    return ds
