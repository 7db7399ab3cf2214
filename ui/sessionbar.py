"""The sidebar's session controls: how long the session is kept, and "Clear session"."""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.sessions import idle_seconds

#: Widget key of the "Clear session" button.
CLEAR_KEY = "session_clear"


def _idle_text() -> str:
    minutes = idle_seconds() / 60
    if minutes >= 120 and minutes % 60 == 0:
        return f"{minutes / 60:g} hours"
    return f"{minutes:g} minute{'' if minutes == 1 else 's'}"


def session_controls() -> None:
    """Say where the session lives and offer to forget it (in the sidebar)."""
    with st.sidebar:
        st.button(
            "Clear session",
            key=CLEAR_KEY,
            icon=":material/delete_sweep:",
            on_click=state.clear_session,
            help="Forget every document, metadata value and edit of this session now, "
            "and start an empty one.",
        )
        st.caption(
            "This session is kept in the server's memory only (never on disk), under the "
            f"key in this page's address, so a reload keeps it; it is forgotten after "
            f"{_idle_text()} without use, or now with Clear session."
        )
