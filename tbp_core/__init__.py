"""TBP DICOM Studio core library.

Turns Total Body Photography images (PNG, JPEG, TIFF) into standard DICOM
objects and reads, inspects and validates DICOM files. This package never
imports streamlit; the web app in ``app.py``/``pages/``/``ui/`` is built on it.
"""

__version__ = "0.1.0"
