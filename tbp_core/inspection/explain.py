"""Explain a dataset's structure: IOD → IE → Module → Attribute, with a status each.

The statuses come from :func:`tbp_core.validation.requirements.evaluate`, the
evaluation the validator reports from: an attribute shown as ``missing`` (or
``empty`` with Type 1/1C) is an error of :func:`tbp_core.validation.validate.validate`
for the same file, and every missing/empty error is shown here. Values are
described without loading deferred ones (Pixel Data stays on disk).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset

from tbp_core.boundary import guarded
from tbp_core.fileio.access import text_value
from tbp_core.inspection.dump import DumpNode, describe_element
from tbp_core.inspection.tagtable import value_text
from tbp_core.standard import attribute_info, iod_for_sop_class
from tbp_core.standard.formatting import tag_text, title_of
from tbp_core.standard.glossary import GLOSSARY
from tbp_core.validation.context import Context, top_level_tags
from tbp_core.validation.requirements import (
    EMPTY,
    MISSING,
    NOT_APPLICABLE,
    PRESENT,
    AttributeStatus,
    ModuleStatus,
    evaluate,
)

__all__ = [
    "BROWSER",
    "EMPTY",
    "GLOSSARY",
    "MISSING",
    "NOT_APPLICABLE",
    "PRESENT",
    "AttributeNode",
    "IENode",
    "ModuleNode",
    "StructureTree",
    "build_structure",
    "display_name",
    "render_text",
    "structure_json",
]

BROWSER = "https://dicom.innolitics.com/ciods"


@dataclass(frozen=True)
class AttributeNode:
    """One attribute of a module (or a foreign one) at one place, with its status.

    ``path`` is where it is (``AnatomicRegionSequence[0].CodeValue``); ``type`` the
    Type that applies there; ``value`` the value as text ('' when absent), shortened
    when long, then ``full_value`` holds all of it ('' when ``value`` is whole);
    ``uid_name`` the standard's name of a UID value (``"CT Image Storage"``);
    ``private_creator`` the creator owning a private element's block.
    """

    keyword: str
    tag: str
    name: str
    type: str
    vr: str
    vm: str
    status: str
    url: str
    path: str = ""
    value: str = ""
    uid_name: str = ""
    private_creator: str | None = None
    full_value: str = ""

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import attribute_html

        return attribute_html(self)


@dataclass(frozen=True)
class ModuleNode:
    """A module of the IOD, its usage and whether the dataset holds any of it."""

    key: str
    name: str
    usage: str
    present: bool
    url: str
    attributes: tuple[AttributeNode, ...]
    information_entity: str = ""

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import module_html

        return module_html(self)


@dataclass(frozen=True)
class IENode:
    """An Information Entity and its modules."""

    name: str
    modules: tuple[ModuleNode, ...]

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import ie_html

        return ie_html(self)


@dataclass(frozen=True)
class StructureTree:
    """The dataset explained against its IOD; ``foreign`` holds attributes of no module.

    ``sop_class_name`` is the standard's name of the SOP Class UID ('' when unknown).
    """

    iod: str | None
    iod_name: str
    sop_class_uid: str
    ies: tuple[IENode, ...]
    foreign: tuple[AttributeNode, ...]
    sop_class_name: str = ""

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import structure_html

        return structure_html(self)


def _described(item: Dataset | None, status: AttributeStatus) -> DumpNode | None:
    """The dump's description of the element at a status's place; never loads a deferred value.

    ``item`` is the dataset or sequence item holding it (:func:`_item_at`).
    """
    if status.status not in (PRESENT, EMPTY) or item is None:
        return None
    try:
        return describe_element(item, status.tag)
    except Exception:  # a damaged value: the dump says why elsewhere
        return None


def _value(node: DumpNode | None, status: AttributeStatus) -> str:
    """The value at a status's place as text ('' when absent)."""
    if node is None:
        return "<unreadable>" if status.status in (PRESENT, EMPTY) else ""
    if node.vr == "SQ":
        return f"{node.vm} item" + ("" if node.vm == 1 else "s")
    return node.value_text


def _full_value(ds: Dataset, node: DumpNode | None) -> str:
    """All of a value the dump shortened ('' when it is shown whole)."""
    if node is None or not node.value_text.endswith(" chars)") or "… (" not in node.value_text:
        return ""
    try:
        return value_text(ds[node.tag])
    except Exception:  # a value the dump could describe but not read in full
        return ""


def _item_at(ds: Dataset, path: str) -> Dataset | None:
    """The dataset or item that holds the last element of ``path``."""
    current: Any = ds
    for part in path.split(".")[:-1]:
        keyword, _, index = part.partition("[")
        try:
            current = current[keyword].value[int(index.rstrip("]"))]
        except Exception:
            return None
    return current if isinstance(current, Dataset) else None


def _node(ds: Dataset, iod: str, module_key: str, status: AttributeStatus) -> AttributeNode:
    info = attribute_info(status.keyword)
    item = _item_at(ds, status.path)
    described = _described(item, status)
    return AttributeNode(
        keyword=status.keyword,
        tag=tag_text(status.tag),
        name=info.name if info else status.keyword,
        type=status.type,
        vr=info.vr if info else "",
        vm=info.vm if info else "",
        status=status.status,
        url=f"{BROWSER}/{iod}/{module_key}/{status.tag:08x}",
        path=status.path,
        value=_value(described, status),
        uid_name=described.uid_name if described else "",
        full_value=_full_value(item, described) if item is not None else "",
    )


def _module(ds: Dataset, iod: str, evaluated: ModuleStatus) -> ModuleNode:
    key = evaluated.module.key
    return ModuleNode(
        key=key,
        name=title_of(key),
        usage=evaluated.module.usage,
        present=evaluated.present,
        url=f"{BROWSER}/{iod}/{key}",
        attributes=tuple(_node(ds, iod, key, status) for status in evaluated.attributes),
        information_entity=evaluated.module.information_entity,
    )


def _sop_class(ds: Dataset) -> str:
    return text_value(ds, 0x00080016)  # '' when damaged


@guarded("structure")
def build_structure(ds: Dataset) -> StructureTree:
    """Explain a dataset against the IOD of its SOP Class UID.

    Parameters
    ----------
    ds : Dataset
        Any dataset; Pixel Data is not loaded.

    Returns
    -------
    StructureTree
        With no IEs when the SOP class is missing or unknown (then every
        attribute is listed as foreign).
    """
    sop_class = _sop_class(ds)
    iod = iod_for_sop_class(sop_class) if sop_class else None
    ies: dict[str, list[ModuleNode]] = {}
    known: set[int] = set()
    if iod:
        evaluation = evaluate(Context(ds=ds, iod=iod))
        for evaluated in evaluation.modules:
            node = _module(ds, iod, evaluated)
            ies.setdefault(evaluated.module.information_entity, []).append(node)
            known.update(s.tag for s in evaluated.attributes if "." not in s.path)
    foreign = [_foreign(ds, tag) for tag in top_level_tags(ds) if tag not in known]
    return StructureTree(
        iod=iod,
        iod_name=title_of(iod) if iod else "Unknown IOD",
        sop_class_uid=sop_class,
        ies=tuple(IENode(name, tuple(mods)) for name, mods in ies.items()),
        foreign=tuple(foreign),
        sop_class_name=_sop_class_name(ds) if sop_class else "",
    )


def _sop_class_name(ds: Dataset) -> str:
    try:
        return describe_element(ds, 0x00080016).uid_name
    except Exception:  # a damaged SOP Class UID: no name
        return ""


def _private_name(tag: int, node: DumpNode) -> str:
    """A private element's name; a Private Creator says which block it reserves."""
    group, element = tag >> 16, tag & 0xFFFF
    if 0x0010 <= element <= 0x00FF:
        return f"Private Creator of block ({group:04X},{element:02X}xx)"
    return node.name or "Private tag"


def display_name(attribute: AttributeNode) -> str:
    """An attribute's name for people; a private element's says whose block it is in.

    Parameters
    ----------
    attribute : AttributeNode
        From :func:`build_structure`.

    Returns
    -------
    str
        ``name`` for public attributes; ``"Focal Length (pixels) [creator 'X']"``
        for private elements (``[no private creator]`` when none reserves the block).
    """
    tag = int(attribute.tag[1:5] + attribute.tag[6:10], 16) if len(attribute.tag) == 11 else 0
    group, element = tag >> 16, tag & 0xFFFF
    if group % 2 == 0 or element < 0x1000:
        return attribute.name
    if attribute.private_creator is None:
        return f"{attribute.name} [no private creator]"
    return f"{attribute.name} [creator '{attribute.private_creator}']"


def _foreign(ds: Dataset, tag: int) -> AttributeNode:
    """An attribute of no module of the IOD (private ones among them)."""
    node = describe_element(ds, tag)
    info = attribute_info(node.keyword) if node.keyword else None
    empty = node.vr != "SQ" and not node.value_text
    return AttributeNode(
        keyword=node.keyword,
        tag=tag_text(tag),
        name=_private_name(tag, node) if tag >> 16 & 1 else node.name or "Unknown",
        type="",
        vr=node.vr,
        vm=info.vm if info else "",
        status=EMPTY if empty else PRESENT,
        url="",
        path=node.keyword or tag_text(tag),
        value=node.value_text,
        uid_name=node.uid_name,
        private_creator=node.private_creator,
        full_value=_full_value(ds, node),
    )


@guarded("structure")
def structure_json(tree: StructureTree, file: str) -> dict[str, Any]:
    """The structure as the JSON of ``tbp-dicom structure --format json``.

    Parameters
    ----------
    tree : StructureTree
        From :func:`build_structure`.
    file : str
        The file name to report.

    Returns
    -------
    dict
        ``{"file", "iod", "sop_class_uid", "modules": [...], "outside_iod": [...]}``;
        each attribute also has ``uid_name`` ('' unless its value is a UID the
        standard names) and each outside one ``name``, ``vr``, ``value`` and
        ``private_creator`` (null for public elements).
    """
    return {
        "file": file,
        "iod": tree.iod,
        "sop_class_uid": tree.sop_class_uid,
        "modules": [
            {
                "module": module.key,
                "title": module.name,
                "ie": ie.name,
                "usage": module.usage,
                "attributes": [
                    {
                        "path": a.path,
                        "tag": a.tag,
                        "keyword": a.keyword,
                        "name": a.name,
                        "type": a.type,
                        "status": a.status,
                        "value": a.value,
                        "uid_name": a.uid_name,
                    }
                    for a in module.attributes
                ],
            }
            for ie in tree.ies
            for module in ie.modules
        ],
        "outside_iod": [
            {
                "path": a.path,
                "tag": a.tag,
                "keyword": a.keyword,
                "name": display_name(a),
                "vr": a.vr,
                "value": a.value,
                "uid_name": a.uid_name,
                "private_creator": a.private_creator,
            }
            for a in tree.foreign
        ],
    }


def _module_state(module: ModuleNode) -> str:
    if module.present:
        return "checked" if module.usage == "M" else "in use: checked"
    if any(a.status in (PRESENT, EMPTY) for a in module.attributes):
        return "only optional attributes: not checked"
    return "not used"


def _value_text(attribute: AttributeNode) -> str:
    """The value, with the UID's name when the standard names it."""
    return f"{attribute.value} ({attribute.uid_name})" if attribute.uid_name else attribute.value


_MARKS: dict[str, str] = {PRESENT: "+", EMPTY: "o", MISSING: "!", NOT_APPLICABLE: " "}


@guarded("structure")
def render_text(tree: StructureTree, file: str, *, show_all: bool = False) -> str:
    """The structure as indented text for a terminal: IOD, IEs, modules, attributes.

    Parameters
    ----------
    tree : StructureTree
        From :func:`build_structure`.
    file : str
        The file name for the heading.
    show_all : bool
        Also list attributes that are absent and not required (``not-applicable``).

    Returns
    -------
    str
        One line per IE, module and attribute; each attribute marked
        ``+`` present, ``o`` empty, ``!`` missing.
    """
    named = f", {tree.sop_class_name}" if tree.sop_class_name else ""
    lines = [f"{file}: {tree.iod_name} (SOP Class {tree.sop_class_uid or 'absent'}{named})"]
    if not tree.iod:
        lines.append("  no IOD known for this SOP Class: every attribute is listed below")
    for ie in tree.ies:
        lines.append(f"{ie.name}")
        for module in ie.modules:
            state = _module_state(module)
            lines.append(f"  {module.name} [{module.usage}] {state}")
            for a in module.attributes:
                if a.status == NOT_APPLICABLE and not show_all:
                    continue
                value = f" = {_value_text(a)}" if a.value else ""
                kind = f"Type {a.type}".ljust(7)
                lines.append(f"    {_MARKS[a.status]} {a.tag} {kind} {a.path} ({a.status}){value}")
    if tree.foreign:
        lines.append(f"Outside the IOD ({len(tree.foreign)})")
        for a in tree.foreign:
            private = f"  {display_name(a)}" if int(a.tag[1:5], 16) % 2 else ""
            lines.append(f"    {a.tag} {a.vr} {a.path} = {_value_text(a)}{private}")
    lines.append("Marks: + present, o empty, ! missing (an error of tbp-dicom validate)")
    return "\n".join(lines)
