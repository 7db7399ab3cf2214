"""Explain a dataset's structure: IOD → IE → Module → Attribute, with a status each.

Built only from :mod:`tbp_core.standard`; values are inspected without loading
deferred ones (Pixel Data stays on disk).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from tbp_core.standard import (
    attribute_info,
    iod_for_sop_class,
    module_attributes_by_path,
    modules_of_iod,
)

BROWSER = "https://dicom.innolitics.com/ciods"

PRESENT = "present"
EMPTY = "empty"
MISSING = "missing"
NOT_APPLICABLE = "not applicable"

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
    """One attribute of a module (or a foreign one), with its status in the dataset."""

    keyword: str
    tag: str
    name: str
    type: str
    vr: str
    vm: str
    status: str
    url: str
    path: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModuleNode:
    """A module of the IOD, its usage and whether the dataset holds any of it."""

    key: str
    name: str
    usage: str
    present: bool
    url: str
    attributes: tuple[AttributeNode, ...]


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


_ACRONYMS = frozenset(
    {"2d", "3d", "cr", "ct", "dx", "ecg", "hl7", "icc", "id", "io", "iod", "ivus", "lut", "mg"}
    | {"mr", "nm", "oct", "op", "ot", "pet", "pr", "ps", "rt", "sc", "sm", "sop", "sr", "uid"}
    | {"us", "vl", "voi", "xa", "xrf"}
)
_SMALL_WORDS = frozenset({"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with"})


def _title(key: str) -> str:
    """'frame-of-reference' → 'Frame of Reference', 'voi-lut' → 'VOI LUT'."""
    words = key.split("-")
    return " ".join(
        word.upper()
        if word in _ACRONYMS
        else word
        if word in _SMALL_WORDS and index
        else word.capitalize()
        for index, word in enumerate(words)
    )


def _state(ds: Dataset, tag: int) -> str | None:
    """PRESENT, EMPTY, or None when absent; never loads deferred values."""
    if tag not in ds:
        return None
    element: object = ds.get_item(tag, keep_deferred=True)
    if isinstance(element, RawDataElement):
        return EMPTY if element.length == 0 else PRESENT
    return EMPTY if getattr(element, "is_empty", False) else PRESENT


def _status(state: str | None, attr_type: str, module_present: bool, usage: str) -> str:
    if state is not None:
        return state
    if attr_type in ("1", "2") and (module_present or usage == "M"):
        return MISSING
    return NOT_APPLICABLE


def _module(ds: Dataset, iod: str, key: str, usage: str) -> ModuleNode:
    groups = dict(module_attributes_by_path(key))
    top = groups.get((), ())
    infos = [(attr, attribute_info(attr.keyword)) for attr in top]
    states = [_state(ds, info.tag) if info else None for _, info in infos]
    present = any(state is not None for state in states)
    url = f"{BROWSER}/{iod}/{key}"
    nodes = tuple(
        AttributeNode(
            keyword=attr.keyword,
            tag=f"({info.tag >> 16:04X},{info.tag & 0xFFFF:04X})",
            name=info.name,
            type=attr.type,
            vr=info.vr,
            vm=info.vm,
            status=_status(state, attr.type, present, usage),
            url=f"{url}/{info.tag:08x}",
        )
        for (attr, info), state in zip(infos, states, strict=True)
        if info is not None
    )
    return ModuleNode(key, _title(key), usage, present, url, nodes)


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
    sop_class = str(ds.get("SOPClassUID", "") or "")
    iod = iod_for_sop_class(sop_class) if sop_class else None
    ies: dict[str, list[ModuleNode]] = {}
    known: set[int] = set()
    for module in modules_of_iod(iod) if iod else ():
        node = _module(ds, iod or "", module.key, module.usage)
        ies.setdefault(module.information_entity, []).append(node)
        known.update(int(a.tag[1:5], 16) << 16 | int(a.tag[6:10], 16) for a in node.attributes)
    foreign = []
    for tag in ds.keys():  # noqa: SIM118
        if tag in known:
            continue
        element = ds.get_item(tag, keep_deferred=True)
        keyword = getattr(element, "keyword", "") or ""
        info = attribute_info(keyword) if keyword else None
        foreign.append(
            AttributeNode(
                keyword=keyword,
                tag=f"({tag >> 16:04X},{tag & 0xFFFF:04X})",
                name=info.name if info else ("Private tag" if tag >> 16 & 1 else "Unknown"),
                type="",
                vr=str(element.VR or (info.vr if info else "UN")),
                vm=info.vm if info else "",
                status=_state(ds, tag) or PRESENT,
                url="",
            )
        )
    return StructureTree(
        iod=iod,
        iod_name=_title(iod) if iod else "Unknown IOD",
        sop_class_uid=sop_class,
        ies=tuple(IENode(name, tuple(mods)) for name, mods in ies.items()),
        foreign=tuple(foreign),
    )
