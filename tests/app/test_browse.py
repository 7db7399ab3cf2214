"""The Browse page through Streamlit's AppTest: many files, a ZIP, the tree, the tag table."""

from __future__ import annotations

import io
import re
import zipfile

import pydicom
import pytest
from pydicom.uid import generate_uid
from streamlit.testing.v1 import AppTest

from tbp_core.fileio import dicomio
from tbp_core.session.workspace import Document
from tests.app.shown import shown
from tests.conftest import DATA, ROOT
from ui.browse import SCOPE_KEY, TABLE_KEY
from ui.state import CURRENT, DOCUMENTS

DICOM_DIR = DATA / "dicom"


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    return app


def _documents(at: AppTest) -> list[Document]:
    docs: list[Document] = at.session_state[DOCUMENTS]
    return docs


def _upload(at: AppTest, *files: tuple[str, bytes]) -> None:
    at.file_uploader(key="upload_files").set_value(
        [(name, data, "application/octet-stream") for name, data in files]
    ).run()
    assert not at.exception


def _ct_copy(patient: str, study: str, series: str, number: int) -> bytes:
    """CT_small with new patient, study, series and instance identity."""
    ds = dicomio.read((DICOM_DIR / "CT_small.dcm").read_bytes())
    ds.PatientName = patient
    ds.PatientID = patient.upper()
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceNumber = number
    return dicomio.to_bytes(ds)


def _zip_of_test_dicoms() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(DICOM_DIR.iterdir()):
            archive.writestr(f"dicom/{path.name}", path.read_bytes())
        archive.writestr("dicom/README.txt", "not a DICOM file")
    return buffer.getvalue()


def _browse(at: AppTest) -> None:
    at.switch_page("views/browse.py").run()
    assert not at.exception


def _upload_two_patients(at: AppTest) -> tuple[str, str]:
    """Alpha: one study, series a1 (a1, a2) and a2 (a3); Beta: one study, one series (b1).

    Returns Alpha's study and series a1's UIDs.
    """
    study_a, study_b = generate_uid(), generate_uid()
    series_a1, series_a2, series_b1 = generate_uid(), generate_uid(), generate_uid()
    _upload(
        at,
        ("a1.dcm", _ct_copy("Alpha^Ann", study_a, series_a1, 1)),
        ("a2.dcm", _ct_copy("Alpha^Ann", study_a, series_a1, 2)),
        ("a3.dcm", _ct_copy("Alpha^Ann", study_a, series_a2, 1)),
        ("b1.dcm", _ct_copy("Beta^Bob", study_b, series_b1, 1)),
    )
    return study_a, series_a1


def test_the_tree_counts_patients_studies_series_and_instances(at: AppTest) -> None:
    study_a, series_a1 = _upload_two_patients(at)
    assert len(_documents(at)) == 4
    _browse(at)
    labels = [shown(e.label) for e in at.expander]
    assert "Alpha^Ann · ALPHA^ANN — 1 study, 2 series, 3 instances" in labels
    assert "Beta^Bob · BETA^BOB — 1 study, 1 series, 1 instance" in labels
    tree = " ".join(shown(m.value) for m in at.markdown)
    assert f"2 series, 3 instances · `{study_a}`" in tree
    assert f"2 instances · `{series_a1}`" in tree
    assert "#2 `a2.dcm`" in tree


def _choose(at: AppTest, label_start: str, label_end: str) -> None:
    """Pick the tree node whose listed label starts and ends so."""
    box = at.selectbox(key=SCOPE_KEY)
    (index,) = [
        i
        for i, label in enumerate(box.options)
        if label.strip("\u2003").startswith(label_start) and label.endswith(label_end)
    ]
    box.select_index(index).run()
    assert not at.exception


def test_the_tree_choice_limits_the_table_to_a_series_or_a_patient(at: AppTest) -> None:
    _upload_two_patients(at)
    _browse(at)
    box = at.selectbox(key=SCOPE_KEY)
    assert box.options[0] == "All documents (4 instances)"
    assert len(box.options) == 1 + 2 + 2 + 3  # everything, patients, studies, series
    _choose(at, "Series", "(2 instances)")  # series a1
    assert list(at.dataframe(key=TABLE_KEY).value["file"]) == ["a1.dcm", "a2.dcm"]
    captions = " ".join(shown(c.value) for c in at.caption)
    assert "2 of 4 rows shown" in captions and "only Series" in captions
    # The text filter works within the chosen node.
    at.text_input(key="browse_filter").set_value("a2.dcm").run()
    assert list(at.dataframe(key=TABLE_KEY).value["file"]) == ["a2.dcm"]
    at.text_input(key="browse_filter").set_value("").run()
    _choose(at, "Patient Beta^Bob", "(1 instance)")
    assert list(at.dataframe(key=TABLE_KEY).value["file"]) == ["b1.dcm"]
    # A row picked in the narrowed table makes its own document current.
    at.session_state[TABLE_KEY] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    beta = next(doc for doc in _documents(at) if doc.name == "b1.dcm")
    assert at.session_state[CURRENT] == beta.id
    # When the chosen node's documents are removed, the table shows everything.
    at.switch_page("views/upload.py").run()
    at.button(key=f"upload_remove_{beta.id}").click().run()
    assert not at.exception
    _browse(at)
    assert at.selectbox(key=SCOPE_KEY).value == "all"
    assert list(at.dataframe(key=TABLE_KEY).value["file"]) == ["a1.dcm", "a2.dcm", "a3.dcm"]


def test_a_zip_becomes_one_document_per_dicom_member(at: AppTest) -> None:
    _upload(at, ("tests.zip", _zip_of_test_dicoms()))
    names = [doc.name for doc in _documents(at)]
    expected = [f"tests.zip!dicom/{path.name}" for path in sorted(DICOM_DIR.iterdir())]
    assert names == expected
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 1
    assert "Skipped in the ZIP archive: tests.zip!dicom/README.txt" in errors[0]
    assert "neither a PNG, JPEG or TIFF image nor a readable DICOM file" in errors[0]
    _browse(at)
    table = at.dataframe(key=TABLE_KEY).value
    assert list(table["file"]) == expected


def test_picked_columns_give_one_row_per_document_with_pydicoms_values(at: AppTest) -> None:
    files = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"]
    _upload(at, *[(name, (DICOM_DIR / name).read_bytes()) for name in files])
    _browse(at)
    at.multiselect(key="browse_columns").set_value(["PatientName", "(0008,0060)"]).run()
    assert not at.exception
    table = at.dataframe(key=TABLE_KEY).value
    assert list(table.columns) == ["file", "PatientName", "(0008,0060)"]
    assert list(table["file"]) == files
    for name, (_, row) in zip(files, table.iterrows(), strict=True):
        ds = pydicom.dcmread(DICOM_DIR / name)
        assert row["PatientName"] == str(ds.PatientName)
        assert row["(0008,0060)"] == ds.Modality
    captions = " ".join(shown(c.value) for c in at.caption)
    assert "columns that differ: `PatientName`, `(0008,0060)`" in captions
    csv = at.get("download_button")[0]
    assert csv.proto.label == "Download (.csv)"


def test_a_free_text_path_column_and_a_bad_column(at: AppTest) -> None:
    _upload(at, ("CT_small.dcm", (DICOM_DIR / "CT_small.dcm").read_bytes()))
    _browse(at)
    at.multiselect(key="browse_columns").set_value(["NoSuchKeyword", "(0010,0010)"]).run()
    assert not at.exception
    assert any("NoSuchKeyword" in shown(e.value) for e in at.error)
    table = at.dataframe(key=TABLE_KEY).value
    assert list(table.columns) == ["file", "(0010,0010)"]
    assert table["(0010,0010)"][0] == "CompressedSamples^CT1"


def test_the_filter_keeps_the_matching_rows(at: AppTest) -> None:
    files = ["CT_small.dcm", "MR_small.dcm"]
    _upload(at, *[(name, (DICOM_DIR / name).read_bytes()) for name in files])
    _browse(at)
    at.text_input(key="browse_filter").set_value("compressedsamples^mr1").run()
    assert not at.exception
    assert list(at.dataframe(key=TABLE_KEY).value["file"]) == ["MR_small.dcm"]


def test_selecting_a_row_makes_its_document_current(at: AppTest) -> None:
    files = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"]
    _upload(at, *[(name, (DICOM_DIR / name).read_bytes()) for name in files])
    _browse(at)
    assert at.session_state[CURRENT] == _documents(at)[2].id  # the last upload
    at.session_state[TABLE_KEY] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    first = _documents(at)[0]
    assert at.session_state[CURRENT] == first.id
    assert at.selectbox(key="sidebar_current_document").value == first.id
    at.selectbox(key="sidebar_current_document").set_value(_documents(at)[1].id).run()
    assert at.session_state[CURRENT] == _documents(at)[1].id  # the held row does not win


def test_rows_are_computed_once_per_revision(at: AppTest) -> None:
    _upload(at, ("CT_small.dcm", (DICOM_DIR / "CT_small.dcm").read_bytes()))
    _browse(at)
    doc = _documents(at)[0]
    memo = at.session_state["memo"]
    first = memo[(doc.id, "browse_row")][1]
    at.run()
    assert memo[(doc.id, "browse_row")][1] is first
    at.multiselect(key="browse_columns").set_value(["Rows"]).run()
    assert memo[(doc.id, "browse_row")][1] is not first
    assert at.dataframe(key=TABLE_KEY).value["Rows"][0] == "128"


def test_the_empty_page_points_to_upload(at: AppTest) -> None:
    _browse(at)
    assert any("No documents yet" in str(i.value) for i in at.info)


def test_the_dump_shows_uid_names_and_value_lengths(at: AppTest) -> None:
    # The Dump page's glue for DumpNode.uid_name and .length (kept here with the browser work).
    _upload(at, ("CT_small.dcm", (DICOM_DIR / "CT_small.dcm").read_bytes()))
    at.switch_page("views/dump.py").run()
    assert not at.exception
    body = " ".join(h.proto.body for h in at.get("html"))
    assert '<span class="uidname">= CT Image Storage</span>' in body
    stored = pydicom.dcmread(DICOM_DIR / "CT_small.dcm").get_item(0x00100010)
    assert stored.length == 22  # the raw element's length as read from the file
    name_line = re.search(r">PatientName</span>.*?</div>", body)
    assert name_line is not None
    assert '<span class="len"># 22 bytes</span>' in name_line.group(0)
