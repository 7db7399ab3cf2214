"""Tags: every element of the current document in an editable table, with a change log."""

from __future__ import annotations

import pandas as pd  # type: ignore[import-untyped]
import streamlit as st
from pydicom.valuerep import VR

from tbp_core.errors import TagEditError
from tbp_core.inspection import tableedits, tags
from tbp_core.session import workspace
from tbp_core.session.workspace import Document
from ui import tagtable
from ui.cache import memo
from ui.dropped import show_dropped_edits
from ui.layout import header, require_dataset, require_document
from ui.text import literal

WHOLE_DATASET = "(whole dataset)"
DICTIONARY_VR = "from the dictionary"
VR_CHOICES = [DICTIONARY_VR, *sorted(VR.__members__)]

header(
    "Tags",
    "Every element of the current document. Double-click a value to change it: the new text "
    "is checked against the element's VR before anything changes.",
)
doc = require_document()
require_dataset(doc)
ds = workspace.dataset_of(doc)

tagtable.apply_pending_edits(doc)
tagtable.show_notes()
show_dropped_edits(doc, "tags_dismiss_dropped")

table: pd.DataFrame = memo(doc, "tags_table", lambda: tags.to_table(ds))
items = memo(doc, "tags_items", lambda: tableedits.item_paths(table))

# ------------------------------------------------------------------ filter and item

filter_column, item_column = st.columns([3, 2])
query = filter_column.text_input(
    "Filter tags",
    key="tags_filter",
    placeholder="Path, keyword, name, tag such as (0010,0020), or value",
)
tagtable.keep_choice("tags_item", [WHOLE_DATASET, *items])
opened = item_column.selectbox(
    "Open sequence item",
    [WHOLE_DATASET, *items],
    key="tags_item",
    disabled=not items,
    help="Show only the elements inside one item of a sequence; new elements are added there.",
)
item = None if opened in (None, WHOLE_DATASET) else str(opened)

view: pd.DataFrame = memo(
    doc, "tags_view", lambda: tableedits.filter_table(table, query, item), query, item
)
tagtable.tag_editor(doc, view)
scope = f"inside {literal(item)}" if item else "in the dataset"
st.caption(
    f"{len(view)} of {len(table)} elements shown ({scope}). Only values marked editable can "
    "be changed; sequences, binary values and the file meta are shown but not edited here."
)

# ------------------------------------------------------------------ tools


def _add_element(target: Document, parent: str) -> None:
    keyword = st.session_state.get("tags_add_tag", "").strip()
    if not keyword:
        tagtable.note("error", "Give the new element's keyword (e.g. PatientComments) or tag.")
        return
    vr = st.session_state.get("tags_add_vr")
    creator = st.session_state.get("tags_add_creator", "").strip()
    edit = tags.AddElement(
        path_of_parent_item=parent,
        keyword_or_tag=keyword,
        vr=None if vr in (None, DICTIONARY_VR) else str(vr),
        text=st.session_state.get("tags_add_value", ""),
        private_creator=creator or None,
    )
    if tagtable.apply(target, edit):
        st.session_state["tags_add_tag"] = ""
        st.session_state["tags_add_value"] = ""


def _delete_element(target: Document) -> None:
    path = st.session_state.get("tags_delete_path")
    if path:
        tagtable.apply(target, tags.DeleteElement(str(path)))


def _add_item(target: Document) -> None:
    path = st.session_state.get("tags_sequence_path")
    if path:
        tagtable.apply(target, tags.AddItem(str(path)))


def _remove_item(target: Document) -> None:
    path = st.session_state.get("tags_remove_path")
    if not path:
        return
    try:
        sequence, index = tableedits.split_item_path(str(path))
    except TagEditError as exc:
        tagtable.note("error", str(exc))
        return
    opened_item = str(st.session_state.get("tags_item") or "")
    if tagtable.apply(target, tags.RemoveItem(sequence, index)) and opened_item.startswith(
        f"{sequence}["
    ):  # the open item is gone or renumbered: show the whole dataset again
        del st.session_state["tags_item"]


def _regenerate(target: Document) -> None:
    path = st.session_state.get("tags_uid_path")
    if path:
        tagtable.apply(target, tags.RegenerateUID(str(path)))


add_tab, delete_tab, items_tab, uid_tab = st.tabs(
    ["Add element", "Delete element", "Sequence items", "New UIDs"]
)

with add_tab, st.form("tags_add_form", border=False):
    where = f"the open item **{literal(item)}**" if item else "the top level of the dataset"
    st.caption(f"The new element goes into {where} (choose an item above to add inside it).")
    tag_column, vr_column, value_column, creator_column = st.columns([3, 2, 3, 3])
    tag_column.text_input(
        "Keyword or tag",
        key="tags_add_tag",
        placeholder="PatientComments or (0011,1010)",
        help="A DICOM keyword, or a tag written (gggg,eeee); odd groups are private.",
    )
    vr_column.selectbox(
        "VR",
        VR_CHOICES,
        key="tags_add_vr",
        help="Needed for private elements; public ones take the dictionary's VR.",
    )
    value_column.text_input("Value", key="tags_add_value", help="Empty for an empty element.")
    creator_column.text_input(
        "Private creator",
        key="tags_add_creator",
        placeholder="e.g. ACME 1.0",
        help="Only for private tags (odd groups): who owns the private block.",
    )
    st.form_submit_button(
        "Add element",
        key="tags_add_submit",
        on_click=_add_element,
        args=(doc, item or ""),
        type="primary",
    )

with delete_tab:
    deletable = [
        str(path)
        for path, tag in zip(table["path"], table["tag"], strict=True)
        if not str(tag).startswith("(0002,") and tag != "(7FE0,0010)"
    ]
    tagtable.keep_choice("tags_delete_path", deletable)
    path_column, button_column = st.columns([4, 1], vertical_alignment="bottom")
    chosen = path_column.selectbox(
        "Element to delete",
        deletable,
        index=None,
        key="tags_delete_path",
        placeholder="Choose or type a path",
        help="Deleting a sequence deletes its items too. Undo brings it back.",
    )
    button_column.button(
        "Delete element",
        key="tags_delete",
        on_click=_delete_element,
        args=(doc,),
        disabled=chosen is None,
    )

with items_tab:
    sequences = tableedits.sequence_paths(table)
    add_column, remove_column = st.columns(2)
    with add_column:
        tagtable.keep_choice("tags_sequence_path", sequences)
        sequence = st.selectbox(
            "Sequence",
            sequences,
            index=None,
            key="tags_sequence_path",
            placeholder="Choose a sequence",
            help="Appends an empty item; open it above to add elements inside.",
        )
        st.button(
            "Add item",
            key="tags_add_item",
            on_click=_add_item,
            args=(doc,),
            disabled=sequence is None,
        )
    with remove_column:
        tagtable.keep_choice("tags_remove_path", items)
        doomed = st.selectbox(
            "Item to remove",
            items,
            index=None,
            key="tags_remove_path",
            placeholder="Choose an item",
        )
        st.button(
            "Remove item",
            key="tags_remove_item",
            on_click=_remove_item,
            args=(doc,),
            disabled=doomed is None,
        )

with uid_tab:
    uids = [
        str(path)
        for path, vr, editable in zip(table["path"], table["vr"], table["editable"], strict=True)
        if vr == "UI" and editable
    ]
    tagtable.keep_choice("tags_uid_path", uids)
    uid_column, uid_button = st.columns([4, 1], vertical_alignment="bottom")
    uid_path = uid_column.selectbox(
        "UID element",
        uids,
        index=None,
        key="tags_uid_path",
        placeholder="Choose a UID",
        help="Gives the element a freshly generated UID; a new SOP Instance UID also updates "
        "the file meta.",
    )
    uid_button.button(
        "Generate a new UID",
        key="tags_regenerate",
        on_click=_regenerate,
        args=(doc,),
        disabled=uid_path is None,
    )

# ------------------------------------------------------------------ change log

st.subheader("Change log")
log = tableedits.change_rows(doc.edits)
if log:
    st.dataframe(
        pd.DataFrame(log),
        hide_index=True,
        width="stretch",
        column_config={
            "#": st.column_config.TextColumn("#", width="small"),
            "edit": "Edit",
            "path": "Path",
            "tag": "Tag",
            "old": "Old value",
            "new": "New value",
        },
    )
else:
    st.caption("No tag edits yet.")
st.button(
    "Undo last edit",
    key="tags_undo",
    on_click=tagtable.undo,
    args=(doc,),
    disabled=not doc.edits,
    icon=":material/undo:",
)
