"""Convert: upload an image, fill in the patient, download the DICOM."""

from __future__ import annotations

import streamlit as st

from tbp_core import dicomio
from tbp_core.convert import ConvertOptions, convert_image
from tbp_core.errors import TbpError
from tbp_core.iods import IODS, get_iod, new_series_context
from tbp_core.metadata import normalise_value
from ui.state import ERROR, RESULT, SAMPLE_IMAGE

st.title("Convert an image to DICOM")
st.caption("PNG, JPEG or TIFF in; a standard DICOM object out. Nothing leaves this session.")

upload = st.file_uploader("Images or DICOM files", type=["png", "jpg", "jpeg", "tif", "tiff"])
if upload is not None:
    source_name, source_bytes = upload.name, upload.getvalue()
elif SAMPLE_IMAGE.exists():
    source_name, source_bytes = SAMPLE_IMAGE.name, SAMPLE_IMAGE.read_bytes()
    st.info(f"No upload yet: showing the sample image `{source_name}`.")
else:
    st.stop()

left, right = st.columns(2)
with left:
    titles = {spec.title: spec for spec in IODS.values()}
    title = st.selectbox("IOD", list(titles), help="Which kind of DICOM object to produce.")
    st.caption(titles[title].summary)
    alpha = st.radio(
        "Transparent pixels",
        ["refuse", "drop", "white", "black"],
        horizontal=True,
        help="DICOM has no transparency: drop the alpha channel or composite onto a background.",
    )
with right:
    family = st.text_input("Patient's Name — family name", help="(0010,0010) PN, Type 2")
    given = st.text_input("Patient's Name — given name", help="(0010,0010) PN, Type 2")
    patient_id = st.text_input("Patient ID", help="(0010,0020) LO, Type 2")

if st.button("Convert", type="primary"):
    try:
        metadata = {}
        if family or given:
            metadata["PatientName"] = normalise_value(
                "PatientName", {"family": family, "given": given}
            )
        if patient_id:
            metadata["PatientID"] = normalise_value("PatientID", patient_id)
        converted = convert_image(
            source_bytes,
            source_name,
            metadata,
            new_series_context(),
            options=ConvertOptions(iod=get_iod(title), alpha=alpha),
        )
        st.session_state[RESULT] = (converted.output_name, dicomio.to_bytes(converted.dataset))
        st.session_state[ERROR] = None
    except TbpError as exc:
        st.session_state[RESULT] = None
        st.session_state[ERROR] = str(exc)

if st.session_state[ERROR]:
    st.error(st.session_state[ERROR])
if st.session_state[RESULT]:
    name, payload = st.session_state[RESULT]
    st.success(f"{name} is ready ({len(payload) / 1e6:.1f} MB).")
    st.download_button("Download DICOM", payload, file_name=name, mime="application/dicom")
