"""Transfer syntaxes of produced files and JPEG sources, refereed by dciodvfy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate, generate_frames

from tbp_core.building.codecs import available_transfer_syntaxes, encapsulate_one
from tbp_core.building.convert import ConvertOptions, convert_image
from tbp_core.building.iods import SECONDARY_CAPTURE, VL_PHOTOGRAPHIC, new_series_context
from tbp_core.building.jpegsegments import strip_metadata
from tbp_core.building.transfersyntaxes import TRANSFER_SYNTAXES
from tbp_core.errors import ConversionError, ImageLoadError
from tbp_core.fileio import dicomio
from tbp_core.sources.images import load_image
from tests.conftest import DATA, ROOT
from tests.referee import dciodvfy

PNG_DIR = DATA / "png"
CANON = DATA / "exif" / "exifpy__Canon_40D.jpg"
SAMPLE = ROOT / "sample_data" / "regional_back.png"


def convert_and_write(path: Path, tmp_path: Path, **options) -> tuple[Path, pydicom.Dataset]:
    converted = convert_image(
        path.read_bytes(), path.name, {}, new_series_context(), options=ConvertOptions(**options)
    )
    target = tmp_path / converted.output_name
    dicomio.write(converted.dataset, target)
    return target, pydicom.dcmread(target)


def test_every_lossless_encoder_is_installed() -> None:
    names = {choice.name for choice in available_transfer_syntaxes()}
    assert {"explicit-le", "rle", "jpeg-ls", "jpeg2000", "htj2k"} <= names


@pytest.mark.parametrize("syntax", ["explicit-le", "rle", "jpeg-ls", "jpeg2000", "htj2k"])
@pytest.mark.parametrize(
    ("name", "iod"),
    [
        ("basn2c08.png", VL_PHOTOGRAPHIC),
        ("basn0g08.png", VL_PHOTOGRAPHIC),
        ("basn0g16.png", SECONDARY_CAPTURE),
        ("basn2c16.png", SECONDARY_CAPTURE),
    ],
)
def test_lossless_syntaxes_round_trip_exactly(syntax: str, name: str, iod, tmp_path: Path) -> None:
    path = PNG_DIR / name
    if not path.exists():
        path = PNG_DIR / "ps2n2c16.png"
    target, ds = convert_and_write(path, tmp_path, iod=iod, transfer_syntax=syntax)
    assert ds.file_meta.TransferSyntaxUID == TRANSFER_SYNTAXES[syntax].uid
    source = load_image(path.read_bytes(), path.name).pixels
    np.testing.assert_array_equal(ds.pixel_array, source)
    report = dciodvfy(target)
    assert report.errors == (), report.output
    assert report.unexplained_warnings == (), report.output


def test_jpeg_source_records_its_lossy_history(tmp_path: Path) -> None:
    target, ds = convert_and_write(CANON, tmp_path)
    assert ds.LossyImageCompression == "01"
    assert ds.LossyImageCompressionMethod == "ISO_10918_1"
    assert float(ds.LossyImageCompressionRatio) > 1
    assert ds.Manufacturer == "Canon"
    assert ds.ManufacturerModelName == "Canon EOS 40D"
    assert (ds.FNumber, ds.ExposureTimeInSeconds) == (7.1, 0.00625)  # EXIF f/7.1, 1/160 s
    assert 0x00181150 not in ds  # never the X-ray Exposure Time
    report = dciodvfy(target)
    assert report.errors == (), report.output
    assert report.unexplained_warnings == (), report.output


@pytest.mark.parametrize(
    ("path", "iod", "photometric"),
    [
        (DATA / "exif" / "pillow__exif_gps.jpg", VL_PHOTOGRAPHIC, "YBR_FULL_422"),  # 4:2:0
        (DATA / "exif" / "pillow__exif_gps.jpg", SECONDARY_CAPTURE, "YBR_FULL_422"),
    ],
    ids=["vl", "sc"],
)
def test_jpeg_passthrough_keeps_the_camera_bitstream(
    path: Path, iod, photometric: str, tmp_path: Path
) -> None:
    target, ds = convert_and_write(path, tmp_path, iod=iod, transfer_syntax="jpeg-passthrough")
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"
    assert ds.PhotometricInterpretation == photometric
    (frame,) = generate_frames(ds.PixelData, number_of_frames=1)
    # the camera's scan data byte for byte, without its EXIF/XMP/comment segments
    assert frame.rstrip(b"\x00") == strip_metadata(path.read_bytes()).data.rstrip(b"\x00")
    assert b"Exif\x00\x00" not in frame
    assert ds.pixel_array.shape == (ds.Rows, ds.Columns, 3)
    report = dciodvfy(target)
    assert report.errors == (), report.output
    assert report.unexplained_warnings == (), report.output


@pytest.mark.parametrize("iod", [VL_PHOTOGRAPHIC, SECONDARY_CAPTURE], ids=lambda i: i.name)
def test_passthrough_of_a_444_jpeg_is_refused(iod) -> None:
    with pytest.raises(ConversionError, match="4:4:4"):
        convert_image(
            CANON.read_bytes(),
            CANON.name,
            {},
            new_series_context(),
            options=ConvertOptions(transfer_syntax="jpeg-passthrough"),
        )


def test_passthrough_of_a_png_is_refused() -> None:
    path = PNG_DIR / "basn2c08.png"
    with pytest.raises(ConversionError, match="explicit-le"):
        convert_image(
            path.read_bytes(),
            path.name,
            {},
            new_series_context(),
            options=ConvertOptions(transfer_syntax="jpeg-passthrough"),
        )


def test_sample_png_exif_lands_in_group_0016(tmp_path: Path) -> None:
    target, ds = convert_and_write(SAMPLE, tmp_path, include_device_identity=True)
    assert ds.ExposureTimeInSeconds == "0.008"
    assert ds.FocalLength == "5.54"
    assert ds.FNumber == "2.8"
    assert ds.WhiteBalance == 1
    assert ds.Manufacturer == "Lumo Imaging"
    assert ds.DeviceSerialNumber == "LT-0042"
    assert ds.ContentDate == "20240301" and ds.ContentTime.startswith("101530")
    assert ds.AcquisitionDateTime.startswith("20240301101530")
    report = dciodvfy(target)
    assert report.errors == (), report.output
    assert report.unexplained_warnings == (), report.output


def test_gps_only_when_asked(tmp_path: Path) -> None:
    path = DATA / "exif" / "pillow__exif_gps.jpg"
    _, without = convert_and_write(path, tmp_path)
    assert not any(
        element.tag.group == 0x0016 and element.keyword.startswith("GPS") for element in without
    )
    target, with_gps = convert_and_write(path, tmp_path, include_gps=True)
    assert any(element.keyword.startswith("GPS") for element in with_gps)
    assert dciodvfy(target).errors == ()


@pytest.mark.parametrize("size", [1, 2, 4097])
def test_encapsulate_one_writes_what_pydicom_writes(size: int) -> None:
    frame = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    assert encapsulate_one(frame) == encapsulate([frame])
    assert encapsulate_one(memoryview(frame)) == encapsulate([frame])


@pytest.mark.parametrize("name", ["basn2c08.png", "basn0g16.png"])
def test_jpeg_ls_codestream_starts_with_its_frame_not_a_spiff_header(
    name: str, tmp_path: Path
) -> None:
    _, ds = convert_and_write(
        PNG_DIR / name, tmp_path, iod=SECONDARY_CAPTURE, transfer_syntax="jpeg-ls"
    )
    (frame,) = generate_frames(ds.PixelData, number_of_frames=1)
    assert frame[:4] == b"\xff\xd8\xff\xf7"  # SOI, then SOF55 (JPEG-LS) at once
    assert b"SPIFF" not in frame[:64]
    assert ds.PhotometricInterpretation == ("RGB" if ds.SamplesPerPixel == 3 else "MONOCHROME2")


def test_passthrough_verifies_the_jpeg_without_keeping_its_pixels() -> None:
    path = DATA / "exif" / "pillow__exif_gps.jpg"
    converted = convert_image(
        path.read_bytes(),
        path.name,
        {},
        new_series_context(),
        options=ConvertOptions(transfer_syntax="jpeg-passthrough"),
    )
    full = load_image(path.read_bytes(), path.name)
    assert converted.image.buffer == bytearray()
    assert converted.image.original == full.original
    ds = converted.dataset
    assert (ds.Rows, ds.Columns, ds.SamplesPerPixel) == (full.rows, full.columns, 3)
    ratio = full.rows * full.columns * 3 / len(path.read_bytes())
    assert ds.LossyImageCompressionRatio == f"{ratio:.2f}"


def test_passthrough_of_a_truncated_jpeg_is_refused_like_a_full_decode() -> None:
    path = DATA / "exif" / "pillow__exif_gps.jpg"
    data = path.read_bytes()
    cut = data[: data.index(b"\xff\xda") + (len(data) - data.index(b"\xff\xda")) // 2]
    with pytest.raises(ImageLoadError) as full:
        load_image(cut, "cut.jpg")
    with pytest.raises(ImageLoadError) as passthrough:
        convert_image(
            cut,
            "cut.jpg",
            {},
            new_series_context(),
            options=ConvertOptions(transfer_syntax="jpeg-passthrough"),
        )
    assert "truncated" in str(full.value).lower()
    assert str(passthrough.value) == str(full.value)
