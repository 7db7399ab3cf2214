"""TBP DICOM Studio — router only: page config, session binding, navigation.

`streamlit run app.py -- --samples` (what `make run` does) opens every new
session on the sample images; a session restored from its URL key (a reload)
keeps its own documents.
"""

import sys

import streamlit as st

from ui.layout import (
    BROWSE_PAGE,
    DUMP_PAGE,
    METADATA_PAGE,
    STRUCTURE_PAGE,
    TAGS_PAGE,
    UPLOAD_PAGE,
    VALIDATE_PAGE,
)
from ui.sessionbar import session_controls
from ui.state import init_session, load_samples
from ui.warmup import warm_up

st.set_page_config(page_title="TBP DICOM Studio", page_icon="🩺", layout="wide")
# The screens live in views/, not pages/: Streamlit lists a pages/ folder by file
# name ("app", "dump", ...) and runs those scripts on its own until this router has
# run once, which raced the warm-up's imports at a cold start.
page = st.navigation(
    [
        st.Page(UPLOAD_PAGE, title="Upload", default=True),
        st.Page(BROWSE_PAGE, title="Browse"),
        st.Page(METADATA_PAGE, title="Metadata"),
        st.Page(TAGS_PAGE, title="Tags"),
        st.Page(DUMP_PAGE, title="Dump"),
        st.Page(STRUCTURE_PAGE, title="Structure"),
        st.Page(VALIDATE_PAGE, title="Validate & Download"),
    ]
)
warm_up()
if init_session() and "--samples" in sys.argv[1:]:
    load_samples()
session_controls()
page.run()
