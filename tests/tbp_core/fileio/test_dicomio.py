"""Reading any DICOM file, damaged ones as far as possible, and pixel access."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset

from tbp_core.building.convert import convert_image
from tbp_core.building.iods import new_series_context
from tbp_core.building.metadata import parse_template
from tbp_core.errors import DicomReadError
from tbp_core.fileio import dicomio

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data" / "dicom"
PNG = ROOT / "tests" / "data" / "png" / "basn2c08.png"
TEMPLATE = ROOT / "sample_data" / "tbp_regional_template.json"
CORPUS = ROOT.parent / "shared" / "corpus" / "dicom"
DAMAGED = (
    "fodicom__GH177_D_CLUNIE_CT1_IVRLE_BigEndian_undefined_length.dcm",
    "pydicom__MR_truncated.dcm",
    "pydicom__rtplan_truncated.dcm",
)


@pytest.fixture(scope="module")
def produced() -> bytes:
    metadata = parse_template(TEMPLATE.read_text(encoding="utf-8"))
    converted = convert_image(PNG.read_bytes(), PNG.name, metadata, new_series_context())
    return dicomio.to_bytes(converted.dataset)


@pytest.mark.parametrize(
    ("name", "keyword"),
    [
        ("CT_small.dcm", "PatientName"),
        ("MR_small.dcm", "PatientName"),
        ("ExplVR_BigEndNoMeta.dcm", "StudyInstanceUID"),
        ("JPEG2000.dcm", "Rows"),
        ("SC_rgb_rle.dcm", "Rows"),
        ("rtplan.dcm", "BeamSequence"),
    ],
)
def test_reads_variants_whole(name: str, keyword: str) -> None:
    for source in (DATA / name, (DATA / name).read_bytes()):
        result = dicomio.read_with_report(source, name=name)
        assert keyword in result.dataset
        assert result.warnings == ()
        assert result.stopped_at is None


def test_pixel_data_stays_deferred(produced: bytes) -> None:
    ds = dicomio.read(produced)
    raw = ds.get_item(0x7FE00010, keep_deferred=True)
    assert isinstance(raw, RawDataElement)
    assert raw.value is None


def test_truncated_file_gives_partial_dataset_with_offset(produced: bytes) -> None:
    cut = produced[: len(produced) - 100]
    result = dicomio.read_with_report(cut, name="cut.dcm")
    assert "PatientName" in result.dataset
    assert result.stopped_at == len(cut)
    assert any(str(len(cut)) in warning for warning in result.warnings)
    assert dicomio.read(cut).SOPClassUID == result.dataset.SOPClassUID


@pytest.mark.parametrize("data", [b"", b"hello, this is plain text and not DICOM\n" * 4])
def test_nothing_readable_is_an_error(data: bytes) -> None:
    with pytest.raises(DicomReadError, match=r"notes\.txt"):
        dicomio.read(data, name="notes.txt")


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DicomReadError, match=r"nope\.dcm"):
        dicomio.read(tmp_path / "nope.dcm")


@pytest.mark.parametrize(
    "name",
    ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "SC_rgb_rle.dcm"],
)
def test_pixel_array_for_each_codec(name: str) -> None:
    ds = dicomio.read(DATA / name)
    array = dicomio.pixel_array(ds)
    assert isinstance(array, np.ndarray)
    assert array.shape[:2] == (ds.Rows, ds.Columns)


def test_pixel_array_without_pixels_or_corrupt() -> None:
    with pytest.raises(DicomReadError, match="no Pixel Data"):
        dicomio.pixel_array(dicomio.read(DATA / "rtplan.dcm"))
    ds = dicomio.read(DATA / "JPEG2000.dcm")
    ds.PixelData = b"\xfe\xff\x00\xe0\x00\x00\x00\x00" + b"\xfe\xff\x00\xe0\x04\x00\x00\x00junk"
    with pytest.raises(DicomReadError):
        dicomio.pixel_array(ds)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_corpus_sweep_reads_or_fails_cleanly() -> None:
    read = failed = 0
    damaged_seen = []
    for path in sorted(p for p in CORPUS.iterdir() if p.is_file()):
        try:
            result = dicomio.read_with_report(path)
        except DicomReadError as exc:
            assert "\n" not in str(exc)
            assert path.name == "SOURCES.md", path.name  # the only file that is no DICOM
            failed += 1
            continue
        read += 1
        if path.name in DAMAGED:
            damaged_seen.append(path.name)
            assert result.warnings and result.stopped_at is not None, path.name
            assert len(result.dataset) > 0
    print(f"corpus: {read} read, {failed} with nothing readable")
    assert sorted(damaged_seen) == sorted(DAMAGED)
    assert failed == 1 and read >= 130, (read, failed)


@pytest.mark.parametrize("junk", [b"", b" ", b"\x00\x00\x00"])
@pytest.mark.parametrize("implicit", [True, False])
def test_data_set_without_preamble_or_meta_is_found(junk: bytes, implicit: bool) -> None:
    ds = dicomio.read(DATA / "CT_small.dcm")
    stripped = Dataset({tag: ds[tag] for tag in ds.keys() if tag < 0x7FE00010})  # noqa: SIM118
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, implicit
    write_dataset(buffer, stripped)
    data = junk + buffer.getvalue()
    result = dicomio.read_with_report(data, name="headerless")
    assert result.dataset.PatientName == ds.PatientName
    assert result.dataset.Rows == ds.Rows
    if junk:  # pydicom itself reads a clean headerless data set, without warning
        assert "no preamble and no file meta" in result.warnings[0]
        assert f"starts at byte {len(junk)}" in result.warnings[0]
