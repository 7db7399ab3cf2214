"""TBP DICOM Studio — router only: page config, session defaults, navigation."""

import streamlit as st

from ui.state import init_session

st.set_page_config(page_title="TBP DICOM Studio", page_icon="🩺", layout="wide")
init_session()
st.navigation([st.Page("pages/convert.py", title="Convert", default=True)]).run()
