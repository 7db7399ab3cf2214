"""The first app through Streamlit's AppTest: upload a PNG, download the DICOM."""

from __future__ import annotations

import io

import pydicom
from streamlit.testing.v1 import AppTest

from tests.conftest import DATA, ROOT
from tests.referee import dciodvfy

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


def _convert_upload(at: AppTest, name: str, payload: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, payload, "image/png")).run()
    return at


def test_uploaded_png_becomes_a_valid_dicom_with_the_name(tmp_path) -> None:
    at = _convert_upload(_app().run(), "basn2c08.png", (DATA / "png" / "basn2c08.png").read_bytes())
    at.text_input[0].input("Müller").run()
    at.text_input[1].input("Zoë").run()
    at.button[0].click().run()
    assert not at.exception and not at.error
    name, payload = at.session_state["convert_result"]
    assert name == "basn2c08.dcm"
    target = tmp_path / name
    target.write_bytes(payload)
    ds = pydicom.dcmread(target)
    assert str(ds.PatientName) == "Müller^Zoë"
    report = dciodvfy(target)
    assert report.errors == (), report.output


def test_corrupt_png_shows_an_error_and_the_app_keeps_working() -> None:
    at = _convert_upload(_app().run(), "broken.png", (DATA / "png" / "xhdn0g08.png").read_bytes())
    at.text_input[0].input("Doe").run()
    at.button[0].click().run()
    assert not at.exception
    assert at.error and "broken.png" in at.error[0].value
    assert at.text_input[0].value == "Doe"  # nothing the user typed is lost
    _convert_upload(at, "good.png", (DATA / "png" / "basn0g08.png").read_bytes())
    at.button[0].click().run()
    assert not at.error
    name, _ = at.session_state["convert_result"]
    assert name == "good.dcm"
