"""Session state: the only place that names ``st.session_state`` keys.

A session holds a list of :class:`tbp_core.session.workspace.Document` (uploaded images
and DICOM files, decoded once) and which one is current. Everything lives in
memory, per session; nothing is written to disk.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st

from tbp_core.building.iods import SeriesContext, new_series_context
from tbp_core.errors import TbpError
from tbp_core.session.workspace import Document, open_document

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"

DOCUMENTS = "documents"
CURRENT = "current_document"
CONTEXT = "series_context"
SEEN_UPLOADS = "seen_uploads"
UPLOAD_ERRORS = "upload_errors"
MEMO = "memo"


def init_session() -> bool:
    """Set the session's defaults once; return True on the session's first run."""
    first = DOCUMENTS not in st.session_state
    st.session_state.setdefault(DOCUMENTS, [])
    st.session_state.setdefault(CURRENT, None)
    st.session_state.setdefault(CONTEXT, new_series_context())
    st.session_state.setdefault(SEEN_UPLOADS, set())
    st.session_state.setdefault(UPLOAD_ERRORS, [])
    st.session_state.setdefault(MEMO, {})
    return first


def documents() -> list[Document]:
    """The session's documents, in upload order."""
    docs: list[Document] = st.session_state[DOCUMENTS]
    return docs


def current() -> Document | None:
    """The current document, or None when nothing is loaded."""
    wanted = st.session_state.get(CURRENT)
    for doc in documents():
        if doc.id == wanted:
            return doc
    return documents()[0] if documents() else None


def set_current(doc: Document) -> None:
    """Make ``doc`` the current document."""
    st.session_state[CURRENT] = doc.id


def context() -> SeriesContext:
    """Study and series shared by the session's images."""
    ctx: SeriesContext = st.session_state[CONTEXT]
    return ctx


def add_file(name: str, data: bytes) -> Document | None:
    """Open an uploaded file once; make it current; record a refusal as an error.

    The same bytes under the same name are opened only once per session, so
    reruns of the upload widget do not duplicate documents.

    Returns
    -------
    Document or None
        The new (or already opened) document; None when the file was refused
        (the message is in :func:`upload_errors`).
    """
    key = f"{name}:{hashlib.sha1(data).hexdigest()}"
    for doc in documents():
        if f"{doc.name}:{hashlib.sha1(doc.data).hexdigest()}" == key:
            set_current(doc)
            return doc
    seen: set[str] = st.session_state[SEEN_UPLOADS]
    if key in seen:  # refused before; its message is already shown
        return None
    seen.add(key)
    try:
        doc = open_document(name, data, context(), instance_number=_next_instance_number())
    except TbpError as exc:
        st.session_state[UPLOAD_ERRORS].append(str(exc))
        return None
    documents().append(doc)
    set_current(doc)
    return doc


def _next_instance_number() -> int:
    return sum(doc.kind == "image" for doc in documents()) + 1


#: The bundled sample images, in the order they are opened.
SAMPLE_IMAGES = (SAMPLE_DIR / "regional_back.png", SAMPLE_DIR / "dermoscopic_lesion.png")


def load_samples() -> list[Document]:
    """Open the bundled sample images (idempotent)."""
    loaded = [add_file(path.name, path.read_bytes()) for path in SAMPLE_IMAGES if path.exists()]
    return [doc for doc in loaded if doc is not None]


def upload_errors() -> list[str]:
    """Messages for uploads that were refused, newest last."""
    errors: list[str] = st.session_state[UPLOAD_ERRORS]
    return errors


def remove(doc: Document) -> None:
    """Drop a document from the session."""
    st.session_state[DOCUMENTS] = [d for d in documents() if d.id != doc.id]
    seen: set[str] = st.session_state[SEEN_UPLOADS]
    seen.discard(f"{doc.name}:{hashlib.sha1(doc.data).hexdigest()}")  # may be uploaded again
    if st.session_state.get(CURRENT) == doc.id:
        st.session_state[CURRENT] = None


PAGE_STORES = "page_stores"


def page_store(page: str) -> dict[str, object]:
    """A page's own scratch space in the session: messages for its next run, counters.

    Parameters
    ----------
    page : str
        The page's name, e.g. ``"tags"``; each page gets its own dict.
    """
    stores: dict[str, dict[str, object]] = st.session_state.setdefault(PAGE_STORES, {})
    return stores.setdefault(page, {})
