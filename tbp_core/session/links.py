"""Lesion links between a session's documents: the close-up and the overview it was taken on.

A close-up image document (converted as Dermoscopic Photography or VL
Photographic) may carry a :class:`LesionLink` to another document of the
session, its regional overview. The link keeps a small snapshot of the
overview (its UIDs, size, Patient and Study attributes) and the lesion's
location and id; when the close-up's dataset is built, the link's metadata
layer (:func:`tbp_core.building.lesionlink.lesion_link_metadata`) goes *under*
the close-up's own metadata, exactly as ``tbp-dicom convert --regional`` does:
Referenced Image Sequence with purpose Localizer, the overview's patient and
study, Tracking ID/UID, and the location in ``tbp:LesionLocationOnRegional``.
When the overview changes (its patient or study edited),
:func:`refresh_links` takes a new snapshot and the close-up is rebuilt.

The session check is :func:`tbp_core.validation.links.check_links` (the CLI's
``validate`` runs it over the files it is given): every Referenced Image
Sequence item whose purpose is Localizer must name a SOP Instance of the same
session that is a VL image.

Nothing here imports streamlit.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydicom.dataset import Dataset

from tbp_core.building import lesionlink
from tbp_core.building.iods import DERMOSCOPIC
from tbp_core.errors import ConversionError, TbpError
from tbp_core.fileio.access import text_value
from tbp_core.session.workspace import Document, dataset_of
from tbp_core.standard import private
from tbp_core.validation.findings import Finding
from tbp_core.validation.links import (
    LOCALIZER,
    check_links,
    localizer_references,
    sop_class_name,
)

__all__ = [
    "LOCALIZER",
    "LesionLink",
    "OverviewChoices",
    "check_links",
    "document_link_findings",
    "link_text",
    "link_to_overview",
    "localizer_references",
    "overview_choices",
    "overview_problem",
    "refresh_links",
    "session_link_text",
    "unlink",
]


_SNAPSHOT_KEYWORDS = (
    "SOPClassUID",
    "SOPInstanceUID",
    "Rows",
    "Columns",
    *lesionlink.PATIENT_KEYWORDS,
    *lesionlink.STUDY_KEYWORDS,
)


@dataclass(frozen=True)
class LesionLink:
    """A close-up's link to its regional overview in the same session.

    Attributes
    ----------
    overview_id : str
        The overview document's id (:attr:`Document.id`).
    overview_name : str
        Its file name, for messages.
    overview : Dataset
        Snapshot of the overview's UIDs, size, Patient and Study attributes.
    overview_revision : int
        The overview's revision the snapshot was taken at.
    location : tuple of float or None
        The lesion's (column, row) pixel on the overview.
    lesion_id : str or None
        The lesion's Tracking ID.
    """

    overview_id: str
    overview_name: str
    overview: Dataset = field(repr=False)
    overview_revision: int
    location: tuple[float, float] | None = None
    lesion_id: str | None = None

    def layer(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """The metadata layer the close-up is built on (its own metadata goes on top).

        Parameters
        ----------
        metadata : Mapping
            The close-up's own metadata (its Patient ID keys the Tracking UID).

        Returns
        -------
        dict
            As :func:`tbp_core.building.lesionlink.lesion_link_metadata`.
        """
        return lesionlink.lesion_link_metadata(
            self.overview, metadata, location=self.location, lesion_id=self.lesion_id
        )


@dataclass(frozen=True)
class OverviewChoices:
    """Which documents may be a close-up's overview, and why the others may not.

    Attributes
    ----------
    offered : tuple of Document
        Documents that are (or will be) VL images, in session order.
    refused : tuple of (str, str)
        (document name, why it is not offered) for the others.
    """

    offered: tuple[Document, ...]
    refused: tuple[tuple[str, str], ...]


def overview_problem(document: Document) -> str | None:
    """Why a document cannot be a regional overview, or None when it can.

    Parameters
    ----------
    document : Document

    Returns
    -------
    str or None
        A phrase completing "'name' ..." that names the fix, e.g. "will be a
        Secondary Capture Image, not a VL image — choose VL Photographic
        Image for it on the Upload page".
    """
    if document.kind == "image":
        if lesionlink.is_vl_image(document.iod.sop_class_uid):
            return None
        if document.iod.sop_class_uid == DERMOSCOPIC.sop_class_uid:
            return "is a close-up (Dermoscopic Photography Image), not a VL image of a region"
        return (
            f"will be a {document.iod.title}, not a VL image — choose VL Photographic Image "
            "for it on the Upload page"
        )
    try:
        ds = dataset_of(document)
    except TbpError as exc:
        return f"cannot be read ({exc})"
    sop_class = text_value(ds, 0x00080016)
    if not sop_class:
        return "has no SOP Class UID, so it is not a VL image"
    if not lesionlink.is_vl_image(str(sop_class)):
        return f"is a {sop_class_name(str(sop_class))}, not a VL image"
    if not (ds.get("Rows") and ds.get("Columns")):
        return "has no Rows and Columns, so no position can be picked on it"
    return None


def overview_choices(close_up: Document, documents: Iterable[Document]) -> OverviewChoices:
    """The documents a close-up may be linked to, and the others with the reason.

    Parameters
    ----------
    close_up : Document
        The document to link (left out of both lists).
    documents : iterable of Document
        The session's documents.

    Returns
    -------
    OverviewChoices
    """
    offered: list[Document] = []
    refused: list[tuple[str, str]] = []
    for document in documents:
        if document.id == close_up.id:
            continue
        problem = overview_problem(document)
        if problem is None:
            offered.append(document)
        else:
            refused.append((document.name, problem))
    return OverviewChoices(tuple(offered), tuple(refused))


def _snapshot(ds: Dataset) -> Dataset:
    """The overview's attributes a link needs, copied (the overview may change later)."""
    snapshot = Dataset()
    for keyword in _SNAPSHOT_KEYWORDS:
        if keyword in ds:
            snapshot[keyword] = copy.deepcopy(ds[keyword])
    return snapshot


def link_to_overview(
    close_up: Document,
    overview: Document,
    *,
    location: tuple[float, float] | None = None,
    lesion_id: str | None = None,
) -> LesionLink:
    """Link an image document to its regional overview (the close-up is rebuilt).

    Parameters
    ----------
    close_up : Document
        An image document (Dermoscopic Photography or VL Photographic).
    overview : Document
        Another document of the session that is (or will be) a VL image.
    location : tuple of float, optional
        The lesion's (column, row) pixel on the overview.
    lesion_id : str, optional
        The lesion's Tracking ID; empty means none.

    Returns
    -------
    LesionLink
        The link now on ``close_up`` (unchanged when it was already so).

    Raises
    ------
    TbpError
        For a DICOM close-up, an overview that is not a VL image, the close-up
        itself, or a location outside the overview; nothing changes then.
    """
    if close_up.kind != "image":
        raise ConversionError(
            f"'{close_up.name}' is a DICOM file: edit its Referenced Image Sequence on the "
            "Tags page to link it"
        )
    if overview.id == close_up.id:
        raise TbpError(f"'{close_up.name}' cannot be its own overview — pick another document")
    problem = overview_problem(overview)
    if problem is not None:
        raise TbpError(f"'{overview.name}' {problem}")
    lesion = (lesion_id or "").strip() or None
    link = LesionLink(
        overview_id=overview.id,
        overview_name=overview.name,
        overview=_snapshot(dataset_of(overview)),
        overview_revision=overview.revision,
        location=location,
        lesion_id=lesion,
    )
    try:
        link.layer(close_up.metadata)  # refuses a location outside the overview
    except TbpError as exc:
        raise type(exc)(str(exc).replace("--location ", "Location ")) from exc
    if link != close_up.link:
        close_up.link = link
        close_up.touch()
    return link


def unlink(close_up: Document) -> None:
    """Remove a close-up's link to its overview (the close-up is rebuilt without it).

    Parameters
    ----------
    close_up : Document
    """
    if close_up.link is not None:
        close_up.link = None
        close_up.touch()


def refresh_links(documents: Sequence[Document]) -> tuple[Document, ...]:
    """Let linked close-ups follow their overviews' changes (patient, study, UIDs).

    For each close-up whose overview changed since its snapshot, a new
    snapshot is taken; when it differs, the close-up is rebuilt on its next
    use. A removed overview, or one that is no longer a VL image, leaves the
    old snapshot in place (:func:`check_links` reports it).

    Parameters
    ----------
    documents : sequence of Document
        The session's documents.

    Returns
    -------
    tuple of Document
        The close-ups that changed.
    """
    by_id = {document.id: document for document in documents}
    changed: list[Document] = []
    for document in documents:
        link = document.link
        if link is None:
            continue
        overview = by_id.get(link.overview_id)
        if overview is None or overview.revision == link.overview_revision:
            continue
        snapshot = link.overview
        if overview_problem(overview) is None:
            with contextlib.suppress(TbpError):  # unreadable now: the old snapshot stays
                snapshot = _snapshot(dataset_of(overview))
        document.link = replace(link, overview=snapshot, overview_revision=overview.revision)
        if snapshot != link.overview:
            document.touch()
            changed.append(document)
    return tuple(changed)


# ------------------------------------------------------------------ the session check


def _named(documents: Iterable[Document]) -> list[tuple[Document, Dataset]]:
    built = []
    for document in documents:
        try:
            built.append((document, dataset_of(document)))
        except TbpError:
            continue
    return built


def document_link_findings(
    document: Document, documents: Sequence[Document]
) -> tuple[Finding, ...]:
    """The session check's findings for one document (:func:`check_links`).

    Parameters
    ----------
    document : Document
    documents : sequence of Document
        The session's documents (``document`` among them).

    Returns
    -------
    tuple of Finding
        Empty when the document references no localizer or cannot be built
        (the other documents are built only when it references one).
    """
    try:
        if not localizer_references(dataset_of(document)):
            return ()
    except TbpError:
        return ()
    built = _named(documents)
    results = check_links([(d.name, ds) for d, ds in built])
    for (other, _), findings in zip(built, results, strict=True):
        if other.id == document.id:
            return findings
    return ()


def link_text(ds: Dataset, named: Sequence[tuple[str, Dataset]] = ()) -> str | None:
    """One line saying what a dataset is linked to, or None when it references no localizer.

    Parameters
    ----------
    ds : Dataset
    named : sequence of (str, Dataset)
        The session's datasets with their names, to name the overview.

    Returns
    -------
    str or None
        E.g. ``"Linked to overview back.png at (120, 340), lesion L7"``.
    """
    references = localizer_references(ds)
    if not references:
        return None
    _, _, uid = references[0]
    names = {str(text_value(other, 0x00080018) or ""): name for name, other in named}
    overview = f"'{names[uid]}'" if uid in names else f"{uid or '(no UID)'} (not in this session)"
    text = f"Linked to overview {overview}"
    try:
        location = private.get_tbp_values(ds).get(lesionlink.LOCATION_KEY)
    except Exception:  # an unreadable private block: no location to show
        location = None
    if isinstance(location, Sequence) and len(location) == 2:
        text += f" at ({float(location[0]):g}, {float(location[1]):g})"
    lesion = text_value(ds, 0x00620020)
    if lesion:
        text += f", lesion {lesion}"
    return text


def session_link_text(document: Document, documents: Sequence[Document]) -> str | None:
    """:func:`link_text` of a document, naming the overview among the session's documents.

    Parameters
    ----------
    document : Document
    documents : sequence of Document

    Returns
    -------
    str or None
    """
    try:
        ds = dataset_of(document)
    except TbpError:
        return None
    if not localizer_references(ds):
        return None
    others = [(d.name, other) for d, other in _named(documents) if d.id != document.id]
    return link_text(ds, others)
