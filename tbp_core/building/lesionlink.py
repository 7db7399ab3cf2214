"""Link close-up (e.g. dermoscopic) images to the regional overview they were taken on.

Given the overview dataset, :func:`lesion_link_metadata` returns the metadata
layer that puts a close-up into the overview's study and points at the
overview; it goes *under* the user's template and ``--set`` values, which
override it. What it records, and where:

- Referenced Image Sequence (0008,1140) — the VL Image module's home for it —
  with the overview's SOP Class and Instance UIDs and Purpose of Reference
  (121311, DCM, "Localizer") from CID 7201 (see :data:`PURPOSE_OF_REFERENCE`);
- the overview's Patient and General Study attributes (the close-ups get their
  own, new series from the batch's series context);
- the lesion's pixel location on the overview in the TBP private attribute
  ``tbp:LesionLocationOnRegional``: Referenced Image Sequence items hold only
  frame and segment numbers, and a point on another image needs an SR or a
  presentation state, so these IODs have no standard place for it;
- Tracking ID (0062,0020) and a Tracking UID (0062,0021) that is the same for
  the same Patient ID and lesion id (Dermoscopic Image module, Type 1C).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from tbp_core.errors import MetadataError, TbpError
from tbp_core.standard import references
from tbp_core.standard.references import is_vl_image

__all__ = [
    "LOCATION_KEY",
    "PATIENT_KEYWORDS",
    "PURPOSE_OF_REFERENCE",
    "STUDY_KEYWORDS",
    "check_overview",
    "is_vl_image",
    "lesion_link_metadata",
    "parse_location",
    "tracking_uid",
]

#: Purpose of Reference of the overview (CID 7201; why Localizer: see
#: :data:`tbp_core.standard.references.LOCALIZER`).
PURPOSE_OF_REFERENCE = references.LOCALIZER

#: Patient attributes copied from the overview.
PATIENT_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex")

#: General Study attributes copied from the overview.
STUDY_KEYWORDS = (
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyDescription",
)

#: The TBP private key holding the lesion's (column, row) on the overview.
LOCATION_KEY = "tbp:LesionLocationOnRegional"

_TRACKING_SALT = "tbp-lesion"


def check_overview(overview: Dataset, name: str = "the overview") -> None:
    """Refuse an overview that is not a VL image with pixels.

    Parameters
    ----------
    overview : Dataset
        The dataset given as the regional overview.
    name : str
        How to name it in the message (e.g. its file name).

    Raises
    ------
    TbpError
        One line naming the SOP Class when it is not a VL image IOD, or the
        missing attributes when it has no SOP Instance UID, Rows or Columns.
    """
    sop_class = str(overview.get("SOPClassUID", ""))
    if not is_vl_image(sop_class):
        kind = getattr(overview.get("SOPClassUID"), "name", "") or sop_class or "no SOP Class"
        raise TbpError(
            f"{name} is not a VL image ({kind}) — --regional needs a VL Photographic "
            "(or other VL) image of the region"
        )
    lacking = [k for k in ("SOPInstanceUID", "Rows", "Columns") if not overview.get(k)]
    if lacking:
        raise TbpError(f"{name} has no {', '.join(lacking)} — it cannot be referenced")


def parse_location(text: str) -> tuple[float, float]:
    """Parse ``--location X,Y``: a pixel column and row on the overview.

    Parameters
    ----------
    text : str
        Two numbers separated by a comma, e.g. ``"120,340"``.

    Returns
    -------
    tuple of float
        (column, row).

    Raises
    ------
    MetadataError
        If `text` is not two finite numbers >= 0.
    """
    parts = [part.strip() for part in text.split(",")]
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 2 or not all(0 <= n < float("inf") for n in numbers):
        raise MetadataError(
            f"--location {text!r}: expected a pixel column and row >= 0, e.g. 120,340"
        )
    return numbers[0], numbers[1]


def tracking_uid(patient_id: str, lesion_id: str) -> str:
    """Return the Tracking UID of a lesion: the same for the same patient and lesion id.

    Parameters
    ----------
    patient_id : str
        The close-up's Patient ID (may be empty).
    lesion_id : str
        The lesion's Tracking ID.

    Returns
    -------
    str
        A UID derived from both (pydicom's ``generate_uid`` with entropy sources).
    """
    return str(generate_uid(entropy_srcs=[patient_id, lesion_id, _TRACKING_SALT]))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def lesion_link_metadata(
    overview: Dataset,
    user_metadata: Mapping[str, Any],
    *,
    location: tuple[float, float] | None = None,
    lesion_id: str | None = None,
) -> dict[str, Any]:
    """Return the metadata layer that links a close-up to its regional overview.

    Parameters
    ----------
    overview : Dataset
        The regional overview (checked with :func:`check_overview`).
    user_metadata : Mapping
        The template and ``--set`` values merged: they win over this layer,
        and their Patient ID (if any) is the one the Tracking UID derives from.
    location : tuple of float, optional
        The lesion's (column, row) pixel on the overview; must lie inside it.
    lesion_id : str, optional
        The lesion's Tracking ID.

    Returns
    -------
    dict[str, Any]
        Keyword (or ``tbp:`` key) to value, to merge *before* the user's layers.

    Raises
    ------
    TbpError
        If the overview is not a VL image or the location lies outside it.
    MetadataError
        If the lesion id is empty.
    """
    check_overview(overview)
    values: dict[str, Any] = {
        "ReferencedImageSequence": [
            {
                "ReferencedSOPClassUID": str(overview.SOPClassUID),
                "ReferencedSOPInstanceUID": str(overview.SOPInstanceUID),
                "PurposeOfReferenceCodeSequence": [
                    {
                        "CodeValue": PURPOSE_OF_REFERENCE.value,
                        "CodingSchemeDesignator": PURPOSE_OF_REFERENCE.scheme_designator,
                        "CodeMeaning": PURPOSE_OF_REFERENCE.meaning,
                    }
                ],
            }
        ]
    }
    for keyword in (*PATIENT_KEYWORDS, *STUDY_KEYWORDS):
        if keyword in overview:
            values[keyword] = _text(overview[keyword].value)
    if location is not None:
        column, row = location
        columns, rows = int(overview.Columns), int(overview.Rows)
        if not (0 <= column < columns and 0 <= row < rows):
            raise TbpError(
                f"--location {column:g},{row:g} lies outside the overview "
                f"({columns} columns × {rows} rows)"
            )
        values[LOCATION_KEY] = [column, row]
    if lesion_id is not None:
        if not lesion_id.strip():
            raise MetadataError("--lesion-id is empty: give the lesion's identifier")
        patient_id = _text(user_metadata.get("PatientID", values.get("PatientID", "")))
        values["TrackingID"] = lesion_id
        values["TrackingUID"] = tracking_uid(patient_id, lesion_id)
    return values
