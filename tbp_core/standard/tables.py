"""The one place that reads the DICOM standard's IOD, module and attribute tables.

The tables come from highdicom's ``highdicom/_standard`` JSON files (built from
the standard's DocBook sources), but are read at run time from a compact copy
in ``tbp_core/data/`` made from them (``python -m tbp_core.standard.tables``
rewrites it; a test rebuilds it from the installed highdicom and compares, so
it cannot drift):

- ``standard_tables.json``: the SOP class → IOD map, each IOD's modules, the
  anatomic region table, and where each module's attributes start in
- ``module_attributes.jsonl``: one line per module (sequence paths interned),
  so a command reads only the modules of the IODs it looks at — the 22 MB
  module table of highdicom is never parsed at run time.

The compact rows are joined with pydicom's data dictionary for VR and VM.
highdicom's ``ModuleUsageValues`` enum is not used: the raw usage strings
(``"M"``, ``"C"``, ``"U"``) are read directly.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache
from importlib import metadata, util
from pathlib import Path
from typing import Any

from pydicom import datadict

_TABLE_PACKAGE = "highdicom"
_TABLE_FOLDER = "_standard"
_DATA = Path(__file__).parents[1] / "data"
#: The compact tables (see the module docstring) and highdicom's files they come from.
COMPACT_TABLES = _DATA / "standard_tables.json"
COMPACT_MODULES = _DATA / "module_attributes.jsonl"
_SOURCE_FILES = {
    "sop_class_iod_map": "sop_class_iod_map.json",
    "iod_module_map": "iod_module_map.json",
    "anatomic_regions": "anatomic_regions.json",
}

#: Top-level keywords of the IODs we produce, derived from the tables above
#: (``python -m tbp_core.standard.tables`` rewrites it). Reading it instead of the
#: 20 MB module table keeps a conversion fast and small; a test checks that it
#: matches the tables of the installed highdicom.
_PRODUCED_IOD_KEYWORDS = _DATA / "iod_keywords.json"
PRODUCED_IODS = (
    "vl-photographic-image",
    "dermoscopic-photography-image",
    "secondary-capture-image",
)


@dataclass(frozen=True, slots=True)
class ModuleUsage:
    """A module as used by one IOD."""

    key: str
    usage: str
    information_entity: str


@dataclass(frozen=True, slots=True)
class ModuleAttribute:
    """An attribute of a module: its keyword, Type and the sequence path above it."""

    keyword: str
    type: str
    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AttributeInfo:
    """What pydicom's data dictionary says of an attribute (the standard's PS3.6)."""

    keyword: str
    tag: int
    vr: str
    vm: str
    name: str
    retired: bool


@cache
def attribute_info(keyword: str) -> AttributeInfo | None:
    """Join a keyword from the tables with pydicom's dictionary.

    Parameters
    ----------
    keyword : str
        A DICOM keyword, e.g. ``"PatientName"``.

    Returns
    -------
    AttributeInfo or None
        None when the dictionary does not know the keyword.
    """
    tag = datadict.tag_for_keyword(keyword)
    if tag is None:
        return None
    return AttributeInfo(
        keyword=keyword,
        tag=tag,
        vr=datadict.dictionary_VR(tag),
        vm=datadict.dictionary_VM(tag),
        name=datadict.dictionary_description(tag),
        retired=bool(datadict.dictionary_is_retired(tag)),
    )


def table_folder() -> Path:
    """Folder of highdicom's bundled tables, found without importing highdicom."""
    spec = util.find_spec(_TABLE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("highdicom is not installed: it provides the standard's tables")
    return Path(next(iter(spec.submodule_search_locations))) / _TABLE_FOLDER


def tables_version() -> str:
    """Version of the installed highdicom distribution (the source of the compact tables)."""
    return metadata.version(_TABLE_PACKAGE)


def compact_tables_version() -> str:
    """Version of the highdicom whose tables the compact copy was built from."""
    version: str = _compact()["highdicom"]
    return version


@cache
def _load_table(file_name: str) -> Any:
    """Read one of highdicom's JSON tables (for building the compact copy and tests)."""
    return json.loads((table_folder() / file_name).read_text(encoding="utf-8"))


@cache
def _compact() -> dict[str, Any]:
    """The compact tables: small maps and the module line offsets (once per process)."""
    table: dict[str, Any] = json.loads(COMPACT_TABLES.read_text(encoding="utf-8"))
    return table


@cache
def _module_rows(module_key: str) -> tuple[ModuleAttribute, ...]:
    """One module's attributes, read from its line of the compact module file."""
    where = _compact()["module_lines"].get(module_key)
    if where is None:
        return ()
    with COMPACT_MODULES.open("rb") as stream:
        stream.seek(where[0])
        line = json.loads(stream.read(where[1]))
    paths = [tuple(path.split(".")) if path else () for path in line["paths"]]
    return tuple(
        ModuleAttribute(keyword=keyword, type=kind, path=paths[index])
        for keyword, kind, index in line["rows"]
    )


def build_compact_tables(tables: Path = COMPACT_TABLES, modules: Path = COMPACT_MODULES) -> None:
    """Write the compact tables from the installed highdicom's JSON files.

    Parameters
    ----------
    tables : Path
        Where the small maps go (defaults to the packaged file).
    modules : Path
        Where the one-line-per-module attribute file goes.
    """
    lines: list[bytes] = []
    offsets: dict[str, list[int]] = {}
    position = 0
    for key, rows in _load_table("module_attribute_map.json").items():
        paths: dict[str, int] = {}
        compact_rows = [
            [row["keyword"], row["type"], paths.setdefault(".".join(row["path"]), len(paths))]
            for row in rows
        ]
        line = json.dumps({"paths": list(paths), "rows": compact_rows}, separators=(",", ":"))
        encoded = line.encode("utf-8") + b"\n"
        offsets[key] = [position, len(encoded)]
        position += len(encoded)
        lines.append(encoded)
    payload: dict[str, Any] = {"highdicom": tables_version()}
    payload.update({name: _load_table(file) for name, file in _SOURCE_FILES.items()})
    payload["iod_module_map"] = {
        iod: [[row["key"], row["usage"], row["ie"]] for row in rows]
        for iod, rows in payload["iod_module_map"].items()
    }
    payload["module_lines"] = offsets
    modules.write_bytes(b"".join(lines))
    tables.write_text(json.dumps(payload, separators=(",", ":")) + "\n", encoding="utf-8")


def anatomic_region_table() -> dict[str, list[Any]]:
    """The standard's body part → [scheme, code, meaning, paired] table (PS3.16 Annex L).

    Returns
    -------
    dict
        Keyed by Body Part Examined defined term.
    """
    table: dict[str, list[Any]] = _compact()["anatomic_regions"]
    return table


def iod_for_sop_class(sop_class_uid: str) -> str | None:
    """Return the IOD key (e.g. ``"vl-photographic-image"``) of a SOP Class UID.

    Parameters
    ----------
    sop_class_uid : str
        The SOP Class UID.

    Returns
    -------
    str or None
        The IOD key, or None when the SOP class is unknown to the tables.
    """
    table: dict[str, str] = _compact()["sop_class_iod_map"]
    return table.get(str(sop_class_uid))


#: Where the current standard's IOD tables differ from the bundled ones (highdicom
#: 0.28.2): modules added to an IOD or made mandatory since; dciodvfy (dicom3tools
#: 2026-09) requires them. Applied here so every reader sees one view.
_NEWER_MODULES: dict[str, tuple[ModuleUsage, ...]] = {
    "dermoscopic-photography-image": (
        ModuleUsage("frame-of-reference", "M", "Frame of Reference"),
    ),
    "rt-structure-set": (ModuleUsage("frame-of-reference", "M", "Frame of Reference"),),
}


def modules_of_iod(iod_key: str) -> tuple[ModuleUsage, ...]:
    """Return the modules of an IOD in the standard's order.

    Parameters
    ----------
    iod_key : str
        An IOD key as returned by :func:`iod_for_sop_class`.

    Returns
    -------
    tuple of ModuleUsage
        Empty when the IOD is unknown.
    """
    table: dict[str, list[list[str]]] = _compact()["iod_module_map"]
    listed = tuple(
        ModuleUsage(key=key, usage=usage, information_entity=ie)
        for key, usage, ie in table.get(iod_key, [])
    )
    newer = {module.key: module for module in _NEWER_MODULES.get(iod_key, ())}
    updated = tuple(newer.pop(module.key, module) for module in listed)
    return updated + tuple(newer.values())


def attributes_of_module(module_key: str) -> tuple[ModuleAttribute, ...]:
    """Return every attribute of a module, nested ones with their sequence path.

    Parameters
    ----------
    module_key : str
        A module key such as ``"general-image"``.

    Returns
    -------
    tuple of ModuleAttribute
        Empty when the module is unknown.
    """
    return _module_rows(module_key)


@cache
def module_attributes_by_path(
    module_key: str,
) -> tuple[tuple[tuple[str, ...], tuple[ModuleAttribute, ...]], ...]:
    """Return a module's attributes grouped by their sequence path (cached).

    Parameters
    ----------
    module_key : str
        A module key such as ``"general-image"``.

    Returns
    -------
    tuple of (path, attributes)
        One entry per sequence path, the top level (``()``) first, in table order.
    """
    groups: dict[tuple[str, ...], list[ModuleAttribute]] = {}
    for attribute in attributes_of_module(module_key):
        groups.setdefault(attribute.path, []).append(attribute)
    return tuple((path, tuple(rows)) for path, rows in groups.items())


@cache
def top_level_keywords_of_iod(iod_key: str) -> frozenset[str]:
    """Return the keywords any module of the IOD allows at the top level of a dataset.

    Parameters
    ----------
    iod_key : str
        An IOD key.

    Returns
    -------
    frozenset of str
        Keywords of top-level attributes of all modules (mandatory, conditional
        and user-optional) of the IOD.
    """
    produced = _produced_iod_keywords()
    if iod_key in produced:
        return produced[iod_key]
    return compute_top_level_keywords(iod_key)


@cache
def _produced_iod_keywords() -> dict[str, frozenset[str]]:
    """The derived keyword lists, if they were made from the installed tables."""
    try:
        stored = json.loads(_PRODUCED_IOD_KEYWORDS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if stored.get("highdicom") != _compact()["highdicom"]:
        return {}
    return {key: frozenset(words) for key, words in stored["iods"].items()}


def compute_top_level_keywords(iod_key: str) -> frozenset[str]:
    """Compute :func:`top_level_keywords_of_iod` from the full module table.

    Parameters
    ----------
    iod_key : str
        An IOD key.

    Returns
    -------
    frozenset of str
        Keywords of top-level attributes of all modules (mandatory, conditional
        and user-optional) of the IOD.
    """
    return frozenset(
        attribute.keyword
        for module in modules_of_iod(iod_key)
        for attribute in attributes_of_module(module.key)
        if not attribute.path
    )


def write_produced_iod_keywords(target: Path = _PRODUCED_IOD_KEYWORDS) -> None:
    """Rewrite the derived keyword lists of the produced IODs from the full tables.

    Parameters
    ----------
    target : Path
        Where to write (defaults to the packaged file).
    """
    iods = {key: sorted(compute_top_level_keywords(key)) for key in PRODUCED_IODS}
    payload = {"highdicom": tables_version(), "iods": iods}
    target.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    build_compact_tables()
    _compact.cache_clear()
    _module_rows.cache_clear()
    write_produced_iod_keywords()
    sys.stdout.write(f"wrote {COMPACT_TABLES}, {COMPACT_MODULES} and {_PRODUCED_IOD_KEYWORDS}\n")
