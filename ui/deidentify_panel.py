"""The De-identify step of Validate & Download: options, the run, what changed, the downloads.

The de-identified copies are kept apart from the documents (:func:`ui.state.deidentified`):
downloading them, or keeping them as new documents, is the user's choice; the
originals never change here.
"""

from __future__ import annotations

import streamlit as st

from tbp_core.errors import TbpError
from tbp_core.session.sharing import (
    DeidentifiedBatch,
    batch_zip,
    before_after,
    deidentify_documents,
    is_current,
    item_bytes,
    kept_name,
)
from tbp_core.session.workspace import Document
from tbp_core.sharing.profile import RETAIN_OPTIONS
from tbp_core.standard.formatting import size_text
from ui import state
from ui.text import literal
from ui.wording import browser_words

#: What each option keeps, in the browser's words (names from RETAIN_OPTIONS).
OPTION_LABELS = {
    "dates": "Keep dates as they are",
    "shifted-dates": "Shift dates by a per-patient offset",
    "patient-characteristics": "Keep patient characteristics (sex, age, size, weight)",
    "device": "Keep device identity (serial numbers, station)",
    "uids": "Keep the original UIDs",
    "descriptors": "Keep descriptions (cleaned of names)",
    "tbp-private": "Keep the TBP calibration block",
}
#: Options that exclude each other: checking one unchecks the other.
_EXCLUSIVE = {"dates": "shifted-dates", "shifted-dates": "dates"}
SCOPES = ("This document", "All documents")
PATIENT_ID_KEY = "vd_deid_patient_id"


def option_key(name: str) -> str:
    """Widget key of an option's checkbox."""
    return f"vd_deid_{name}"


def one_line(exc: BaseException) -> str:
    """A core error as one line in the browser's words, escaped for Markdown."""
    return literal(" ".join(browser_words(str(exc)).split()))


def _exclusive(name: str) -> None:
    """Uncheck the option ``name`` excludes when it is checked (a checkbox callback)."""
    other = _EXCLUSIVE.get(name)
    if other is not None and st.session_state.get(option_key(name)):
        st.session_state[option_key(other)] = False


def _chosen_options() -> frozenset[str]:
    """The options' checkboxes, drawn in two columns; the checked options."""
    columns = st.columns(2)
    chosen = set()
    for index, name in enumerate(RETAIN_OPTIONS):
        with columns[index % 2]:
            if st.checkbox(
                OPTION_LABELS.get(name, name),
                key=option_key(name),
                on_change=_exclusive,
                args=(name,),
                help=f"Option '{name}' of the confidentiality profile (PS3.15 E.1-1).",
            ):
                chosen.add(name)
    return frozenset(chosen)


def _run(doc: Document, retain: frozenset[str], patient_id: str, scope: str) -> None:
    docs = [doc] if scope == SCOPES[0] else list(state.documents())
    noun = "document" if len(docs) == 1 else "documents"
    try:
        with st.spinner(f"De-identifying {len(docs)} {noun}…"):
            batch = deidentify_documents(docs, retain, patient_id)
    except TbpError as exc:
        st.error(one_line(exc), icon=":material/error:")
        return
    state.set_deidentified(batch)
    state.page_store("validate").pop("deid_bytes", None)


def _prepared(batch: DeidentifiedBatch) -> dict[str, bytes]:
    """Bytes already written for this batch (written once, on first show)."""
    store = state.page_store("validate")
    cached = store.get("deid_bytes")
    if not isinstance(cached, tuple) or cached[0] is not batch:
        cached = (batch, {})
        store["deid_bytes"] = cached
    prepared: dict[str, bytes] = cached[1]
    return prepared


def _show_changes(batch: DeidentifiedBatch) -> None:
    for item in batch.items:
        rows = [
            {
                "Attribute": row.keyword or row.path,
                "Tag": row.tag,
                "Path": row.path,
                "Action": row.action,
                "Before": row.before,
                "After": row.after,
            }
            for row in before_after(item)
        ]
        with st.expander(
            f"{literal(item.name)} — {len(rows)} changes", expanded=len(batch.items) == 1
        ):
            st.dataframe(rows, hide_index=True, width="stretch")
            for notice in item.result.notices:
                st.warning(literal(notice), icon=":material/visibility:")


def _downloads(batch: DeidentifiedBatch) -> None:
    prepared = _prepared(batch)
    if len(batch.items) == 1:
        item = batch.items[0]
        if "one" not in prepared:
            prepared["one"] = item_bytes(item)
        st.download_button(
            "Download de-identified DICOM",
            prepared["one"],
            file_name=item.name,
            mime="application/dicom",
            key="vd_deid_download_one",
            on_click="ignore",
            icon=":material/download:",
        )
        st.caption(f"{literal(item.name)}, {size_text(len(prepared['one']))}.")
    else:
        if "zip" not in prepared:
            prepared["zip"] = batch_zip(batch)
        st.download_button(
            "Download de-identified (.zip)",
            prepared["zip"],
            file_name="tbp_dicom_deidentified.zip",
            mime="application/zip",
            key="vd_deid_download_zip",
            on_click="ignore",
            icon=":material/download:",
        )
        st.caption(f"{len(batch.items)} DICOM files, {size_text(len(prepared['zip']))}.")
    st.download_button(
        "Download map (.csv)",
        batch.identifiers.to_csv(),
        file_name="tbp_deidentification_map.csv",
        mime="text/csv",
        key="vd_deid_download_map",
        on_click="ignore",
        icon=":material/key:",
    )
    st.warning(
        "The map links every new identifier to the original one: anyone who has it can "
        "re-identify the patients. Keep it apart from the de-identified files.",
        icon=":material/warning:",
    )


def _keep() -> None:
    """Add the de-identified copies as new documents (a callback; the originals stay)."""
    batch = state.deidentified()
    if batch is None:
        return
    added = []
    for item in batch.items:
        doc = state.add_file(kept_name(item), item_bytes(item))
        if doc is not None:
            added.append(doc.name)
    errors = state.upload_errors()
    if added:
        state.page_store("validate")["deid_kept"] = added
    elif errors:
        state.page_store("validate")["deid_kept_error"] = errors[-1]


def deidentify_step(doc: Document) -> None:
    """The De-identify step: options, New Patient ID, the run, the result and its downloads."""
    st.caption(
        "PS3.15 Basic Application Level Confidentiality Profile. The de-identified copies "
        "are kept apart: the documents stay as they are unless you keep a copy as a new one."
    )
    retain = _chosen_options()
    patient_id = st.text_input(
        "New Patient ID",
        key=PATIENT_ID_KEY,
        help="Given to every patient of the run (also as the name); empty: ANON0001, ….",
    )
    scope = st.radio("De-identify", SCOPES, key="vd_deid_scope", horizontal=True)
    if st.button("De-identify", key="vd_deid_run", icon=":material/shield_person:"):
        _run(doc, retain, patient_id, scope or SCOPES[0])
    store = state.page_store("validate")
    kept = store.pop("deid_kept", None)
    if isinstance(kept, list):
        st.success(f"Kept as new documents: {literal(', '.join(kept))}.", icon=":material/check:")
    kept_error = store.pop("deid_kept_error", None)
    if kept_error:
        st.error(one_line(Exception(str(kept_error))))
    batch = state.deidentified()
    if batch is None:
        return
    if not is_current(batch, state.documents()):
        st.info(
            "A document changed (or was removed) since this de-identification: "
            "de-identify again to include the change.",
            icon=":material/update:",
        )
    _show_changes(batch)
    _downloads(batch)
    st.button(
        "Keep the de-identified version as a new document",
        key="vd_deid_keep",
        on_click=_keep,
        icon=":material/add:",
        help="Adds each de-identified copy as a document of this session; the originals stay.",
    )
