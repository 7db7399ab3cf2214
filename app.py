"""TBP DICOM Studio — router only: page config, session defaults, navigation."""

import streamlit as st

from ui.layout import (
    DUMP_PAGE,
    METADATA_PAGE,
    STRUCTURE_PAGE,
    TAGS_PAGE,
    UPLOAD_PAGE,
    VALIDATE_PAGE,
)
from ui.state import init_session
from ui.warmup import warm_up

st.set_page_config(page_title="TBP DICOM Studio", page_icon="🩺", layout="wide")
warm_up()
init_session()
st.navigation(
    [
        st.Page(UPLOAD_PAGE, title="Upload", default=True),
        st.Page(METADATA_PAGE, title="Metadata"),
        st.Page(TAGS_PAGE, title="Tags"),
        st.Page(DUMP_PAGE, title="Dump"),
        st.Page(STRUCTURE_PAGE, title="Structure"),
        st.Page(VALIDATE_PAGE, title="Validate & Download"),
    ]
).run()
