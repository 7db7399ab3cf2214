"""The one place that reads the DICOM standard's IOD, module and attribute tables.

The tables are the JSON files highdicom bundles in ``highdicom/_standard`` (built
from the standard's DocBook sources). They are read with :mod:`importlib.resources`
once per process and joined with pydicom's data dictionary for VR and VM.
highdicom's ``ModuleUsageValues`` enum is not used: the raw usage strings
(``"M"``, ``"C"``, ``"U"``) are read directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

_TABLE_PACKAGE = "highdicom"
_TABLE_FOLDER = "_standard"


@dataclass(frozen=True)
class ModuleUsage:
    """A module as used by one IOD."""

    key: str
    usage: str
    information_entity: str


@dataclass(frozen=True)
class ModuleAttribute:
    """An attribute of a module: its keyword, Type and the sequence path above it."""

    keyword: str
    type: str
    path: tuple[str, ...]


@cache
def _load_table(file_name: str) -> Any:
    """Read one bundled JSON table (cached for the life of the process)."""
    folder = resources.files(_TABLE_PACKAGE).joinpath(_TABLE_FOLDER)
    return json.loads(folder.joinpath(file_name).read_text(encoding="utf-8"))


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
    table: dict[str, str] = _load_table("sop_class_iod_map.json")
    return table.get(str(sop_class_uid))


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
    table: dict[str, list[dict[str, str]]] = _load_table("iod_module_map.json")
    return tuple(
        ModuleUsage(key=row["key"], usage=row["usage"], information_entity=row["ie"])
        for row in table.get(iod_key, [])
    )


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
    table: dict[str, list[dict[str, Any]]] = _load_table("module_attribute_map.json")
    return tuple(
        ModuleAttribute(keyword=row["keyword"], type=row["type"], path=tuple(row["path"]))
        for row in table.get(module_key, [])
    )


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
    return frozenset(
        attribute.keyword
        for module in modules_of_iod(iod_key)
        for attribute in attributes_of_module(module.key)
        if not attribute.path
    )
