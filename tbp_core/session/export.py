"""Exports of a working session's documents: Part 10 bytes and a zip of the batch.

What is written is the dataset the app shows (:func:`~tbp_core.session.workspace.dataset_of`):
the same elements and UIDs, in the chosen transfer syntax, with the file meta
written afresh. The document is never changed, so exporting twice gives the
same file. Nothing touches the disk.
"""

from __future__ import annotations

import copy
import io
import warnings
import zipfile
from collections.abc import Callable, Sequence

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID

from tbp_core.boundary import guarded
from tbp_core.building.codecs import encode
from tbp_core.building.transfersyntaxes import TRANSFER_SYNTAXES
from tbp_core.errors import ConversionError
from tbp_core.fileio import dicomio
from tbp_core.fileio.access import text_value
from tbp_core.fileio.part10 import make_writable
from tbp_core.session.names import unique_name
from tbp_core.session.workspace import KEEP_TRANSFER_SYNTAX, Document, dataset_of

__all__ = ["export_bytes", "export_notes", "export_zip"]


def _copy_elements(source: Dataset, target: Dataset) -> None:
    """Put copies of ``source``'s top-level elements (sharing their values) in ``target``."""
    for listed in source.elements():
        element = source.get_item(listed.tag)  # reads a deferred value
        target[listed.tag] = copy.copy(element) if isinstance(element, DataElement) else element


def _detached(ds: Dataset) -> Dataset:
    """A copy of ``ds`` whose top-level elements and file meta can change alone.

    Element objects are copied, their values shared: encoding the copy's Pixel
    Data or writing its file meta leaves ``ds`` as it was. Deferred values are
    read (writing reads them anyway); raw elements stay raw.
    """
    copied = Dataset()
    implicit, little = ds.original_encoding
    if implicit is not None and little is not None:
        copied.set_original_encoding(implicit, little, ds.original_character_set)
    _copy_elements(ds, copied)
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        copied_meta = FileMetaDataset()
        _copy_elements(meta, copied_meta)
        copied.file_meta = copied_meta
    return copied


@guarded("export")
def export_bytes(document: Document, transfer_syntax: str = "explicit-le") -> bytes:
    """The document's current dataset as a DICOM Part 10 file.

    What is written is the dataset the app shows (:func:`dataset_of`): the
    same elements and UIDs, in the chosen transfer syntax, with the file meta
    written afresh. The document is not changed, so exporting twice gives the
    same file.

    Parameters
    ----------
    document : Document
    transfer_syntax : str
        A name from :func:`transfer_syntax_choices`.

    Returns
    -------
    bytes

    Raises
    ------
    TbpError
        When the dataset cannot be built or encoded that way.
    """
    ds = dataset_of(document)
    if document.kind == "image":
        assert document.image is not None
        if document._draft_problem is not None:
            raise ConversionError(document._draft_problem)
        if transfer_syntax not in TRANSFER_SYNTAXES:
            transfer_syntax = "explicit-le"
        out = _detached(ds)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            encode(out, document.image, transfer_syntax)
            return dicomio.to_bytes(out)
    uids = {"SOPClassUID": 0x00080016, "SOPInstanceUID": 0x00080018}
    missing = [k for k, tag in uids.items() if not text_value(ds, tag)]
    if missing:
        raise ConversionError(
            f"'{document.name}' has no readable {' or '.join(missing)}, which a DICOM file "
            "needs — add or re-enter it on the Tags page"
        )
    current = getattr(ds, "file_meta", Dataset()).get("TransferSyntaxUID")
    if current is not None and not UID(str(current)).is_transfer_syntax:
        raise ConversionError(
            f"'{document.name}' is encoded in transfer syntax {current}, which pydicom "
            "cannot write or decompress — keep the original file"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = _detached(ds)
        make_writable(out)
        if transfer_syntax == "explicit-le" and current is not None and current.is_compressed:
            try:
                out.decompress(generate_instance_uid=False)
            except Exception as exc:  # codec plugins raise many types
                raise ConversionError(
                    f"'{document.name}' could not be decompressed ({exc}) — download it as read"
                ) from exc
        return dicomio.to_bytes(out)


def export_notes(document: Document) -> tuple[str, ...]:
    """What exporting a DICOM document drops or changes to make a valid Part 10 file.

    Parameters
    ----------
    document : Document

    Returns
    -------
    tuple of str
        One note per kind of change (:func:`tbp_core.fileio.part10.make_writable`);
        empty for image documents and clean files.
    """
    if document.kind != "dicom":
        return ()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_writable(_detached(dataset_of(document)))


@guarded("export")
def export_zip(
    documents: Sequence[Document],
    transfer_syntax: str = "explicit-le",
    progress: Callable[[int, int, str], None] | None = None,
) -> bytes:
    """All documents as DICOM files in one zip (names made unique).

    Parameters
    ----------
    documents : sequence of Document
    transfer_syntax : str
        As for :func:`export_bytes`; DICOM documents keep theirs unless it is
        ``"explicit-le"``.
    progress : callable, optional
        Called as ``progress(done, total, name)`` after each file is written
        (``done`` from 1 to ``total``; ``name`` its name in the zip).

    Returns
    -------
    bytes

    Raises
    ------
    TbpError
        Naming the first document that cannot be written.
    """
    buffer = io.BytesIO()
    used: set[str] = set()
    total = len(documents)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for done, document in enumerate(documents, start=1):
            name = unique_name(document.output_name, used)
            syntax = transfer_syntax
            if document.kind == "dicom" and syntax != "explicit-le":
                syntax = KEEP_TRANSFER_SYNTAX
            archive.writestr(name, export_bytes(document, syntax))
            if progress is not None:
                progress(done, total, name)
    return buffer.getvalue()
