"""Dataset ⇄ tag table, and safe tag edits addressed by path.

A *path* names an element or a sequence item: ``PatientName``,
``AnatomicRegionSequence[0].CodeValue``, ``(0011,1010)``,
``Seq[0].(0011,1010)``; ``Seq[0]`` names an item. File meta elements
(group 0002) are addressed by keyword at the top level.

Every edit is checked completely before anything is changed: a refused edit
returns an :class:`EditResult` with ``applied=False`` and a one-line message
naming the value, the VR and the rule, and the dataset is left as it was. An
applied edit returns a :class:`Change` (old → new text) that :func:`undo`
reverts; undo changes in the reverse order they were applied.

Large values are never read: the table looks at elements with
``get_item(tag, keep_deferred=True)`` and shows deferred ones by size
(``<OB, 151.0 MB>``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
from pydicom import config as pydicom_config
from pydicom import datadict
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID, generate_uid
from pydicom.valuerep import VR, validate_value

from tbp_core import standard
from tbp_core.building.metadata import normalise_value
from tbp_core.errors import MetadataError, TagEditError
from tbp_core.fileio.pixelbuffer import value_length

__all__ = [
    "TABLE_COLUMNS",
    "AddElement",
    "AddItem",
    "Change",
    "DeleteElement",
    "Edit",
    "EditResult",
    "RegenerateUID",
    "RemoveItem",
    "SetValue",
    "apply_edit",
    "apply_edits",
    "parse_cli_edits",
    "to_table",
    "undo",
]

#: Columns of :func:`to_table`, in order.
TABLE_COLUMNS = (
    "path",
    "tag",
    "keyword",
    "name",
    "vr",
    "vm",
    "value",
    "module",
    "ie",
    "private_creator",
    "editable",
)

_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
_UNSPLIT_VRS = frozenset({"LT", "ST", "UT", "UR"})
_INT_RANGES = {
    "US": (0, 2**16 - 1),
    "SS": (-(2**15), 2**15 - 1),
    "UL": (0, 2**32 - 1),
    "SL": (-(2**31), 2**31 - 1),
    "UV": (0, 2**64 - 1),
    "SV": (-(2**63), 2**63 - 1),
}
_RULES = {
    "AE": "at most 16 characters, no backslash or control characters",
    "AS": "nnnD, nnnW, nnnM or nnnY, e.g. 045Y",
    "CS": "upper case letters, digits, space and _, at most 16 characters",
    "DA": "YYYYMMDD",
    "DS": "a decimal number of at most 16 characters",
    "DT": "YYYYMMDDHHMMSS.FFFFFF&ZZXX",
    "IS": "a whole number of at most 12 characters",
    "LO": "at most 64 characters",
    "PN": "Family^Given^Middle^Prefix^Suffix, at most 64 characters per group",
    "SH": "at most 16 characters",
    "TM": "HHMMSS.FFFFFF",
    "UI": "digits and dots, at most 64 characters, no leading zeros",
}
_TOKEN = re.compile(
    r"(?:(?P<keyword>[A-Za-z][A-Za-z0-9]*)|\((?P<group>[0-9A-Fa-f]{4}),(?P<elem>[0-9A-Fa-f]{4})\))"
    r"(?:\[(?P<index>\d+)\])?"
)


# ------------------------------------------------------------------ operations


@dataclass(frozen=True)
class SetValue:
    r"""Set an element's value from text (``\\`` separates values).

    A public element absent from its dataset is added with its dictionary VR.
    """

    path: str
    text: str


@dataclass(frozen=True)
class AddElement:
    """Add an element to the dataset (``""``) or to the item at ``path_of_parent_item``.

    ``keyword_or_tag`` is a keyword or ``(gggg,eeee)``; a private tag (odd group)
    needs ``private_creator``: its block is reserved and the element goes at the
    block's slot for the low byte of ``eeee``. ``vr`` is needed when the
    dictionary does not know the element.
    """

    path_of_parent_item: str
    keyword_or_tag: str
    vr: str | None
    text: str
    private_creator: str | None = None


@dataclass(frozen=True)
class DeleteElement:
    """Delete the element at ``path``."""

    path: str


@dataclass(frozen=True)
class AddItem:
    """Append an empty item to the sequence at ``sequence_path`` (created when absent)."""

    sequence_path: str


@dataclass(frozen=True)
class RemoveItem:
    """Remove item ``index`` (from 0) of the sequence at ``sequence_path``."""

    sequence_path: str
    index: int


@dataclass(frozen=True)
class RegenerateUID:
    """Give the UI element at ``path`` a fresh UID (SOP Instance UID also updates file meta)."""

    path: str


Edit = SetValue | AddElement | DeleteElement | AddItem | RemoveItem | RegenerateUID


@dataclass(frozen=True)
class _ElementStep:
    """Undo step: put ``element`` back at ``tag`` of ``container`` (or delete it if None)."""

    container: Dataset
    tag: BaseTag
    element: DataElement | RawDataElement | None


@dataclass(frozen=True)
class _ItemStep:
    """Undo step: delete item ``index`` (``item`` None) or insert ``item`` at ``index``."""

    sequence: DicomSequence
    index: int
    item: Dataset | None


_Step = _ElementStep | _ItemStep


@dataclass(frozen=True)
class Change:
    """One applied edit, for a change log and :func:`undo`.

    ``old_text`` is None when the element or item did not exist, ``new_text``
    None when it was removed.
    """

    path: str
    tag: str
    keyword: str
    old_text: str | None
    new_text: str | None
    steps: tuple[_Step, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class EditResult:
    """Outcome of :func:`apply_edit`: applied or refused, with a one-line message."""

    applied: bool
    message: str
    change: Change | None = None


# ------------------------------------------------------------------ text of values


def _size_text(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


def _one_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1", errors="replace")
    if isinstance(value, BaseTag):
        return f"({value.group:04X},{value.element:04X})"
    return str(value)


def _value_text(element: DataElement) -> str:
    """Text of an element's value (binary values and sequences summarised)."""
    value = element.value
    if element.VR == "SQ":
        count = len(value) if value is not None else 0
        return f"{count} item" + ("" if count == 1 else "s")
    if element.VR in _BINARY_VRS or element.tag in _PIXEL_TAGS:
        size = value_length(value) or 0
        return f"<{element.VR}, {_size_text(size)}>"
    if value is None:
        return ""
    if isinstance(value, MultiValue | list | tuple):
        return "\\".join(_one_text(v) for v in value)
    return _one_text(value)


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _deferred_size(raw: DataElement | RawDataElement) -> int | None:
    """Length of a value left unread by a deferred read, else None."""
    if isinstance(raw, RawDataElement) and raw.value is None and raw.length:
        return int(raw.length)
    return None


# ------------------------------------------------------------------ table


@cache
def _module_lookup(iod_key: str) -> dict[tuple[tuple[str, ...], str], tuple[str, str]]:
    """(sequence path, keyword) → (module, IE): the first module of the IOD listing it."""
    lookup: dict[tuple[tuple[str, ...], str], tuple[str, str]] = {}
    for module in standard.modules_of_iod(iod_key):
        for attribute in standard.attributes_of_module(module.key):
            lookup.setdefault(
                (attribute.path, attribute.keyword), (module.key, module.information_entity)
            )
    return lookup


def _creator_of(ds: Dataset, tag: BaseTag) -> str | None:
    """Private creator of a private element (None for public ones and creators)."""
    if not tag.is_private or tag.element < 0x1000:
        return None
    creator_tag = Tag(tag.group, tag.element >> 8)
    if creator_tag not in ds:
        return None
    raw = ds.get_item(creator_tag, keep_deferred=True)
    value = ds[creator_tag].value if raw is not None and _deferred_size(raw) is None else None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value).strip() if value else None


def _names(tag: BaseTag, creator: str | None) -> tuple[str, str]:
    """(keyword, name) of an element from pydicom's public or private dictionary."""
    if tag.is_private:
        if tag.is_private_creator:
            return "", "Private Creator"
        if creator:
            try:
                return "", datadict.private_dictionary_description(tag, creator)
            except KeyError:
                pass
        return "", "Private tag data"
    keyword = datadict.keyword_for_tag(tag)
    try:
        name = datadict.dictionary_description(tag)
    except KeyError:
        name = "Unknown"
    return keyword, name


def _path_name(tag: BaseTag, keyword: str) -> str:
    """Keyword when it names exactly this tag, else ``(gggg,eeee)``."""
    if keyword and datadict.tag_for_keyword(keyword) == tag:
        return keyword
    return _tag_text(tag)


def _vm_of(element: DataElement) -> int:
    if element.VR == "SQ":
        return 1
    if element.VR in _BINARY_VRS:
        return 1 if element.value else 0
    return int(element.VM)


def _rows(
    ds: Dataset,
    prefix: str,
    sequences: tuple[str, ...],
    lookup: dict[tuple[tuple[str, ...], str], tuple[str, str]],
    meta: bool,
    rows: list[dict[str, Any]],
) -> None:
    for key in list(ds.keys()):
        tag = Tag(key)
        raw: DataElement | RawDataElement = ds.get_item(tag, keep_deferred=True)
        creator = _creator_of(ds, tag)
        keyword, name = _names(tag, creator)
        path = prefix + _path_name(tag, keyword)
        deferred = _deferred_size(raw)
        if isinstance(raw, RawDataElement) and (
            deferred is not None or tag in _PIXEL_TAGS or raw.VR in _BINARY_VRS
        ):  # summarised from the raw element, never decoded
            vr = str(raw.VR or _dictionary_vr(tag) or "UN")
            size = deferred if deferred is not None else len(raw.value or b"")
            value = f"<{vr}, {_size_text(size)}>"
            vm = 1
            element = None
        else:
            try:
                element = ds[tag]
            except Exception as exc:  # damaged value: describe it, never raise
                element = None
                vr = str(raw.VR or _dictionary_vr(tag) or "UN")
                value = f"<cannot decode: {' '.join(str(exc).split())}>"
                vm = 0
            else:
                vr = element.VR
                value = _value_text(element)
                vm = _vm_of(element)
        found = lookup.get((sequences, keyword)) if keyword and not meta else None
        editable = element is not None and not (
            meta
            or tag.element == 0
            or tag in _PIXEL_TAGS
            or vr == "SQ"
            or vr in _BINARY_VRS
            or " or " in vr
        )
        rows.append(
            {
                "path": path,
                "tag": _tag_text(tag),
                "keyword": keyword,
                "name": name,
                "vr": vr,
                "vm": vm,
                "value": value,
                "module": found[0] if found else None,
                "ie": found[1] if found else None,
                "private_creator": creator,
                "editable": editable,
            }
        )
        if element is not None and vr == "SQ" and element.value is not None:
            inner = (*sequences, keyword or _tag_text(tag))
            for index, item in enumerate(element.value):
                _rows(item, f"{path}[{index}].", inner, lookup, meta, rows)


def to_table(ds: Dataset, iod_key: str | None = None) -> pd.DataFrame:
    """Return one row per element (nested ones too), file meta first.

    Parameters
    ----------
    ds : Dataset
        A dataset, e.g. from :func:`tbp_core.fileio.dicomio.read`. Deferred (large)
        values are not read.
    iod_key : str, optional
        IOD whose modules fill ``module`` and ``ie``; by default the IOD of the
        dataset's SOP Class UID.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TABLE_COLUMNS`: ``path`` (e.g.
        ``AnatomicRegionSequence[0].CodeValue``), ``tag`` ``(GGGG,EEEE)``,
        ``keyword``, ``name``, ``vr``, ``vm``, ``value`` (text), ``module`` and
        ``ie`` (None outside the IOD), ``private_creator``, ``editable``.
    """
    if iod_key is None:
        sop_class = ds[0x00080016].value if 0x00080016 in ds else None
        iod_key = standard.iod_for_sop_class(str(sop_class)) if sop_class else None
    lookup = _module_lookup(iod_key) if iod_key else {}
    rows: list[dict[str, Any]] = []
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        _rows(meta, "", (), lookup, True, rows)
    _rows(ds, "", (), lookup, False, rows)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


# ------------------------------------------------------------------ paths


@dataclass(frozen=True)
class _PathStep:
    tag: BaseTag
    index: int | None


def _parse_path(path: str) -> list[_PathStep]:
    text = path.strip()
    steps: list[_PathStep] = []
    position = 0
    while True:
        match = _TOKEN.match(text, position)
        if match is None:
            raise TagEditError(
                f"path {path!r} is not valid: use Keyword, Seq[0].Keyword or (gggg,eeee)"
            )
        if match["keyword"]:
            tag_value = datadict.tag_for_keyword(match["keyword"])
            if tag_value is None:
                raise TagEditError(
                    f"path {path!r}: {match['keyword']!r} is not a DICOM keyword; "
                    "check the spelling or use (gggg,eeee)"
                )
            tag = Tag(tag_value)
        else:
            tag = Tag(int(match["group"], 16), int(match["elem"], 16))
        index = int(match["index"]) if match["index"] is not None else None
        steps.append(_PathStep(tag, index))
        position = match.end()
        if position == len(text):
            return steps
        if text[position] != ".":
            raise TagEditError(f"path {path!r}: expected '.' after {text[:position]!r}")
        position += 1


def _item_at(ds: Dataset, steps: list[_PathStep], path: str) -> Dataset:
    """Walk sequence steps (each with an index) down to an item dataset."""
    current = ds
    for step in steps:
        if step.index is None:
            raise TagEditError(f"path {path!r}: a sequence needs an item index, e.g. Seq[0]")
        if step.tag not in current:
            raise TagEditError(f"path {path!r}: {_tag_text(step.tag)} is not present")
        element = current[step.tag]
        if element.VR != "SQ":
            raise TagEditError(f"path {path!r}: {_tag_text(step.tag)} is not a sequence")
        items = element.value or []
        if not 0 <= step.index < len(items):
            raise TagEditError(
                f"path {path!r}: item {step.index} does not exist ({len(items)} item(s))"
            )
        current = items[step.index]
    return current


def _container(ds: Dataset, path: str) -> tuple[Dataset, BaseTag, int | None]:
    """(dataset holding the last step, its tag, its index) for a path."""
    steps = _parse_path(path)
    last = steps[-1]
    if last.tag.group == 0x0002:
        if len(steps) > 1:
            raise TagEditError(f"path {path!r}: file meta elements are never nested")
        meta = getattr(ds, "file_meta", None)
        if meta is None:
            raise TagEditError(f"path {path!r}: the dataset has no file meta")
        return meta, last.tag, last.index
    return _item_at(ds, steps[:-1], path), last.tag, last.index


def _parent_item(ds: Dataset, path: str) -> Dataset:
    if not path.strip():
        return ds
    return _item_at(ds, _parse_path(path), path)


# ------------------------------------------------------------------ values


def _dictionary_vr(tag: BaseTag, creator: str | None = None) -> str | None:
    try:
        if tag.is_private:
            return datadict.private_dictionary_VR(tag, creator or "") if creator else None
        return datadict.dictionary_VR(tag)
    except KeyError:
        return None


def _dictionary_vm(tag: BaseTag, creator: str | None) -> str:
    try:
        if tag.is_private:
            return datadict.private_dictionary_VM(tag, creator or "") if creator else "1-n"
        return datadict.dictionary_VM(tag)
    except KeyError:
        return "1-n"


def _vm_allows(vm: str, count: int) -> bool:
    low_text, _, high_text = vm.partition("-")
    step = 1
    if not low_text.isdigit():
        return True
    low = int(low_text)
    if not high_text:
        return count == low
    if high_text.endswith("n"):
        factor = high_text[:-1]
        step = int(factor) if factor.isdigit() else 1
        return count >= low and count % step == 0
    return low <= count <= int(high_text)


def _refuse(label: str, value: str, vr: str, rule: str) -> TagEditError:
    return TagEditError(f"{label}: '{value}' is not a valid {vr} ({rule})")


def _check_pydicom(label: str, vr: str, value: str) -> None:
    try:
        validate_value(vr, value, validation_mode=pydicom_config.RAISE)
    except (ValueError, TypeError) as error:
        rule = _RULES.get(vr) or str(error).splitlines()[0]
        raise _refuse(label, value, vr, rule) from None


def _parse_one(label: str, vr: str, text: str) -> Any:
    if vr in _INT_RANGES:
        low, high = _INT_RANGES[vr]
        try:
            number = int(text)
        except ValueError:
            raise _refuse(label, text, vr, "a whole number") from None
        if not low <= number <= high:
            raise _refuse(label, text, vr, f"a whole number from {low} to {high}")
        return number
    if vr in ("FL", "FD"):
        try:
            real = float(text)
        except ValueError:
            raise _refuse(label, text, vr, "a number") from None
        if not math.isfinite(real):
            raise _refuse(label, text, vr, "a finite number")
        return real
    if vr == "DA":
        compact = text.replace("-", "") if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else text
        try:
            dt.datetime.strptime(compact, "%Y%m%d")
        except ValueError:
            raise _refuse(label, text, vr, _RULES["DA"]) from None
        return compact
    if vr == "TM" and re.fullmatch(r"\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?", text):
        text = text.replace(":", "")
    if vr == "UI":
        if not UID(text).is_valid:
            raise _refuse(label, text, vr, _RULES["UI"])
        return text
    if vr == "CS":
        text = text.upper()
    _check_pydicom(label, vr, text)
    return text


def _parse_generic(label: str, vr: str, vm: str, text: str) -> Any:
    """Parse text for any VR without the dictionary's keyword (private elements)."""
    stripped = text.rstrip() if vr in _UNSPLIT_VRS else text.strip()
    if not stripped:
        return None
    parts = [stripped] if vr in _UNSPLIT_VRS else [p.strip() for p in stripped.split("\\")]
    if not _vm_allows(vm, len(parts)):
        raise TagEditError(f"{label}: {len(parts)} value(s) given but VM is {vm} ({text!r})")
    values = [_parse_one(label, vr, part) for part in parts]
    return values[0] if len(values) == 1 else values


def _parse_value(label: str, tag: BaseTag, vr: str, creator: str | None, text: str) -> Any:
    """Check ``text`` for an element and return the value to store (None for empty)."""
    keyword = "" if tag.is_private else datadict.keyword_for_tag(tag)
    if keyword and datadict.tag_for_keyword(keyword) == tag and _dictionary_vr(tag) == vr:
        try:
            return normalise_value(keyword, text)
        except MetadataError as error:
            message = str(error)
            if message.startswith(f"{keyword}:"):
                message = label + message[len(keyword) :]
            raise TagEditError(message) from None
    return _parse_generic(label, vr, _dictionary_vm(tag, creator), text)


def _check_editable(label: str, tag: BaseTag, vr: str) -> None:
    if tag in _PIXEL_TAGS:
        raise TagEditError(f"{label}: Pixel Data cannot be edited as text; convert the image again")
    if tag.element == 0:
        raise TagEditError(
            f"{label}: group lengths {_tag_text(tag)} are computed when the file is written"
        )
    if tag.group == 0x0002:
        raise TagEditError(
            f"{label}: file meta elements are written from the dataset; "
            "edit SOPInstanceUID or SOPClassUID instead"
        )
    if vr == "SQ":
        raise TagEditError(f"{label}: a sequence has no text value; add or remove its items")
    if vr in _BINARY_VRS:
        raise TagEditError(f"{label}: binary {vr} values cannot be edited as text")
    if " or " in vr:
        raise TagEditError(f"{label}: VR is ambiguous ({vr}); add the element with a chosen VR")


def _new_element(tag: BaseTag, vr: str, value: Any) -> DataElement:
    if vr == "SQ":
        return DataElement(tag, vr, DicomSequence([]))
    return DataElement(tag, vr, value)


def _file_meta_sync(ds: Dataset, container: Dataset, tag: BaseTag) -> list[_Step]:
    """Keep MediaStorageSOP*UID in step with a changed top-level SOP*UID."""
    meta = getattr(ds, "file_meta", None)
    partner = {0x00080018: 0x00020003, 0x00080016: 0x00020002}.get(int(tag))
    if container is not ds or meta is None or partner is None:
        return []
    steps: list[_Step] = [_ElementStep(meta, Tag(partner), meta.get_item(partner))]
    meta[partner] = DataElement(partner, "UI", container[tag].value)
    return steps


# ------------------------------------------------------------------ edits


def _set_value(ds: Dataset, edit: SetValue) -> Change:
    container, tag, index = _container(ds, edit.path)
    if index is not None:
        raise TagEditError(f"path {edit.path!r} names an item; give an element of it")
    present = tag in container
    if present:
        old = container[tag]
        vr = old.VR
    else:
        if tag.is_private:
            raise TagEditError(
                f"{edit.path}: private element is not present; add it with its private creator"
            )
        vr = _dictionary_vr(tag) or ""
        if not vr:
            raise TagEditError(f"{edit.path}: {_tag_text(tag)} is not in the DICOM dictionary")
    _check_editable(edit.path, tag, vr)
    value = _parse_value(edit.path, tag, vr, _creator_of(container, tag), edit.text)
    old_text = _value_text(container[tag]) if present else None
    steps: list[_Step] = [_ElementStep(container, tag, container[tag] if present else None)]
    container[tag] = _new_element(tag, vr, value)
    steps += _file_meta_sync(ds, container, tag)
    keyword = datadict.keyword_for_tag(tag) if not tag.is_private else ""
    return Change(
        edit.path, _tag_text(tag), keyword, old_text, _value_text(container[tag]), tuple(steps)
    )


def _parse_tag(text: str) -> BaseTag:
    match = re.fullmatch(r"\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?", text.strip())
    if match:
        return Tag(int(match[1], 16), int(match[2], 16))
    tag_value = datadict.tag_for_keyword(text.strip())
    if tag_value is None:
        raise TagEditError(
            f"{text!r} is not a DICOM keyword or (gggg,eeee) tag; check the spelling"
        )
    return Tag(tag_value)


def _free_creator_slot(container: Dataset, group: int, creator: str) -> tuple[int, bool]:
    """(block byte, exists) of ``creator``'s block in ``group`` without changing anything."""
    for slot in range(0x10, 0x100):
        creator_tag = Tag(group, slot)
        if creator_tag in container:
            value = container[creator_tag].value
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            if str(value).strip() == creator:
                return slot, True
    for slot in range(0x10, 0x100):
        if Tag(group, slot) not in container:
            return slot, False
    raise TagEditError(f"group {group:04X} has no free private block for {creator!r}")


def _add_private(container: Dataset, edit: AddElement, tag: BaseTag, label: str) -> Change:
    group = tag.group
    creator = (edit.private_creator or "").strip()
    if group <= 0x0008 or group == 0xFFFF:
        raise TagEditError(
            f"{label}: group {group:04X} may not hold private elements; use an odd group "
            "from 0009 to FFFD"
        )
    if not creator:
        raise TagEditError(
            f"{label}: a private element needs its private creator (e.g. 'ACME 1.0')"
        )
    _check_pydicom(f"{label} private creator", "LO", creator)
    if tag.element < 0x1000:
        raise TagEditError(
            f"{label}: elements (gggg,0010)-(gggg,0FFF) are reserved for creators; "
            "use an element from 1000 to FFFF"
        )
    offset = tag.element & 0xFF
    slot, exists = _free_creator_slot(container, group, creator)
    target = Tag(group, (slot << 8) | offset)
    vr = (edit.vr or "").strip().upper() or _dictionary_vr(target, creator)
    if not vr:
        raise TagEditError(f"{label}: give the VR of the private element (e.g. LO, DS, US)")
    if vr not in VR.__members__:
        raise TagEditError(f"{label}: {vr!r} is not a VR")
    if target in container:
        raise TagEditError(
            f"{label}: {_tag_text(target)} is already present in {creator!r}'s block; set it"
        )
    value = None
    if vr not in ("SQ", *_BINARY_VRS):
        value = _parse_generic(label, vr, _dictionary_vm(target, creator), edit.text)
    elif edit.text.strip():
        raise TagEditError(f"{label}: {vr} elements are added empty")
    steps: list[_Step] = []
    if not exists:
        steps.append(_ElementStep(container, Tag(group, slot), None))
    block = container.private_block(group, creator, create=True)
    final = Tag(block.get_tag(offset))
    steps.append(_ElementStep(container, final, None))
    container[final] = _new_element(final, vr, value)
    return Change(
        _path_name(final, ""),
        _tag_text(final),
        "",
        None,
        _value_text(container[final]),
        tuple(steps),
    )


def _add_element(ds: Dataset, edit: AddElement) -> Change:
    container = _parent_item(ds, edit.path_of_parent_item)
    tag = _parse_tag(edit.keyword_or_tag)
    prefix = f"{edit.path_of_parent_item.strip()}." if edit.path_of_parent_item.strip() else ""
    label = prefix + edit.keyword_or_tag.strip()
    if tag.group % 2 == 1:
        change = _add_private(container, edit, tag, label)
        return Change(prefix + change.path, change.tag, "", None, change.new_text, change.steps)
    if edit.private_creator:
        raise TagEditError(
            f"{label}: group {tag.group:04X} is even, so not private; private groups are odd"
        )
    if tag.group == 0x0002 and container is ds:
        _check_editable(label, tag, "UI")
    dictionary_vr = _dictionary_vr(tag)
    if dictionary_vr is None:
        raise TagEditError(f"{label}: {_tag_text(tag)} is not in the DICOM dictionary")
    vr = (edit.vr or "").strip().upper() or dictionary_vr
    if vr not in [v.strip() for v in dictionary_vr.split(" or ")]:
        raise TagEditError(f"{label}: VR {vr} does not match the dictionary's {dictionary_vr}")
    if tag in container:
        raise TagEditError(f"{label}: already present; set its value instead")
    if vr == "SQ":
        if edit.text.strip():
            raise TagEditError(f"{label}: a sequence is added empty; then add items")
        value = None
    else:
        _check_editable(label, tag, vr)
        value = _parse_value(label, tag, vr, None, edit.text)
    steps: list[_Step] = [_ElementStep(container, tag, None)]
    container[tag] = _new_element(tag, vr, value)
    steps += _file_meta_sync(ds, container, tag)
    path = prefix + _path_name(tag, datadict.keyword_for_tag(tag))
    return Change(
        path,
        _tag_text(tag),
        datadict.keyword_for_tag(tag),
        None,
        _value_text(container[tag]),
        tuple(steps),
    )


def _delete_element(ds: Dataset, edit: DeleteElement) -> Change:
    container, tag, index = _container(ds, edit.path)
    if index is not None:
        raise TagEditError(f"path {edit.path!r} names an item; remove the item instead")
    if tag not in container:
        raise TagEditError(f"{edit.path}: not present, nothing to delete")
    if container is getattr(ds, "file_meta", None):
        raise TagEditError(f"{edit.path}: file meta elements are written from the dataset")
    if tag in _PIXEL_TAGS:
        raise TagEditError(f"{edit.path}: Pixel Data cannot be deleted; the image needs it")
    if tag.is_private_creator:
        block = [Tag(k) for k in list(container.keys()) if Tag(k).is_private]
        if any(t.group == tag.group and t.element >> 8 == tag.element for t in block):
            raise TagEditError(
                f"{edit.path}: private creator still owns elements; delete them first"
            )
    raw = container.get_item(tag, keep_deferred=True)
    deferred = _deferred_size(raw) if raw is not None else None
    old_text = (
        f"<{raw.VR}, {_size_text(deferred)}>"
        if deferred is not None
        else _value_text(container[tag])
    )
    kept = container.get_item(tag, keep_deferred=True)
    del container[tag]
    keyword = "" if tag.is_private else datadict.keyword_for_tag(tag)
    return Change(
        edit.path, _tag_text(tag), keyword, old_text, None, (_ElementStep(container, tag, kept),)
    )


def _sequence_at(ds: Dataset, path: str) -> tuple[Dataset, BaseTag]:
    container, tag, index = _container(ds, path)
    if index is not None:
        raise TagEditError(f"path {path!r} names an item; give the sequence, e.g. Seq")
    return container, tag


def _add_item(ds: Dataset, edit: AddItem) -> Change:
    container, tag = _sequence_at(ds, edit.sequence_path)
    steps: list[_Step] = []
    keyword = "" if tag.is_private else datadict.keyword_for_tag(tag)
    if tag not in container:
        if _dictionary_vr(tag) != "SQ":
            raise TagEditError(f"{edit.sequence_path}: not present and not a known sequence")
        steps.append(_ElementStep(container, tag, None))
        container[tag] = _new_element(tag, "SQ", None)
    element = container[tag]
    if element.VR != "SQ":
        raise TagEditError(f"{edit.sequence_path}: is {element.VR}, not a sequence")
    sequence = element.value
    sequence.append(Dataset())
    index = len(sequence) - 1
    steps.append(_ItemStep(sequence, index, None))
    return Change(f"{edit.sequence_path}[{index}]", _tag_text(tag), keyword, None, "", tuple(steps))


def _remove_item(ds: Dataset, edit: RemoveItem) -> Change:
    container, tag = _sequence_at(ds, edit.sequence_path)
    if tag not in container or container[tag].VR != "SQ":
        raise TagEditError(f"{edit.sequence_path}: no such sequence")
    sequence = container[tag].value
    if not 0 <= edit.index < len(sequence):
        raise TagEditError(
            f"{edit.sequence_path}: item {edit.index} does not exist ({len(sequence)} item(s))"
        )
    item = sequence[edit.index]
    del sequence[edit.index]
    keyword = "" if tag.is_private else datadict.keyword_for_tag(tag)
    return Change(
        f"{edit.sequence_path}[{edit.index}]",
        _tag_text(tag),
        keyword,
        f"{len(item)} element(s)",
        None,
        (_ItemStep(sequence, edit.index, item),),
    )


def _regenerate_uid(ds: Dataset, edit: RegenerateUID) -> Change:
    container, tag, index = _container(ds, edit.path)
    if index is not None or tag not in container:
        raise TagEditError(f"{edit.path}: not present; add it first")
    if container is getattr(ds, "file_meta", None):
        _check_editable(edit.path, tag, "UI")
    old = container[tag]
    if old.VR != "UI":
        raise TagEditError(f"{edit.path}: is {old.VR}, only UI elements get new UIDs")
    steps: list[_Step] = [_ElementStep(container, tag, old)]
    old_text = _value_text(old)
    container[tag] = DataElement(tag, "UI", generate_uid())
    steps += _file_meta_sync(ds, container, tag)
    keyword = "" if tag.is_private else datadict.keyword_for_tag(tag)
    return Change(
        edit.path, _tag_text(tag), keyword, old_text, _value_text(container[tag]), tuple(steps)
    )


def apply_edit(ds: Dataset, edit: Edit) -> EditResult:
    """Apply one edit, or refuse it and leave ``ds`` unchanged.

    Parameters
    ----------
    ds : Dataset
        The dataset to change in place.
    edit : Edit
        One of :class:`SetValue`, :class:`AddElement`, :class:`DeleteElement`,
        :class:`AddItem`, :class:`RemoveItem`, :class:`RegenerateUID`.

    Returns
    -------
    EditResult
        ``applied`` with the :class:`Change`, or refused with a one-line
        message naming the value, the VR and the rule.
    """
    try:
        if isinstance(edit, SetValue):
            change = _set_value(ds, edit)
        elif isinstance(edit, AddElement):
            change = _add_element(ds, edit)
        elif isinstance(edit, DeleteElement):
            change = _delete_element(ds, edit)
        elif isinstance(edit, AddItem):
            change = _add_item(ds, edit)
        elif isinstance(edit, RemoveItem):
            change = _remove_item(ds, edit)
        else:
            change = _regenerate_uid(ds, edit)
    except TagEditError as error:
        return EditResult(False, str(error), None)
    old = "(absent)" if change.old_text is None else f"'{change.old_text}'"
    new = "(removed)" if change.new_text is None else f"'{change.new_text}'"
    return EditResult(True, f"{change.path}: {old} → {new}", change)


def undo(ds: Dataset, change: Change) -> None:
    """Revert an applied change (undo changes in the reverse order they were made).

    Parameters
    ----------
    ds : Dataset
        The dataset the change was applied to (changed in place).
    change : Change
        A change from :func:`apply_edit`.
    """
    del ds  # the steps hold the datasets and sequences they changed
    for step in reversed(change.steps):
        if isinstance(step, _ItemStep):
            if step.item is None:
                del step.sequence[step.index]
            else:
                step.sequence.insert(step.index, step.item)
        elif step.element is None:
            if step.tag in step.container:
                del step.container[step.tag]
        else:
            step.container[step.tag] = step.element


# ------------------------------------------------------------------ CLI helpers


def parse_cli_edits(sets: Iterable[str], deletes: Iterable[str]) -> list[Edit]:
    """Turn ``--set PATH=VALUE`` and ``--delete PATH`` arguments into edits.

    Parameters
    ----------
    sets : iterable of str
        ``KEYWORD=VALUE`` or ``PATH=VALUE`` (``Seq[0].CodeValue=...``); an
        absent public element is added by :class:`SetValue`.
    deletes : iterable of str
        Paths to delete.

    Returns
    -------
    list of Edit
        The set edits first, then the deletions, in the given order.

    Raises
    ------
    TagEditError
        If an argument has no ``=`` or an empty path.
    """
    edits: list[Edit] = []
    for text in sets:
        path, sep, value = text.partition("=")
        if not sep or not path.strip():
            raise TagEditError(
                f"--set {text!r}: expected KEYWORD=VALUE, e.g. --set PatientName=Doe^Jane"
            )
        edits.append(SetValue(path.strip(), value))
    for text in deletes:
        if not text.strip():
            raise TagEditError("--delete needs a keyword or path, e.g. --delete PatientComments")
        edits.append(DeleteElement(text.strip()))
    return edits


def apply_edits(ds: Dataset, edits: Iterable[Edit]) -> list[EditResult]:
    """Apply edits all-or-nothing: at the first refusal, undo the earlier ones.

    Parameters
    ----------
    ds : Dataset
        The dataset to change in place.
    edits : iterable of Edit
        The edits, in order.

    Returns
    -------
    list of EditResult
        One per edit tried; when the last is refused, ``ds`` is as it was.
    """
    results: list[EditResult] = []
    for edit in edits:
        result = apply_edit(ds, edit)
        results.append(result)
        if not result.applied:
            for earlier in reversed(results[:-1]):
                if earlier.change is not None:
                    undo(ds, earlier.change)
            break
    return results
