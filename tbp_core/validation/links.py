"""The lesion-link check: a close-up's localizer must be a VL image of the same set of files.

A close-up (dermoscopic or VL photographic) points at the regional overview it
was taken on with a Referenced Image Sequence item whose Purpose of Reference
is Localizer (121311, DCM) — see :mod:`tbp_core.building.lesionlink`. A single
file cannot show whether that reference holds; a set of files can: the app's
session (:mod:`tbp_core.session.links`) and the files given to
``tbp-dicom validate`` together. :func:`check_links` is that one check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import UID

from tbp_core.fileio.access import text_value
from tbp_core.standard.references import LOCALIZER as _LOCALIZER_CODE
from tbp_core.standard.references import is_vl_image
from tbp_core.validation.findings import Finding, tag_text

__all__ = [
    "IN_FILES",
    "IN_SESSION",
    "LOCALIZER",
    "LinkScope",
    "check_links",
    "localizer_references",
    "reference_facts",
    "sop_class_name",
]

#: (Code Value, Coding Scheme Designator) of the Purpose of Reference "Localizer".
LOCALIZER = (_LOCALIZER_CODE.value, _LOCALIZER_CODE.scheme_designator)
_REFERENCES_TAG = tag_text(0x00081140)


@dataclass(frozen=True)
class LinkScope:
    """How findings name the set of datasets checked together.

    Attributes
    ----------
    where : str
        E.g. "in this session".
    fix : str
        What to do when the overview is not among them.
    """

    where: str
    fix: str


#: The app's session.
IN_SESSION = LinkScope("in this session", "upload it to check the link")
#: The files given to ``tbp-dicom validate``.
IN_FILES = LinkScope(
    "among the files validated",
    "validate the close-up together with its overview (tbp-dicom validate CLOSEUP OVERVIEW) "
    "to check the link",
)


def sop_class_name(sop_class: str) -> str:
    """The standard's name of a SOP Class UID (the UID itself when pydicom does not know it)."""
    name = UID(sop_class).name
    return name if name and name != sop_class else f"SOP Class {sop_class}"


def _is_localizer(item: Dataset) -> bool:
    for code in item.get("PurposeOfReferenceCodeSequence") or ():
        if (str(code.get("CodeValue", "")), str(code.get("CodingSchemeDesignator", ""))) == (
            LOCALIZER
        ):
            return True
    return False


def localizer_references(ds: Dataset) -> tuple[tuple[int, str, str], ...]:
    """The overviews a dataset references as its localizer.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    tuple of (int, str, str)
        (item index in the Referenced Image Sequence, Referenced SOP Class
        UID, Referenced SOP Instance UID) of each item whose Purpose of
        Reference is Localizer (121311, DCM).
    """
    try:
        items = ds.get("ReferencedImageSequence") or ()
    except Exception:  # an unreadable sequence: nothing to check here (the validator says so)
        return ()
    found = []
    for index, item in enumerate(items):
        if isinstance(item, Dataset) and _is_localizer(item):
            found.append(
                (
                    index,
                    str(item.get("ReferencedSOPClassUID", "") or ""),
                    str(item.get("ReferencedSOPInstanceUID", "") or ""),
                )
            )
    return tuple(found)


def _finding(severity: Any, code: str, message: str, index: int) -> Finding:
    return Finding(
        severity=severity,
        code=code,
        message=message,
        tag=_REFERENCES_TAG,
        keyword="ReferencedImageSequence",
        path=f"ReferencedImageSequence[{index}].ReferencedSOPInstanceUID",
    )


def _check_one(
    index: int,
    sop_class: str,
    uid: str,
    by_uid: Mapping[str, tuple[str, Dataset]],
    scope: LinkScope,
) -> Finding:
    found = by_uid.get(uid)
    if found is None:
        return _finding(
            "warning",
            "lesion-link-overview-missing",
            f"The overview this image references as its localizer ({uid or 'no UID'}) is not "
            f"{scope.where} — {scope.fix}",
            index,
        )
    name, overview = found
    actual = str(text_value(overview, 0x00080016) or "")
    if not is_vl_image(actual):
        kind = sop_class_name(actual) if actual else "file without a SOP Class UID"
        return _finding(
            "error",
            "lesion-link-overview-not-vl",
            f"The referenced overview '{name}' is a {kind}, not a VL image — link the "
            "close-up to a VL Photographic (or other VL) image of the region, or make "
            f"'{name}' one",
            index,
        )
    if sop_class != actual:
        return _finding(
            "error",
            "lesion-link-class-mismatch",
            f"The reference names the overview '{name}' as a "
            f"{sop_class_name(sop_class) if sop_class else 'SOP Class (none)'}, but it is a "
            f"{sop_class_name(actual)} — link the close-up to it again",
            index,
        )
    return _finding(
        "info",
        "lesion-link-ok",
        f"The overview '{name}' is {scope.where} and is a {sop_class_name(actual)}",
        index,
    )


def check_links(
    named: Sequence[tuple[str, Dataset]], scope: LinkScope = IN_SESSION
) -> tuple[tuple[Finding, ...], ...]:
    """Check every localizer reference against the other datasets of the session.

    Parameters
    ----------
    named : sequence of (str, Dataset)
        The session's datasets with their names.
    scope : LinkScope, optional
        How the messages name the set of datasets and the fix for a missing
        overview (the app's session by default; :data:`IN_FILES` for the CLI).

    Returns
    -------
    tuple of tuple of Finding
        One tuple per entry of ``named``, in order: per localizer reference, a
        warning when the referenced SOP Instance is not in the session, an
        error when it is not a VL image (or not of the SOP Class the reference
        names), else an info finding saying the link holds.
    """
    by_uid: dict[str, tuple[str, Dataset]] = {}
    for name, ds in named:
        uid = text_value(ds, 0x00080018)
        if uid:
            by_uid.setdefault(str(uid), (name, ds))
    results = []
    for _, ds in named:
        own = str(text_value(ds, 0x00080018) or "")
        others = {uid: entry for uid, entry in by_uid.items() if uid != own}
        results.append(
            tuple(
                _check_one(i, cls, uid, others, scope) for i, cls, uid in localizer_references(ds)
            )
        )
    return tuple(results)


def reference_facts(ds: Dataset) -> Dataset:
    """The little of a dataset :func:`check_links` needs, so many files need not be kept.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    Dataset
        SOP Class and Instance UIDs, and the Referenced Image Sequence when it
        holds a localizer reference.
    """
    facts = Dataset()
    for keyword in ("SOPClassUID", "SOPInstanceUID"):
        value = text_value(ds, 0x00080016 if keyword == "SOPClassUID" else 0x00080018)
        if value:
            setattr(facts, keyword, str(value))
    if localizer_references(ds):
        facts.ReferencedImageSequence = ds.ReferencedImageSequence
    return facts
