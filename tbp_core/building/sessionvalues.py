"""Values of a session description: anatomic region, laterality, kind, lesion location.

Also the checks a session gets before anything is converted, the same for the
command line and the web app (each names its own way to fix them): the
close-ups' dermatoscope equipment (:func:`equipment_problem`) and a lesion
location inside its overview (:func:`location_problem`).

Shared by the manifest (:mod:`tbp_core.building.manifest`) and the folder
naming convention (:mod:`tbp_core.building.sessionfolder`). Regions are looked
up in :mod:`tbp_core.standard.anatomy` (and the views of a session template),
laterality letters are Image Laterality's Enumerated Values
(:mod:`tbp_core.standard.enumerations`), their words the CID 244 meanings.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, Literal

from tbp_core.building.iods.builder import DERMOSCOPIC_EQUIPMENT
from tbp_core.building.templates import TBP_SESSION, SessionTemplate
from tbp_core.errors import MetadataError
from tbp_core.standard import anatomy
from tbp_core.standard.anatomy import AnatomicRegion

__all__ = [
    "KIND_WORDS",
    "Kind",
    "equipment_problem",
    "location_problem",
    "lookup_region",
    "parse_kind",
    "parse_laterality",
    "parse_location",
    "plain",
]

Kind = Literal["overview", "closeup"]

#: Words for each kind (file names and the manifest's ``kind`` column).
KIND_WORDS: Mapping[str, Kind] = {
    "overview": "overview",
    "regional": "overview",
    "wide": "overview",
    "closeup": "closeup",
    "close-up": "closeup",
    "close up": "closeup",
    "dermoscopic": "closeup",
    "dermoscopy": "closeup",
    "derm": "closeup",
}


def plain(text: str) -> str:
    """Lower case, hyphens and underscores as spaces, single spaces."""
    return " ".join(re.sub(r"[-_]+", " ", text.lower()).split())


def lookup_region(
    text: str, template: SessionTemplate = TBP_SESSION
) -> tuple[AnatomicRegion, str | None]:
    """Find the anatomic region a manifest cell or file name means.

    Parameters
    ----------
    text : str
        A code value (``66643007``), a code meaning (``Skin of back``), a
        meaning without "Skin of" (``back``), or a view of ``template``
        (``left-arm``); case, hyphens and underscores do not matter. The
        dermatology sites (CID 4029) win: ``back`` is "Skin of back", not
        the Annex L region "Back".
    template : SessionTemplate
        Its views are accepted as region names.

    Returns
    -------
    tuple
        The region and the laterality the name implies (a template view's
        side), else None.

    Raises
    ------
    MetadataError
        Naming the close matches (meanings with their codes) and the fix.
    """
    wanted = plain(text)
    regions = anatomy.all_regions()  # skin sites first: they win a tie
    for region in regions:
        if wanted == region.code_value.lower():
            return region, None
    skin = [region for region in regions if region.is_skin]
    for region in skin:
        if wanted == plain(region.code_meaning):
            return region, None
    for region in skin:  # "back" is "Skin of back": a TBP image shows skin
        if wanted == plain(region.code_meaning).removeprefix("skin of "):
            return region, None
    for region in regions:
        if wanted == plain(region.code_meaning):
            return region, None
    view = template.view(text)
    if view is not None:
        return view.region(), view.laterality
    raise MetadataError(
        f"region {text.strip()!r} is not a known anatomic region; {_region_hint(wanted, template)}"
    )


def _region_hint(wanted: str, template: SessionTemplate) -> str:
    """Close matches for an unknown region, and what to write instead."""
    close = [f"{r.code_meaning!r} ({r.code_value})" for r in anatomy.search_regions(wanted, 4)]
    views = [v.name for v in template.views]
    close += [repr(v) for v in difflib.get_close_matches(wanted.replace(" ", "-"), views, 2)]
    if not close:
        skin = [r for r in anatomy.all_regions() if r.is_skin]
        meanings = {plain(r.code_meaning).removeprefix("skin of "): r for r in skin}
        for meaning in difflib.get_close_matches(wanted, list(meanings), 3, cutoff=0.6):
            close.append(f"{meanings[meaning].code_meaning!r} ({meanings[meaning].code_value})")
    suggestion = f"close matches: {', '.join(close)}" if close else "no close match"
    return (
        f"{suggestion} — write a code meaning, a SNOMED CT code or a view of "
        f"'tbp-dicom templates' ({', '.join(views[:4])}, ...)"
    )


def parse_laterality(text: str) -> str | None:
    """Read a laterality: ``L``/``R``/``B``/``U`` or the words, any case.

    Parameters
    ----------
    text : str
        ``"L"``, ``"left"``, ``"Right"``, ``"both"``, ``"bilateral"``,
        ``"unilateral"``, ... or empty.

    Returns
    -------
    str or None
        The Image Laterality letter, None for an empty cell.

    Raises
    ------
    MetadataError
        Naming the values accepted.
    """
    from tbp_core.standard.enumerations import allowed_values

    word = text.strip().upper()
    if not word:
        return None
    letters = allowed_values("ImageLaterality") or ("R", "L", "B", "U")
    words = {code.code_meaning.upper(): letter for letter, code in anatomy.LATERALITY.items()}
    words["BOTH"] = "B"
    letter = word if word in letters else words.get(word)
    if letter not in letters:
        raise MetadataError(
            f"laterality {text.strip()!r} is not one of {', '.join(letters)} "
            "(or left, right, both, unilateral)"
        )
    return letter


def parse_kind(text: str) -> Kind | None:
    """Read a kind: ``overview`` (or regional) or ``closeup`` (close-up, dermoscopic).

    Parameters
    ----------
    text : str

    Returns
    -------
    {"overview", "closeup"} or None
        None for an empty cell.

    Raises
    ------
    MetadataError
    """
    word = " ".join(text.strip().lower().split())
    if not word:
        return None
    kind = KIND_WORDS.get(word)
    if kind is None:
        raise MetadataError(f"kind {text.strip()!r} is not 'overview' or 'closeup'")
    return kind


def parse_location(x: str, y: str) -> tuple[float, float] | None:
    """Read a manifest's x and y cells: the lesion's pixel column and row.

    Parameters
    ----------
    x, y : str
        Two numbers >= 0, or both empty.

    Returns
    -------
    tuple of float or None
        (column, row), None when both are empty.

    Raises
    ------
    MetadataError
    """
    if not x.strip() and not y.strip():
        return None
    try:
        column, row = float(x), float(y)
    except ValueError:
        column = row = -1.0
    if not (0 <= column < float("inf") and 0 <= row < float("inf")):
        raise MetadataError(
            f"x,y {x.strip()!r},{y.strip()!r} is not a pixel column and row >= 0 — give both "
            "numbers (e.g. x=120, y=340) or leave both empty"
        )
    return column, row


def equipment_problem(
    origin: str, metadata: Mapping[str, Any], fix: str | None = None
) -> str | None:
    """Why a session's close-ups cannot be converted for want of equipment values, or None.

    Parameters
    ----------
    origin : str
        The manifest or folder, for the message.
    metadata : Mapping
        The values the close-ups get (keyword → value).
    fix : str, optional
        How to give them; default the command line's (``--closeup-metadata``
        or ``--set``).

    Returns
    -------
    str or None
        Naming the dermatoscope's Type 1 Enhanced General Equipment values
        missing (Manufacturer, Manufacturer's Model Name, Device Serial
        Number, Software Versions) and the fix.
    """
    missing = [k for k in DERMOSCOPIC_EQUIPMENT if not str(metadata.get(k) or "").strip()]
    if not missing:
        return None
    if fix is None:
        sets = " ".join(f"--set {k}=..." for k in missing)
        fix = f"give them with --closeup-metadata TEMPLATE.json or {sets}"
    return (
        f"{origin}: the close-ups are Dermoscopic Photography Images, which need the "
        f"dermatoscope's {', '.join(missing)} — {fix}"
    )


def location_problem(
    origin: str, location: tuple[float, float], overview: str, size: tuple[int, int]
) -> str | None:
    """Why a lesion location does not fit on its overview image, or None.

    Parameters
    ----------
    origin : str
        Where the close-up was described (``"session.csv line 4"``).
    location : tuple of float
        The lesion's (column, row).
    overview : str
        The overview's file name.
    size : tuple of int
        The overview's (columns, rows), upright.

    Returns
    -------
    str or None
    """
    column, row = location
    if column < size[0] and row < size[1]:
        return None
    return (
        f"{origin}: x,y {column:g},{row:g} lie outside the overview {overview} "
        f"({size[0]} columns × {size[1]} rows) — give a pixel inside it"
    )
