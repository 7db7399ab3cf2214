"""The Send step of Validate & Download: a PACS's address, Verify, and Send with progress per file.

The settings live in this tab's session only (:func:`ui.state.send_settings`);
nothing is written to disk or sent anywhere until Verify or Send is pressed.
"""

from __future__ import annotations

import streamlit as st
from pydicom.dataset import Dataset

from tbp_core.errors import TbpError
from tbp_core.session.sharing import batch_send_items, is_current, send_items
from tbp_core.session.workspace import Document
from tbp_core.sharing.send import DEFAULT_CALLING_AET, parse_destination, send, verify
from ui import state
from ui.deidentify_panel import one_line
from ui.text import literal

DESTINATION_KEY = "vd_send_destination"
CALLING_AET_KEY = "vd_send_calling_aet"
SCOPE_KEY = "vd_send_scope"
#: Seconds to wait for the server's connection and each answer.
TIMEOUT = 10.0
_THIS, _ALL, _DEID = "This document", "All documents", "The de-identified copies"


def _settings() -> tuple[str, str]:
    """The server and calling AE title inputs, seeded from (and kept in) the session."""
    destination, calling_aet = state.send_settings()
    if DESTINATION_KEY not in st.session_state:
        st.session_state[DESTINATION_KEY] = destination
    if CALLING_AET_KEY not in st.session_state:
        st.session_state[CALLING_AET_KEY] = calling_aet or DEFAULT_CALLING_AET
    typed = st.text_input(
        "Server",
        key=DESTINATION_KEY,
        placeholder="dicom://AET@HOST:PORT or https://HOST[:PORT]/DICOMWEB-ROOT",
        help="A DICOM node (C-STORE) as dicom://AET@HOST:PORT, or a DICOMweb root "
        "(STOW-RS) as http(s)://HOST[:PORT]/ROOT. Kept in this browser tab only.",
    )
    aet = st.text_input(
        "Calling AE title",
        key=CALLING_AET_KEY,
        max_chars=16,
        help="Our AE title for a DICOM node (the PACS may only accept known ones).",
    )
    state.set_send_settings(typed, aet)
    return typed.strip(), aet.strip()


def _items(doc: Document, scope: str) -> list[tuple[str, Dataset]]:
    if scope == _DEID:
        batch = state.deidentified()
        return batch_send_items(batch) if batch is not None else []
    docs = [doc] if scope == _THIS else list(state.documents())
    return send_items(docs)


def _send(destination_text: str, calling_aet: str, doc: Document, scope: str) -> None:
    """Send, showing a progress bar and each file's answer; errors as one line."""
    rows: list[dict[str, str]] = []
    store = state.page_store("validate")
    try:
        destination = parse_destination(destination_text)
        with st.spinner("Preparing the files…"):
            items = _items(doc, scope)
        total = len(items)
        if not total:
            st.info("Nothing to send.")
            return
        bar = st.progress(0.0, text=f"Sending {total} file(s) to {literal(destination)}…")
        for done, outcome in enumerate(send(destination, items, calling_aet, TIMEOUT), start=1):
            rows.append(
                {
                    "File": outcome.name,
                    "Stored": "yes" if outcome.stored else "no",
                    "Answer": outcome.status,
                    "SOP Instance UID": outcome.sop_instance_uid,
                }
            )
            bar.progress(done / total, text=f"Sent {done} of {total}: {literal(outcome.name)}")
    except TbpError as exc:
        st.error(one_line(exc), icon=":material/error:")
    store["send_rows"] = rows


def send_step(doc: Document) -> None:
    """The Send step: server settings, what to send, Verify and Send."""
    destination, calling_aet = _settings()
    scopes = [_THIS, _ALL]
    batch = state.deidentified()
    if batch is not None and is_current(batch, state.documents()):
        scopes.append(_DEID)
    scope = st.radio("Send", scopes, key=SCOPE_KEY, horizontal=True) or _THIS
    verify_column, send_column = st.columns(2)
    with verify_column:
        verify_clicked = st.button(
            "Verify",
            key="vd_send_verify",
            icon=":material/network_check:",
            disabled=not destination,
        )
    with send_column:
        send_clicked = st.button(
            "Send", key="vd_send_run", icon=":material/send:", disabled=not destination
        )
    store = state.page_store("validate")
    if verify_clicked:
        try:
            with st.spinner("Asking the server…"):
                answer = verify(parse_destination(destination), calling_aet, TIMEOUT)
        except TbpError as exc:
            st.error(one_line(exc), icon=":material/error:")
        else:
            st.success(literal(answer), icon=":material/check_circle:")
    if send_clicked:
        _send(destination, calling_aet, doc, scope)
    rows = store.get("send_rows")
    if isinstance(rows, list) and rows:
        stored = sum(row["Stored"] == "yes" for row in rows)
        st.caption(f"The server stored {stored} of {len(rows)} file(s):")
        st.dataframe(rows, hide_index=True, width="stretch")
