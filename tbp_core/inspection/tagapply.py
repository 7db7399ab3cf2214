"""Applying tag edits: every edit checked completely before anything changes.

A refused edit returns an :class:`~tbp_core.inspection.tagedits.EditResult` with
``applied=False`` and a one-line message naming the value, the VR and the rule,
and the dataset is left as it was. Values are checked against their VR and VM
(:mod:`tbp_core.standard.vr`) and, for standard attributes, their Enumerated
Values in the dataset's IOD (:mod:`tbp_core.standard.enumerations`), the same
check as every other input (:func:`tbp_core.building.attributes.checked_value`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydicom import datadict
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag, Tag
from pydicom.uid import generate_uid
from pydicom.valuerep import VR

from tbp_core import standard
from tbp_core.boundary import guarded
from tbp_core.building.attributes import checked_value
from tbp_core.errors import TagEditError
from tbp_core.inspection.tagedits import (
    AddElement,
    AddItem,
    Change,
    DeleteElement,
    Edit,
    EditResult,
    ElementStep,
    ItemStep,
    RegenerateUID,
    RemoveItem,
    SetValue,
    Step,
    container_of,
    parent_item,
    undo,
)
from tbp_core.inspection.tagtable import creator_of, deferred_size, path_name, value_text
from tbp_core.standard import vr as vrs
from tbp_core.standard.formatting import size_text, tag_text
from tbp_core.standard.normalform import normalise_one

__all__ = ["apply_edit", "apply_edits"]


# ------------------------------------------------------------------ values


def _iod_of(ds: Dataset) -> str | None:
    """The IOD of a dataset from its SOP Class UID (None when absent or unknown)."""
    try:
        sop_class = ds[0x00080016].value if 0x00080016 in ds else None
    except Exception:  # a damaged SOP Class UID: no IOD-specific rules
        return None
    return standard.iod_for_sop_class(str(sop_class)) if sop_class else None


def _parse_value(
    label: str,
    tag: BaseTag,
    vr: str,
    text: str,
    *,
    creator: str | None = None,
    iod_key: str | None = None,
    top_level: bool = True,
) -> Any:
    """Check ``text`` for an element and return the value to store (None for empty)."""
    keyword = "" if tag.is_private else datadict.keyword_for_tag(tag)
    vm = vrs.dictionary_vm(tag, creator)
    try:
        return checked_value(keyword, tag, vr, vm, text, iod_key=iod_key, top_level=top_level)
    except vrs.InvalidValueError as invalid:
        raise TagEditError(f"{label}: {invalid.message}") from None


def _check_editable(label: str, tag: BaseTag, vr: str) -> None:
    if tag in vrs.PIXEL_DATA_TAGS:
        raise TagEditError(f"{label}: Pixel Data cannot be edited as text; convert the image again")
    if tag.element == 0:
        raise TagEditError(
            f"{label}: group lengths {tag_text(tag)} are computed when the file is written"
        )
    if tag.group == 0x0002:
        raise TagEditError(
            f"{label}: file meta elements are written from the dataset; "
            "edit SOPInstanceUID or SOPClassUID instead"
        )
    if vr == "SQ":
        raise TagEditError(f"{label}: a sequence has no text value; add or remove its items")
    if vr in vrs.BINARY_VRS:
        raise TagEditError(f"{label}: binary {vr} values cannot be edited as text")
    if " or " in vr:
        raise TagEditError(f"{label}: VR is ambiguous ({vr}); add the element with a chosen VR")


def _new_element(tag: BaseTag, vr: str, value: Any) -> DataElement:
    if vr == "SQ":
        return DataElement(tag, vr, DicomSequence([]))
    return DataElement(tag, vr, value)


def _file_meta_sync(ds: Dataset, container: Dataset, tag: BaseTag) -> list[Step]:
    """Keep MediaStorageSOP*UID in step with a changed top-level SOP*UID."""
    meta = getattr(ds, "file_meta", None)
    partner = {0x00080018: 0x00020003, 0x00080016: 0x00020002}.get(int(tag))
    if container is not ds or meta is None or partner is None:
        return []
    steps: list[Step] = [ElementStep(meta, Tag(partner), meta.get_item(partner))]
    meta[partner] = DataElement(partner, "UI", container[tag].value)
    return steps


# ------------------------------------------------------------------ edits


def _set_value(ds: Dataset, edit: SetValue) -> Change:
    container, tag, index = container_of(ds, edit.path)
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
        vr = vrs.dictionary_vr(tag) or ""
        if not vr:
            raise TagEditError(f"{edit.path}: {tag_text(tag)} is not in the DICOM dictionary")
    _check_editable(edit.path, tag, vr)
    value = _parse_value(
        edit.path,
        tag,
        vr,
        edit.text,
        creator=creator_of(container, tag),
        iod_key=_iod_of(ds),
        top_level=container is ds,
    )
    old_text = value_text(container[tag]) if present else None
    steps: list[Step] = [ElementStep(container, tag, container[tag] if present else None)]
    container[tag] = _new_element(tag, vr, value)
    steps += _file_meta_sync(ds, container, tag)
    keyword = datadict.keyword_for_tag(tag) if not tag.is_private else ""
    return Change(
        edit.path, tag_text(tag), keyword, old_text, value_text(container[tag]), tuple(steps)
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
    try:
        normalise_one("LO", creator)
    except vrs.InvalidValueError as invalid:
        raise TagEditError(f"{label} private creator: {invalid.message}") from None
    if tag.element < 0x1000:
        raise TagEditError(
            f"{label}: elements (gggg,0010)-(gggg,0FFF) are reserved for creators; "
            "use an element from 1000 to FFFF"
        )
    offset = tag.element & 0xFF
    slot, exists = _free_creator_slot(container, group, creator)
    target = Tag(group, (slot << 8) | offset)
    vr = (edit.vr or "").strip().upper() or vrs.dictionary_vr(target, creator)
    if not vr:
        raise TagEditError(f"{label}: give the VR of the private element (e.g. LO, DS, US)")
    if vr not in VR.__members__:
        raise TagEditError(f"{label}: {vr!r} is not a VR")
    if target in container:
        raise TagEditError(
            f"{label}: {tag_text(target)} is already present in {creator!r}'s block; set it"
        )
    value = None
    if vr not in ("SQ", *vrs.BINARY_VRS):
        value = _parse_value(label, target, vr, edit.text, creator=creator)
    elif edit.text.strip():
        raise TagEditError(f"{label}: {vr} elements are added empty")
    steps: list[Step] = []
    if not exists:
        steps.append(ElementStep(container, Tag(group, slot), None))
    block = container.private_block(group, creator, create=True)
    final = Tag(block.get_tag(offset))
    steps.append(ElementStep(container, final, None))
    container[final] = _new_element(final, vr, value)
    return Change(
        path_name(final, ""),
        tag_text(final),
        "",
        None,
        value_text(container[final]),
        tuple(steps),
    )


def _add_element(ds: Dataset, edit: AddElement) -> Change:
    container = parent_item(ds, edit.path_of_parent_item)
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
    dictionary_vr = vrs.dictionary_vr(tag)
    if dictionary_vr is None:
        raise TagEditError(f"{label}: {tag_text(tag)} is not in the DICOM dictionary")
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
        value = _parse_value(
            label, tag, vr, edit.text, iod_key=_iod_of(ds), top_level=container is ds
        )
    steps: list[Step] = [ElementStep(container, tag, None)]
    container[tag] = _new_element(tag, vr, value)
    steps += _file_meta_sync(ds, container, tag)
    path = prefix + path_name(tag, datadict.keyword_for_tag(tag))
    return Change(
        path,
        tag_text(tag),
        datadict.keyword_for_tag(tag),
        None,
        value_text(container[tag]),
        tuple(steps),
    )


def _delete_element(ds: Dataset, edit: DeleteElement) -> Change:
    container, tag, index = container_of(ds, edit.path)
    if index is not None:
        raise TagEditError(f"path {edit.path!r} names an item; remove the item instead")
    if tag not in container:
        raise TagEditError(f"{edit.path}: not present, nothing to delete")
    if container is getattr(ds, "file_meta", None):
        raise TagEditError(f"{edit.path}: file meta elements are written from the dataset")
    if tag in vrs.PIXEL_DATA_TAGS:
        raise TagEditError(f"{edit.path}: Pixel Data cannot be deleted; the image needs it")
    if tag.is_private_creator:
        block = [Tag(k) for k in list(container.keys()) if Tag(k).is_private]
        if any(t.group == tag.group and t.element >> 8 == tag.element for t in block):
            raise TagEditError(
                f"{edit.path}: private creator still owns elements; delete them first"
            )
    raw = container.get_item(tag, keep_deferred=True)
    deferred = deferred_size(raw) if raw is not None else None
    old_text = (
        f"<{raw.VR}, {size_text(deferred)}>" if deferred is not None else value_text(container[tag])
    )
    kept = container.get_item(tag, keep_deferred=True)
    del container[tag]
    keyword = "" if tag.is_private else datadict.keyword_for_tag(tag)
    return Change(
        edit.path, tag_text(tag), keyword, old_text, None, (ElementStep(container, tag, kept),)
    )


def _sequence_at(ds: Dataset, path: str) -> tuple[Dataset, BaseTag]:
    container, tag, index = container_of(ds, path)
    if index is not None:
        raise TagEditError(f"path {path!r} names an item; give the sequence, e.g. Seq")
    return container, tag


def _add_item(ds: Dataset, edit: AddItem) -> Change:
    container, tag = _sequence_at(ds, edit.sequence_path)
    steps: list[Step] = []
    keyword = "" if tag.is_private else datadict.keyword_for_tag(tag)
    if tag not in container:
        if vrs.dictionary_vr(tag) != "SQ":
            raise TagEditError(f"{edit.sequence_path}: not present and not a known sequence")
        steps.append(ElementStep(container, tag, None))
        container[tag] = _new_element(tag, "SQ", None)
    element = container[tag]
    if element.VR != "SQ":
        raise TagEditError(f"{edit.sequence_path}: is {element.VR}, not a sequence")
    sequence = element.value
    sequence.append(Dataset())
    index = len(sequence) - 1
    steps.append(ItemStep(sequence, index, None))
    return Change(f"{edit.sequence_path}[{index}]", tag_text(tag), keyword, None, "", tuple(steps))


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
        tag_text(tag),
        keyword,
        f"{len(item)} element(s)",
        None,
        (ItemStep(sequence, edit.index, item),),
    )


def _regenerate_uid(ds: Dataset, edit: RegenerateUID) -> Change:
    container, tag, index = container_of(ds, edit.path)
    if index is not None or tag not in container:
        raise TagEditError(f"{edit.path}: not present; add it first")
    if container is getattr(ds, "file_meta", None):
        _check_editable(edit.path, tag, "UI")
    old = container[tag]
    if old.VR != "UI":
        raise TagEditError(f"{edit.path}: is {old.VR}, only UI elements get new UIDs")
    steps: list[Step] = [ElementStep(container, tag, old)]
    old_text = value_text(old)
    container[tag] = DataElement(tag, "UI", generate_uid())
    steps += _file_meta_sync(ds, container, tag)
    keyword = "" if tag.is_private else datadict.keyword_for_tag(tag)
    return Change(
        edit.path, tag_text(tag), keyword, old_text, value_text(container[tag]), tuple(steps)
    )


@guarded("edit")
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


@guarded("edit")
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
