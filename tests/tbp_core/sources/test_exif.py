"""EXIF -> DICOM mapping (tbp_core.sources.exif) on real camera EXIF blocks and built edge cases."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path
from typing import Any

import pydicom
import pytest
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational
from pydicom import config
from pydicom.datadict import dictionary_VM, dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian
from pydicom.valuerep import validate_value

from tbp_core.sources.exif import GPS_NOTE, ExifResult, format_report, map_exif

EXIF_DIR = Path(__file__).resolve().parents[2] / "data" / "exif"
CORPUS_IMAGES = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "images"

CAMERA_FILES = [
    "exifpy__Canon_40D.jpg",
    "exifpy__Nikon_D70.jpg",
    "exifpy__tests_32-lens_data.jpeg",
    "pillow__ultrahdr.jpg",
    "pillow__exif_gps.jpg",
    "exifpy__gps_DSCN0010.exif.bin",
]
GPS_KEYWORD_PREFIX = "GPS"
POINTER_TAGS = {"ExifOffset", "GPSInfo", "ExifInteroperabilityOffset"}


def exif_block(name: str) -> bytes:
    """The raw EXIF block of a test file (JPEG APP1 payload, or a stored .bin)."""
    path = EXIF_DIR / name
    if path.suffix == ".bin":
        return path.read_bytes()
    with Image.open(path) as im:
        data = im.info["exif"]
    assert isinstance(data, bytes)
    return data


def build_exif(
    ifd0: dict[int, Any] | None = None,
    exif: dict[int, Any] | None = None,
    gps: dict[int, Any] | None = None,
) -> bytes:
    """An EXIF block written by Pillow (big-endian, with the Exif\\0\\0 prefix)."""
    block = Image.Exif()
    for tag, value in (ifd0 or {}).items():
        block[tag] = value
    if exif:
        block[ExifTags.IFD.Exif] = exif
    if gps:
        block[ExifTags.IFD.GPSInfo] = gps
    return block.tobytes()


def rational(numerator: int, denominator: int) -> IFDRational:
    return IFDRational(numerator, denominator)


def assert_valid_for_dicom(result: ExifResult) -> None:
    """Every value fits its keyword's VR and VM, checked with pydicom's own validators."""
    for keyword, value in result.values.items():
        vr = dictionary_VR(keyword)
        vm = dictionary_VM(keyword)
        items = value if isinstance(value, list) else [value]
        low, _, high = vm.partition("-")
        assert len(items) >= int(low), (keyword, value, vm)
        if high != "n":
            assert len(items) <= int(high or low), (keyword, value, vm)
        for item in items:
            if vr in ("US", "SS", "UL", "SL"):
                assert type(item) is int, (keyword, item)
            elif vr == "OB":
                assert isinstance(item, bytes) and item, (keyword, item)
            elif vr in ("FL", "FD"):
                assert isinstance(item, float), (keyword, item)
            else:
                assert isinstance(item, str) and item, (keyword, item)
            validate_value(vr, item, config.RAISE)
            if vr == "IS":
                assert -(2**31) <= int(item) <= 2**31 - 1, (keyword, item)
            if vr in ("SH", "LO", "CS", "UC", "DS", "IS"):
                assert "\\" not in item, (keyword, item)
        assert keyword != "ExposureTime", "EXIF exposure time must not go to (0018,1150)"


def rows_for(result: ExifResult, exif_tag: str) -> list[Any]:
    return [row for row in result.report if row.exif_tag == exif_tag]


# --- no EXIF, broken EXIF -------------------------------------------------------------


@pytest.mark.parametrize("empty", [None, b""])
def test_no_exif_gives_empty_result(empty: bytes | None) -> None:
    result = map_exif(empty)
    assert result.values == {}
    assert result.report == ()
    assert format_report(result) == "No EXIF metadata."


def test_real_invalid_exif_block_is_reported_not_raised() -> None:
    result = map_exif(exif_block("pillow__invalid-exif.jpg"))
    assert result.values == {}
    assert len(result.report) == 1
    assert result.report[0].keyword is None
    assert "EXIF could not be read" in result.report[0].note


@pytest.mark.parametrize(
    "data",
    [
        b"\x00",
        b"Exif\x00\x00",
        b"Exif\x00\x00garbage that is no TIFF",
        b"II*\x00",
        b"MM\x00*\x00\x00\x00\x08",
        b"II*\x00\xff\xff\xff\x7f",
        b"II*\x00\x08\x00\x00\x00\xff\xff",
        bytes(range(256)) * 4,
    ],
)
def test_malformed_exif_never_raises(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about some corrupt IFDs
        result = map_exif(data, include_gps=True)
    assert result.values == {}
    assert len(result.report) == 1
    assert "EXIF could not be read" in result.report[0].note


def test_corrupt_exif_ifd_pointer_keeps_ifd0_values() -> None:
    make = struct.pack("<HHL4s", 0x010F, 2, 4, b"Abc\x00")
    exif_pointer = struct.pack("<HHLL", 0x8769, 4, 1, 5000)  # points past the end
    block = b"II*\x00" + struct.pack("<LH", 8, 2) + make + exif_pointer + b"\x00" * 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = map_exif(block)
    assert result.values == {"Manufacturer": "Abc"}
    (row,) = rows_for(result, "Exif IFD")
    assert "could not be read" in row.note


def test_truncated_real_blocks_never_raise() -> None:
    for name in CAMERA_FILES:
        block = exif_block(name)
        for size in range(0, len(block), max(1, len(block) // 40)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = map_exif(block[:size], include_gps=True)
            assert_valid_for_dicom(result)


def test_wrongly_typed_tags_are_reported_not_raised() -> None:
    # IFD0: Make, ExifOffset -> Exif IFD: DateTimeOriginal as RATIONAL 1/0, Flash as ASCII.
    exif_at = 8 + 2 + 2 * 12 + 4
    data_at = exif_at + 2 + 2 * 12 + 4
    ifd0 = (
        struct.pack("<H", 2)
        + struct.pack("<HHL4s", 0x010F, 2, 4, b"Abc\x00")
        + struct.pack("<HHLL", 0x8769, 4, 1, exif_at)
        + b"\x00" * 4
    )
    exif_ifd = (
        struct.pack("<H", 2)
        + struct.pack("<HHLL", 0x9003, 5, 1, data_at)
        + struct.pack("<HHL4s", 0x9209, 2, 4, b"abc\x00")
        + b"\x00" * 4
    )
    block = b"II*\x00" + struct.pack("<L", 8) + ifd0 + exif_ifd + struct.pack("<LL", 1, 0)
    result = map_exif(block)
    assert result.values == {"Manufacturer": "Abc"}
    for tag in ("DateTimeOriginal", "Flash"):
        (row,) = rows_for(result, tag)
        assert row.dicom_value is None and "not copied" in row.note


# --- real camera values ---------------------------------------------------------------


def test_canon_40d() -> None:
    result = map_exif(exif_block("exifpy__Canon_40D.jpg"))
    values = result.values
    assert values["Manufacturer"] == "Canon"
    assert values["ManufacturerModelName"] == "Canon EOS 40D"
    assert values["SoftwareVersions"] == "GIMP 2.4.5"
    assert values["ExposureTimeInSeconds"] == "0.00625"  # 1/160 s
    assert values["FNumber"] == "7.1"
    assert values["FocalLength"] == "135"
    assert values["PhotographicSensitivity"] == "100"
    assert values["ExposureProgram"] == 1
    assert values["MeteringMode"] == 5
    assert values["EXIFVersion"] == "0221"
    assert values["InteroperabilityIndex"] == "R98"
    assert values["InteroperabilityVersion"] == b"0100"
    # DateTimeOriginal 2008:05:30 15:56:01 with SubSecTimeOriginal "00", no offset.
    assert values["AcquisitionDateTime"] == "20080530155601.00"
    assert values["AcquisitionDate"] == "20080530"
    assert values["AcquisitionTime"] == "155601.00"
    assert values["ContentDate"] == "20080530"
    assert values["ContentTime"] == "155601.00"
    # Flash 9 = fired, compulsory flash mode.
    assert values["FlashFiringStatus"] == 1
    assert values["FlashReturnStatus"] == 0
    assert values["FlashMode"] == 1
    assert values["FlashFunctionPresent"] == 0
    assert values["FlashRedEyeMode"] == 0
    assert "ExposureTime" not in values


def test_nikon_d70() -> None:
    values = map_exif(exif_block("exifpy__Nikon_D70.jpg")).values
    assert values["Manufacturer"] == "NIKON CORPORATION"
    assert values["ManufacturerModelName"] == "NIKON D70"
    assert values["ExposureTimeInSeconds"] == "0.005"  # 1/200 s
    assert values["FNumber"] == "9"
    assert values["FocalLength"] == "100"
    assert values["FocalLengthIn35mmFilm"] == "150"
    assert values["ExposureBiasValue"] == "-1"
    assert values["MaxApertureValue"] == "3.3"
    assert values["PhotographicSensitivity"] == "200"
    assert values["AcquisitionDateTime"] == "20080315095201"
    # No DateTimeDigitized: the content date/time fall back to DateTimeOriginal.
    assert values["ContentDate"] == "20080315"
    assert values["ContentTime"] == "095201"


def test_pixel6_offset_subseconds_and_lens() -> None:
    values = map_exif(exif_block("pillow__ultrahdr.jpg")).values
    assert values["Manufacturer"] == "Google"
    assert values["ExposureTimeInSeconds"] == "0.04"
    assert values["FNumber"] == "1.85"
    assert values["AcquisitionDateTime"] == "20240507093304.046+0800"
    assert values["AcquisitionTime"] == "093304.046"
    assert values["ContentTime"] == "093304.046"
    assert values["LensMake"] == "Google"
    assert values["LensModel"] == "Pixel 6 back camera 6.81mm f/1.85"
    assert values["SubjectDistance"] == "0.123"
    assert values["SensingMethod"] == 2
    assert values["SceneType"] == 1
    assert not any(k.startswith(GPS_KEYWORD_PREFIX) for k in values)


def test_big_endian_block_with_cfa_pattern() -> None:
    block = exif_block("exifpy__tests_32-lens_data.jpeg")
    assert block[6:8] == b"MM"
    result = map_exif(block, include_maker_note=True)
    values = result.values
    assert values["ManufacturerModelName"] == "NIKON D300"
    assert values["ExposureTimeInSeconds"] == "0.002"
    assert values["AcquisitionDateTime"] == "20120714163012.68"
    assert values["ColorFilterArrayPatternColumns"] == "2"
    assert values["ColorFilterArrayPatternRows"] == "2"
    assert values["ColorFilterArrayPatternValues"] == ["0", "1", "1", "2"]
    assert values["FileSource"] == 3
    assert isinstance(values["MakerNote"], bytes) and len(values["MakerNote"]) == 8003
    assert "MakerNote" not in map_exif(block).values
    # Artist and Copyright have no DICOM home.
    for tag in ("Artist", "Copyright"):
        (row,) = rows_for(result, tag)
        assert row.keyword is None and row.dicom_value is None
        assert "no DICOM attribute" in row.note


def test_exposure_time_1_125_is_0_008_in_seconds() -> None:
    block = build_exif(exif={0x829A: rational(1, 125), 0x829D: rational(28, 10)})
    result = map_exif(block)
    assert result.values["ExposureTimeInSeconds"] == "0.008"
    assert result.values["FNumber"] == "2.8"
    (row,) = rows_for(result, "ExposureTime")
    assert row.exif_value == "1/125"
    assert row.keyword == "ExposureTimeInSeconds"
    assert row.dicom_value == "0.008"


def test_raw_tiff_header_and_exif_prefix_give_the_same_result() -> None:
    raw = exif_block("exifpy__gps_DSCN0010.exif.bin")
    assert raw.startswith(b"II*\x00")
    assert map_exif(raw) == map_exif(b"Exif\x00\x00" + raw)


# --- GPS ----------------------------------------------------------------------------


def test_gps_left_out_by_default() -> None:
    result = map_exif(exif_block("exifpy__gps_DSCN0010.exif.bin"))
    assert not any(k.startswith(GPS_KEYWORD_PREFIX) for k in result.values)
    gps_rows = [row for row in result.report if row.exif_tag.startswith("GPS")]
    assert len(gps_rows) == 10
    for row in gps_rows:
        assert row.keyword is None
        assert row.dicom_value is None
        assert row.note == GPS_NOTE


def test_gps_included_on_request() -> None:
    result = map_exif(exif_block("exifpy__gps_DSCN0010.exif.bin"), include_gps=True)
    values = result.values
    assert values["GPSLatitudeRef"] == "N"
    assert values["GPSLatitude"] == ["43", "28", "2.814"]
    assert values["GPSLongitudeRef"] == "E"
    assert values["GPSLongitude"] == ["11", "53", "6.45599999"]
    assert values["GPSAltitudeRef"] == 0
    assert values["GPSSatellites"] == "06"
    assert values["GPSMapDatum"] == "WGS-84"
    assert values["GPSDateStamp"] == "20081023"
    assert values["GPSTimeStamp"] == "20081023142707.24+0000"
    # GPSImgDirectionRef is a lone NUL in this file: reported, not copied.
    assert "GPSImgDirectionRef" not in values
    (row,) = rows_for(result, "GPSImgDirectionRef")
    assert row.dicom_value is None and "empty" in row.note
    # The rest of the mapping does not depend on the GPS switch.
    without = map_exif(exif_block("exifpy__gps_DSCN0010.exif.bin")).values
    assert {k: v for k, v in values.items() if not k.startswith("GPS")} == without


def test_gps_pixel6_altitude_and_version() -> None:
    values = map_exif(exif_block("pillow__ultrahdr.jpg"), include_gps=True).values
    assert values["GPSVersionID"] == b"\x02\x02\x00\x00"
    assert values["GPSAltitude"] == "98.9"
    assert values["GPSLatitude"] == ["30", "37", "39.54"]
    assert values["GPSTimeStamp"] == "20240507013209+0000"


def test_gps_time_without_date_is_not_copied() -> None:
    block = build_exif(gps={7: (rational(1, 1), rational(2, 1), rational(3, 1))})
    result = map_exif(block, include_gps=True)
    assert "GPSTimeStamp" not in result.values
    (row,) = rows_for(result, "GPSTimeStamp")
    assert "GPSDateStamp" in row.note


# --- odd and edge values --------------------------------------------------------------


def test_out_of_range_and_malformed_values_are_reported() -> None:
    result = map_exif(exif_block("pillow__exif_gps.jpg"), include_gps=True)
    assert_valid_for_dicom(result)
    assert "ISOSpeed" not in result.values  # 4294967295 does not fit IS
    (row,) = rows_for(result, "ISOSpeed")
    assert row.keyword == "ISOSpeed" and row.dicom_value is None and "range" in row.note
    assert "GPSLatitude" not in result.values  # one value where DICOM needs three
    assert "GPSDateStamp" not in result.values  # 1999:99:99 99:99:99
    assert "OECF" in {row.exif_tag for row in result.report}
    assert not any(k.startswith("OECF") for k in result.values)


@pytest.mark.parametrize(
    ("flash", "expected"),
    [
        (0x00, {"FlashFiringStatus": 0, "FlashMode": 0, "FlashFunctionPresent": 0}),
        (0x10, {"FlashFiringStatus": 0, "FlashMode": 2}),
        (0x20, {"FlashFunctionPresent": 1, "FlashFiringStatus": 0}),
        (
            0x5F,
            {
                "FlashFiringStatus": 1,
                "FlashReturnStatus": 3,
                "FlashMode": 3,
                "FlashFunctionPresent": 0,
                "FlashRedEyeMode": 1,
            },
        ),
        (0x05, {"FlashFiringStatus": 1, "FlashReturnStatus": 2}),
    ],
)
def test_flash_bit_field(flash: int, expected: dict[str, int]) -> None:
    values = map_exif(build_exif(exif={0x9209: flash})).values
    for keyword, value in expected.items():
        assert values[keyword] == value


def test_flash_reserved_return_status_is_not_copied() -> None:
    result = map_exif(build_exif(exif={0x9209: 0x03}))
    assert result.values["FlashFiringStatus"] == 1
    assert "FlashReturnStatus" not in result.values
    assert any(r.keyword == "FlashReturnStatus" and "reserved" in r.note for r in result.report)


def test_unknown_values_are_not_copied() -> None:
    block = build_exif(
        exif={
            0x9204: rational(1, 0),  # ExposureBiasValue n/0
            0x9206: rational(0, 1),  # SubjectDistance 0 = unknown
            0xA432: (rational(24, 1), rational(70, 1), rational(28, 10), rational(0, 0)),
            0xA404: rational(0, 0),  # DigitalZoomRatio 0/0
        }
    )
    result = map_exif(block)
    assert result.values == {}
    for tag in ("ExposureBiasValue", "SubjectDistance", "LensSpecification", "DigitalZoomRatio"):
        (row,) = rows_for(result, tag)
        assert row.dicom_value is None
        assert row.note.startswith("not copied")


def test_lens_specification_and_subject_area() -> None:
    block = build_exif(
        exif={
            0xA432: (rational(24, 1), rational(70, 1), rational(28, 10), rational(4, 1)),
            0x9214: (100, 200, 50),
            0xA214: (10, 20),
            0xA435: "LS-42",
            0xA430: "Clinic camera 3",
        }
    )
    values = map_exif(block, include_device_identity=True).values
    assert values["LensSpecification"] == ["24", "70", "2.8", "4"]
    assert values["SubjectArea"] == ["100", "200", "50"]
    assert values["SubjectLocation"] == ["10", "20"]
    assert values["LensSerialNumber"] == "LS-42"
    assert values["CameraOwnerName"] == "Clinic camera 3"


def test_iso_speed_ratings_takes_the_first_value() -> None:
    result = map_exif(build_exif(exif={0x8827: (100, 200)}))
    assert result.values["PhotographicSensitivity"] == "100"
    (row,) = rows_for(result, "ISOSpeedRatings")
    assert "first of 2" in row.note


def test_text_cleanup_and_utf8() -> None:
    block = build_exif(
        ifd0={0x010F: "Caméra".encode(), 0x0110: "Model\\X", 0x0131: "v1\x012"},
        exif={0xA431: "SN-1"},
    )
    result = map_exif(block, include_device_identity=True)
    assert result.values["Manufacturer"] == "Caméra"
    assert result.specific_character_set == "ISO_IR 192"
    assert result.values["ManufacturerModelName"] == "Model/X"
    assert result.values["SoftwareVersions"] == "v1 2"
    assert result.values["DeviceSerialNumber"] == "SN-1"
    assert map_exif(build_exif(ifd0={0x010F: "Canon"})).specific_character_set is None


def test_long_lo_text_is_cut_to_64_characters() -> None:
    result = map_exif(build_exif(ifd0={0x0110: "M" * 100}))
    assert result.values["ManufacturerModelName"] == "M" * 64
    (row,) = rows_for(result, "Model")
    assert "64" in row.note


def test_oecf_table() -> None:
    table = (
        struct.pack(">HH", 2, 2) + b"Ev\x00Out\x00" + struct.pack(">8l", -1, 1, 0, 1, 1, 1, 5, 10)
    )
    values = map_exif(build_exif(exif={0x8828: table})).values
    assert values["OECFRows"] == "2"
    assert values["OECFColumns"] == "2"
    assert values["OECFColumnNames"] == ["Ev", "Out"]
    assert values["OECFValues"] == ["-1", "0", "1", "0.5"]


def test_content_date_prefers_date_time_digitized() -> None:
    block = build_exif(
        exif={
            0x9003: "2024:03:01 10:15:30",
            0x9291: "25",
            0x9011: "+01:00",
            0x9004: "2024:03:02 08:00:00",
            0x9012: "+01:00",
        }
    )
    result = map_exif(block)
    assert result.values["AcquisitionDateTime"] == "20240301101530.25+0100"
    assert result.values["ContentDate"] == "20240302"
    assert result.values["ContentTime"] == "080000"
    (row,) = rows_for(result, "OffsetTimeDigitized")
    assert row.keyword is None


@pytest.mark.parametrize(
    "bad", ["0000:00:00 00:00:00", "    :  :     :  :  ", "2024:13:01 10:00:00"]
)
def test_invalid_dates_are_not_copied(bad: str) -> None:
    result = map_exif(build_exif(exif={0x9003: bad}))
    assert "AcquisitionDateTime" not in result.values
    assert "ContentDate" not in result.values
    (row,) = rows_for(result, "DateTimeOriginal")
    assert row.keyword is None and "not copied" in row.note


def test_orientation_and_free_text_are_report_only() -> None:
    block = build_exif(ifd0={0x0112: 6, 0x010E: "OLYMPUS DIGITAL CAMERA"})
    result = map_exif(block)
    assert result.values == {}
    (orientation,) = rows_for(result, "Orientation")
    assert orientation.keyword is None and orientation.note == "applied to the pixels"
    (description,) = rows_for(result, "ImageDescription")
    assert description.keyword is None and "no DICOM attribute" in description.note


# --- report ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", CAMERA_FILES)
def test_report_has_a_line_for_every_tag(name: str) -> None:
    block = exif_block(name)
    loaded = Image.Exif()
    loaded.load(block)
    exif_ifd = loaded.get_ifd(ExifTags.IFD.Exif)
    expected = {ExifTags.TAGS.get(t, f"0x{t:04X}") for t in [*loaded, *exif_ifd]}
    expected -= POINTER_TAGS
    expected |= {ExifTags.GPSTAGS[t] for t in loaded.get_ifd(ExifTags.IFD.GPSInfo)}
    if 0x9214 in exif_ifd:  # Pillow's TIFF/EP name; EXIF calls it SubjectArea
        expected = (expected - {"SubjectLocation"}) | {"SubjectArea"}
    result = map_exif(block)
    assert expected <= {row.exif_tag for row in result.report}
    for row in result.report:
        if row.dicom_value is not None:
            assert row.keyword in result.values


def test_format_report_table() -> None:
    result = map_exif(exif_block("exifpy__Canon_40D.jpg"))
    text = format_report(result)
    lines = text.splitlines()
    assert lines[0].split() == [
        "EXIF",
        "tag",
        "EXIF",
        "value",
        "DICOM",
        "keyword",
        "DICOM",
        "value",
        "note",
    ]
    assert len(lines) == len(result.report) + 1
    exposure = next(line for line in lines if line.startswith("ExposureTime "))
    assert "1/160" in exposure and "ExposureTimeInSeconds" in exposure and "0.00625" in exposure


# --- validity ---------------------------------------------------------------------------


@pytest.mark.parametrize("include_gps", [False, True])
@pytest.mark.parametrize("name", CAMERA_FILES)
def test_every_value_is_valid_for_its_vr_and_vm(name: str, include_gps: bool) -> None:
    assert_valid_for_dicom(map_exif(exif_block(name), include_gps=include_gps))


def test_values_assign_to_a_dataset_and_round_trip() -> None:
    result = map_exif(exif_block("pillow__ultrahdr.jpg"), include_gps=True)
    ds = Dataset()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any pydicom validation warning fails the test
        for keyword, value in result.values.items():
            setattr(ds, keyword, value)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=False)
    back = pydicom.dcmread(io.BytesIO(buffer.getvalue()), force=True)
    assert back.ExposureTimeInSeconds == pytest.approx(0.04)
    assert back[0x0016, 0x0004].VR == "DS"
    assert back.GPSLatitude == [30, 37, pytest.approx(39.54)]
    assert back.AcquisitionDateTime == "20240507093304.046+0800"


@pytest.mark.skipif(not CORPUS_IMAGES.is_dir(), reason="shared corpus not present")
def test_corpus_sweep_never_raises_and_values_validate() -> None:
    seen = 0
    for path in sorted(CORPUS_IMAGES.glob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(path) as im:
                    block = im.info.get("exif")
        except Exception:
            continue  # not an image Pillow can open: not this module's concern
        if not block:
            continue
        seen += 1
        for include_gps in (False, True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = map_exif(block, include_gps=include_gps)
            assert_valid_for_dicom(result)
            assert result.report
    assert seen >= 5


def test_device_identity_and_maker_note_are_copied_only_on_request() -> None:
    block = build_exif(
        ifd0={0x010F: "Canon", 0xC62F: "DNG-SN-7"},
        exif={
            0xA430: "Jane Owner",
            0xA431: "BODY-SN-1",
            0xA435: "LENS-SN-2",
            0x927C: b"VENDOR\x00opaque",
            0xA420: "0123456789abcdef",
        },
    )
    default = map_exif(block)
    identity = ("CameraOwnerName", "DeviceSerialNumber", "LensSerialNumber")
    assert not set(default.values) & {*identity, "MakerNote"}
    assert default.values["Manufacturer"] == "Canon"
    for tag in ("CameraOwnerName", "BodySerialNumber", "CameraSerialNumber", "LensSerialNumber"):
        (row,) = rows_for(default, tag)
        assert row.dicom_value is None and row.note.endswith("use --include-device-identity")
    (row,) = rows_for(default, "MakerNote")
    assert row.keyword == "MakerNote" and row.note.endswith("use --include-maker-note")
    assert "--include-device-identity" in format_report(default)
    (row,) = rows_for(default, "ImageUniqueID")
    assert row.keyword is None and "not copied" in row.note
    only_identity = map_exif(block, include_device_identity=True)
    assert only_identity.values["CameraOwnerName"] == "Jane Owner"
    assert only_identity.values["DeviceSerialNumber"] == "BODY-SN-1"  # EXIF wins over DNG
    assert only_identity.values["LensSerialNumber"] == "LENS-SN-2"
    assert "MakerNote" not in only_identity.values
    both = map_exif(block, include_device_identity=True, include_maker_note=True)
    assert both.values["MakerNote"] == b"VENDOR\x00opaque"
