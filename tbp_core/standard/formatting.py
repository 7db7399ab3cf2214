"""How the standard's things are written for people: titles, tags, sizes and ranks.

Every page, report and message that shows a module, IOD or Information
Entity name, a tag, a byte count, or orders findings by severity or attributes
by Type asks this module, so each of these is written one way everywhere.

Titles come from the standard's own spelling where the tables or pydicom
know it: the Information Entity names of the IOD tables (``"Frame of
Reference"``, ``"File-set Identification"``) and the SOP Class names of
PS3.6 (``"Multi-frame True Color Secondary Capture Image"``). Other keys are
written by the standard's rules: acronyms upper-case (``"CR Image"``), small
words lower-case except first (``"Frame of Reference"``), the hyphenated
compounds hyphenated (``"X-Ray"``, ``"Multi-frame"``).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

from pydicom.uid import UID_dictionary  # type: ignore[attr-defined]

from tbp_core.standard.tables import iod_for_sop_class, modules_of_iod

__all__ = [
    "SEVERITIES",
    "TYPES",
    "Severity",
    "severity_rank",
    "size_text",
    "tag_text",
    "title_of",
    "type_rank",
    "usage_text",
]

Severity = Literal["error", "warning", "info"]
"""How bad a validation finding is."""

#: Finding severities from the most to the least severe.
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

#: Attribute Types from the most to the least demanding (PS3.5 7.4).
TYPES: tuple[str, ...] = ("1", "2", "1C", "2C", "3")

#: Module Usage in an IOD (PS3.3 Annex A), as words.
_USAGES = {"M": "mandatory", "C": "conditional", "U": "user option"}

#: Words of module and IOD keys the standard writes in capitals.
_ACRONYMS = frozenset(
    {"2d", "3d", "cad", "cda", "cr", "ct", "dvh", "dx", "ecg", "hl7", "icc", "id", "io"}
    | {"iod", "ivus", "lut", "mg", "mpr", "mr", "mtl", "nm", "obj", "oct", "op", "ot", "pdf"}
    | {"pet", "pr", "ps", "qa", "roi", "rt", "sc", "sm", "sop", "sr", "stl", "tomo", "uid"}
    | {"us", "uv", "vl", "voi", "xa", "xrf"}
)

#: Words written in lower case unless they start the title.
_SMALL_WORDS = frozenset({"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with"})

#: Two key words the standard writes as one hyphenated word.
_COMPOUNDS: dict[tuple[str, str], str] = {
    ("12", "lead"): "12-lead",
    ("32", "bit"): "32-bit",
    ("b", "scan"): "B-scan",
    ("c", "arm"): "C-Arm",
    ("file", "set"): "File-set",
    ("intra", "oral"): "Intra-oral",
    ("photon", "electron"): "Photon-Electron",
    ("pseudo", "color"): "Pseudo-Color",
    ("robotic", "arm"): "Robotic-Arm",
    ("x", "ray"): "X-Ray",
    ("xa", "xrf"): "XA/XRF",
}

#: A SOP Class name's tail after the IOD's name ("... Storage - For Presentation").
_STORAGE_TAIL = re.compile(r"\s+Storage\b.*$")


def title_of(key: str) -> str:
    """The name of a module, IOD or Information Entity as the standard writes it.

    Parameters
    ----------
    key : str
        A key of the standard's tables, e.g. ``"frame-of-reference"``,
        ``"cr-image"``, ``"vl-photographic-acquisition"``.

    Returns
    -------
    str
        E.g. ``"Frame of Reference"``, ``"CR Image"``,
        ``"VL Photographic Acquisition"``; ``""`` for an empty key.

    Examples
    --------
    >>> title_of("sop-common")
    'SOP Common'
    >>> title_of("digital-x-ray-image")
    'Digital X-Ray Image'
    """
    known = _standard_names().get(key)
    if known is not None:
        return known
    return " - ".join(_words_title(part) for part in key.split("---"))


def tag_text(tag: int) -> str:
    """A tag as the standard writes it: ``"(GGGG,EEEE)"``, upper-case hex.

    Parameters
    ----------
    tag : int
        The tag as an integer (e.g. ``0x00100010`` or a pydicom ``BaseTag``).

    Returns
    -------
    str
        E.g. ``"(0010,0010)"``.
    """
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def size_text(size: int) -> str:
    """A byte count for people, in decimal units: ``12 bytes``, ``3.4 kB``, ``151.0 MB``.

    Parameters
    ----------
    size : int
        Number of bytes.

    Returns
    -------
    str
        ``"1 byte"``, ``"N bytes"`` below 1000, else kB, MB or GB with one
        decimal.
    """
    if size < 1000:
        return f"{size} byte" if size == 1 else f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    if size < 1_000_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{size / 1_000_000_000:.1f} GB"


def severity_rank(severity: str) -> int:
    """Sort key of a finding severity: error 0, warning 1, info 2.

    Parameters
    ----------
    severity : str
        ``"error"``, ``"warning"`` or ``"info"``.

    Returns
    -------
    int
        Its place in :data:`SEVERITIES`; an unknown severity sorts last.
    """
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def type_rank(kind: str) -> int:
    """Sort key of an attribute Type: "1" < "2" < "1C" < "2C" < "3".

    Parameters
    ----------
    kind : str
        The Type as the tables write it.

    Returns
    -------
    int
        Its place in :data:`TYPES`; an unknown Type sorts last.
    """
    return TYPES.index(kind) if kind in TYPES else len(TYPES)


def usage_text(usage: str) -> str:
    """A module's Usage in an IOD in words: M mandatory, C conditional, U user option.

    Parameters
    ----------
    usage : str
        ``"M"``, ``"C"`` or ``"U"`` as the IOD tables write it.

    Returns
    -------
    str
        The word, or ``""`` for any other value.
    """
    return _USAGES.get(usage, "")


def _words_title(key: str) -> str:
    """Title of a key without a ``---`` separator, by the standard's writing rules."""
    words = [word for word in key.split("-") if word]
    out: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        pair = (word, words[index + 1]) if index + 1 < len(words) else None
        if pair in _COMPOUNDS:
            out.append(_COMPOUNDS[pair])
            index += 2
            continue
        if word == "multi" and pair is not None:
            out.append(f"Multi-{pair[1]}")
            index += 2
            continue
        if word in _ACRONYMS:
            out.append(word.upper())
        elif word in _SMALL_WORDS and out:
            out.append(word)
        else:
            out.append(word.capitalize())
        index += 1
    return " ".join(out)


def _key_of(name: str) -> str:
    """The table key a name would have: lower case, words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@cache
def _standard_names() -> dict[str, str]:
    """Table keys whose name the standard spells out: IOD and IE names."""
    names: dict[str, str] = {}
    iods: set[str] = set()
    for uid, entry in UID_dictionary.items():
        iod = iod_for_sop_class(str(uid))
        if iod is None:
            continue
        iods.add(iod)
        name = _STORAGE_TAIL.sub("", str(entry[0]))
        if _key_of(name) == iod:
            names.setdefault(iod, name)
    for iod in sorted(iods):
        for module in modules_of_iod(iod):
            entity = module.information_entity
            names.setdefault(_key_of(entity), entity)
    return names
