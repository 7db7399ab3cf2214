"""Streamlit glue shared by the pages: session state keys, cached wrappers, widgets."""
