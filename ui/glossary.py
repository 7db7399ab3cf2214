"""The glossary in the sidebar of every page, and help texts that quote it.

app.py (the router) calls :func:`glossary_sidebar` once per run, so every page
has it; the words and their meanings live in :mod:`tbp_core.standard.glossary`.
"""

from __future__ import annotations

import streamlit as st

from tbp_core.standard.glossary import GROUPS, TERMS, Term, lookup
from ui.text import literal

#: The sidebar expander's label (tests find the glossary by it).
LABEL = "Glossary"
#: Widget key of the glossary's filter box.
FIND_KEY = "glossary_find"


def _entry(term: Term) -> str:
    line = f"**{literal(term.term)}** — {literal(term.meaning)}"
    if term.see:
        line += f" [{literal(term.section or 'The standard')}]({term.see})"
    return line


def _matches(term: Term, wanted: str) -> bool:
    needle = wanted.casefold()
    names = (term.term, *term.aliases, term.meaning)
    return any(needle in name.casefold() for name in names)


def glossary_sidebar() -> None:
    """The glossary as an expander in the sidebar: DICOM words grouped as a student meets them."""
    with st.sidebar.expander(LABEL, icon=":material/menu_book:"):
        wanted = st.text_input(
            "Find a term",
            key=FIND_KEY,
            placeholder="e.g. VR, item, file meta",
            help="Filters the terms by name or by a word of their explanation.",
        ).strip()
        shown = [term for term in TERMS if not wanted or _matches(term, wanted)]
        if not shown:
            st.caption(f"No term contains {literal(wanted)}.")
        for group in GROUPS:
            entries = [_entry(term) for term in shown if term.group == group]
            if entries:  # small type, so the sidebar's width holds more of them
                st.markdown(f"###### {group}\n\n" + "\n\n".join(f":small[{e}]" for e in entries))


def term_help(name: str) -> str:
    """A widget's help text: the glossary's meaning of ``name``, pointing to the glossary.

    Parameters
    ----------
    name : str
        A glossary term or alias (e.g. ``"transfer syntax"``).
    """
    term = lookup(name)
    return f"**{literal(term.term)}**: {literal(term.meaning)} (Glossary in the sidebar.)"
