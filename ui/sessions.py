"""Sessions that survive a reload: kept in server memory under a random key carried in the URL.

A browser session's documents, its series context, the current document and
the memo of derived views live in one :class:`StoredSession` of a process-wide
:class:`SessionStore`, under a key made by :func:`secrets.token_urlsafe`. The
key travels in the page's URL (``?session=<key>``), so reloading the same URL
finds the session again. Nothing is written to disk: when the server process
ends, every session ends with it.

A session expires after an idle time (``TBP_SESSION_IDLE_MINUTES``, default
60): expiry is checked whenever the store is used, and a background sweep
forgets sessions nobody comes back to. Forgetting a session (expiry, or the
"Clear session" button) empties its containers at once and hands the freed
memory back to the operating system, so a copy of the session still referenced
by a closed browser tab cannot keep its images alive.

Only plain data is stored: core objects (:class:`tbp_core.session.workspace.Document`,
:class:`tbp_core.building.iods.SeriesContext`), strings, and the memo's derived
values (previews, tables, text); never Streamlit widgets or uploaded-file objects.
This module does not import streamlit.
"""

from __future__ import annotations

import ctypes
import gc
import math
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tbp_core.building.iods import SeriesContext, new_series_context
from tbp_core.session.workspace import Document

#: Environment variable: minutes a session is kept without being used.
IDLE_MINUTES_ENV = "TBP_SESSION_IDLE_MINUTES"
#: Idle time when the variable is unset or not a positive number.
DEFAULT_IDLE_MINUTES = 60.0
#: Name of the URL query parameter carrying the session key.
QUERY_PARAM = "session"
#: Random bytes in a key (``token_urlsafe`` makes 43 URL-safe characters of 32 bytes).
KEY_BYTES = 32
#: Longest pause of the background sweep, in seconds.
SWEEP_INTERVAL_MAX = 60.0

#: The memo: ``(document id, what) -> (stamp, value)`` (see :mod:`ui.cache`).
Memo = dict[tuple[str, str], tuple[tuple[Any, ...], Any]]


def idle_seconds() -> float:
    """The idle time after which a session is forgotten, from ``TBP_SESSION_IDLE_MINUTES``.

    Read on every use, so a changed setting applies at once. A value that is not
    a positive number gives the default (60 minutes).
    """
    raw = os.environ.get(IDLE_MINUTES_ENV, "").strip()
    try:
        minutes = float(raw) if raw else DEFAULT_IDLE_MINUTES
    except ValueError:
        minutes = DEFAULT_IDLE_MINUTES
    if not math.isfinite(minutes) or minutes <= 0:
        minutes = DEFAULT_IDLE_MINUTES
    return minutes * 60.0


@dataclass(eq=False)
class StoredSession:
    """What one session keeps between reloads.

    Attributes
    ----------
    context : SeriesContext
        Study and series shared by the session's images.
    documents : list of Document
        The session's documents, in upload order.
    current : str or None
        Id of the current document.
    seen_uploads : set of str
        ``name:sha1`` of uploads already tried (refused ones are not retried).
    fingerprints : dict
        Document id → its ``name:sha1`` (computed once per document).
    upload_errors : list of str
        Messages for refused uploads, newest last.
    memo : dict
        Derived views per document (:mod:`ui.cache`).
    last_access : float
        ``time.monotonic()`` of the last use.
    """

    context: SeriesContext
    documents: list[Document] = field(default_factory=list)
    current: str | None = None
    seen_uploads: set[str] = field(default_factory=set)
    fingerprints: dict[str, str] = field(default_factory=dict)
    upload_errors: list[str] = field(default_factory=list)
    memo: Memo = field(default_factory=dict)
    last_access: float = 0.0

    def forget_document(self, doc_id: str) -> None:
        """Drop one document and everything derived from it (memo entries, fingerprint)."""
        self.documents[:] = [d for d in self.documents if d.id != doc_id]
        for key in [k for k in self.memo if k[0] == doc_id]:
            del self.memo[key]
        fingerprint = self.fingerprints.pop(doc_id, None)
        if fingerprint is not None:
            self.seen_uploads.discard(fingerprint)  # may be uploaded again
        if self.current == doc_id:
            self.current = None

    def release(self) -> None:
        """Empty every container in place, so no remaining reference keeps the data alive."""
        self.documents.clear()
        self.memo.clear()
        self.seen_uploads.clear()
        self.fingerprints.clear()
        self.upload_errors.clear()
        self.current = None


def return_freed_memory() -> None:
    """Collect garbage, frozen garbage too, and give freed memory back to the system.

    :func:`ui.warmup.warm_up` freezes every object alive when the first page
    runs (``gc.freeze``), so that collections skip the standard's tables.
    That includes the first browser session's Streamlit state: once that
    session ends, the cycle its last run's page variables form with it would
    never be collected, with the document they hold (measured: a 50 MP
    document, 144 MB, kept for the life of the process). So this collection
    unfreezes first. It does not freeze again: that would freeze the
    document being removed, which would then outlive its removal. Afterwards
    a full collection walks the tables again (about 0.05 s each time, rare).

    Freed arrays smaller than glibc's (adaptive, up to 32 MB) mmap threshold go
    back to the heap, not to the system, so the process would keep its peak
    size; ``malloc_trim(0)`` releases it. A no-op where glibc is not used.
    """
    gc.unfreeze()
    gc.collect()
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl): nothing to trim
        return


class SessionStore:
    """Sessions by key, in memory, forgotten after an idle time; safe to use from any thread.

    Parameters
    ----------
    idle : callable, optional
        Returns the idle time in seconds (read on every use); :func:`idle_seconds`
        by default.
    clock : callable, optional
        Monotonic seconds; :func:`time.monotonic` by default.
    """

    def __init__(
        self,
        idle: Callable[[], float] = idle_seconds,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._idle = idle
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, StoredSession] = {}
        self._sweeper: threading.Thread | None = None

    def create(self) -> tuple[str, StoredSession]:
        """Start an empty session under a new random key; return the key and the session."""
        key = secrets.token_urlsafe(KEY_BYTES)
        session = StoredSession(context=new_series_context())
        with self._lock:
            expired = self._expire_locked()
            session.last_access = self._clock()
            self._sessions[key] = session
        self._release(expired)
        return key, session

    def open(self, key: str | None) -> StoredSession | None:
        """The live session under ``key`` (its idle time restarts), or None.

        None when the key is unknown, was forgotten, or the session expired.
        """
        with self._lock:
            expired = self._expire_locked()
            session = self._sessions.get(key) if key else None
            if session is not None:
                session.last_access = self._clock()
        self._release(expired)
        return session

    def forget(self, key: str) -> bool:
        """Forget a session now and free what it held; False when there was none."""
        with self._lock:
            session = self._sessions.pop(key, None)
        if session is None:
            return False
        self._release([session])
        return True

    def sweep(self) -> int:
        """Forget every expired session; return how many were forgotten."""
        with self._lock:
            expired = self._expire_locked()
        self._release(expired)
        return len(expired)

    def __contains__(self, key: object) -> bool:
        """Whether a session is stored under ``key`` (expired or not; nothing is touched)."""
        with self._lock:
            return key in self._sessions

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def start_sweeper(self) -> None:
        """Start the background sweep once (a daemon thread: it never holds the process)."""
        with self._lock:
            if self._sweeper is not None:
                return
            self._sweeper = threading.Thread(
                target=self._sweep_forever, name="tbp-session-sweep", daemon=True
            )
        self._sweeper.start()

    def _sweep_forever(self) -> None:
        while True:
            time.sleep(min(SWEEP_INTERVAL_MAX, max(self._idle() / 4, 1.0)))
            self.sweep()

    def _expire_locked(self) -> list[StoredSession]:
        """Remove the expired sessions from the table (lock held); return them."""
        limit = self._clock() - self._idle()
        expired = [k for k, s in self._sessions.items() if s.last_access < limit]
        return [self._sessions.pop(k) for k in expired]

    @staticmethod
    def _release(sessions: list[StoredSession]) -> None:
        if not sessions:
            return
        for session in sessions:
            session.release()
        return_freed_memory()


_STORE = SessionStore()


def store() -> SessionStore:
    """The process-wide session store (its background sweep started on first use)."""
    _STORE.start_sweeper()
    return _STORE
