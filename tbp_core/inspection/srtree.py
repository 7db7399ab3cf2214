"""The content tree of a Structured Report: content items as an indented tree.

An SR document (PS3.3 C.17.3) is a tree of content items: the document
itself is the root CONTAINER, and each item's Content Sequence holds its
children, each with the Relationship Type that links it to its parent.
:func:`build_sr_tree` turns that tree into frozen :class:`SRItem` nodes with
the relationship, value type, concept name and value as text;
:func:`render_sr_text` indents it, :func:`sr_tree_json` gives the nested JSON
of ``tbp-dicom dump FILE --sr-tree --format json``.

The walk is pure: it never loads a value the reader deferred (a long TEXT is
described by its length) and never raises on a damaged item — the item is
kept with ``damaged`` saying what is wrong, and the walk goes on.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import UID

from tbp_core.errors import one_line
from tbp_core.standard.formatting import size_text

__all__ = [
    "SRItem",
    "build_sr_tree",
    "is_sr_document",
    "render_sr_text",
    "sr_tree_json",
]

#: Items nested deeper than this are not walked (a loop of references cannot recurse).
MAX_DEPTH = 64
#: Graphic Data points shown before the rest is summarised.
MAX_POINTS = 8
_INDENT = "  "


@dataclass(frozen=True)
class SRItem:
    """One content item of an SR document.

    Attributes
    ----------
    relationship : str
        Relationship Type to the parent (``CONTAINS``, ``HAS PROPERTIES``...); ``""``
        for the root.
    value_type : str
        Value Type (``TEXT``, ``CODE``, ``NUM``...); ``""`` for an item by reference.
    concept : str
        Concept Name as ``meaning (SCHEME, value)``, ``""`` when the item has none.
    value : str
        The item's value as text (units for NUM, referenced SOP for COMPOSITE/IMAGE,
        graphic type and points for SCOORD, continuity for CONTAINER).
    children : tuple of SRItem
        The items of its Content Sequence.
    path : str
        Where it is, e.g. ``ContentSequence[1].ContentSequence[0]``.
    damaged : str
        Why the item could not be read in full; ``""`` when it is sound.
    """

    relationship: str
    value_type: str
    concept: str
    value: str
    children: tuple[SRItem, ...]
    path: str
    damaged: str = ""

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import sr_html

        return sr_html(self)


class _DamagedError(Exception):
    """An element of a content item is unreadable."""


class _DeferredError(Exception):
    """A value the reader deferred: described from its length, never read."""

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length


def _element(item: Dataset, keyword: str) -> DataElement | None:
    """The element of ``item`` named ``keyword``, or None; a deferred value stays unread."""
    if keyword not in item:
        return None
    stored = cast("DataElement | RawDataElement", item.get_item(keyword, keep_deferred=True))
    length = stored.length if isinstance(stored, RawDataElement) and stored.value is None else 0
    if length and dictionary_VR(keyword) != "SQ":  # sequences are walked, values never read
        raise _DeferredError(int(length))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return item[keyword]
    except Exception as exc:  # a value pydicom cannot convert
        raise _DamagedError(f"{keyword}: {one_line(exc)}") from exc


def _value(item: Dataset, keyword: str) -> Any:
    elem = _element(item, keyword)
    return None if elem is None else elem.value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace")
    if isinstance(value, MultiValue | list | tuple):
        return "\\".join(_text(part) for part in value)
    return str(value)


def _first(item: Dataset, keyword: str) -> Dataset | None:
    value = _value(item, keyword)
    if value is None:
        return None
    if not isinstance(value, Sequence):
        raise _DamagedError(f"{keyword} is not a sequence")
    return value[0] if len(value) else None


def code_text(code: Dataset | None) -> str:
    """A coded entry as ``meaning (SCHEME, value)``.

    Parameters
    ----------
    code : Dataset or None
        An item of a Code Sequence (Code Value, Coding Scheme Designator, Code Meaning).

    Returns
    -------
    str
        ``""`` for None; Long Code Value or URN Code Value stand in for Code Value.
    """
    if code is None:
        return ""
    meaning = _text(_value(code, "CodeMeaning")).strip()
    scheme = _text(_value(code, "CodingSchemeDesignator")).strip()
    value = ""
    for keyword in ("CodeValue", "LongCodeValue", "URNCodeValue"):
        value = _text(_value(code, keyword)).strip()
        if value:
            break
    inside = ", ".join(part for part in (scheme, value) if part)
    return f"{meaning} ({inside})" if inside else meaning


def _numeric(item: Dataset) -> str:
    measured = _first(item, "MeasuredValueSequence")
    if measured is None:
        qualifier = _first(item, "NumericValueQualifierCodeSequence")
        return f"(no value: {code_text(qualifier)})" if qualifier else "(no value)"
    number = _text(_value(measured, "NumericValue")).strip()
    units = _first(measured, "MeasurementUnitsCodeSequence")
    unit = _text(_value(units, "CodeValue")).strip() if units is not None else ""
    if unit in ("1", "{1}"):  # UCUM's "no units"
        unit = ""
    return f"{number} {unit}".strip()


def _reference(item: Dataset) -> str:
    ref = _first(item, "ReferencedSOPSequence")
    if ref is None:
        return "(no Referenced SOP Sequence item)"
    sop_class = _text(_value(ref, "ReferencedSOPClassUID")).strip("\0 ")
    instance = _text(_value(ref, "ReferencedSOPInstanceUID")).strip("\0 ")
    name = UID(sop_class).name if sop_class else ""
    text = f"{name} {instance}".strip() if name != sop_class else f"{sop_class} {instance}"
    frames = _text(_value(ref, "ReferencedFrameNumber")).replace("\\", ", ")
    return f"{text} frame {frames}" if frames else text


def _points(item: Dataset) -> str:
    data = _value(item, "GraphicData")
    values = [] if data is None else list(data) if isinstance(data, MultiValue | list) else [data]
    shown = ", ".join(f"{float(v):g}" for v in values[:MAX_POINTS])
    more = f", … ({len(values)} values)" if len(values) > MAX_POINTS else ""
    return f"[{shown}{more}]"


def _coordinates(item: Dataset, value_type: str) -> str:
    graphic = _text(_value(item, "GraphicType")).strip()
    text = f"{graphic} {_points(item)}".strip()
    if value_type == "SCOORD3D":
        frame = _text(_value(item, "ReferencedFrameOfReferenceUID")).strip("\0 ")
        text += f" in frame of reference {frame}" if frame else ""
    return text


def _temporal(item: Dataset) -> str:
    kind = _text(_value(item, "TemporalRangeType")).strip()
    for keyword, label in (
        ("ReferencedSamplePositions", "samples"),
        ("ReferencedTimeOffsets", "offsets (s)"),
        ("ReferencedDateTime", "at"),
    ):
        found = _text(_value(item, keyword))
        if found:
            return f"{kind} {label} {found}".strip()
    return kind


#: Value Type → keyword of its single value element (PS3.3 C.18).
_SIMPLE = {
    "TEXT": "TextValue",
    "DATE": "Date",
    "TIME": "Time",
    "DATETIME": "DateTime",
    "PNAME": "PersonName",
    "UIDREF": "UID",
}


def _value_text(item: Dataset, value_type: str) -> str:
    if value_type in _SIMPLE:
        return _text(_value(item, _SIMPLE[value_type]))
    if value_type == "CODE":
        return code_text(_first(item, "ConceptCodeSequence"))
    if value_type == "NUM":
        return _numeric(item)
    if value_type in ("COMPOSITE", "IMAGE", "WAVEFORM"):
        return _reference(item)
    if value_type in ("SCOORD", "SCOORD3D"):
        return _coordinates(item, value_type)
    if value_type == "TCOORD":
        return _temporal(item)
    if value_type == "CONTAINER":
        return _text(_value(item, "ContinuityOfContent")).strip()
    return ""


def _guarded_text(item: Dataset, keyword: str) -> tuple[str, str]:
    """(text, damage) of one element: a deferred value is described, a bad one reported."""
    try:
        return _text(_value(item, keyword)).strip(), ""
    except _DeferredError as deferred:
        return f"<{keyword}, {size_text(deferred.length)}, not loaded>", ""
    except _DamagedError as damaged:
        return "", str(damaged)


def _item(item: Dataset, relationship: str, path: str, depth: int) -> SRItem:
    damage: list[str] = []
    value_type, problem = _guarded_text(item, "ValueType")
    damage += [problem] if problem else []
    concept = value = ""
    try:
        concept = code_text(_first(item, "ConceptNameCodeSequence"))
        if not value_type and "ReferencedContentItemIdentifier" in item:
            target = _text(_value(item, "ReferencedContentItemIdentifier")).replace("\\", ".")
            value = f"see content item {target}"
        else:
            value = _value_text(item, value_type)
    except _DeferredError as deferred:
        value = f"<{size_text(deferred.length)}, not loaded>"
    except (_DamagedError, ValueError, TypeError, AttributeError) as exc:
        damage.append(one_line(exc))
    if not value_type and "ReferencedContentItemIdentifier" not in item:
        damage.append("no Value Type")
    children: tuple[SRItem, ...] = ()
    if depth < MAX_DEPTH:
        children, problem = _children(item, path, depth + 1)
        damage += [problem] if problem else []
    elif "ContentSequence" in item:
        damage.append(f"nested deeper than {MAX_DEPTH} levels; not shown")
    return SRItem(relationship, value_type, concept, value, children, path, "; ".join(damage))


def _children(parent: Dataset, path: str, depth: int) -> tuple[tuple[SRItem, ...], str]:
    try:
        content = _value(parent, "ContentSequence")
    except (_DamagedError, _DeferredError) as exc:
        return (), f"Content Sequence unreadable: {one_line(exc)}"
    if content is None:
        return (), ""
    if not isinstance(content, Sequence):
        return (), "Content Sequence is not a sequence"
    prefix = f"{path}." if path else ""
    found: list[SRItem] = []
    for index, child in enumerate(content):
        where = f"{prefix}ContentSequence[{index}]"
        relationship, problem = _guarded_text(child, "RelationshipType")
        node = _item(child, relationship, where, depth)
        if problem or not relationship:
            reason = problem or "no Relationship Type"
            node = SRItem(
                node.relationship, node.value_type, node.concept, node.value, node.children,
                node.path, "; ".join(part for part in (reason, node.damaged) if part),
            )  # fmt: skip
        found.append(node)
    return tuple(found), ""


def is_sr_document(ds: Dataset) -> bool:
    """Whether ``ds`` is an SR document: a root Value Type and a Content Sequence.

    Parameters
    ----------
    ds : Dataset
        A dataset as read by :func:`tbp_core.fileio.dicomio.read`.

    Returns
    -------
    bool
        True for SR documents (Basic Text, Enhanced, Comprehensive, Key Object
        Selection, dose reports...); image objects have neither element at the top.
    """
    return "ValueType" in ds and "ContentSequence" in ds


def build_sr_tree(ds: Dataset) -> SRItem | None:
    """The content tree of an SR document, rooted at the document's CONTAINER.

    Parameters
    ----------
    ds : Dataset
        The SR document; deferred values are described, never loaded.

    Returns
    -------
    SRItem or None
        The root item (relationship ``""``), or None when ``ds`` is not an SR document.
    """
    if not is_sr_document(ds):
        return None
    return _item(ds, "", "", 0)


def _line(node: SRItem) -> str:
    parts = [node.relationship, node.value_type] if node.relationship else [node.value_type]
    head = " ".join(part for part in parts if part) or "(no value type)"
    if node.concept:
        head += f" {node.concept}"
    value = " ".join(node.value.split())  # one line even for multi-line TEXT
    line = f"{head} = {value}" if value else head
    return f"{line}  [damaged: {node.damaged}]" if node.damaged else line


def _lines(node: SRItem, depth: int) -> Iterator[str]:
    yield f"{_INDENT * depth}{_line(node)}"
    for child in node.children:
        yield from _lines(child, depth + 1)


def render_sr_text(tree: SRItem, *, title: str = "") -> str:
    """The tree as indented text, one content item a line.

    Parameters
    ----------
    tree : SRItem
        The root from :func:`build_sr_tree`.
    title : str, optional
        A heading line (the file name).

    Returns
    -------
    str
        ``RELATIONSHIP VALUE_TYPE concept = value`` lines, two spaces a level,
        damaged items marked ``[damaged: reason]``.
    """
    heading = [f"# SR content tree of {title}"] if title else ["# SR content tree"]
    return "\n".join(heading + list(_lines(tree, 0)))


def sr_tree_json(tree: SRItem) -> dict[str, Any]:
    """The tree as nested JSON objects.

    Parameters
    ----------
    tree : SRItem
        The root from :func:`build_sr_tree`.

    Returns
    -------
    dict
        ``{"relationship", "value_type", "concept", "value", "children"}`` (plus
        ``"damaged"`` on a damaged item); the root's relationship is None.
    """
    payload: dict[str, Any] = {
        "relationship": tree.relationship or None,
        "value_type": tree.value_type,
        "concept": tree.concept,
        "value": tree.value,
        "children": [sr_tree_json(child) for child in tree.children],
    }
    if tree.damaged:
        payload["damaged"] = tree.damaged
    return payload
