"""Keep one failing part of a page from stopping the rest of it.

A decoder may raise anything — even a Rust panic (``pyo3_runtime.PanicException``,
a :class:`BaseException`). :func:`shielded` shows such a failure as ``st.error``
where the part would have been and lets the page go on (the document's Remove
button, the other documents, the other pages). Streamlit's own control flow
(``st.stop``, ``st.rerun``) and interpreter exits pass through untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from tbp_core.errors import one_line
from ui.text import literal

#: Exceptions that are not failures of a part and must reach Streamlit or Python.
PASS_THROUGH: tuple[type[BaseException], ...] = (
    ScriptControlException,
    KeyboardInterrupt,
    SystemExit,
    GeneratorExit,
)


def failure_text(what: str, exc: BaseException) -> str:
    """One line saying what failed and why, for a person (no traceback).

    Parameters
    ----------
    what : str
        What was being done, e.g. ``"the preview of 'a.dcm'"``.
    exc : BaseException
        The failure.
    """
    return f"{what} failed: {one_line(exc)} ({type(exc).__name__})"


@contextmanager
def shielded(what: str) -> Iterator[None]:
    """Run a block; if it fails, show ``st.error`` and carry on with the page.

    Parameters
    ----------
    what : str
        What the block does, for the message (plain text; escaped when shown).
    """
    try:
        yield
    except PASS_THROUGH:
        raise
    except BaseException as exc:  # a panic from a decoder is a BaseException
        st.error(literal(failure_text(what, exc)))
