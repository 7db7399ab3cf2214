"""The first app through Streamlit's AppTest: upload a PNG, download the DICOM."""

from __future__ import annotations

import io

import pydicom
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

APP = str(ROOT / "app.py")


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def test_app_renders_on_sample_data() -> None:
    at = _app().run()
    assert not at.exception
    assert at.title[0].value == "Convert an image to DICOM"
    assert any("sample" in info.value for info in at.info)


def test_convert_sample_with_patient_name_gives_dicom_with_that_name() -> None:
    at = _app().run()
    at.text_input[0].input("Doe").run()
    at.text_input[1].input("Jane").run()
    at.button[0].click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    name, payload = at.session_state["convert_result"]
    ds = pydicom.dcmread(io.BytesIO(payload))
    assert str(ds.PatientName) == "Doe^Jane"
    assert name.endswith(".dcm")
