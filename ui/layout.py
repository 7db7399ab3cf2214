"""The look shared by every page: title, caption, the document picker in the sidebar."""

from __future__ import annotations

import streamlit as st

from tbp_core.session.workspace import Document, build_error, dataset_of, is_draft
from ui import state
from ui.text import literal
from ui.wording import browser_words

#: Page files, in sidebar order (app.py lists them; links between pages use them).
UPLOAD_PAGE = "views/upload.py"
BROWSE_PAGE = "views/browse.py"
METADATA_PAGE = "views/metadata.py"
TAGS_PAGE = "views/tags.py"
DUMP_PAGE = "views/dump.py"
STRUCTURE_PAGE = "views/structure.py"
VALIDATE_PAGE = "views/validate_download.py"
CONFORMANCE_PAGE = "views/conformance.py"
#: Page file → title in the sidebar, in order (app.py's navigation is made from it).
PAGE_TITLES: dict[str, str] = {
    UPLOAD_PAGE: "Upload",
    BROWSE_PAGE: "Browse",
    METADATA_PAGE: "Metadata",
    TAGS_PAGE: "Tags",
    DUMP_PAGE: "Dump",
    STRUCTURE_PAGE: "Structure",
    VALIDATE_PAGE: "Validate & Download",
    CONFORMANCE_PAGE: "Conformance",
}


#: Widget key of the sidebar's document picker.
SIDEBAR_PICKER_KEY = "sidebar_current_document"


def header(title: str, caption: str) -> None:
    """Session defaults, page title and one-line caption, and the sidebar document picker.

    Every page calls this first, so a page always finds its session initialised,
    however it was reached.
    """
    if state.DOCUMENTS not in st.session_state:
        state.init_session()
    st.title(title)
    st.caption(caption)
    _sidebar()


def _sidebar() -> None:
    docs = state.documents()
    with st.sidebar:
        if not docs:
            st.caption("No document yet — upload one or load the samples on the Upload page.")
            return
        doc = state.current()
        labels = {d.id: f"{d.name} ({'image' if d.kind == 'image' else 'DICOM'})" for d in docs}
        if doc is not None:  # follow changes of the current document made elsewhere
            st.session_state[SIDEBAR_PICKER_KEY] = doc.id
        st.selectbox(
            "Current document",
            list(labels),
            format_func=labels.__getitem__,
            key=SIDEBAR_PICKER_KEY,
            on_change=_picked,
        )


def _picked() -> None:
    """Make the document chosen in the sidebar picker current."""
    wanted = st.session_state.get(SIDEBAR_PICKER_KEY)
    for doc in state.documents():
        if doc.id == wanted:
            state.set_current(doc)


def require_document() -> Document:
    """The current document; without one, say where to get one and stop the page."""
    doc = state.current()
    if doc is None:
        st.info("No document loaded yet.")
        st.page_link(UPLOAD_PAGE, label="Upload an image or DICOM file, or load the samples")
        st.stop()
    assert doc is not None
    return doc


def require_dataset(doc: Document) -> None:
    """Stop the page with the build error when the document has no dataset yet.

    A draft (values only the user can give are missing) is shown, under a
    warning naming what to fill in.
    """
    problem = build_error(doc)
    if problem is not None and is_draft(doc):
        st.warning(
            f"Draft — not ready for download: {literal(browser_words(problem))}.",
            icon=":material/edit_note:",
        )
        st.page_link(METADATA_PAGE, label="Fill them in on the Metadata page")
    elif problem is not None:
        st.error(literal(browser_words(problem)))
        st.page_link(METADATA_PAGE, label="Fix it on the Metadata page")
        st.stop()
    dataset_of(doc)
