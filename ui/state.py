"""Session state: the only place that names ``st.session_state`` keys.

Everything a user uploads or produces lives in memory, per session; nothing is
written to disk.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
SAMPLE_IMAGE = SAMPLE_DIR / "regional_back.png"

RESULT = "convert_result"
ERROR = "convert_error"


def init_session() -> None:
    """Set the session's defaults once."""
    st.session_state.setdefault(RESULT, None)
    st.session_state.setdefault(ERROR, None)
