"""Convert a TBP session into one study: a series of overviews, a series of close-ups.

:func:`convert_session` takes a checked :class:`~tbp_core.building.manifest.Session`
(from a manifest or a folder) and converts it with the batch machinery of
:mod:`tbp_core.building.batch`, in two steps:

1. the regional overviews, as VL Photographic Images in series 1 ("TBP
   regional overviews"), Instance Numbers 1..n in the order given;
2. the dermoscopic close-ups, as Dermoscopic Photography Images in series 2
   ("TBP dermoscopic close-ups"), Instance Numbers 1..m, each close-up with a
   regional overview linked to the file step 1 wrote for it
   (:func:`tbp_core.building.lesionlink.lesion_link_metadata`: Referenced
   Image Sequence with purpose Localizer, Tracking ID/UID, location).

Both series share one Study Instance UID, the patient and study values of
the user's metadata, and one Study Date/Time: the earliest capture time the
images' EXIF gives (the conversion time when none does), so the study's
attributes agree in every file. Metadata layers, later ones winning: the
series (number, description) and study date, the lesion link, the user's
template and ``--set`` values, then each image's own region from the
session. :func:`check_session` refuses, before anything is written, what
would fail every close-up (the dermatoscope's equipment values missing) or
one of them (a location outside its overview).
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydicom.uid import generate_uid

from tbp_core.building import batch, lesionlink
from tbp_core.building.convert import ConvertOptions
from tbp_core.building.iods import DERMOSCOPIC, VL_PHOTOGRAPHIC, new_series_context
from tbp_core.building.manifest import ManifestError, Session, SessionEntry
from tbp_core.building.sessionvalues import equipment_problem, location_problem
from tbp_core.errors import TbpError
from tbp_core.fileio import dicomio

__all__ = [
    "SERIES",
    "SessionJob",
    "SessionResult",
    "check_session",
    "convert_session",
]

#: Series Number and Series Description of each kind's series.
SERIES: Mapping[str, tuple[int, str]] = {
    "overview": (1, "TBP regional overviews"),
    "closeup": (2, "TBP dermoscopic close-ups"),
}


@dataclass(frozen=True)
class SessionJob:
    """What every image of a session shares.

    Attributes
    ----------
    overview_metadata, closeup_metadata : Mapping
        The user's template and ``--set`` values, normalised for the VL
        Photographic and for the Dermoscopic Photography IOD (the close-ups'
        may add the dermatoscope's equipment).
    options : ConvertOptions
        Conversion options; its ``iod`` is replaced per kind.
    exif_report : bool
        Whether each result carries the EXIF mapping report.
    """

    overview_metadata: Mapping[str, Any]
    closeup_metadata: Mapping[str, Any]
    options: ConvertOptions = dataclasses.field(default_factory=ConvertOptions)
    exif_report: bool = False


@dataclass(frozen=True)
class SessionResult:
    """What a session conversion produced.

    Attributes
    ----------
    study_instance_uid : str
        The one study.
    series_instance_uids : Mapping
        Series Instance UID by kind (``"overview"``, ``"closeup"``).
    results : tuple of ItemResult
        The overviews', then the close-ups', each series in the order given.
    """

    study_instance_uid: str
    series_instance_uids: Mapping[str, str]
    results: tuple[batch.ItemResult, ...]

    @property
    def failed(self) -> bool:
        """Whether any image failed."""
        return any(result.error for result in self.results)


def check_session(session: Session, job: SessionJob) -> None:
    """Refuse, before anything is written, what would make close-ups fail.

    Parameters
    ----------
    session : Session
    job : SessionJob

    Raises
    ------
    ManifestError
        When there are close-ups and the dermatoscope's Type 1 equipment
        values (Manufacturer, Manufacturer's Model Name, Device Serial
        Number, Software Versions) are missing, or a close-up's location
        lies outside its overview image.
    """
    problems: list[str] = []
    if session.closeups:
        equipment = equipment_problem(session.origin, job.closeup_metadata)
        if equipment is not None:
            problems.append(equipment)
    for entry in session.closeups:
        if entry.location is None or entry.regional is None:
            continue
        size = _probe(entry.regional)[0]
        if size is None:
            continue
        outside = location_problem(entry.origin, entry.location, entry.regional.name, size)
        if outside is not None:
            problems.append(outside)
    if problems:
        raise ManifestError(problems)


def convert_session(
    session: Session,
    output: Path,
    job: SessionJob,
    *,
    jobs: int | None = None,
    on_result: Callable[[batch.ItemResult], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> SessionResult:
    """Convert a session into ``output``: one study, a series per kind.

    Parameters
    ----------
    session : Session
        From :func:`~tbp_core.building.manifest.parse_manifest` or
        :func:`~tbp_core.building.sessionfolder.session_from_folder`.
    output : Path
        The directory; each image becomes ``output/<stem>.dcm``.
    job : SessionJob
        The user's metadata and the conversion options.
    jobs : int, optional
        Worker processes (see :func:`tbp_core.building.batch.run_batch`).
    on_result : callable, optional
        Called with each result: the overviews in order, then the close-ups.
    on_progress : callable, optional
        Called with (done, total) over the whole session.
    now : datetime, optional
        The conversion time (default: now).

    Returns
    -------
    SessionResult

    Raises
    ------
    ManifestError
        From :func:`check_session` (nothing written).
    TbpError
        When ``output`` cannot be created, or ``jobs`` is below 1.
    """
    check_session(session, job)
    if jobs is not None and jobs < 1:
        raise TbpError(f"--jobs must be 1 or more, not {jobs}")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TbpError(f"cannot create output directory '{output}': {exc.strerror}") from exc
    first = new_series_context(now)
    contexts = {
        "overview": first,
        "closeup": dataclasses.replace(first, series_instance_uid=generate_uid()),
    }
    study = _study_layer(session, first.created)
    total = len(session.entries)

    def progress(offset: int) -> Callable[[int, int], None] | None:
        if on_progress is None:
            return None
        report = on_progress
        return lambda done, _: report(offset + done, total)

    overviews = session.overviews
    overview_job = batch.BatchJob(
        {**_series_layer("overview"), **study, **job.overview_metadata},
        contexts["overview"],
        dataclasses.replace(job.options, iod=VL_PHOTOGRAPHIC),
        exif_report=job.exif_report,
    )
    overview_items = [
        dataclasses.replace(item, metadata=_region_layer(entry))
        for item, entry in zip(_plan(overviews, output), overviews, strict=True)
    ]
    first_results = batch.run_batch(
        overview_items, overview_job, jobs=jobs, on_result=on_result, on_progress=progress(0)
    )
    written = {entry.source: r for entry, r in zip(overviews, first_results, strict=True)}

    closeups = session.closeups
    closeup_job = batch.BatchJob(
        {**_series_layer("closeup"), **study, **job.closeup_metadata},
        contexts["closeup"],
        dataclasses.replace(job.options, iod=DERMOSCOPIC),
        exif_report=job.exif_report,
    )
    closeup_items = [
        _closeup_item(item, entry, session, written, job.closeup_metadata)
        for item, entry in zip(_plan(closeups, output), closeups, strict=True)
    ]
    second_results = batch.run_batch(
        closeup_items,
        closeup_job,
        jobs=jobs,
        on_result=on_result,
        on_progress=progress(len(overviews)),
    )
    return SessionResult(
        study_instance_uid=first.study_instance_uid,
        series_instance_uids={k: c.series_instance_uid for k, c in contexts.items()},
        results=(*first_results, *second_results),
    )


def _plan(entries: Sequence[SessionEntry], output: Path) -> list[batch.BatchItem]:
    return batch.plan_batch([str(e.source) for e in entries], output, single_file=False)


def _series_layer(kind: str) -> dict[str, Any]:
    number, description = SERIES[kind]
    return {"SeriesNumber": number, "SeriesDescription": description}


def _region_layer(entry: SessionEntry) -> dict[str, Any]:
    value = entry.region_value()
    return {} if value is None else {"AnatomicRegionSequence": [value]}


def _closeup_item(
    item: batch.BatchItem,
    entry: SessionEntry,
    session: Session,
    written: Mapping[Path, batch.ItemResult],
    user: Mapping[str, Any],
) -> batch.BatchItem:
    """A close-up's batch item: its region and its link to the overview's file."""
    layer = _region_layer(entry)
    if entry.regional is None:
        if entry.lesion_id:
            patient = str(user.get("PatientID") or "")
            layer["TrackingID"] = entry.lesion_id
            layer["TrackingUID"] = lesionlink.tracking_uid(patient, entry.lesion_id)
        return dataclasses.replace(item, metadata=layer)
    overview = written[entry.regional]
    origin = session.entry_for(entry.regional).origin
    if overview.error:
        refusal = (
            f"{entry.source}: not converted — its overview {entry.regional.name} ({origin}) "
            "failed; fix that image and convert the session again"
        )
        return dataclasses.replace(item, refusal=refusal)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            link = lesionlink.lesion_link_metadata(
                dicomio.read(overview.target),
                user,
                location=entry.location,
                lesion_id=entry.lesion_id,
            )
    except TbpError as exc:
        return dataclasses.replace(item, refusal=f"{entry.source}: {exc}")
    link = {key: value for key, value in link.items() if key not in user}
    return dataclasses.replace(item, metadata={**link, **layer})


def _study_layer(session: Session, created: datetime) -> dict[str, Any]:
    """One Study Date and Time for every file: the earliest capture, else ``created``."""
    captured = [t for t in (_probe(e.source)[1] for e in session.entries) if t is not None]
    moment = min(captured) if captured else created
    return {"StudyDate": moment.strftime("%Y%m%d"), "StudyTime": moment.strftime("%H%M%S")}


def _probe(path: Path) -> tuple[tuple[int, int] | None, datetime | None]:
    """An image's (columns, rows) and EXIF DateTimeOriginal, from its header (best effort)."""
    from PIL import Image

    size: tuple[int, int] | None = None
    taken: datetime | None = None
    with contextlib.suppress(Exception), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(path) as image:
            tags = image.getexif()
            columns, rows = int(image.size[0]), int(image.size[1])
            # Orientations 5-8 turn the picture a quarter: the converter applies them.
            size = (rows, columns) if tags.get(0x0112) in (5, 6, 7, 8) else (columns, rows)
            exif = tags.get_ifd(0x8769)
            text = str(exif.get(0x9003) or exif.get(0x9004) or "").strip("\x00 ")
            if text:
                taken = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    return size, taken
