"""A working session's documents: uploaded images and DICOM files, edited in memory.

One :class:`Document` per uploaded file. An image document keeps its decoded
pixels, the IOD chosen for it and the metadata the user entered; its dataset is
built from those (cheaply: the pixels are not copied) and rebuilt when they
change; the UIDs it was given (SOP Instance, Frame of Reference; Study and
Series come from the shared context) are kept across rebuilds. A DICOM
document keeps the file's bytes and the dataset read from them. Tag edits are
recorded on both kinds and replayed after a rebuild, so metadata and tag edits
never undo each other; an edit that no longer applies is kept as a
:class:`DroppedEdit` for the user to see. Exports (Part 10 bytes, a zip of the
batch, in :mod:`tbp_core.session.export`) serialise the document's current
dataset, the one the app shows, and are built only when asked.

Nothing here touches the disk or imports streamlit: the web app keeps
documents in its session state, the tests drive them directly.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tbp_core.boundary import guarded
from tbp_core.building.codecs import available_transfer_syntaxes
from tbp_core.building.convert import dicom_file_name
from tbp_core.building.iods import (
    SECONDARY_CAPTURE,
    VL_PHOTOGRAPHIC,
    IodSpec,
    SeriesContext,
    build_instance,
)
from tbp_core.errors import ConversionError, DicomReadError, TbpError
from tbp_core.fileio import dicomio
from tbp_core.fileio.access import text_value
from tbp_core.inspection import tags
from tbp_core.session.names import safe_basename
from tbp_core.sources.exif import map_exif
from tbp_core.sources.images import AlphaPolicy, SourceImage, load_image

if TYPE_CHECKING:
    from tbp_core.session.links import LesionLink

DocumentKind = Literal["image", "dicom"]

#: File name endings the upload accepts as pictures.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})

#: Transfer syntax name meaning "write a DICOM document as it was read".
KEEP_TRANSFER_SYNTAX = "keep"

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")


@dataclass(frozen=True)
class DroppedEdit:
    """A recorded tag edit that no longer applied when the dataset was rebuilt.

    A metadata or IOD change rebuilds an image's dataset and replays the tag
    edits on it; an edit whose element or item is gone (or whose value the new
    dataset refuses) is dropped and kept here, so the user learns of it.

    Attributes
    ----------
    edit : Edit
        The edit as the user made it.
    change : Change
        What it did when it was applied (path, old and new text).
    reason : str
        Why it no longer applies: the refusal of the rebuilt dataset.
    """

    edit: tags.Edit
    change: tags.Change
    reason: str

    @property
    def message(self) -> str:
        """One line for the user: which edit was dropped and why."""
        new = "(removed)" if self.change.new_text is None else f"'{self.change.new_text}'"
        return f"{self.change.path} → {new} no longer applies and was dropped: {self.reason}"


@dataclass
class Document:
    """One uploaded file and everything the user did to it in this session.

    Attributes
    ----------
    name : str
        The uploaded file's name.
    kind : {"image", "dicom"}
        What was uploaded.
    data : bytes
        The uploaded bytes (a DICOM document reads its large values from them).
    context : SeriesContext
        Study and series shared by the session's images.
    instance_number : int
        Position of an image in the session's series, from 1.
    image : SourceImage or None
        The decoded, upright picture (image documents).
    iod : IodSpec
        The IOD an image becomes.
    metadata : dict
        Normalised keyword → value metadata entered by the user (image documents).
    sop_instance_uid : str
        Kept across rebuilds so a document keeps its identity.
    frame_of_reference_uid : str
        Given to an image whose IOD has a Frame of Reference (Dermoscopic) unless
        its metadata sets one; kept across rebuilds like the SOP Instance UID.
    edits : list of (Edit, Change)
        Applied tag edits, oldest first.
    dropped_edits : tuple of DroppedEdit
        Tag edits a rebuild could not replay, oldest first, until dismissed
        (:func:`dismiss_dropped_edits`).
    read_warnings : tuple of str
        What went wrong reading a damaged DICOM file.
    notices : tuple of str
        What the user should know about the last build.
    missing : tuple of str
        Type 1 keywords only the user can give that the last build lacked (a
        Dermoscopic image's equipment): the dataset is a draft without them,
        shown but not exported (:func:`build_error` names them).
    link : LesionLink or None
        The close-up's link to its regional overview (:mod:`tbp_core.session.links`):
        its metadata layer goes under :attr:`metadata` when the image is built.
    revision : int
        Increases with every change; caches key on ``(id, revision)``.
    id : str
        A session-unique identifier.
    """

    name: str
    kind: DocumentKind
    data: bytes = field(repr=False)
    context: SeriesContext
    instance_number: int = 1
    image: SourceImage | None = field(default=None, repr=False)
    iod: IodSpec = VL_PHOTOGRAPHIC
    metadata: dict[str, Any] = field(default_factory=dict)
    sop_instance_uid: str = field(default_factory=lambda: str(generate_uid()))
    frame_of_reference_uid: str = field(default_factory=lambda: str(generate_uid()))
    edits: list[tuple[tags.Edit, tags.Change]] = field(default_factory=list)
    dropped_edits: tuple[DroppedEdit, ...] = ()
    read_warnings: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    link: LesionLink | None = None
    revision: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    _dataset: Dataset | None = field(default=None, repr=False)
    _exif_values: dict[str, Any] | None = field(default=None, repr=False)
    _exif_offers: dict[str, Any] | None = field(default=None, repr=False)
    _draft_problem: str | None = field(default=None, repr=False)

    @property
    def output_name(self) -> str:
        """File name for the downloaded DICOM (``back.png`` → ``back.dcm``)."""
        name = safe_basename(self.name, fallback="document")
        if self.kind == "dicom" and PurePath(name).suffix.lower() in {".dcm", ".dicom"}:
            return name
        return safe_basename(dicom_file_name(name), fallback="document.dcm")

    @property
    def exif_values(self) -> dict[str, Any]:
        """DICOM keyword → value derived from the image's EXIF (empty for DICOM)."""
        if self._exif_values is None:
            exif = map_exif(self.image.exif if self.image else None)
            self._exif_values = dict(exif.values)
        return self._exif_values

    @property
    def exif_offers(self) -> dict[str, Any]:
        """EXIF values the user may enter with one click, device identity included.

        Camera owner and serial numbers are never filled in or shown by
        default (:attr:`exif_values`); a "use EXIF values" request shows and
        enters them, which is the user asking for them.
        """
        if self._exif_offers is None:
            exif = map_exif(self.image.exif if self.image else None, include_device_identity=True)
            self._exif_offers = dict(exif.values)
        return self._exif_offers

    def touch(self) -> None:
        """Forget the built dataset and bump the revision after a change."""
        self._dataset = None
        self.revision += 1


def _looks_like_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC)


@guarded("read")
def open_document(
    name: str,
    data: bytes,
    context: SeriesContext,
    *,
    instance_number: int = 1,
    alpha: AlphaPolicy = "drop",
    iod: IodSpec = VL_PHOTOGRAPHIC,
) -> Document:
    """Open an uploaded file as an image or a DICOM document.

    Parameters
    ----------
    name : str
        The file's name (messages and the output name use it).
    data : bytes
        Its content.
    context : SeriesContext
        Study and series shared by the session's images.
    instance_number : int
        Position of an image in the series, from 1.
    alpha : {"refuse", "drop", "white", "black"}
        What to do with transparent pixels; the app drops the alpha channel.
    iod : IodSpec
        The IOD an image becomes (changeable later).

    Returns
    -------
    Document

    Raises
    ------
    TbpError
        When the file is neither a readable image nor a readable DICOM file;
        the message names the problem and the fix.
    """
    suffix = PurePath(name).suffix.lower()
    is_part10 = data[128:132] == b"DICM"  # checked first: a preamble may hold a TIFF header
    if not is_part10 and (_looks_like_image(data) or suffix in IMAGE_SUFFIXES):
        image = load_image(data, name, alpha=alpha)
        if image.bits_allocated > 8 and not iod.allows_16_bit:
            iod = SECONDARY_CAPTURE
        document = Document(
            name=name,
            kind="image",
            data=data,
            context=context,
            instance_number=instance_number,
            image=image,
            iod=iod,
            notices=image.notices,
        )
        return document
    try:
        result = dicomio.read_with_report(data, name=name)
    except DicomReadError as exc:
        detail = str(exc).split(" — ")[0].replace(f"'{name}' ", "")
        raise DicomReadError(
            f"'{name}' is neither a PNG, JPEG or TIFF image nor a readable DICOM file "
            f"({detail}) — upload an image or a DICOM file"
        ) from exc
    sop = text_value(result.dataset, 0x00080018)
    return Document(
        name=name,
        kind="dicom",
        data=data,
        context=context,
        instance_number=instance_number,
        sop_instance_uid=str(sop) if sop else str(generate_uid()),
        read_warnings=result.warnings,
        _dataset=result.dataset,
    )


def _build_image_dataset(document: Document) -> tuple[Dataset, tuple[str, ...]]:
    """Build an image document's dataset (native Pixel Data) with the document's UIDs.

    A draft when values only the user can give are missing: they are left out
    and recorded on the document (:attr:`Document.missing`).
    """
    assert document.image is not None
    values = document.metadata
    if document.link is not None:  # the overview's layer, under the user's values
        values = {**document.link.layer(document.metadata), **document.metadata}
    built = build_instance(
        document.image,
        document.iod,
        values,
        document.context,
        instance_number=document.instance_number,
        draft=True,
    )
    document.missing, document._draft_problem = built.missing, built.problem
    ds = built.dataset
    ds.SOPInstanceUID = document.sop_instance_uid
    if "FrameOfReferenceUID" in ds and "FrameOfReferenceUID" not in document.metadata:
        ds.FrameOfReferenceUID = document.frame_of_reference_uid
    ds.file_meta = dicomio.file_meta_for(ds, ExplicitVRLittleEndian)
    return ds, built.notices


def _reapply(ds: Dataset, edit: tags.Edit, change: tags.Change) -> tags.EditResult:
    """Apply a recorded edit again, to the same effect as the first time.

    A new UID the user asked for is replayed as that UID, not a fresh one:
    the element must still be there (as for the first application), then it
    gets the recorded value.
    """
    result = tags.apply_edit(ds, edit)
    if not isinstance(edit, tags.RegenerateUID) or result.change is None or not change.new_text:
        return result
    again = tags.apply_edit(ds, tags.SetValue(edit.path, change.new_text))
    if again.change is None:  # a UID the element took once: cannot be refused
        tags.undo(ds, result.change)
        return again
    steps = result.change.steps + again.change.steps
    merged = replace(again.change, old_text=result.change.old_text, steps=steps)
    return tags.EditResult(True, result.message, merged)


def _replay(document: Document, ds: Dataset) -> None:
    """Apply the recorded edits to a fresh dataset; keep those that no longer apply apart."""
    kept: list[tuple[tags.Edit, tags.Change]] = []
    dropped: list[DroppedEdit] = []
    for edit, change in document.edits:
        result = _reapply(ds, edit, change)
        if result.applied and result.change is not None:
            kept.append((edit, result.change))
        else:  # the steps would keep the old dataset alive
            dropped.append(DroppedEdit(edit, replace(change, steps=()), result.message))
    document.edits = kept
    document.dropped_edits = (*document.dropped_edits, *dropped)


@guarded("read")
def dataset_of(document: Document) -> Dataset:
    """The document's current dataset, built on first use after a change.

    Parameters
    ----------
    document : Document

    Returns
    -------
    pydicom.dataset.Dataset
        Shared, not a copy: change it only through :func:`apply_tag_edit`.

    Raises
    ------
    TbpError
        When an image's metadata cannot make a valid instance of its IOD. A
        Dermoscopic image without the dermatoscope's details is built as a
        draft instead (see :attr:`Document.missing`).
    """
    if document._dataset is None:
        if document.kind == "dicom":
            ds = dicomio.read(document.data, name=document.name)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds, document.notices = _build_image_dataset(document)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _replay(document, ds)
        document._dataset = ds
    return document._dataset


def build_error(document: Document) -> str | None:
    """The message that stops the document being exported, or None.

    Either the refusal that stops its dataset being built, or, for a draft
    (:attr:`Document.missing`), the values still to fill in.
    """
    try:
        dataset_of(document)
    except TbpError as exc:
        return str(exc)
    return document._draft_problem


def is_draft(document: Document) -> bool:
    """Whether the document's dataset is a draft (built, shown, but not exportable)."""
    return build_error(document) is not None and document._dataset is not None


def set_iod(document: Document, iod: IodSpec) -> None:
    """Choose the IOD an image document becomes.

    Raises
    ------
    ConversionError
        For a DICOM document, or a 16-bit image and an 8-bit-only IOD.
    """
    if document.kind != "image" or document.image is None:
        raise ConversionError(f"'{document.name}' is a DICOM file: its IOD is its SOP Class")
    if document.image.bits_allocated > 8 and not iod.allows_16_bit:
        raise ConversionError(
            f"'{document.name}' has {document.image.source_bit_depth}-bit samples but the "
            f"{iod.title} IOD allows only 8 bits — choose Secondary Capture Image"
        )
    if iod is not document.iod:
        document.iod = iod
        document.touch()


def set_metadata(document: Document, values: Mapping[str, Any]) -> None:
    """Replace an image document's user metadata (normalised keyword → value).

    Empty values remove the keyword. DICOM documents take metadata as tag
    edits instead (:func:`apply_tag_edit` with :class:`tbp_core.inspection.tags.SetValue`).
    """
    cleaned = {k: v for k, v in values.items() if v not in (None, "", [], {})}
    if cleaned != document.metadata:
        document.metadata = cleaned
        document.touch()


def apply_tag_edit(document: Document, edit: tags.Edit) -> tags.EditResult:
    """Apply one tag edit to the document's dataset and record it.

    A refused edit leaves the dataset unchanged and is not recorded.
    """
    ds = dataset_of(document)
    result = tags.apply_edit(ds, edit)
    if result.applied and result.change is not None:
        document.edits.append((edit, result.change))
        document.revision += 1
    return result


def dismiss_dropped_edits(document: Document) -> None:
    """Forget the dropped tag edits once the user has seen them (the dataset is unchanged)."""
    document.dropped_edits = ()


def undo_last_edit(document: Document) -> tags.Change | None:
    """Undo the most recent tag edit; return it, or None when there is none."""
    if not document.edits:
        return None
    _, change = document.edits.pop()
    if document._dataset is not None:
        tags.undo(document._dataset, change)
    document.revision += 1
    return change


def transfer_syntax_choices(document: Document) -> list[tuple[str, str]]:
    """(name, label) pairs of the transfer syntaxes the document can be written in."""
    if document.kind == "dicom":
        ds = dataset_of(document)
        current = getattr(ds, "file_meta", Dataset()).get("TransferSyntaxUID")
        keep = f"as read ({current.name if current else 'implicit VR little endian'})"
        choices = [(KEEP_TRANSFER_SYNTAX, keep)]
        if current is not None and current.is_compressed:
            choices.append(("explicit-le", "uncompressed (explicit VR little endian)"))
        return choices
    return [(c.name, c.description) for c in available_transfer_syntaxes(document.image)]


__all__ = [
    "IMAGE_SUFFIXES",
    "KEEP_TRANSFER_SYNTAX",
    "Document",
    "DocumentKind",
    "DroppedEdit",
    "apply_tag_edit",
    "build_error",
    "dataset_of",
    "dismiss_dropped_edits",
    "is_draft",
    "open_document",
    "set_iod",
    "set_metadata",
    "transfer_syntax_choices",
    "undo_last_edit",
]
