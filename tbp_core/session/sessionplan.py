"""A TBP session in the web app: the uploaded documents arranged as one study.

The command line converts a session from a manifest (``--manifest
session.csv``) or a folder's file names (``--session``); the web app does the
same with the session's documents, in two steps:

1. :func:`plan_from_manifest` / :func:`plan_from_names` check the description
   against the uploaded documents with the command line's own rules and
   messages (:mod:`tbp_core.building.manifest`,
   :mod:`tbp_core.building.sessionfolder`,
   :mod:`tbp_core.building.sessionvalues`): a manifest's ``file`` must be
   among the uploaded documents instead of on disk. The result is a frozen
   :class:`SessionPlan`: what each image becomes, or every problem, each
   naming its CSV line (or file) and the fix. Nothing is changed.
2. :func:`apply_plan` applies a plan without problems: each image gets its
   IOD (overview → VL Photographic Image, close-up → Dermoscopic Photography
   Image), its anatomic region and laterality, one patient and study, a series
   per kind (the overviews in the session's series, the close-ups in a second
   one) with Instance Numbers 1..n per series, and each close-up its link to
   its overview (:func:`tbp_core.session.links.link_to_overview`) with the
   lesion's location and id. It is all or nothing: a failure puts every
   document back as it was.

The study's date and time are the earliest capture time the images' EXIF
gives (the session's creation time when none does), as the command line's
:func:`tbp_core.building.sessionconvert.convert_session` sets them; the
series numbers and descriptions are its :data:`~tbp_core.building.sessionconvert.SERIES`.

Nothing here imports streamlit or touches the disk.
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydicom.uid import generate_uid

from tbp_core.building import lesionlink
from tbp_core.building.iods import DERMOSCOPIC, VL_PHOTOGRAPHIC, IodSpec, SeriesContext
from tbp_core.building.iods.builder import DERMOSCOPIC_EQUIPMENT
from tbp_core.building.manifest import (
    FindImage,
    ManifestError,
    Session,
    SessionEntry,
    coverage_notes,
    decode_manifest,
    missing_views,
    parse_manifest_text,
)
from tbp_core.building.sessionconvert import SERIES
from tbp_core.building.sessionfolder import session_from_names
from tbp_core.building.sessionvalues import Kind, equipment_problem, location_problem
from tbp_core.building.templates import TBP_SESSION, SessionTemplate
from tbp_core.errors import TbpError
from tbp_core.session import formfields, links, workspace
from tbp_core.session.workspace import Document
from tbp_core.standard import anatomy

__all__ = [
    "APPLY_FIX",
    "EQUIPMENT_FIX",
    "AppliedSession",
    "PlannedImage",
    "RegionCount",
    "SessionPlan",
    "apply_plan",
    "document_path",
    "is_manifest_name",
    "plan_from_manifest",
    "plan_from_names",
]

#: How the app's user gives the dermatoscope's equipment (the command line's
#: ``--closeup-metadata``).
EQUIPMENT_FIX = (
    "fill them in under 'Dermatoscope' in the TBP session panel of the Upload page and apply "
    "the session again (or load a template with them for each close-up on the Metadata page)"
)
#: What to do about a plan's problems in the app.
APPLY_FIX = "nothing was changed; fix the manifest or the uploads and apply the session again"

#: The IOD each kind of image becomes.
IOD_OF_KIND: Mapping[Kind, IodSpec] = {"overview": VL_PHOTOGRAPHIC, "closeup": DERMOSCOPIC}
#: Information Entities every image of a session shares.
SHARED_IES = ("Patient", "Study")
#: Keywords the session sets on its images, replacing what they held.
_SESSION_KEYWORDS = ("InstanceNumber", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription")
#: Where the app's names say "this member of that ZIP archive".
_ARCHIVE_SEPARATOR = "!"


@dataclass(frozen=True)
class PlannedImage:
    """What one image document becomes in the session.

    Attributes
    ----------
    document_id : str
        The document (:attr:`Document.id`).
    name : str
        Its name, for messages.
    entry : SessionEntry
        Its checked description: kind, region, laterality, lesion id, location.
    overview_id : str or None
        The document of the overview a close-up was taken on.
    instance_number : int
        Its Instance Number in its kind's series, from 1.
    """

    document_id: str
    name: str
    entry: SessionEntry
    overview_id: str | None
    instance_number: int

    @property
    def iod(self) -> IodSpec:
        """The IOD it becomes."""
        return IOD_OF_KIND[self.entry.kind]


@dataclass(frozen=True)
class RegionCount:
    """How many overviews and close-ups show one region (and side).

    Attributes
    ----------
    region : str
        The code meaning, with the side (``"Skin of upper extremity (left)"``).
    overviews, closeups : int
    """

    region: str
    overviews: int
    closeups: int


@dataclass(frozen=True)
class SessionPlan:
    """A session checked against the documents: what to apply, or why not.

    Attributes
    ----------
    origin : str
        The manifest's name, or ``"the uploaded images"``.
    images : tuple of PlannedImage
        Overviews first, then close-ups, each in the order given; empty when
        there are problems.
    problems : tuple of str
        Each naming its CSV line (or file) and the fix; nothing is applied
        while there is one.
    notes : tuple of str
        What the user should know (unlinked close-ups, documents left out).
    missing_views : tuple of str
        Views of the session template no overview covers.
    shared : Mapping
        Patient and Study values every image gets (its study date and time
        included).
    equipment : Mapping
        The dermatoscope's values the close-ups get.
    """

    origin: str
    images: tuple[PlannedImage, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    missing_views: tuple[str, ...] = ()
    shared: Mapping[str, Any] = field(default_factory=dict)
    equipment: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the plan can be applied."""
        return not self.problems and bool(self.images)

    def of_kind(self, kind: Kind) -> tuple[PlannedImage, ...]:
        """The planned images of one kind, in series order."""
        return tuple(image for image in self.images if image.entry.kind == kind)

    def regions(self) -> tuple[RegionCount, ...]:
        """Overviews and close-ups per region and side, in the order they first appear."""
        counts: dict[str, Counter[str]] = {}
        for image in self.images:
            counts.setdefault(_region_text(image.entry), Counter())[image.entry.kind] += 1
        return tuple(RegionCount(r, c["overview"], c["closeup"]) for r, c in counts.items())


@dataclass(frozen=True)
class AppliedSession:
    """What :func:`apply_plan` did.

    Attributes
    ----------
    study_instance_uid : str
        The one study.
    series_instance_uids : Mapping
        Series Instance UID by kind (``"overview"``, ``"closeup"``).
    document_ids : tuple of str
        The documents changed, in series order.
    """

    study_instance_uid: str
    series_instance_uids: Mapping[str, str]
    document_ids: tuple[str, ...]


# ------------------------------------------------------------------ names


def document_path(document: Document) -> Path:
    """The path a document stands for: its name, a ZIP member's under the archive's name.

    ``session.zip!visit/back.png`` is ``session.zip/visit/back.png``, so a
    manifest in that archive finds its images by the same relative paths as on
    disk.

    Parameters
    ----------
    document : Document

    Returns
    -------
    Path
    """
    return _path_of(document.name)


def _path_of(name: str) -> Path:
    return Path(os.path.normpath(name.replace(_ARCHIVE_SEPARATOR, "/")))


def is_manifest_name(name: str) -> bool:
    """Whether an uploaded file (or ZIP member) is a session manifest: a ``.csv`` file.

    Parameters
    ----------
    name : str

    Returns
    -------
    bool
    """
    return name.lower().endswith(".csv")


def _among_documents(documents: Sequence[Document], base: Path) -> FindImage:
    """Find a manifest's images among the documents: same path, else the unique path ending."""
    paths = [(document_path(d), d) for d in documents]

    def find(cell: str) -> tuple[Path, str | None]:
        wanted = Path(os.path.normpath(base / cell))
        tail = Path(os.path.normpath(cell)).parts
        matches = [(p, d) for p, d in paths if p == wanted]
        matches = matches or [(p, d) for p, d in paths if p.parts[-len(tail) :] == tail]
        if not matches:
            return wanted, (
                f"image {cell!r} is not among the uploaded documents — upload it with the "
                "manifest (or in the same ZIP archive), or correct the file name"
            )
        if len(matches) > 1:
            names = ", ".join(repr(d.name) for _, d in matches)
            return wanted, (
                f"image {cell!r} matches several uploaded documents ({names}) — give its path "
                "as the manifest sees it, or remove the other documents"
            )
        path, document = matches[0]
        if document.kind != "image":
            return path, (
                f"{document.name!r} is a DICOM file, not an image to convert — list the "
                "session's PNG, JPEG or TIFF images only"
            )
        return path, None

    return find


# ------------------------------------------------------------------ planning


def plan_from_manifest(
    data: bytes,
    name: str,
    documents: Sequence[Document],
    *,
    equipment: Mapping[str, Any] | None = None,
    template: SessionTemplate = TBP_SESSION,
) -> SessionPlan:
    """Check a manifest (CSV bytes) against the uploaded documents.

    Parameters
    ----------
    data : bytes
        The manifest, as ``tbp-dicom convert --manifest`` reads it.
    name : str
        Its name (``session.csv``, or ``session.zip!visit/session.csv`` for a
        ZIP member): messages name it, and relative image paths are read from
        its folder.
    documents : sequence of Document
        The session's documents.
    equipment : Mapping, optional
        The dermatoscope's values for the close-ups (Manufacturer, ...).
    template : SessionTemplate
        The session template.

    Returns
    -------
    SessionPlan
        With the problems (each naming its CSV line and the fix) when there
        are any; the documents are not changed.
    """
    origin = _path_of(name).name
    try:
        text = decode_manifest(data, origin)
        session = parse_manifest_text(
            text,
            base=_path_of(name).parent,
            name=origin,
            template=template,
            find_image=_among_documents(documents, _path_of(name).parent),
        )
    except ManifestError as exc:
        return SessionPlan(origin, problems=exc.problems)
    listed = {entry.source for entry in session.entries}
    left_out = [
        f"'{d.name}' is not in {origin}: left as it is, in a series of its own (add a row for "
        "it to make it part of the session, or remove it before downloading)"
        for d in documents
        if d.kind == "image" and document_path(d) not in listed
    ]
    return _plan(session, documents, equipment or {}, template, tuple(left_out))


def plan_from_names(
    documents: Sequence[Document],
    *,
    equipment: Mapping[str, Any] | None = None,
    template: SessionTemplate = TBP_SESSION,
) -> SessionPlan:
    """Arrange the uploaded images as a session from their file names.

    The convention of ``tbp-dicom convert FOLDER --session``
    (:mod:`tbp_core.building.sessionfolder`):
    ``<region>[_<kind>][_<lesion id>].<ext>``; a close-up is linked to the one
    overview of its region and side.

    Parameters
    ----------
    documents : sequence of Document
        The session's documents; its images are arranged, DICOM files left alone.
    equipment : Mapping, optional
        As for :func:`plan_from_manifest`.
    template : SessionTemplate

    Returns
    -------
    SessionPlan
    """
    origin = "the uploaded images"
    images = [d for d in documents if d.kind == "image"]
    if not images:
        problem = f"{origin}: there are none — upload the session's PNG, JPEG or TIFF images"
        return SessionPlan(origin, problems=(problem,))
    hint = "upload a session.csv with them"
    try:
        session = session_from_names(
            [document_path(d) for d in images], origin, template=template, manifest_hint=hint
        )
    except ManifestError as exc:
        return SessionPlan(origin, problems=exc.problems)
    return _plan(session, images, equipment or {}, template, ())


def _plan(
    session: Session,
    documents: Sequence[Document],
    equipment: Mapping[str, Any],
    template: SessionTemplate,
    notes: tuple[str, ...],
) -> SessionPlan:
    """Check what the description asks of the documents; the plan or every problem."""
    by_path = {document_path(d): d for d in documents if d.kind == "image"}
    problems: list[str] = []
    equipment = {k: v for k, v in equipment.items() if str(v or "").strip()}
    for entry in session.entries:
        _check_iod(entry, by_path[entry.source], problems)
    for entry in session.closeups:
        own = {k: by_path[entry.source].metadata.get(k) for k in DERMOSCOPIC_EQUIPMENT}
        problem = equipment_problem(session.origin, {**own, **equipment}, EQUIPMENT_FIX)
        if problem is not None and problem not in problems:
            problems.append(problem)
        if entry.regional is not None and entry.location is not None:
            picture = by_path[entry.regional].image
            assert picture is not None
            size = (picture.columns, picture.rows)
            name = by_path[entry.regional].name
            outside = location_problem(entry.origin, entry.location, name, size)
            problems += [outside] if outside else []
    members = [by_path[entry.source] for entry in session.entries]
    shared = _shared_values(session, members, problems)
    if problems:
        return SessionPlan(session.origin, problems=tuple(problems))
    coverage = coverage_notes(session.entries, template)  # shown as missing_views instead
    numbers: Counter[str] = Counter()
    images: list[PlannedImage] = []
    for entry in (*session.overviews, *session.closeups):
        numbers[entry.kind] += 1
        document = by_path[entry.source]
        overview = by_path[entry.regional].id if entry.regional is not None else None
        images.append(
            PlannedImage(document.id, document.name, entry, overview, numbers[entry.kind])
        )
    return SessionPlan(
        session.origin,
        images=tuple(images),
        notes=(*(n for n in session.notes if n not in coverage), *notes),
        missing_views=tuple(missing_views(session.entries, template)),
        shared=shared,
        equipment=equipment,
    )


def _check_iod(entry: SessionEntry, document: Document, problems: list[str]) -> None:
    """Whether the image can become its kind's IOD (tried on a copy: nothing changes)."""
    try:
        workspace.set_iod(copy.copy(document), IOD_OF_KIND[entry.kind])
    except TbpError as exc:
        problems.append(f"{entry.origin}: {exc}")


def _shared_values(
    session: Session, members: Sequence[Document], problems: list[str]
) -> dict[str, Any]:
    """The Patient and Study values of the images, merged; a disagreement is a problem."""
    shared: dict[str, Any] = {}
    given_by: dict[str, str] = {}
    for entry, document in zip(session.entries, members, strict=True):
        iod_key = IOD_OF_KIND[entry.kind].standard_key
        for key, value in formfields.select_by_ie(document.metadata, iod_key, SHARED_IES).items():
            if key not in shared:
                shared[key], given_by[key] = value, document.name
            elif shared[key] != value:
                problems.append(
                    f"{entry.origin}: {document.name!r} has {key} {value!r} but "
                    f"{given_by[key]!r} has {shared[key]!r} — one session is one patient and "
                    "one study: make them the same on the Metadata page"
                )
    if "StudyDate" not in shared:
        captured = sorted(
            (str(d.exif_values["AcquisitionDate"]), str(d.exif_values.get("AcquisitionTime", "")))
            for d in members
            if d.exif_values.get("AcquisitionDate")
        )
        if captured:
            shared["StudyDate"], time = captured[0]
            if time and "StudyTime" not in shared:
                shared["StudyTime"] = time
    return shared


def _region_text(entry: SessionEntry) -> str:
    if entry.region is None:
        return "(no region)"
    side = anatomy.LATERALITY.get(entry.laterality or "") if entry.laterality else None
    return entry.region.code_meaning + (f" ({side.code_meaning.lower()})" if side else "")


# ------------------------------------------------------------------ applying


@dataclass(frozen=True)
class _Saved:
    """A document's values the session changes, to put back when applying fails."""

    iod: IodSpec
    context: SeriesContext
    instance_number: int
    metadata: dict[str, Any]
    link: links.LesionLink | None


def apply_plan(
    plan: SessionPlan, documents: Sequence[Document], context: SeriesContext
) -> AppliedSession:
    """Apply a plan without problems to the documents (all or nothing).

    Parameters
    ----------
    plan : SessionPlan
        From :func:`plan_from_manifest` or :func:`plan_from_names`, for these
        documents.
    documents : sequence of Document
        The session's documents.
    context : SeriesContext
        The app's shared study and series: the overviews' series; the
        close-ups get a second series in the same study, whose UID derives
        from this one (applying again gives the same series).

    Returns
    -------
    AppliedSession

    Raises
    ------
    TbpError
        When the plan has problems, names a document that is gone, or a
        document refuses its values; every document is then as it was.
    """
    if not plan.ok:
        first = plan.problems[0] if plan.problems else f"{plan.origin}: no images"
        raise TbpError(f"{first} — {APPLY_FIX}")
    by_id = {d.id: d for d in documents}
    gone = [image.name for image in plan.images if image.document_id not in by_id]
    if gone:
        raise TbpError(f"'{gone[0]}' was removed meanwhile — {APPLY_FIX}")
    closeup_series = str(generate_uid(entropy_srcs=[context.series_instance_uid, "closeups"]))
    contexts = {
        "overview": context,
        "closeup": replace(context, series_instance_uid=closeup_series),
    }
    members = [by_id[image.document_id] for image in plan.images]
    left_out = _left_out_of_overviews(members, documents, context)
    saved = {
        d.id: _Saved(d.iod, d.context, d.instance_number, dict(d.metadata), d.link)
        for d in (*members, *left_out)
    }
    try:
        _own_series(left_out, context)
        for image, document in zip(plan.images, members, strict=True):
            _apply_image(plan, image, document, contexts[image.entry.kind])
        for image, document in zip(plan.images, members, strict=True):
            _apply_link(plan, image, document, by_id)
        for document in members:
            problem = workspace.build_error(document)
            if problem is not None:
                raise TbpError(f"'{document.name}': {problem} — {APPLY_FIX}")
    except TbpError:
        for document in (*members, *left_out):
            _restore(document, saved[document.id])
        raise
    return AppliedSession(
        context.study_instance_uid,
        {kind: c.series_instance_uid for kind, c in contexts.items()},
        tuple(d.id for d in members),
    )


def _left_out_of_overviews(
    members: Sequence[Document], documents: Sequence[Document], context: SeriesContext
) -> list[Document]:
    """Images the manifest does not list that share the overviews' series."""
    listed = {d.id for d in members}
    return [
        d
        for d in documents
        if d.kind == "image"
        and d.id not in listed
        and d.context.series_instance_uid == context.series_instance_uid
    ]


def _own_series(documents: Sequence[Document], context: SeriesContext) -> None:
    """Move images left out of the session into a series of their own, numbered 1..n.

    Left in the overviews' series they would repeat its Instance Numbers and
    differ from its Series Number and Description; their own values are kept.
    """
    series = str(generate_uid(entropy_srcs=[context.series_instance_uid, "not in the session"]))
    own = replace(context, series_instance_uid=series)
    for number, document in enumerate(documents, start=1):
        if document.context != own or document.instance_number != number:
            document.context, document.instance_number = own, number
            document.touch()


def _apply_image(
    plan: SessionPlan, image: PlannedImage, document: Document, context: SeriesContext
) -> None:
    """IOD, series, instance number, region, patient, study and equipment of one image."""
    entry = image.entry
    workspace.set_iod(document, image.iod)
    if document.context != context or document.instance_number != image.instance_number:
        document.context, document.instance_number = context, image.instance_number
        document.touch()
    values = {k: v for k, v in document.metadata.items() if k not in _SESSION_KEYWORDS}
    number, description = SERIES[entry.kind]
    values.update(plan.shared)
    values.update(SeriesNumber=number, SeriesDescription=description)
    region = entry.region_value()
    if region is not None:
        values.pop("ImageLaterality", None)  # the region's laterality says it
        values["AnatomicRegionSequence"] = [region]
    if entry.kind == "closeup":
        values.update(plan.equipment)
    workspace.set_metadata(document, values)


def _apply_link(
    plan: SessionPlan, image: PlannedImage, document: Document, by_id: Mapping[str, Document]
) -> None:
    """A close-up's link to its overview, or its lesion's Tracking ID without one."""
    entry = image.entry
    if image.overview_id is not None:
        links.link_to_overview(
            document, by_id[image.overview_id], location=entry.location, lesion_id=entry.lesion_id
        )
        return
    links.unlink(document)
    if entry.kind == "closeup" and entry.lesion_id:
        patient = str(document.metadata.get("PatientID") or "")
        tracking = lesionlink.tracking_uid(patient, entry.lesion_id)
        values = {**document.metadata, "TrackingID": entry.lesion_id, "TrackingUID": tracking}
        workspace.set_metadata(document, values)


def _restore(document: Document, saved: _Saved) -> None:
    document.iod, document.context = saved.iod, saved.context
    document.instance_number, document.metadata = saved.instance_number, saved.metadata
    document.link = saved.link
    document.touch()
