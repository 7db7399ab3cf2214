"""Process-wide warm-up: load the standard's tables once, then keep them out of GC scans.

The standard's IOD/module/attribute tables become ~200 000 long-lived Python
objects. Loaded lazily, the first page that needs them pays the load; left to
the garbage collector, every full collection walks them (150-350 ms pauses in
the middle of a rerun). Loading them at start-up and freezing them
(``gc.freeze``) removes both costs. The freeze also catches the first
session's Streamlit state; :func:`ui.sessions.return_freed_memory` unfreezes
when memory is next returned, so that state is collected once the session
has ended (frozen cycles are never collected otherwise).
"""

from __future__ import annotations

import gc

import streamlit as st

from tbp_core import standard
from tbp_core.building.iods import IODS
from tbp_core.standard import anatomy


@st.cache_resource(show_spinner=False)
def warm_up() -> bool:
    """Load the tables the pages use, then move everything alive to the permanent GC generation.

    Runs once per server process (``st.cache_resource``).
    """
    for spec in IODS.values():
        for usage in standard.modules_of_iod(spec.standard_key):
            standard.attributes_of_module(usage.key)
        standard.top_level_keywords_of_iod(spec.standard_key)
    anatomy.all_regions()
    gc.collect()
    gc.freeze()
    return True
