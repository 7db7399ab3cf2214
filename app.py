"""TBP DICOM Studio — router only: page config, session binding, navigation.

`streamlit run app.py -- --samples` (what `make run` does) opens every new
session on the sample images; a session restored from its URL key (a reload)
keeps its own documents.
"""

import sys

import streamlit as st

from ui.glossary import glossary_sidebar
from ui.layout import PAGE_TITLES, UPLOAD_PAGE
from ui.sessionbar import session_controls
from ui.state import init_session, load_samples
from ui.warmup import warm_up

st.set_page_config(page_title="TBP DICOM Studio", page_icon="🩺", layout="wide")
# The screens live in views/, not pages/: Streamlit lists a pages/ folder by file
# name ("app", "dump", ...) and runs those scripts on its own until this router has
# run once, which raced the warm-up's imports at a cold start.
page = st.navigation(
    [st.Page(path, title=title, default=path == UPLOAD_PAGE) for path, title in PAGE_TITLES.items()]
)
warm_up()
if init_session() and "--samples" in sys.argv[1:]:
    load_samples()
session_controls()
glossary_sidebar()  # every page's sidebar: the DICOM words explained
page.run()
