"""A folder of images as a TBP session: regions, kinds and lesion ids from file names.

The convention (forgiving: case, hyphens and spaces do not matter)::

    <region>[_<kind>][_<lesion id>].<png|jpg|jpeg|tif|tiff>

    back_overview.png            overview of "Skin of back"
    left-arm_overview.jpg        overview of the template view left-arm (upper extremity, left)
    left-arm_closeup_L12.jpg     close-up of lesion L12, linked to left-arm_overview.jpg
    skin-of-neck.png             overview (the default kind) of "Skin of neck"

``<region>`` is what a manifest's region column takes (a view of the session
template, a code meaning with or without "Skin of", a code value), optionally
after a side word (``left``, ``right``, ``l``, ``r``, ``both``). ``<kind>`` is
``overview`` (also ``regional``, ``wide``; the default) or ``closeup`` (also
``close-up``, ``dermoscopic``, ``dermoscopy``, ``derm``). A close-up's parts
after the kind are its lesion id.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tbp_core.building.manifest import (
    IMAGE_SUFFIXES,
    Draft,
    ManifestError,
    Session,
    SessionEntry,
    check_unique,
    coverage_notes,
)
from tbp_core.building.sessionvalues import KIND_WORDS, Kind, lookup_region, plain
from tbp_core.building.templates import TBP_SESSION, SessionTemplate
from tbp_core.errors import MetadataError, TbpError
from tbp_core.standard import anatomy
from tbp_core.standard.anatomy import AnatomicRegion

__all__ = ["session_from_folder", "session_from_names"]


def session_from_folder(folder: str | Path, *, template: SessionTemplate = TBP_SESSION) -> Session:
    """Describe a folder of images as a session, from their file names.

    The convention: ``<region>[_<kind>][_<lesion id>].<ext>``, parts separated
    by underscores, case and hyphens free. ``<region>`` is a view of the
    template (``left-arm``), a code meaning with or without "Skin of"
    (``back``, ``skin-of-back``) or a code value, optionally with a side word
    first (``left-forearm``... ``right``, ``l``, ``r``, ``both``); ``<kind>``
    is ``overview`` (the default; also ``regional``) or ``closeup`` (also
    ``close-up``, ``dermoscopic``, ``derm``); a close-up's next part is its
    lesion id. A close-up is linked to the one overview of the same region and
    side; when there is none, or several, it is converted unlinked with a note.

    Parameters
    ----------
    folder : str or Path
        The folder; its images (PNG, JPEG, TIFF; not its subfolders) in name order.
    template : SessionTemplate
        The session template (views accepted as regions, missing views noted).

    Returns
    -------
    Session

    Raises
    ------
    ManifestError
        Naming each file whose region cannot be told and how to rename it.
    """
    root = Path(folder)
    try:
        files = sorted(
            (p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
            key=lambda p: (p.name.lower(), p.name),
        )
    except OSError as exc:
        raise TbpError(f"cannot read folder '{root}': {exc.strerror}") from exc
    files = [p for p in files if p.is_file() and not p.name.startswith(".")]
    if not files:
        raise ManifestError(
            [
                f"{root}: no PNG, JPEG or TIFF images in this folder — give the folder holding "
                "the session's images"
            ]
        )
    return session_from_names(files, str(root), template=template, manifest_hint="--manifest")


def session_from_names(
    files: Sequence[Path],
    origin: str,
    *,
    template: SessionTemplate = TBP_SESSION,
    manifest_hint: str = "--manifest",
) -> Session:
    """Describe images as a session from their file names (see :func:`session_from_folder`).

    Parameters
    ----------
    files : sequence of Path
        The images, in session order; only their names are read (the web
        app passes its uploaded documents' names).
    origin : str
        What they are, for messages (the folder).
    template : SessionTemplate
        The session template.
    manifest_hint : str
        How to give a manifest instead, named in the rename advice.

    Returns
    -------
    Session

    Raises
    ------
    ManifestError
        As :func:`session_from_folder`.
    """
    problems: list[str] = []
    drafts = [_draft_from_name(p, template, problems, manifest_hint) for p in files]
    found = [d for d in drafts if d is not None]
    check_unique(found, origin, problems)
    if problems:
        raise ManifestError(problems)
    notes: list[str] = []
    entries = [_link_by_region(d, found, notes) for d in found]
    notes.extend(coverage_notes(entries, template))
    return Session(tuple(entries), origin, tuple(notes))


_SIDES = {"left": "L", "l": "L", "right": "R", "r": "R", "both": "B", "bilateral": "B"}


def _draft_from_name(
    path: Path, template: SessionTemplate, problems: list[str], manifest_hint: str
) -> Draft | None:
    """Read region, side, kind and lesion id from a file name."""
    parts = [part for part in path.stem.split("_") if part]
    kind_at = next((i for i, p in enumerate(parts) if p.lower() in KIND_WORDS), None)
    kind: Kind = KIND_WORDS[parts[kind_at].lower()] if kind_at is not None else "overview"
    lesion = None
    if kind == "closeup" and kind_at is not None and kind_at + 1 < len(parts):
        lesion = "_".join(parts[kind_at + 1 :])
    # Without a kind, the region is the longest leading part that names one
    # (skin_of_back_2.png: "skin of back").
    ends = [kind_at] if kind_at is not None else list(range(len(parts), 0, -1))
    region_text = "_".join(parts[: ends[-1]])
    region: AnatomicRegion | None = None
    side: str | None = None
    for end in ends:
        region, side = _region_from_words("_".join(parts[:end]), template)
        if region is not None:
            break
    if region is None:
        problems.append(
            f"{path.name}: cannot tell the body region from the name ({region_text!r}) — rename "
            "it <region>_<overview|closeup>[_<lesion id>] (e.g. back_overview.png, "
            f"left-arm_closeup_L12.jpg) or describe the session in a manifest ({manifest_hint})"
        )
        return None
    if side is not None and not region.paired:
        side = None if side == "B" else side
        if side is not None:
            problems.append(
                f"{path.name}: {region.code_meaning!r} has no left or right side — drop the "
                "side from the name"
            )
            return None
    return Draft(0, path.name, path, kind, region, side, lesion, "", None)


def _region_from_words(
    text: str, template: SessionTemplate
) -> tuple[AnatomicRegion | None, str | None]:
    """The region (and side) a file name's region part names, or (None, None)."""
    words = plain(text).split()
    if not words:
        return None, None
    candidates: list[tuple[str, str | None]] = [(" ".join(words), None)]
    if words[0] in _SIDES and len(words) > 1:
        candidates.append((" ".join(words[1:]), _SIDES[words[0]]))
    for candidate, side in candidates:
        try:
            region, implied = lookup_region(candidate, template)
        except MetadataError:
            continue
        return region, implied or side
    return None, None


def _link_by_region(draft: Draft, drafts: Sequence[Draft], notes: list[str]) -> SessionEntry:
    """A folder entry; a close-up linked to the one overview of its region and side."""
    regional: Path | None = None
    if draft.kind == "closeup" and draft.region is not None:
        same = [
            d
            for d in drafts
            if d.kind == "overview"
            and d.region == draft.region
            and d.laterality == draft.laterality
        ]
        if len(same) == 1:
            regional = same[0].source
        else:
            why = "no overview" if not same else f"{len(same)} overviews"
            notes.append(
                f"{draft.cell}: {why} of {draft.region.code_meaning}{_side_text(draft)} in the "
                "folder — converted without a link (use a manifest to choose the overview)"
            )
    return SessionEntry(
        draft.cell,
        draft.source,
        draft.kind or "overview",
        draft.region,
        draft.laterality,
        draft.lesion_id,
        regional,
    )


def _side_text(draft: Draft) -> str:
    if draft.laterality is None:
        return ""
    return f" ({anatomy.LATERALITY[draft.laterality].code_meaning.lower()})"
