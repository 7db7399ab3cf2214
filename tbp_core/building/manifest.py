"""A TBP session described as a whole: a manifest (CSV) or a folder of named images.

A session is a set of regional overviews (VL Photographic Image) and
dermoscopic close-ups (Dermoscopic Photography Image) of one patient, taken
in one visit; :mod:`tbp_core.building.sessionconvert` converts it into one
study with one series per kind. This module reads and checks the description:
:func:`parse_manifest` (CSV) here, and
:func:`tbp_core.building.sessionfolder.session_from_folder` (file names), both
return a :class:`Session` of frozen :class:`SessionEntry` rows, or raise a
:class:`ManifestError` listing every problem, each naming its CSV line (or
file) and the fix. Nothing is converted or written here.

Manifest columns (header row; case, spaces and hyphens do not matter):

``file`` (required)
    The image; a relative path is read from the CSV's folder.
``region`` (required header; required for overviews)
    A code meaning (``Skin of back``, or just ``back``), a code value
    (``66643007``) from :mod:`tbp_core.standard.anatomy`, or a view of the
    session template (``left-arm``, which brings its side).
``laterality``
    ``L``, ``R``, ``B``, ``U`` or ``left``, ``right``, ``both``/``bilateral``,
    ``unilateral`` (Image Laterality's Enumerated Values).
``lesion_id``
    The lesion's Tracking ID (close-ups).
``regional``
    The ``file`` of the overview (in this manifest) a close-up was taken on.
``kind``
    ``overview`` or ``closeup``; when empty, a row with a ``regional``,
    ``lesion_id`` or ``x``/``y`` is a close-up, any other an overview.
``x``, ``y``
    The lesion's pixel column and row on its regional overview.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tbp_core.building.convert import dicom_file_name
from tbp_core.building.sessionvalues import (
    Kind,
    lookup_region,
    parse_kind,
    parse_laterality,
    parse_location,
)
from tbp_core.building.templates import TBP_SESSION, SessionTemplate
from tbp_core.errors import MetadataError, TbpError
from tbp_core.standard import anatomy
from tbp_core.standard.anatomy import AnatomicRegion

__all__ = [
    "COLUMNS",
    "IMAGE_SUFFIXES",
    "FindImage",
    "ManifestError",
    "Session",
    "SessionEntry",
    "decode_manifest",
    "missing_views",
    "on_disk",
    "parse_manifest",
    "parse_manifest_text",
    "session_csv",
]

#: The manifest's columns, in the order :func:`session_csv` writes them.
COLUMNS = ("file", "kind", "region", "laterality", "lesion_id", "regional", "x", "y")
_REQUIRED = ("file", "region")
#: Other header words understood as a column.
_COLUMN_ALIASES = {
    "filename": "file",
    "path": "file",
    "image": "file",
    "lesion": "lesion_id",
    "lesionid": "lesion_id",
    "tracking_id": "lesion_id",
    "side": "laterality",
    "overview": "regional",
    "type": "kind",
}
#: Image files a folder session takes (the converter's formats).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})


class ManifestError(TbpError):
    """A session description that cannot be converted; ``problems`` has one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__(f"{self.problems[0]}{more}")


@dataclass(frozen=True)
class SessionEntry:
    """One image of a session, checked.

    Attributes
    ----------
    origin : str
        Where it was described, for messages: ``"session.csv line 4"`` or the
        file name (folder sessions).
    source : Path
        The image file.
    kind : {"overview", "closeup"}
        Regional overview or dermoscopic close-up.
    region : AnatomicRegion or None
        Its anatomic region (a close-up without one takes its overview's).
    laterality : str or None
        ``"L"``, ``"R"``, ``"B"`` or ``"U"``.
    lesion_id : str or None
        The lesion's Tracking ID.
    regional : Path or None
        The ``source`` of the overview entry a close-up was taken on.
    location : tuple of float or None
        The lesion's (column, row) on that overview.
    """

    origin: str
    source: Path
    kind: Kind
    region: AnatomicRegion | None = None
    laterality: str | None = None
    lesion_id: str | None = None
    regional: Path | None = None
    location: tuple[float, float] | None = None

    def region_value(self) -> dict[str, object] | None:
        """Return its Anatomic Region Sequence item in template form, or None.

        Returns
        -------
        dict or None
        """
        if self.region is None:
            return None
        side: anatomy.Laterality | None = None
        for letter in ("L", "R", "B", "U"):
            if self.laterality == letter:
                side = letter
        return anatomy.anatomic_region_value(self.region, laterality=side)


@dataclass(frozen=True)
class Session:
    """A checked session: its entries (in the order given) and notes for the user.

    Attributes
    ----------
    entries : tuple of SessionEntry
    origin : str
        The manifest or folder it was read from.
    notes : tuple of str
        What the user should know (unlinked close-ups, template views missing).
    """

    entries: tuple[SessionEntry, ...]
    origin: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def overviews(self) -> tuple[SessionEntry, ...]:
        """The regional overviews, in order."""
        return tuple(e for e in self.entries if e.kind == "overview")

    @property
    def closeups(self) -> tuple[SessionEntry, ...]:
        """The dermoscopic close-ups, in order."""
        return tuple(e for e in self.entries if e.kind == "closeup")

    def entry_for(self, source: Path) -> SessionEntry:
        """Return the entry whose image is ``source``.

        Parameters
        ----------
        source : Path

        Returns
        -------
        SessionEntry
        """
        return next(e for e in self.entries if e.source == source)


# ------------------------------------------------------------------ manifests


@dataclass
class Draft:
    """A manifest row while it is being checked."""

    line: int
    cell: str
    source: Path
    kind: Kind | None
    region: AnatomicRegion | None
    laterality: str | None
    lesion_id: str | None
    regional: str
    location: tuple[float, float] | None


def parse_manifest(path: str | Path, *, template: SessionTemplate = TBP_SESSION) -> Session:
    """Read and check a session manifest (CSV).

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8; comma, semicolon or tab separated). Relative
        image paths are read from its folder.
    template : SessionTemplate
        The session template whose views are accepted as regions and whose
        missing views are noted.

    Returns
    -------
    Session

    Raises
    ------
    ManifestError
        Listing every problem with its line and fix; nothing is converted.
    """
    manifest = Path(path)
    try:
        data = manifest.read_bytes()
    except OSError as exc:
        raise TbpError(
            f"cannot read manifest '{manifest}': {exc.strerror} — check the path of the CSV"
        ) from exc
    text = decode_manifest(data, manifest.name)
    return parse_manifest_text(text, base=manifest.parent, name=manifest.name, template=template)


def decode_manifest(data: bytes, name: str) -> str:
    """The text of a manifest's bytes: UTF-8 (BOM or not), or UTF-16 with a BOM.

    Raises
    ------
    ManifestError
        When the bytes are not such text (``name`` in the message), with the fix.
    """
    try:
        # Spreadsheets save "Unicode text" as UTF-16 with a byte order mark.
        bom = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        return data.decode("utf-16") if bom else data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            [f"{name}: not UTF-8 text (bad byte at position {exc.start}) — save it as CSV UTF-8"]
        ) from None


#: How a manifest's ``file`` cell finds its image: ``(path, None)`` when it is
#: there, else ``(the path looked for, what is wrong and the fix)``.
FindImage = Callable[[str], tuple[Path, str | None]]


def on_disk(base: Path) -> FindImage:
    """Find images as files, a relative path read from ``base`` (the command line)."""

    def find(cell: str) -> tuple[Path, str | None]:
        source = Path(os.path.normpath(base / cell))
        if source.is_file():
            return source, None
        return source, (
            f"image {cell!r} not found ({source}) — correct the path; relative paths are read "
            "from the manifest's folder"
        )

    return find


def parse_manifest_text(
    text: str,
    *,
    base: Path,
    name: str = "manifest",
    template: SessionTemplate = TBP_SESSION,
    find_image: FindImage | None = None,
) -> Session:
    """Check a manifest's text (see :func:`parse_manifest`).

    Parameters
    ----------
    text : str
        The CSV text, header first.
    base : Path
        The folder relative image paths are read from.
    name : str
        The manifest's name in messages.
    template : SessionTemplate
        As in :func:`parse_manifest`.
    find_image : FindImage, optional
        How a ``file`` cell finds its image; default :func:`on_disk` in
        ``base`` (the web app looks among the uploaded documents instead).

    Returns
    -------
    Session

    Raises
    ------
    ManifestError
    """
    rows = _read_rows(text, name)
    problems: list[str] = []
    find = find_image or on_disk(base)
    drafts = [_draft(line, row, find, name, template, problems) for line, row in rows]
    found = [d for d in drafts if d is not None]
    if not found and not problems:
        problems.append(f"{name}: no image rows under the header — add one row per image")
    check_unique(found, name, problems)
    by_source = {d.source: d for d in found}
    entries = [_entry(d, found, by_source, name, problems) for d in found]
    if problems:
        raise ManifestError(problems)
    session_entries = tuple(e for e in entries if e is not None)
    return Session(session_entries, name, tuple(coverage_notes(session_entries, template)))


def _read_rows(text: str, name: str) -> list[tuple[int, dict[str, str]]]:
    """The manifest's data rows as (line, {column: cell}), header checked."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",;\t", key=first.count)  # the header's separator: comma, semicolon, tab
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise ManifestError(
            [
                f"{name} line 1: no header — the first row must name the columns "
                f"({', '.join(COLUMNS)}); file and region are required"
            ]
        )
    columns = [_column(cell, name) for cell in header]
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise ManifestError(
            [
                f"{name} line 1: no {' or '.join(repr(c) for c in missing)} column — the header "
                f"must name the columns ({', '.join(COLUMNS)}); file and region are required"
            ]
        )
    rows: list[tuple[int, dict[str, str]]] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
            continue
        rows.append(
            (reader.line_num, {c: v.strip() for c, v in zip(columns, cells, strict=False) if c})
        )
    return rows


def _column(cell: str, name: str) -> str:
    """The column a header cell names (empty for an empty cell)."""
    word = re.sub(r"[\s-]+", "_", cell.strip().lower())
    if not word:
        return ""
    word = _COLUMN_ALIASES.get(word, word)
    if word in COLUMNS:
        return word
    close = difflib.get_close_matches(word, [*COLUMNS, *_COLUMN_ALIASES], 1, 0.6)
    guess = f" — did you mean {_COLUMN_ALIASES.get(close[0], close[0])!r}?" if close else ""
    raise ManifestError(
        [f"{name} line 1: unknown column {cell.strip()!r}{guess} (columns: {', '.join(COLUMNS)})"]
    )


def _draft(
    line: int,
    row: Mapping[str, str],
    find_image: FindImage,
    name: str,
    template: SessionTemplate,
    problems: list[str],
) -> Draft | None:
    """Check one row's own cells; None (with its problems) when they are unusable."""
    where = f"{name} line {line}"
    cell = row.get("file", "")
    if not cell:
        problems.append(f"{where}: the file column is empty — give the image's file name")
        return None
    before = len(problems)
    source, missing = find_image(cell)
    if missing is not None:
        problems.append(f"{where}: {missing}")
    kind = region = laterality = location = None
    try:
        kind = parse_kind(row.get("kind", ""))
    except MetadataError as exc:
        problems.append(f"{where}: {exc} — write overview or closeup, or leave it empty")
    try:
        laterality = parse_laterality(row.get("laterality", ""))
    except MetadataError as exc:
        problems.append(f"{where}: {exc}")
    if row.get("region"):
        try:
            region, side = lookup_region(row["region"], template)
        except MetadataError as exc:
            problems.append(f"{where}: {exc}")
        else:
            if side and laterality and side != laterality:
                problems.append(
                    f"{where}: region {row['region']!r} is side {side} but laterality says "
                    f"{laterality} — correct one of them"
                )
            laterality = laterality or side
    try:
        location = parse_location(row.get("x", ""), row.get("y", ""))
    except MetadataError as exc:
        problems.append(f"{where}: {exc}")
    if len(problems) > before:
        return None
    lesion = row.get("lesion_id") or None
    return Draft(
        line, cell, source, kind, region, laterality, lesion, row.get("regional", ""), location
    )


def check_unique(drafts: Sequence[Draft], name: str, problems: list[str]) -> None:
    """Refuse an image listed twice, and two images that would write one output."""
    seen: dict[Path, int] = {}
    outputs: dict[str, Draft] = {}
    for draft in drafts:
        where = f"{name} line {draft.line}" if draft.line else draft.cell
        if draft.source in seen:
            problems.append(
                f"{where}: {draft.cell!r} is already listed on line {seen[draft.source]} — "
                "remove the duplicate row"
            )
            continue
        seen[draft.source] = draft.line
        target = dicom_file_name(draft.source.name)
        if target in outputs:
            other = outputs[target]
            at = f" (line {other.line})" if other.line else ""
            problems.append(
                f"{where}: {draft.cell!r} would be written to {target} like {other.cell!r}{at} "
                "— rename one of them"
            )
        outputs.setdefault(target, draft)


def _find_regional(text: str, drafts: Sequence[Draft], base_of: Path) -> Draft | None:
    """The row a ``regional`` cell names: same path, same cell text, or a unique file name."""
    path = Path(os.path.normpath(base_of / text))
    for draft in drafts:
        if draft.source == path or draft.cell == text:
            return draft
    named = [d for d in drafts if d.source.name == Path(text).name]
    return named[0] if len(named) == 1 else None


def _entry(
    draft: Draft,
    drafts: Sequence[Draft],
    by_source: Mapping[Path, Draft],
    name: str,
    problems: list[str],
) -> SessionEntry | None:
    """The entry of a row whose cells are valid, once its ``regional`` is resolved."""
    where = f"{name} line {draft.line}"
    kind = draft.kind or _kind_of(draft)
    regional: Path | None = None
    region, laterality = draft.region, draft.laterality
    if kind == "overview":
        for column, value in (("regional", draft.regional), ("lesion_id", draft.lesion_id)):
            if value:
                problems.append(
                    f"{where}: {column} is for close-ups but this row's kind is overview — "
                    f"clear {column} or set kind to closeup"
                )
        if draft.location is not None:
            problems.append(f"{where}: x,y are for close-ups — clear them or set kind to closeup")
        if region is None:
            problems.append(
                f"{where}: overview {draft.cell!r} has no region — fill the region column "
                "(e.g. 'Skin of back', 66643007, or a view such as posterior-trunk)"
            )
            return None
    elif draft.regional:
        target = _find_regional(draft.regional, drafts, draft.source.parent)
        if target is None:
            problems.append(
                f"{where}: regional {draft.regional!r} is not a file of this manifest — "
                "write the file name of an overview row, or add a row for it"
            )
            return None
        if (target.kind or _kind_of(target)) != "overview":
            problems.append(
                f"{where}: regional {draft.regional!r} (line {target.line}) is a close-up, not "
                "an overview — name an overview's file, or set that row's kind to overview"
            )
            return None
        regional = target.source
        if region is None:  # a close-up without a region is on its overview's region
            region, laterality = target.region, laterality or target.laterality
    elif draft.location is not None:
        problems.append(
            f"{where}: x,y need a regional overview — fill regional with the overview's file"
        )
        return None
    if region is not None and laterality == "U" and not region.paired:
        laterality = None  # what an unpaired region says anyway (Image Laterality U)
    if region is not None and laterality is not None and not region.paired:
        problems.append(
            f"{where}: {region.code_meaning!r} has no left or right side — clear laterality or "
            "choose a paired region"
        )
        return None
    origin = where
    return SessionEntry(
        origin, draft.source, kind, region, laterality, draft.lesion_id, regional, draft.location
    )


def _kind_of(draft: Draft) -> Kind:
    """A row without a kind: a close-up when it has regional, lesion_id or x,y."""
    closeup = draft.regional or draft.lesion_id or draft.location is not None
    return "closeup" if closeup else "overview"


def missing_views(entries: Sequence[SessionEntry], template: SessionTemplate) -> list[str]:
    """The names of the template's views no overview of ``entries`` covers, in template order."""
    covered = {
        (e.region.code_value, e.laterality) for e in entries if e.kind == "overview" and e.region
    }
    views = template.views
    return [v.name for v in views if (v.region().code_value, v.laterality) not in covered]


def coverage_notes(entries: Sequence[SessionEntry], template: SessionTemplate) -> list[str]:
    """Which views of the template no overview covers (nothing when none is covered)."""
    missing = missing_views(entries, template)
    if not missing or len(missing) == len(template.views):
        return []
    return [f"no overview for the {template.name} views: {', '.join(missing)}"]


# ------------------------------------------------------------------ writing


def session_csv(session: Session, *, base: Path | None = None) -> str:
    """Write a session as a manifest (what ``convert --dry-run`` prints).

    Parameters
    ----------
    session : Session
    base : Path, optional
        Image paths are written relative to it when they lie below it.

    Returns
    -------
    str
        CSV text with the :data:`COLUMNS` header; regions as code meanings.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for entry in session.entries:
        x, y = ("", "") if entry.location is None else (f"{v:g}" for v in entry.location)
        writer.writerow(
            [
                _relative(entry.source, base),
                entry.kind,
                entry.region.code_meaning if entry.region else "",
                entry.laterality or "",
                entry.lesion_id or "",
                _relative(entry.regional, base) if entry.regional else "",
                x,
                y,
            ]
        )
    return out.getvalue()


def _relative(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return str(path.relative_to(base))
        except ValueError:
            pass
    return str(path)
