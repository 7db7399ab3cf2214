"""PS3.15 Table E.1-1: the Basic Application Level Confidentiality Profile and its options.

The table is read from ``tbp_core/data/confidentiality_profile.json``, generated
by ``tools/build_confidentiality_profile.py`` from a machine-readable copy of the
standard (its edition is :func:`profile_edition`). Each row gives the action of
the basic profile for one attribute and, per option, the action that replaces it
when the option is chosen:

- ``D`` replace with a dummy value, ``Z`` replace with an empty (or dummy) value,
  ``X`` remove, ``K`` keep, ``C`` clean, ``U`` replace the UID consistently;
- compound actions (``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D``, ``X/Z/U*``) choose by the
  attribute's Type in the object's IOD (:func:`resolve`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

__all__ = [
    "RETAIN_OPTIONS",
    "ProfileRow",
    "action_for",
    "method_codes",
    "profile_edition",
    "resolve",
    "row_for",
]

#: The options a user may choose (command-line names), in the order they are reported.
RETAIN_OPTIONS: Final = (
    "dates",
    "shifted-dates",
    "patient-characteristics",
    "device",
    "uids",
    "descriptors",
    "tbp-private",
)

#: Option (command-line name) → the table's option column it selects.
_COLUMN: Final = {
    "dates": "dates",
    "shifted-dates": "shifted-dates",
    "patient-characteristics": "patient-characteristics",
    "device": "device",
    "uids": "uids",
    "descriptors": "descriptors",
    "tbp-private": "safe-private",
}

#: Option → its code in CID 7050 "De-identification Method" (scheme DCM).
_CODES: Final[dict[str, Code]] = {
    "dates": codes.cid7050.RetainLongitudinalTemporalInformationFullDatesOption,
    "shifted-dates": codes.cid7050.RetainLongitudinalTemporalInformationModifiedDatesOption,
    "patient-characteristics": codes.cid7050.RetainPatientCharacteristicsOption,
    "device": codes.cid7050.RetainDeviceIdentityOption,
    "uids": codes.cid7050.RetainUidsOption,
    "descriptors": codes.cid7050.CleanDescriptorsOption,
    "tbp-private": codes.cid7050.RetainSafePrivateOption,
}


@dataclass(frozen=True)
class ProfileRow:
    """One row of Table E.1-1.

    ``tag`` is ``GGGGEEEE`` (``x`` for a repeating-group wildcard, ``odd`` for
    every private element); ``options`` maps a table option column to its action.
    """

    tag: str
    name: str
    basic: str
    options: tuple[tuple[str, str], ...]


@cache
def _table() -> dict[str, object]:
    text = resources.files("tbp_core").joinpath("data/confidentiality_profile.json").read_text()
    table: dict[str, object] = json.loads(text)
    return table


@cache
def _rows() -> dict[str, ProfileRow]:
    rows = _table()["rows"]
    assert isinstance(rows, list)
    return {
        tag: ProfileRow(tag, name, basic, tuple(sorted(options.items())))
        for tag, name, basic, options in rows
    }


def profile_edition() -> str:
    """The DICOM edition the table was taken from, e.g. ``"2024b"``."""
    return str(_table()["edition"])


def row_for(tag: int) -> ProfileRow | None:
    """The row of Table E.1-1 that covers a public ``tag`` (repeating groups too).

    Parameters
    ----------
    tag : int
        The element's tag, e.g. ``0x00100010``.

    Returns
    -------
    ProfileRow or None
        None when the table does not list the attribute (the basic profile keeps it).
    """
    rows = _rows()
    group, element = tag >> 16, tag & 0xFFFF
    if group & 1:
        return rows["odd"]
    exact = rows.get(f"{tag:08X}")
    if exact is not None:
        return exact
    if group & 0xFF00 == 0x5000:
        return rows["50xxxxxx"]
    if group & 0xFF00 == 0x6000:
        return rows.get(f"60xx{element:04X}")
    return None


def action_for(row: ProfileRow, retain: frozenset[str]) -> str:
    """The action for ``row`` with the chosen options: ``K`` beats ``C`` beats the basic one.

    Parameters
    ----------
    row : ProfileRow
        A row of the table.
    retain : frozenset of str
        Chosen options, names from :data:`RETAIN_OPTIONS`.

    Returns
    -------
    str
        One action or a compound one such as ``"X/Z/D"`` (see :func:`resolve`).
    """
    columns = {_COLUMN[name] for name in retain}
    chosen = {action for column, action in row.options if column in columns}
    for action in ("K", "C"):
        if action in chosen:
            return action
    return row.basic


def resolve(action: str, attribute_type: str | None) -> str:
    """Choose one action of a compound one by the attribute's Type in the IOD.

    The smallest change that keeps the object conformant: a Type 1 attribute
    gets a dummy value (``D``) or keeps its items with new UIDs (``U*``), a Type 2
    one an empty value (``Z``); an optional or unknown one is removed (``X``).
    Reference sequences (``X/Z/U*``) are always kept with their UIDs replaced:
    removing them breaks cross-references that the rest of the object relies on.
    An attribute the table removes (``X``) but the IOD requires (Type 1, 2 or
    their conditional forms, which apply since the attribute is present) gets a
    dummy (Type 1) or empty (Type 2) value instead, so the object stays valid.

    Parameters
    ----------
    action : str
        An action from the table, e.g. ``"X/Z/D"``.
    attribute_type : str or None
        The attribute's Type (``1``, ``1C``, ``2``, ``2C``, ``3``) where the
        object's IOD lists it, else None.

    Returns
    -------
    str
        One of ``D Z X K C U``.
    """
    choices = [part.rstrip("*") for part in action.split("/")]
    level = (attribute_type or "3")[0]
    if choices == ["X"] and level in ("1", "2"):
        return "D" if level == "1" else "Z"  # the IOD needs it: keep it, without its value
    if len(choices) == 1:
        return choices[0]
    if "U" in choices:
        # X/Z/U* (Referenced Image, Source Image Sequence): the references are kept
        # with new UIDs, so references inside the object and across the batch hold.
        return "U"
    if level == "1":
        preference = ("D", "U", "Z", "X")
    elif level == "2":
        preference = ("U", "Z", "D", "X")
    else:
        preference = ("X", "Z", "D", "U")
    return next(choice for choice in preference if choice in choices)


def method_codes(retain: frozenset[str]) -> tuple[Code, ...]:
    """CID 7050 codes of the profile and the chosen options, profile first.

    Parameters
    ----------
    retain : frozenset of str
        Chosen options, names from :data:`RETAIN_OPTIONS`.

    Returns
    -------
    tuple of pydicom.sr.coding.Code
    """
    chosen = tuple(_CODES[name] for name in RETAIN_OPTIONS if name in retain)
    return (codes.cid7050.BasicApplicationConfidentialityProfile, *chosen)
