"""The tag table as a screen shows it: filtering, sequence items, and cell edits → tag edits.

A table editor reports its changes as ``{row position: {column: new value}}``
(Streamlit's ``edited_rows``). :func:`plan_edits` turns that into
:class:`tbp_core.inspection.tags.SetValue` edits for the rows whose value really changed,
and into refusals for rows that cannot be edited as text (sequences, binary
values, file meta). The rows are the ones *shown* when the user edited, so a
filtered table maps back to the right elements.

Everything here works on the :func:`tbp_core.inspection.tags.to_table` DataFrame and plain
values; applying the edits is :func:`tbp_core.inspection.tags.apply_edit`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd  # type: ignore[import-untyped]

from tbp_core.errors import TagEditError
from tbp_core.inspection import tags
from tbp_core.standard import vr as vrs
from tbp_core.standard.formatting import tag_text

__all__ = [
    "SEARCH_COLUMNS",
    "EditPlan",
    "TableRow",
    "change_rows",
    "filter_table",
    "item_paths",
    "not_editable_reason",
    "plan_edits",
    "rows_of",
    "sequence_paths",
    "split_item_path",
]

#: Columns the filter text is looked for in.
SEARCH_COLUMNS = ("path", "tag", "keyword", "name", "value")

_ITEM_COUNT = re.compile(r"^(\d+) items?$")
_ITEM_PATH = re.compile(r"^(?P<sequence>.+)\[(?P<index>\d+)\]$")
_BARE_TAG = re.compile(r"^\(?\s*([0-9A-Fa-f]{4})\s*,?\s*([0-9A-Fa-f]{4})\s*\)?$")
_PIXEL_TAGS = frozenset(tag_text(tag) for tag in vrs.PIXEL_DATA_TAGS)


@dataclass(frozen=True)
class TableRow:
    """What an edit needs to know about one shown row of the tag table."""

    path: str
    tag: str
    vr: str
    value: str
    editable: bool


@dataclass(frozen=True)
class EditPlan:
    """Edits to apply for a table's changed cells, and refusals for cells that may not change.

    Attributes
    ----------
    edits : tuple of SetValue
        One per editable row whose value text changed, in row order.
    refusals : tuple of str
        One-line messages for changed rows that cannot be edited as text.
    """

    edits: tuple[tags.SetValue, ...]
    refusals: tuple[str, ...]


def rows_of(table: pd.DataFrame) -> tuple[TableRow, ...]:
    """The rows of a :func:`tbp_core.inspection.tags.to_table` frame, in order.

    Parameters
    ----------
    table : pandas.DataFrame
        The whole table or a filtered part of it.

    Returns
    -------
    tuple of TableRow
    """
    return tuple(
        TableRow(
            path=str(path),
            tag=str(tag),
            vr=str(vr),
            value="" if value is None else str(value),
            editable=bool(editable),
        )
        for path, tag, vr, value, editable in zip(
            table["path"],
            table["tag"],
            table["vr"],
            table["value"],
            table["editable"],
            strict=True,
        )
    )


def not_editable_reason(row: TableRow) -> str:
    """Why a row's value cannot be typed in, as a one-line message naming the fix.

    Parameters
    ----------
    row : TableRow

    Returns
    -------
    str
    """
    if row.tag.startswith("(0002,"):
        reason = (
            "file meta elements are written from the dataset; "
            "edit SOPInstanceUID or SOPClassUID instead"
        )
    elif row.tag in _PIXEL_TAGS:
        reason = "Pixel Data cannot be edited as text; convert the image again"
    elif row.vr == "SQ":
        reason = "a sequence has no text value; open one of its items, or add or remove items"
    elif row.vr in vrs.BINARY_VRS:
        reason = f"binary {row.vr} values cannot be edited as text"
    elif row.value.startswith("<cannot decode"):
        reason = "its stored value cannot be decoded; delete it and add it again"
    elif row.tag.endswith(",0000)"):
        reason = "group lengths are computed when the file is written"
    elif " or " in row.vr:
        reason = f"its VR is ambiguous ({row.vr}); delete it and add it with a chosen VR"
    else:
        reason = "this element cannot be edited as text"
    return f"{row.path} is not editable: {reason}"


def _cell_text(value: Any) -> str:
    """Text of an edited cell (a cleared cell is empty text)."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from a cleared cell
        return ""
    return str(value)


def plan_edits(
    edited_rows: Mapping[Any, Mapping[str, Any]],
    rows: Sequence[TableRow],
    column: str = "value",
) -> EditPlan:
    """Turn a table editor's changed cells into tag edits and refusals.

    Parameters
    ----------
    edited_rows : mapping
        ``{row position: {column name: new value}}`` as a table editor reports
        it (positions may be ``int`` or their text).
    rows : sequence of TableRow
        The rows as shown when the user edited (position ``i`` is ``rows[i]``).
    column : str
        The column holding the value text; changes to other columns are ignored.

    Returns
    -------
    EditPlan
        ``SetValue`` edits for editable rows whose text changed; refusals for
        the others. Unchanged cells and unknown positions give nothing.
    """
    edits: list[tags.SetValue] = []
    refusals: list[str] = []
    for position in sorted(edited_rows, key=lambda p: int(p)):
        cells = edited_rows[position]
        index = int(position)
        if column not in cells or not 0 <= index < len(rows):
            continue
        row = rows[index]
        text = _cell_text(cells[column])
        if text == row.value:
            continue
        if not row.editable:
            refusals.append(f"{not_editable_reason(row)}; the old value is kept")
            continue
        edits.append(tags.SetValue(row.path, text))
    return EditPlan(tuple(edits), tuple(refusals))


def _query_forms(query: str) -> tuple[str, ...]:
    """The filter text, plus ``(GGGG,EEEE)`` when it is a bare tag such as ``00100010``."""
    needle = query.strip().casefold()
    match = _BARE_TAG.match(query.strip())
    if match:
        return (needle, f"({match[1]},{match[2]})".casefold())
    return (needle,)


def filter_table(
    table: pd.DataFrame, query: str = "", item_path: str | None = None
) -> pd.DataFrame:
    """Rows matching a filter text, optionally only those inside one sequence item.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`tbp_core.inspection.tags.to_table` frame.
    query : str
        Case-insensitive text looked for in :data:`SEARCH_COLUMNS`; a tag may be
        written ``(0010,0010)``, ``0010,0010`` or ``00100010``. Empty keeps all.
    item_path : str, optional
        A sequence item such as ``AnatomicRegionSequence[0]``: keep only the
        elements inside it (nested ones too).

    Returns
    -------
    pandas.DataFrame
        The matching rows, renumbered from 0 (positions are what an editor reports).
    """
    keep = pd.Series(True, index=table.index)
    if item_path:
        keep &= table["path"].astype(str).str.startswith(f"{item_path}.")
    forms = _query_forms(query)
    if forms[0]:
        found = pd.Series(False, index=table.index)
        for name in SEARCH_COLUMNS:
            text = table[name].fillna("").astype(str).str.casefold()
            for form in forms:
                found |= text.str.contains(form, regex=False)
        keep &= found
    return table[keep].reset_index(drop=True)


def sequence_paths(table: pd.DataFrame) -> list[str]:
    """Paths of the sequences in a table, in table order.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`tbp_core.inspection.tags.to_table` frame.

    Returns
    -------
    list of str
    """
    return [str(path) for path, vr in zip(table["path"], table["vr"], strict=True) if vr == "SQ"]


def item_paths(table: pd.DataFrame) -> list[str]:
    """Paths of every sequence item in a table (``Seq[0]``, ``Seq[0].Inner[1]``...).

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`tbp_core.inspection.tags.to_table` frame (its sequence rows say ``n items``).

    Returns
    -------
    list of str
        Items in table order, each sequence's items after the sequence.
    """
    paths: list[str] = []
    for path, vr, value in zip(table["path"], table["vr"], table["value"], strict=True):
        if vr != "SQ":
            continue
        match = _ITEM_COUNT.match(str(value))
        count = int(match[1]) if match else 0
        paths.extend(f"{path}[{index}]" for index in range(count))
    return paths


def split_item_path(item_path: str) -> tuple[str, int]:
    """Split ``Seq[0].Inner[2]`` into its sequence path and index: ``("Seq[0].Inner", 2)``.

    Parameters
    ----------
    item_path : str

    Returns
    -------
    tuple of (str, int)

    Raises
    ------
    tbp_core.errors.TagEditError
        When the path does not end with an item index.
    """
    match = _ITEM_PATH.match(item_path.strip())
    if match is None:
        raise TagEditError(f"{item_path!r} is not a sequence item; write it as Sequence[0]")
    return match["sequence"], int(match["index"])


def _edit_kind(edit: tags.Edit) -> str:
    kinds = {
        tags.SetValue: "set",
        tags.AddElement: "add",
        tags.DeleteElement: "delete",
        tags.AddItem: "add item",
        tags.RemoveItem: "remove item",
        tags.RegenerateUID: "new UID",
    }
    return kinds.get(type(edit), "edit")


def change_rows(edits: Iterable[tuple[tags.Edit, tags.Change]]) -> list[dict[str, str]]:
    """A change log: one row per applied edit (oldest first) with its path, old → new.

    Parameters
    ----------
    edits : iterable of (Edit, Change)
        Applied edits, as a document records them.

    Returns
    -------
    list of dict
        Keys ``"#"``, ``"edit"``, ``"path"``, ``"tag"``, ``"old"``, ``"new"``;
        ``"(absent)"`` / ``"(removed)"`` where the element did not exist before
        or after.
    """
    return [
        {
            "#": str(number),
            "edit": _edit_kind(edit),
            "path": change.path,
            "tag": change.tag,
            "old": "(absent)" if change.old_text is None else change.old_text,
            "new": "(removed)" if change.new_text is None else change.new_text,
        }
        for number, (edit, change) in enumerate(edits, start=1)
    ]
