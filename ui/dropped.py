"""The tag edits a rebuild could not replay, shown as a warning until dismissed."""

from __future__ import annotations

import streamlit as st

from tbp_core.session.workspace import Document, dismiss_dropped_edits
from ui.text import literal


def show_dropped_edits(doc: Document, key: str) -> None:
    """Warn about the document's dropped tag edits, one line each, with a Dismiss button.

    Parameters
    ----------
    doc : Document
        The current document, its dataset already built (a rebuild records them).
    key : str
        The Dismiss button's widget key (one per page).
    """
    dropped = doc.dropped_edits
    if not dropped:
        return
    count = len(dropped)
    lines = "\n".join(f"- {literal(d.message)}" for d in dropped)
    st.warning(
        f"{count} tag edit{'' if count == 1 else 's'} no longer "
        f"appl{'ies' if count == 1 else 'y'} after a metadata or IOD change rebuilt the "
        f"dataset and {'was' if count == 1 else 'were'} dropped; the dataset and the download "
        f"do not have {'it' if count == 1 else 'them'}:\n\n{lines}",
        icon=":material/warning:",
    )
    st.button("Dismiss", key=key, on_click=dismiss_dropped_edits, args=(doc,))
