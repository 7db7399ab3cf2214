"""Session state: the only place that names ``st.session_state`` keys.

A session holds a list of :class:`tbp_core.session.workspace.Document` (uploaded images
and DICOM files, decoded once) and which one is current. They live in server
memory, in the process-wide store of :mod:`ui.sessions`, under a random key that
the page's URL carries (``?session=<key>``): a reload of the same URL finds them
again, until the session has been idle for ``TBP_SESSION_IDLE_MINUTES`` or is
cleared. Nothing is written to disk.

``st.session_state`` (one browser tab) binds to the stored session and mirrors
its containers under :data:`DOCUMENTS`, :data:`MEMO` ... (the same objects, so a
change through either is a change of the stored session). What belongs to the
tab alone stays there: the file uploader's files and which document each of
them became, the pages' scratch stores and the widgets' values.

An uploader chip and its document go together: removing a file from the
uploader removes the document it became (unless another chip holds the same
file), and removing such a document with its Remove button empties the uploader
(a fresh one replaces it), so no chip is left without its document. Documents
restored after a reload, and the samples, have no chip.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import streamlit as st

from tbp_core.building.iods import SeriesContext
from tbp_core.errors import TbpError
from tbp_core.fileio.archives import ArchiveLimits, is_zip, zip_sources
from tbp_core.session.links import refresh_links
from tbp_core.session.workspace import Document, open_document
from ui.sessions import QUERY_PARAM, StoredSession, return_freed_memory, store

if TYPE_CHECKING:
    from tbp_core.session.sharing import DeidentifiedBatch

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"

DOCUMENTS = "documents"
CURRENT = "current_document"
CONTEXT = "series_context"
SEEN_UPLOADS = "seen_uploads"
UPLOAD_ERRORS = "upload_errors"
MEMO = "memo"
#: The key of the stored session this tab is bound to.
SESSION_KEY = "session_key"
#: Uploader file id → ids of the documents it became (several for a ZIP archive,
#: none when refused), this tab only.
UPLOAD_ORIGINS = "upload_origins"
#: How many times the uploader was emptied (its widget key changes each time).
UPLOADER_GENERATION = "uploader_generation"
PAGE_STORES = "page_stores"
#: Widget key of the file uploader before it was first emptied.
UPLOAD_KEY = "upload_files"
#: The last de-identified batch (copies and their identifier map), this tab only.
DEIDENTIFIED = "deidentified_batch"
#: The PACS to send to (``dicom://AET@HOST:PORT`` or a DICOMweb URL), this tab only.
SEND_DESTINATION = "send_destination"
#: Our AE title when sending over DICOM, this tab only.
SEND_CALLING_AET = "send_calling_aet"
#: The last TBP session manifest uploaded (name, bytes), this tab only.
SESSION_MANIFEST = "session_manifest"


class UploadedFile(Protocol):
    """What :func:`add_upload` needs of a file from ``st.file_uploader``."""

    @property
    def file_id(self) -> str:
        """The uploader's id of this file (one per chip)."""

    @property
    def name(self) -> str:
        """The file's name."""

    def getvalue(self) -> bytes:
        """The file's bytes."""


def init_session() -> bool:
    """Bind this tab to its stored session (the URL's key); return True when it is new.

    The key in the URL wins: a reload, or a link to the same URL, restores that
    session. Without one (a new visit, or a page change that dropped the query)
    the tab keeps the session it is bound to. A key that is unknown or expired is
    not adopted: a new session with a new key starts, so a key cannot be chosen
    from outside. The URL always ends up carrying the key in use.
    """
    sessions = store()
    bound = st.session_state.get(SESSION_KEY)
    in_url = st.query_params.get(QUERY_PARAM)
    created = False
    key, stored = None, None
    for candidate in (in_url, bound):
        stored = sessions.open(candidate) if candidate else None
        if stored is not None:
            key = candidate
            break
    if key is None or stored is None:
        key, stored = sessions.create()
        created = True
    if key != bound or st.session_state.get(DOCUMENTS) is not stored.documents:
        _bind(key, stored)
    else:
        stored.current = st.session_state.get(CURRENT)  # the tab's choice is the session's
    if in_url != key:
        st.query_params[QUERY_PARAM] = key
    _forget_gone_callbacks()
    return created


def _forget_gone_callbacks() -> None:
    """Drop the callbacks Streamlit keeps for widgets that are gone.

    Streamlit (1.5x-1.6x) removes a gone widget's value at the end of a run but
    keeps its metadata, with the callback and its arguments, for the browser
    session's life. A callback defined in a page refers to that page run's
    globals (its document, dataset, tables), so every widget that disappears (a
    removed document's buttons, an emptied uploader) would keep a document
    alive. Safe at any point of a run: callbacks have run before it starts, and
    a widget drawn in this run has a value. Called on every run (from
    :func:`init_session` and :func:`documents`, which AppTest's page runs reach
    too); without the expected internals it does nothing.
    """
    try:
        from streamlit.runtime.state.session_state_proxy import get_session_state

        widgets = get_session_state()._state._new_widget_state
        metadata, live = widgets.widget_metadata, widgets.states
    except (AttributeError, ImportError):
        return
    for widget_id in [w for w in metadata if w not in live]:
        del metadata[widget_id]


def _bind(key: str, stored: StoredSession) -> None:
    """Mirror the stored session's containers in this tab; forget the tab's own leftovers."""
    st.session_state[SESSION_KEY] = key
    st.session_state[DOCUMENTS] = stored.documents
    st.session_state[CURRENT] = stored.current
    st.session_state[CONTEXT] = stored.context
    st.session_state[SEEN_UPLOADS] = stored.seen_uploads
    st.session_state[UPLOAD_ERRORS] = stored.upload_errors
    st.session_state[MEMO] = stored.memo
    st.session_state[UPLOAD_ORIGINS] = {}
    st.session_state[PAGE_STORES] = {}


def _stored() -> StoredSession:
    """The stored session this tab is bound to (a new one if it expired meanwhile)."""
    stored = store().open(st.session_state.get(SESSION_KEY))
    if stored is None:
        key, stored = store().create()
        _bind(key, stored)
    return stored


def session_key() -> str:
    """The key of this tab's session (what the URL carries)."""
    key: str = st.session_state[SESSION_KEY]
    return key


def clear_session() -> None:
    """Forget the session now (documents, edits, memo) and start an empty one with a new key.

    Meant as a button callback: the tab's widget values (typed metadata too) are
    dropped and the uploader is emptied.
    """
    old = st.session_state.get(SESSION_KEY)
    generation = int(st.session_state.get(UPLOADER_GENERATION, 0))
    for name in list(st.session_state.keys()):
        del st.session_state[name]
    if old:
        store().forget(old)
    key, stored = store().create()
    _bind(key, stored)
    st.session_state[UPLOADER_GENERATION] = generation
    _empty_uploader()
    st.query_params[QUERY_PARAM] = key


def documents() -> list[Document]:
    """The session's documents, in upload order.

    Close-ups linked to an overview that changed since are brought up to date
    first (:func:`tbp_core.session.links.refresh_links`: a comparison of
    revisions when nothing changed).
    """
    _forget_gone_callbacks()
    docs: list[Document] = st.session_state[DOCUMENTS]
    refresh_links(docs)
    return docs


def current() -> Document | None:
    """The current document, or None when nothing is loaded."""
    wanted = st.session_state.get(CURRENT)
    for doc in documents():
        if doc.id == wanted:
            return doc
    return documents()[0] if documents() else None


def set_current(doc: Document) -> None:
    """Make ``doc`` the current document (unless it was removed meanwhile)."""
    if not any(d.id == doc.id for d in documents()):
        return
    st.session_state[CURRENT] = doc.id
    _stored().current = doc.id


def find(doc_id: str) -> Document | None:
    """The session's document with this id, or None (it was removed)."""
    return next((d for d in documents() if d.id == doc_id), None)


def set_current_id(doc_id: str) -> None:
    """Make the document with this id current (a callback: see :func:`remove_id`)."""
    doc = find(doc_id)
    if doc is not None:
        set_current(doc)


def remove_id(doc_id: str) -> None:
    """Remove the document with this id, if it is still there.

    Callbacks take a document's id, never the document: Streamlit keeps every
    widget's callback arguments for the browser session's life, even after the
    widget is gone, so a document passed to a callback would outlive its removal.
    """
    doc = find(doc_id)
    if doc is not None:
        remove(doc)


def context() -> SeriesContext:
    """Study and series shared by the session's images."""
    ctx: SeriesContext = st.session_state[CONTEXT]
    return ctx


def _fingerprint(name: str, data: bytes) -> str:
    return f"{name}:{hashlib.sha1(data).hexdigest()}"


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
    doc, problem = _open_once(name, data)
    if problem is not None:
        upload_errors().append(problem)
    return doc


def _open_once(name: str, data: bytes) -> tuple[Document | None, str | None]:
    """:func:`add_file` without recording the refusal: the document, or why not."""
    stored = _stored()
    key = _fingerprint(name, data)
    for doc in documents():
        known = stored.fingerprints.get(doc.id)
        if known is None:
            known = stored.fingerprints[doc.id] = _fingerprint(doc.name, doc.data)
        if known == key:
            set_current(doc)
            return doc, None
    seen: set[str] = st.session_state[SEEN_UPLOADS]
    if key in seen:  # refused before; its message is already shown
        return None, None
    seen.add(key)
    try:
        doc = open_document(name, data, context(), instance_number=_next_instance_number())
    except TbpError as exc:
        return None, str(exc)
    stored.fingerprints[doc.id] = key
    documents().append(doc)
    set_current(doc)
    return doc, None


def add_archive(name: str, data: bytes) -> list[Document]:
    """Open every member of an uploaded ZIP archive as a document named ``name!member``.

    Members are read in memory within the ``TBP_MAX_ZIP_*`` limits
    (:mod:`tbp_core.fileio.archives`); DICOM members and pictures become
    documents, the others are listed in :func:`upload_errors` as skipped, with
    the reason.

    Returns
    -------
    list of Document
        The documents the members became (or already were), in archive order.
    """
    from tbp_core.session.sessionplan import is_manifest_name  # its rules load on use

    opened: list[Document] = []
    for source in zip_sources(data, name, ArchiveLimits.from_environment()):
        problem = source.error
        if source.data is not None and is_manifest_name(source.name):
            set_manifest(source.name, source.data)  # a session.csv beside the images
            continue
        if source.data is not None:
            doc, problem = _open_once(source.name, source.data)
            if doc is not None:
                opened.append(doc)
        if problem is not None:
            message = f"Skipped in the ZIP archive: {source.name} — {problem}"
            if message not in upload_errors():
                upload_errors().append(message)
    return opened


def set_manifest(name: str, data: bytes) -> None:
    """Keep an uploaded TBP session manifest (``.csv``) for the session panel (this tab only)."""
    st.session_state[SESSION_MANIFEST] = (name, data)


def manifest() -> tuple[str, bytes] | None:
    """The last session manifest uploaded, as (name, bytes), or None."""
    held: tuple[str, bytes] | None = st.session_state.get(SESSION_MANIFEST)
    return held


def forget_manifest() -> None:
    """Forget the session manifest (the documents stay as they are)."""
    st.session_state.pop(SESSION_MANIFEST, None)


def iod_widget_key(doc_id: str) -> str:
    """The Upload page's IOD choice of a document (dropped when something else sets the IOD)."""
    return f"upload_iod_{doc_id}"


def _next_instance_number() -> int:
    return sum(doc.kind == "image" for doc in documents()) + 1


def uploader_key() -> str:
    """The file uploader's widget key in this run (a new key empties the uploader)."""
    generation = int(st.session_state.get(UPLOADER_GENERATION, 0))
    return UPLOAD_KEY if generation == 0 else f"{UPLOAD_KEY}_{generation}"


def _empty_uploader() -> None:
    """Replace the uploader by an empty one (a new widget key); its chips are forgotten.

    The old uploader's value (its files) is dropped now, and the files are
    deleted from Streamlit's upload store, which would otherwise keep them until
    the browser session ends.
    """
    old = uploader_key()
    st.session_state[UPLOADER_GENERATION] = int(st.session_state.get(UPLOADER_GENERATION, 0)) + 1
    if old in st.session_state:
        del st.session_state[old]
    _delete_uploaded_files(list(_origins()))
    _origins().clear()


def _delete_uploaded_files(file_ids: list[str]) -> None:
    """Delete files from Streamlit's upload store (a no-op without a server runtime)."""
    try:
        from streamlit.runtime import exists, get_instance
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None or not exists():
            return
        remove_file = getattr(get_instance().uploaded_file_mgr, "remove_file", None)
        if remove_file is None:  # not the in-memory manager: its files end with the session
            return
        for file_id in file_ids:
            remove_file(ctx.session_id, file_id)
    except (AttributeError, ImportError, RuntimeError):
        return


def _origins() -> dict[str, tuple[str, ...]]:
    origins: dict[str, tuple[str, ...]] = st.session_state.setdefault(UPLOAD_ORIGINS, {})
    return origins


def add_upload(file: UploadedFile) -> Document | None:
    """Open a file of the uploader (once per chip) and remember which document it became.

    Returns
    -------
    Document or None
        As :func:`add_file`; a chip already seen gives its document without
        reading the file again. A ZIP archive (:func:`add_archive`) gives the
        last document of its members.
    """
    origins = _origins()
    if file.file_id in origins:
        known = origins[file.file_id]
        return next((d for d in reversed(documents()) if d.id in known), None)
    data = file.getvalue()
    if is_zip(data):
        docs = add_archive(file.name, data)
        origins[file.file_id] = tuple(doc.id for doc in docs)
        return docs[-1] if docs else None
    doc = add_file(file.name, data)
    origins[file.file_id] = (doc.id,) if doc is not None else ()
    return doc


def drop_removed_uploads(file_ids: Collection[str]) -> None:
    """Remove the documents whose uploader chips are gone (``file_ids``: the chips left).

    A document stays while another chip still holds it (the same file uploaded twice).
    """
    origins = _origins()
    gone = {i for f in [f for f in origins if f not in file_ids] for i in origins.pop(f)}
    kept = {i for ids in origins.values() for i in ids}
    removed = [d for d in documents() if d.id in gone and d.id not in kept]
    for doc in removed:
        _forget(doc)
    if removed:
        return_freed_memory()


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
    """Drop a document from the session, with everything derived from it.

    A document that came from an uploader chip takes the uploader's chips with it
    (the uploader is replaced by an empty one; the other documents stay).
    """
    if any(doc.id in ids for ids in _origins().values()):
        _empty_uploader()
    _forget(doc)
    return_freed_memory()


def _forget(doc: Document) -> None:
    _stored().forget_document(doc.id)
    if st.session_state.get(CURRENT) == doc.id:
        st.session_state[CURRENT] = None


def page_store(page: str) -> dict[str, object]:
    """A page's own scratch space in this tab: messages for its next run, counters.

    Parameters
    ----------
    page : str
        The page's name, e.g. ``"tags"``; each page gets its own dict.
    """
    stores: dict[str, dict[str, object]] = st.session_state.setdefault(PAGE_STORES, {})
    return stores.setdefault(page, {})


def deidentified() -> DeidentifiedBatch | None:
    """The last de-identified batch of this tab, or None."""
    batch: DeidentifiedBatch | None = st.session_state.get(DEIDENTIFIED)
    return batch


def set_deidentified(batch: DeidentifiedBatch | None) -> None:
    """Keep (or, with None, forget) the de-identified batch; the originals are untouched."""
    st.session_state[DEIDENTIFIED] = batch


def send_settings() -> tuple[str, str]:
    """(destination, calling AE title) as last entered in this tab; empty strings at first."""
    return (
        str(st.session_state.get(SEND_DESTINATION, "")),
        str(st.session_state.get(SEND_CALLING_AET, "")),
    )


def set_send_settings(destination: str, calling_aet: str) -> None:
    """Remember the send settings for this tab (never written anywhere else)."""
    st.session_state[SEND_DESTINATION] = destination
    st.session_state[SEND_CALLING_AET] = calling_aet
