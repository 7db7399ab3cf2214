"""Per-document memoisation: derived views are computed once per document revision.

``st.cache_data`` hashes its arguments, which for a 50 MP document would mean
hashing the pixels on every rerun; instead each document carries a revision
number that changes with every edit, and results are kept per session keyed by
``(document id, what)`` together with the revision they were made for.

The memo belongs to the stored session (:mod:`ui.sessions`), so a reload finds
the previews already made; removing a document drops its entries
(:meth:`ui.sessions.StoredSession.forget_document`) and clearing or expiring
the session drops them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from tbp_core.session.workspace import Document
from ui.state import MEMO

T = TypeVar("T")


def memo(doc: Document, what: str, compute: Callable[[], T], *extra: Any) -> T:
    """Return ``compute()`` for ``doc``, recomputed only after the document changed.

    Parameters
    ----------
    doc : Document
        The document the value derives from.
    what : str
        Name of the derived value (``"dump"``, ``"table"``, ...).
    compute : callable
        Computes the value from the document's current state.
    *extra
        Further inputs (options such as "hide private"); a change recomputes.
    """
    store: dict[tuple[str, str], tuple[tuple[Any, ...], Any]] = st.session_state[MEMO]
    stamp = (doc.revision, *extra)
    key = (doc.id, what)
    hit = store.get(key)
    if hit is not None and hit[0] == stamp:
        value: T = hit[1]
        return value
    value = compute()
    store[key] = (stamp, value)
    return value
