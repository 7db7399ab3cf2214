"""De-identify a DICOM object: PS3.15 Annex E Basic Application Level Confidentiality Profile.

:func:`deidentify` applies Table E.1-1 (:mod:`tbp_core.sharing.profile`) at every
nesting level of a copy of the dataset, with the options the user chose
(:data:`~tbp_core.sharing.profile.RETAIN_OPTIONS`). UIDs, the patient's new
identity and the date offset come from an :class:`IdentifierMap` shared by
the whole batch. Every private element is removed, except the TBP calibration
block (:mod:`tbp_core.standard.private`) when ``tbp-private`` is chosen (it holds
camera calibration numbers only: the named safe private block). The result
records what happened to each attribute, and the notices say what the profile
cannot do for the pixels (Burned In Annotation, Recognizable Visual Features).
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag
from pydicom.uid import ExplicitVRLittleEndian

from tbp_core import standard
from tbp_core.errors import TbpError
from tbp_core.fileio.dicomio import file_meta_for
from tbp_core.sharing import profile
from tbp_core.sharing.identifiers import IdentifierMap, MapEntry
from tbp_core.standard.private import TBP_GROUP, TBP_PRIVATE_CREATOR

__all__ = [
    "Change",
    "Deidentified",
    "DeidentifyOptions",
    "IdentifierMap",
    "MapEntry",
    "deidentify",
]

ChangeAction = Literal["removed", "replaced", "kept", "added"]

#: Dummy values (action D) by VR; UIDs get new UIDs, sequences keep their cleaned items.
_DUMMY: dict[str, Any] = {
    "AE": "ANONYMIZED",
    "AS": "000D",
    "CS": "ANONYMIZED",
    "DA": "19000101",
    "DT": "19000101000000",
    "TM": "000000",
    "DS": "0",
    "IS": "0",
    "LO": "ANONYMIZED",
    "LT": "ANONYMIZED",
    "PN": "ANONYMIZED",
    "SH": "ANONYMIZED",
    "ST": "ANONYMIZED",
    "UC": "ANONYMIZED",
    "UT": "ANONYMIZED",
    "UR": "",
    "FL": 0.0,
    "FD": 0.0,
    "SL": 0,
    "SS": 0,
    "UL": 0,
    "US": 0,
    "SV": 0,
    "UV": 0,
}
_BINARY = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_TEXT_VRS = frozenset({"LO", "LT", "SH", "ST", "UC", "UT", "PN"})

#: Attributes whose values are searched for and cut out of cleaned free text.
_IDENTIFYING = (
    "PatientName",
    "PatientID",
    "OtherPatientIDs",
    "PatientBirthName",
    "PatientMotherBirthName",
    "PatientAddress",
    "AccessionNumber",
    "StudyID",
    "InstitutionName",
    "InstitutionAddress",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "OperatorsName",
    "PatientBirthDate",
)
_SHORTEST_CUT = 3  # shorter name parts ("A", "MD") would mangle ordinary words


@dataclass(frozen=True)
class DeidentifyOptions:
    """What to keep: options from :data:`~tbp_core.sharing.profile.RETAIN_OPTIONS`."""

    retain: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted(self.retain - set(profile.RETAIN_OPTIONS))
        if unknown:
            raise TbpError(
                f"unknown de-identification option {', '.join(unknown)}; choose from "
                f"{', '.join(profile.RETAIN_OPTIONS)}"
            )
        if {"dates", "shifted-dates"} <= self.retain:
            raise TbpError(
                "choose either 'dates' (keep full dates) or 'shifted-dates' (move them by a "
                "per-patient offset), not both"
            )


@dataclass(frozen=True)
class Change:
    """What happened to one attribute (never its old or new value)."""

    path: str
    tag: str
    keyword: str
    action: ChangeAction


@dataclass(frozen=True)
class Deidentified:
    """A de-identified copy and the record of what was done to it."""

    dataset: Dataset
    changes: tuple[Change, ...]
    identifiers: tuple[MapEntry, ...]
    notices: tuple[str, ...]


@dataclass
class _Walk:
    """The state of one object's walk (private to :func:`deidentify`)."""

    retain: frozenset[str]
    ids: IdentifierMap
    types: dict[tuple[tuple[str, ...], str], str]
    patient_id: str
    cuts: tuple[str, ...]
    changes: dict[str, Change] = field(default_factory=dict)

    def note(self, path: str, tag: int, keyword: str, action: ChangeAction) -> None:
        """Record what happened at ``path`` (a later record of the same path wins)."""
        self.changes.pop(path, None)
        self.changes[path] = Change(path, _tag_text(tag), keyword, action)


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


@cache
def _types_of_iod(iod: str) -> dict[tuple[tuple[str, ...], str], str]:
    """(sequence path, keyword) → the strongest Type any module of the IOD gives it."""
    types: dict[tuple[tuple[str, ...], str], str] = {}
    for module in standard.modules_of_iod(iod):
        for row in standard.attributes_of_module(module.key):
            key = (row.path, row.keyword)
            if key not in types or row.type[:1] < types[key][:1]:
                types[key] = row.type
    return types


def _is_empty(element: DataElement) -> bool:
    value = element.value
    return (
        value is None
        or value == ""
        or value == b""
        or (isinstance(value, (list, MultiValue, Sequence)) and len(value) == 0)
    )


def _shift_date(text: str, days: int) -> str:
    """Move the date part (YYYYMMDD) of a DA or DT value; other parts stay."""
    try:
        day = datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return ""
    try:
        moved = day + datetime.timedelta(days=days)
    except OverflowError:
        return ""
    return moved.strftime("%Y%m%d") + text[8:]


def _values(value: Any) -> list[Any]:
    if isinstance(value, (list, MultiValue)):
        return list(value)
    return [] if value is None or value == "" else [value]


def _store(element: DataElement, values: list[Any]) -> None:
    if not values:
        element.value = None
    elif len(values) == 1:
        element.value = values[0]
    else:
        element.value = values


def _cut(text: str, cuts: tuple[str, ...]) -> str:
    """``text`` without any of the identifying strings (case-insensitive)."""
    for piece in cuts:
        text = re.sub(re.escape(piece), "", text, flags=re.IGNORECASE)
    return " ".join(text.split()) if cuts else text


def _cuts(ds: Dataset) -> tuple[str, ...]:
    """Identifying strings of the object, longest first, for cleaning free text."""
    found: set[str] = set()
    for keyword in _IDENTIFYING:
        for value in _values(ds.get(keyword)):
            text = str(value).strip()
            parts = [text, *re.split(r"[\^=\s,]+", text)]
            found.update(p for p in parts if len(p) >= _SHORTEST_CUT)
    return tuple(sorted(found, key=len, reverse=True))


def _private_keep(ds: Dataset, retain: frozenset[str]) -> set[int]:
    """Tags of the TBP private block (creator and elements) when ``tbp-private`` is chosen."""
    if "tbp-private" not in retain:
        return set()
    keep: set[int] = set()
    for slot in range(0x10, 0x100):
        tag = (TBP_GROUP << 16) | slot
        if tag in ds and str(ds[tag].value).strip() == TBP_PRIVATE_CREATOR:
            keep.add(tag)
            keep.update(t for t in list(ds.keys()) if t >> 8 == (TBP_GROUP << 8) | slot)
    return keep


def _removed_groups(ds: Dataset, retain: frozenset[str]) -> set[int]:
    """Curve (50xx) and overlay (60xx) groups whose data the profile removes."""
    groups = {tag.group for tag in list(ds.keys()) if tag.group & 0xFF01 in (0x5000, 0x6000)}
    removed = set()
    for group in groups:
        row = profile.row_for((group << 16) | (0x3000 if group & 0xFF00 == 0x6000 else 0))
        if row is not None and profile.action_for(row, retain) == "X":
            removed.add(group)
    return removed


def _walk(ds: Dataset, walk: _Walk, seq_path: tuple[str, ...], prefix: str) -> None:
    """Apply the profile to every element of ``ds`` (and, recursively, its items)."""
    keep_private = _private_keep(ds, walk.retain)
    overlays = _removed_groups(ds, walk.retain)
    for tag in list(ds.keys()):
        if tag.group in overlays:  # the whole curve or overlay goes with its data
            del ds[tag]
            walk.note(f"{prefix}{_tag_text(tag)}", tag, keyword_for_tag(tag), "removed")
            continue
        element = ds[tag]
        keyword = element.keyword or keyword_for_tag(tag) or ""
        path = f"{prefix}{keyword or _tag_text(tag)}"
        if tag.is_private:
            if tag in keep_private:
                walk.note(path, tag, keyword, "kept")
            else:
                del ds[tag]
                walk.note(path, tag, keyword, "removed")
            continue
        if tag.element == 0 or tag.group in (0x0002, 0xFFFE):  # group lengths: stale now
            del ds[tag]
            continue
        row = profile.row_for(tag)
        if row is None:
            if element.VR == "SQ":
                _walk_items(element, walk, (*seq_path, keyword), path)
            continue
        attribute_type = walk.types.get((seq_path, keyword))
        action = profile.resolve(profile.action_for(row, walk.retain), attribute_type)
        _apply(ds, tag, element, action, walk, (*seq_path, keyword), path)
        if (attribute_type or "3")[0] == "1" and tag in ds and _is_empty(ds[tag]):
            ds[tag].value = _DUMMY.get(ds[tag].VR, ds[tag].value)  # cleaned to nothing


def _walk_items(element: DataElement, walk: _Walk, seq_path: tuple[str, ...], path: str) -> None:
    for index, item in enumerate(element.value or []):
        _walk(item, walk, seq_path, f"{path}[{index}].")


def _apply(
    ds: Dataset,
    tag: BaseTag,
    element: DataElement,
    action: str,
    walk: _Walk,
    seq_path: tuple[str, ...],
    path: str,
) -> None:
    """Carry out one action of Table E.1-1 on one element."""
    keyword = seq_path[-1]
    vr = element.VR
    if action == "X":
        del ds[tag]
        walk.note(path, tag, keyword, "removed")
        return
    if vr == "SQ":
        if action == "Z":
            if len(element.value or []):
                element.value = Sequence()
                walk.note(path, tag, keyword, "replaced")
            return
        _walk_items(element, walk, seq_path, path)  # K, C, D, U: keep items, cleaned
        walk.note(path, tag, keyword, "kept" if action in ("K", "C") else "replaced")
        return
    if action == "K":
        walk.note(path, tag, keyword, "kept")
        return
    if _is_empty(element):
        return
    before = element.value
    if vr == "UI" and action in ("U", "D"):
        _store(element, [walk.ids.uid(str(v)) for v in _values(before)])
    elif action == "C":
        _store(element, _cleaned(vr, _values(before), walk))
    elif action == "D" and vr in _DUMMY:
        element.value = _DUMMY[vr]
    else:  # Z, or D on a binary value
        element.value = b"" if vr in _BINARY else None
    changed = element.value != before
    walk.note(path, tag, keyword, "replaced" if changed else "kept")


def _cleaned(vr: str, values: list[Any], walk: _Walk) -> list[Any]:
    """Action C: shift dates by the patient's offset, cut identifying text, keep the rest."""
    if vr in ("DA", "DT"):
        if "shifted-dates" not in walk.retain:
            return []
        days = walk.ids.date_offset(walk.patient_id)
        shifted = [_shift_date(str(v), days) for v in values]
        return [v for v in shifted if v]
    if vr in _TEXT_VRS:
        cleaned = [_cut(str(v), walk.cuts) for v in values]
        return [v for v in cleaned if v]
    return values


def _set(ds: Dataset, keyword: str, vr: str, value: Any, walk: _Walk) -> None:
    existed = keyword in ds
    ds.add_new(keyword, vr, value)
    tag = int(Tag(keyword))
    walk.note(keyword, tag, keyword, "replaced" if existed else "added")


def _method_items(retain: frozenset[str]) -> Sequence:
    items = []
    for code in profile.method_codes(retain):
        item = Dataset()
        item.CodeValue = code.value
        item.CodingSchemeDesignator = code.scheme_designator
        item.CodeMeaning = code.meaning
        items.append(item)
    return Sequence(items)


def _notices(ds: Dataset) -> list[str]:
    """What the profile could not check in the pixels, from the object's own statements."""
    found = []
    for keyword, what in (
        ("BurnedInAnnotation", "text burned into the pixels"),
        ("RecognizableVisualFeatures", "recognizable visual features (such as a face)"),
    ):
        value = str(ds.get(keyword, "") or "").strip().upper()
        if value == "YES":
            found.append(
                f"{keyword} is YES: the image has {what}; this profile does not clean "
                "pixel data — check the image before sharing it"
            )
        elif value != "NO":
            found.append(
                f"{keyword} is {'absent' if not value else repr(value)}: whether the image "
                f"has {what} is unknown — check the image before sharing it"
            )
    return found


def deidentify(
    ds: Dataset,
    options: DeidentifyOptions | None = None,
    identifiers: IdentifierMap | None = None,
) -> Deidentified:
    """Return a de-identified copy of ``ds`` (PS3.15 E.1.1 with the chosen options).

    Parameters
    ----------
    ds : Dataset
        The object to de-identify; it is not changed.
    options : DeidentifyOptions, optional
        The options chosen; none by default (the basic profile alone).
    identifiers : IdentifierMap, optional
        The batch's map: pass the same one for every object of a batch so
        UIDs, pseudonyms and date offsets agree. A new one when omitted.

    Returns
    -------
    Deidentified
        The copy, the list of changes, the identifiers used and the notices.
    """
    options = options or DeidentifyOptions()
    ids = identifiers if identifiers is not None else IdentifierMap()
    retain = options.retain
    iod = standard.iod_for_sop_class(str(ds.get("SOPClassUID", "")))
    old_id = str(ds.get("PatientID", "") or "")
    old_name = str(ds.get("PatientName", "") or "")
    walk = _Walk(
        retain=retain,
        ids=ids,
        types=_types_of_iod(iod) if iod else {},
        patient_id=old_id,
        cuts=_cuts(ds),
    )
    try:
        out = copy.deepcopy(ds)
        _walk(out, walk, (), "")
    except (NotImplementedError, ValueError, TypeError, KeyError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise TbpError(
            f"cannot de-identify this object: an element cannot be decoded ({reason}); "
            "nothing was written — repair the file or remove that element first"
        ) from exc
    new_id = ids.patient(old_id, old_name)
    _set(out, "PatientID", "LO", new_id, walk)
    _set(out, "PatientName", "PN", new_id, walk)
    _set(out, "PatientIdentityRemoved", "CS", "YES", walk)
    codes = profile.method_codes(retain)
    _set(out, "DeidentificationMethod", "LO", [c.meaning for c in codes], walk)
    _set(out, "DeidentificationMethodCodeSequence", "SQ", _method_items(retain), walk)
    temporal = (
        "UNMODIFIED" if "dates" in retain else "MODIFIED" if "shifted-dates" in retain else None
    )
    _set(out, "LongitudinalTemporalInformationModified", "CS", temporal or "REMOVED", walk)
    if "shifted-dates" in retain:
        ids.date_offset(old_id)
    syntax = ExplicitVRLittleEndian
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        syntax = meta.TransferSyntaxUID
    if out.get("SOPClassUID") and out.get("SOPInstanceUID"):
        out.file_meta = file_meta_for(out, syntax)
    return Deidentified(
        dataset=out,
        changes=tuple(walk.changes.values()),
        identifiers=_used(ids, ds, old_id, old_name),
        notices=tuple(_notices(out)),
    )


def _used(ids: IdentifierMap, ds: Dataset, old_id: str, old_name: str) -> tuple[MapEntry, ...]:
    """The map entries that concern this object."""
    uids = set(_all_uids(ds))
    return tuple(
        entry
        for entry in ids.entries()
        if (entry.kind == "UID" and entry.old in uids)
        or (entry.kind in ("PatientID", "DateOffsetDays") and entry.old == old_id)
        or (entry.kind == "PatientName" and entry.old == old_name)
    )


def _all_uids(ds: Dataset) -> Iterable[str]:
    for element in ds:
        if element.VR == "UI":
            yield from (str(v) for v in _values(element.value))
        elif element.VR == "SQ":
            for item in element.value or []:
                yield from _all_uids(item)
