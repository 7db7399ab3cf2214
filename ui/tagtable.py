"""Widgets and session glue for the Tags page: the editable tag table and its actions.

``st.data_editor`` keeps a user's cell edits in the browser until its identity
changes. Every committed edit is therefore applied (or refused) at the start of
the next run and the editor then gets a new key (``tags_editor``,
``tags_editor_1``, ...), so the table always shows the dataset's real values:
the new value after an accepted edit, the old one after a refused edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pandas as pd  # type: ignore[import-untyped]
import streamlit as st

from tbp_core.inspection import tableedits, tags
from tbp_core.inspection.tableedits import TableRow
from tbp_core.session import workspace
from tbp_core.session.workspace import Document
from ui import state
from ui.text import literal

#: Base key of the tag table editor (the first editor of a session has exactly this key).
EDITOR_KEY = "tags_editor"

#: Columns shown in the editor, in order; only ``value`` can be edited.
SHOWN_COLUMNS = (
    "path",
    "tag",
    "name",
    "vr",
    "vm",
    "editable",
    "value",
    "module",
    "private_creator",
)

_STORE = "tags"


def _store() -> dict[str, object]:
    return state.page_store(_STORE)


# ------------------------------------------------------------------ messages


def note(kind: str, text: str) -> None:
    """Keep a message (``"error"``, ``"warning"`` or ``"success"``) for the page to show."""
    notes = cast("list[tuple[str, str]]", _store().setdefault("notes", []))
    notes.append((kind, text))


def show_notes() -> None:
    """Show the kept messages once, errors as ``st.error``, then forget them."""
    notes = cast("list[tuple[str, str]]", _store().pop("notes", []))
    for kind, text in notes:
        if kind == "error":
            st.error(literal(text), icon=":material/block:")
        elif kind == "warning":
            st.warning(literal(text))
        else:
            st.success(literal(text), icon=":material/check:")


def apply(doc: Document, edit: tags.Edit) -> bool:
    """Apply one edit to the document and note what happened; True when applied."""
    result = workspace.apply_tag_edit(doc, edit)
    if result.applied:
        note("success", f"Changed {result.message}")
    else:
        note("error", result.message)
    return result.applied


# ------------------------------------------------------------------ the editor


def editor_key() -> str:
    """The key the table editor has in this run."""
    generation = cast("int", _store().get("generation", 0))
    return EDITOR_KEY if generation == 0 else f"{EDITOR_KEY}_{generation}"


def _next_editor() -> None:
    old = editor_key()
    _store()["generation"] = cast("int", _store().get("generation", 0)) + 1
    if old in st.session_state:
        del st.session_state[old]


def apply_pending_edits(doc: Document) -> None:
    """Apply the cells edited in the table shown last run, and start a fresh editor.

    The edits are matched to the rows that were shown (the filtered view of the
    document current then), so a filter or document change cannot misplace
    them. Refused edits become error messages; the dataset keeps its value.
    """
    key = editor_key()
    shown = cast("tuple[str, str, tuple[TableRow, ...]] | None", _store().get("shown"))
    pending = st.session_state.get(key) if key in st.session_state else None
    edited = dict(pending.get("edited_rows") or {}) if pending else {}
    if not edited:
        return
    if shown is not None and shown[0] == key and shown[1] == doc.id:
        plan = tableedits.plan_edits(edited, shown[2])
        for message in plan.refusals:
            note("error", message)
        for edit in plan.edits:
            apply(doc, edit)
    _next_editor()


def _column_config() -> dict[str, Any]:
    text = st.column_config.TextColumn
    return {
        "path": text(
            "Path", width="medium", pinned=True, help="Where the element is: Sequence[0].Keyword"
        ),
        "tag": text("Tag", width="small"),
        "name": text("Name", width="medium"),
        "vr": text("VR", width="small", help="Value Representation: the element's data type"),
        "vm": st.column_config.NumberColumn("VM", width="small", help="Value Multiplicity"),
        "value": text(
            "Value",
            width="large",
            help="Double-click to edit. Separate several values with a backslash (\\).",
        ),
        "editable": st.column_config.CheckboxColumn(
            "Editable", width="small", help="Only these values can be typed in."
        ),
        "module": text("Module", width="small"),
        "private_creator": text("Private creator", width="small"),
    }


def tag_editor(doc: Document, view: pd.DataFrame) -> None:
    """The table editor over ``view`` (only the Value column can be changed).

    Remembers which rows were shown so the next run can apply the edits.
    """
    key = editor_key()
    rows = tableedits.rows_of(view)
    _store()["shown"] = (key, doc.id, rows)
    shown = view.loc[:, list(SHOWN_COLUMNS)].copy()
    shown["private_creator"] = shown["private_creator"].where(shown["private_creator"].notna(), "")
    shown["module"] = shown["module"].where(shown["module"].notna(), "")
    st.data_editor(
        shown,
        key=key,
        hide_index=True,
        num_rows="fixed",
        disabled=[column for column in SHOWN_COLUMNS if column != "value"],
        column_config=_column_config(),
        width="stretch",
        height=min(38 + 35 * max(len(shown), 1), 560),
    )


# ------------------------------------------------------------------ choices


def keep_choice(key: str, options: Sequence[Any]) -> None:
    """Forget a keyed choice whose value is no longer offered, so it starts afresh.

    Call it before drawing the widget (e.g. after the chosen item was removed,
    or another document became current).
    """
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]


def undo(doc: Document) -> None:
    """Undo the document's last tag edit and say which."""
    change = workspace.undo_last_edit(doc)
    if change is None:
        note("warning", "There is no edit to undo.")
        return
    old = "(absent)" if change.old_text is None else f"'{change.old_text}'"
    note("success", f"Undone: {change.path} is back to {old}")
