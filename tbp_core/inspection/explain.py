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
from tbp_core.inspection.dump import describe_element
from tbp_core.standard import attribute_info, iod_for_sop_class
from tbp_core.standard.formatting import tag_text, title_of
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
    "render_text",
    "structure_json",
]

BROWSER = "https://dicom.innolitics.com/ciods"

GLOSSARY: dict[str, str] = {
    "IOD": (
        "An Information Object Definition is the recipe for one kind of DICOM object, such as a "
        "VL Photographic Image. It lists which modules the object is made of and whether each "
        "is always needed, needed under a condition, or optional."
    ),
    "IE": (
        "An Information Entity groups modules by the real-world thing they describe: the "
        "patient, the study, the series, the equipment or the image itself. It is how an IOD "
        "is organised, not something stored in the file."
    ),
    "Module": (
        "A module is a named set of attributes that belong together, e.g. the Patient module "
        "holds name, ID, birth date and sex. Its usage in an IOD is M (mandatory), C "
        "(conditional) or U (user option)."
    ),
    "Attribute": (
        "An attribute is one piece of information in the file, identified by a tag "
        "(group, element) and a keyword. Each stored attribute is a data element with a VR, "
        "a length and a value."
    ),
    "VR": (
        "The Value Representation is the data type of an attribute: PN for person names, DA "
        "for dates, US for unsigned 16-bit numbers, SQ for sequences and so on. It fixes how "
        "the value is encoded and which values are legal."
    ),
    "VM": (
        "The Value Multiplicity says how many values an attribute holds, e.g. 1, 2 or 1-n. "
        "Pixel Spacing has VM 2 (row and column spacing); multiple text values are separated "
        "by a backslash."
    ),
    "Type": (
        "The Type says whether an attribute must be there: 1 means present with a value, 2 "
        "means present but may be empty, 3 means optional. 1C and 2C are like 1 and 2 but "
        "only when their condition holds."
    ),
    "UID": (
        "A Unique Identifier is a dotted number string that names something once worldwide: a "
        "SOP class, a transfer syntax, or a particular study, series or image. Instances get "
        "freshly generated UIDs; classes and syntaxes use the fixed ones from the standard."
    ),
    "private tag": (
        "A private tag lives in an odd-numbered group and carries vendor- or project-specific "
        "data. A Private Creator element in the same group reserves a block of elements and "
        "names who owns it, so readers can tell blocks apart."
    ),
    "transfer syntax": (
        "The transfer syntax says how the dataset is encoded: byte order, explicit or "
        "implicit VR, and how Pixel Data is compressed (none, RLE, JPEG, JPEG-LS, JPEG 2000). "
        "It is stored in the file meta as a UID."
    ),
}


@dataclass(frozen=True)
class AttributeNode:
    """One attribute of a module (or a foreign one) at one place, with its status.

    ``path`` is where it is (``AnatomicRegionSequence[0].CodeValue``); ``type`` the
    Type that applies there; ``value`` the value as text ('' when absent).
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


@dataclass(frozen=True)
class IENode:
    """An Information Entity and its modules."""

    name: str
    modules: tuple[ModuleNode, ...]


@dataclass(frozen=True)
class StructureTree:
    """The dataset explained against its IOD; ``foreign`` holds attributes of no module."""

    iod: str | None
    iod_name: str
    sop_class_uid: str
    ies: tuple[IENode, ...]
    foreign: tuple[AttributeNode, ...]


def _value(ds: Dataset, status: AttributeStatus) -> str:
    """The value at a status's place as text; never loads a deferred value."""
    if status.status not in (PRESENT, EMPTY):
        return ""
    item = _item_at(ds, status.path)
    if item is None:
        return ""
    try:
        node = describe_element(item, status.tag)
    except Exception:  # a damaged value: the dump says why elsewhere
        return "<unreadable>"
    if node.vr == "SQ":
        return f"{node.vm} item" + ("" if node.vm == 1 else "s")
    return node.value_text


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
        value=_value(ds, status),
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
    )


def _foreign(ds: Dataset, tag: int) -> AttributeNode:
    """An attribute of no module of the IOD (private ones among them)."""
    node = describe_element(ds, tag)
    info = attribute_info(node.keyword) if node.keyword else None
    empty = node.vr != "SQ" and not node.value_text
    return AttributeNode(
        keyword=node.keyword,
        tag=tag_text(tag),
        name=node.name or ("Private tag" if tag >> 16 & 1 else "Unknown"),
        type="",
        vr=node.vr,
        vm=info.vm if info else "",
        status=EMPTY if empty else PRESENT,
        url="",
        path=node.keyword or tag_text(tag),
        value=node.value_text,
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
        ``{"file", "iod", "sop_class_uid", "modules": [...], "outside_iod": [...]}``.
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
                    }
                    for a in module.attributes
                ],
            }
            for ie in tree.ies
            for module in ie.modules
        ],
        "outside_iod": [{"path": a.path, "tag": a.tag, "keyword": a.keyword} for a in tree.foreign],
    }


def _module_state(module: ModuleNode) -> str:
    if module.present:
        return "checked" if module.usage == "M" else "in use: checked"
    if any(a.status in (PRESENT, EMPTY) for a in module.attributes):
        return "only optional attributes: not checked"
    return "not used"


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
    lines = [f"{file}: {tree.iod_name} (SOP Class {tree.sop_class_uid or 'absent'})"]
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
                value = f" = {a.value}" if a.value else ""
                kind = f"Type {a.type}".ljust(7)
                lines.append(f"    {_MARKS[a.status]} {a.tag} {kind} {a.path} ({a.status}){value}")
    if tree.foreign:
        lines.append(f"Outside the IOD ({len(tree.foreign)})")
        lines += [f"    {a.tag} {a.vr} {a.path} = {a.value}" for a in tree.foreign]
    lines.append("Marks: + present, o empty, ! missing (an error of tbp-dicom validate)")
    return "\n".join(lines)
