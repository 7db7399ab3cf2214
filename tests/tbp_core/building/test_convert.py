"""End-to-end conversion: every PNG colour type and bit depth, three IODs, dciodvfy as referee."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import png
import pydicom
import pytest

from tbp_core.building.convert import ConvertOptions, convert_image
from tbp_core.building.iods import (
    DERMOSCOPIC,
    SECONDARY_CAPTURE,
    VL_PHOTOGRAPHIC,
    new_series_context,
)
from tbp_core.building.metadata import parse_template
from tbp_core.errors import ConversionError
from tbp_core.fileio import dicomio
from tests.conftest import DATA, ROOT
from tests.referee import dciodvfy

PNG_DIR = DATA / "png"
VALID_PNGS = sorted(p for p in PNG_DIR.glob("*.png") if not p.name.startswith("x"))
EQUIPMENT = parse_template(
    (ROOT / "sample_data" / "dermoscopic_equipment_template.json").read_bytes()
)


def pypng_reader(path: Path) -> png.Reader:
    """A pypng reader of the file without its sBIT chunk (asDirect would rescale by it)."""
    chunks = [c for c in png.Reader(filename=str(path)).chunks() if c[0] != b"sBIT"]
    buffer = io.BytesIO()
    png.write_chunks(buffer, chunks)
    return png.Reader(bytes=buffer.getvalue())


def reference_samples(path: Path, background: int | None) -> np.ndarray:
    """Decode with pypng (independent of libpng/Pillow); scale low depths; composite alpha."""
    width, height, rows, info = pypng_reader(path).asDirect()
    planes, depth = info["planes"], info["bitdepth"]
    samples = np.array([list(row) for row in rows], dtype=np.int64).reshape(height, width, planes)
    maximum = 2**depth - 1
    if depth < 8:
        samples = samples * 255 // maximum
        maximum = 255
    if info["alpha"]:
        colour, alpha = samples[..., :-1], samples[..., -1:]
        if background is None or alpha.min() == maximum:
            samples = colour
        else:
            bg = maximum if background else 0
            samples = (colour * alpha + bg * (maximum - alpha) + maximum // 2) // maximum
    return samples[..., 0] if samples.shape[-1] == 1 else samples


def alpha_needed(path: Path) -> bool:
    _, _, rows, info = png.Reader(filename=str(path)).asDirect()
    if not info["alpha"]:
        return False
    maximum = 2 ** info["bitdepth"] - 1
    return any(min(row[info["planes"] - 1 :: info["planes"]]) < maximum for row in rows)


def round_trip(ds: pydicom.Dataset, tmp_path: Path, name: str) -> tuple[Path, pydicom.Dataset]:
    target = tmp_path / name
    dicomio.write(ds, target)
    return target, pydicom.dcmread(target)


def test_there_are_pngs_of_every_colour_type_and_depth() -> None:
    kinds = set()
    for path in VALID_PNGS:
        reader = png.Reader(filename=str(path))
        reader.preamble()
        kinds.add((reader.color_type, reader.bitdepth, bool(reader.interlace)))
    for colour_type, depths in {
        0: (1, 2, 4, 8, 16),
        2: (8, 16),
        3: (1, 2, 4, 8),
        4: (8, 16),
        6: (8, 16),
    }.items():
        for depth in depths:
            assert any(k[:2] == (colour_type, depth) for k in kinds), (colour_type, depth)
    assert any(k[2] for k in kinds), "no interlaced PNG"


@pytest.mark.parametrize("path", VALID_PNGS, ids=lambda p: p.name)
@pytest.mark.parametrize(
    "iod", [VL_PHOTOGRAPHIC, DERMOSCOPIC, SECONDARY_CAPTURE], ids=lambda i: i.name
)
def test_every_png_converts_bit_exact_with_zero_dciodvfy_errors(
    path: Path, iod, tmp_path: Path
) -> None:
    depth = png.Reader(filename=str(path)).asDirect()[3]["bitdepth"]
    alpha = "black" if alpha_needed(path) else "refuse"
    if depth == 16 and not iod.allows_16_bit:
        with pytest.raises(ConversionError, match="secondary-capture"):
            convert_image(
                path.read_bytes(),
                path.name,
                {},
                new_series_context(),
                options=ConvertOptions(iod=iod, alpha=alpha),
            )
        return
    metadata = EQUIPMENT if iod is DERMOSCOPIC else {}
    converted = convert_image(
        path.read_bytes(),
        path.name,
        metadata,
        new_series_context(),
        options=ConvertOptions(iod=iod, alpha=alpha),
    )
    target, ds = round_trip(converted.dataset, tmp_path, converted.output_name)

    expected = reference_samples(path, background=0 if alpha == "black" else None)
    assert ds.SOPClassUID == iod.sop_class_uid
    assert ds.BitsAllocated == (16 if depth == 16 else 8)
    assert ds.pixel_array.shape == expected.shape
    np.testing.assert_array_equal(ds.pixel_array, expected)
    report = dciodvfy(target)
    assert report.errors == (), report.output
    assert report.unexplained_warnings == (), report.output


def test_alpha_white_composites_onto_white(tmp_path: Path) -> None:
    path = PNG_DIR / "basn6a08.png"
    converted = convert_image(
        path.read_bytes(),
        path.name,
        {},
        new_series_context(),
        options=ConvertOptions(alpha="white"),
    )
    _, ds = round_trip(converted.dataset, tmp_path, "white.dcm")
    np.testing.assert_array_equal(ds.pixel_array, reference_samples(path, background=1))


def test_batch_shares_study_and_series_with_fresh_instances() -> None:
    context = new_series_context()
    paths = [PNG_DIR / n for n in ("basn0g08.png", "basn2c08.png", "basn3p08.png")]
    datasets = [
        convert_image(p.read_bytes(), p.name, {}, context, instance_number=i).dataset
        for i, p in enumerate(paths, start=1)
    ]
    assert len({ds.StudyInstanceUID for ds in datasets}) == 1
    assert len({ds.SeriesInstanceUID for ds in datasets}) == 1
    assert len({ds.SOPInstanceUID for ds in datasets}) == 3
    assert [ds.InstanceNumber for ds in datasets] == [1, 2, 3]
    offset = convert_image(
        paths[0].read_bytes(), "a.png", {"InstanceNumber": 10}, context, instance_number=2
    )
    assert offset.dataset.InstanceNumber == 11


def test_sample_template_gives_a_valid_regional_image(tmp_path: Path) -> None:
    template = parse_template((ROOT / "sample_data" / "tbp_regional_template.json").read_bytes())
    path = PNG_DIR / "basn2c08.png"
    converted = convert_image(path.read_bytes(), path.name, template, new_series_context())
    target, ds = round_trip(converted.dataset, tmp_path, "regional.dcm")
    assert ds.PatientName == template["PatientName"]
    assert ds.Modality == "XC"
    assert ds.LossyImageCompression == "00"
    assert ds.ImageType[:2] == ["ORIGINAL", "PRIMARY"]
    block = ds.private_block(0x0011, "VL Image Calibration Module")
    assert float(block[0x10].value) == pytest.approx(1560.0)
    assert list(block[0x11].value) == pytest.approx([285.2, 427.0])
    report = dciodvfy(target)
    assert report.errors == (), report.output
    assert report.unexplained_warnings == (), report.output


def test_seed_mistakes_are_not_made(tmp_path: Path) -> None:
    template = parse_template((ROOT / "sample_data" / "tbp_regional_template.json").read_bytes())
    path = PNG_DIR / "basn2c08.png"
    _, ds = round_trip(
        convert_image(path.read_bytes(), path.name, template, new_series_context()).dataset,
        tmp_path,
        "s.dcm",
    )
    for retired in (0x00200030, 0x00200035, 0x00181150):
        assert retired not in ds
    assert ds.SOPClassUID.is_valid and ds.SOPClassUID.name == "VL Photographic Image Storage"
    assert ds.SamplesPerPixel == 3 and ds.PlanarConfiguration == 0
    region = ds.AnatomicRegionSequence[0]
    assert region.CodingSchemeDesignator == "SCT"
    assert not region.CodeValue.startswith("T-")
    elements = [e.tag for e in ds if e.tag.group == 0x0011]
    assert elements[0] == 0x00110010 and ds[0x00110010].value == "VL Image Calibration Module"


def test_non_ascii_text_declares_utf8(tmp_path: Path) -> None:
    path = PNG_DIR / "basn0g08.png"
    converted = convert_image(
        path.read_bytes(), path.name, {"PatientName": "Müller^Zoë"}, new_series_context()
    )
    target, ds = round_trip(converted.dataset, tmp_path, "utf8.dcm")
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert str(ds.PatientName) == "Müller^Zoë"
    assert dciodvfy(target).errors == ()


def test_dermoscopic_refuses_missing_equipment_listing_each() -> None:
    path = PNG_DIR / "basn2c08.png"
    with pytest.raises(ConversionError) as caught:
        convert_image(
            path.read_bytes(),
            path.name,
            {"Manufacturer": "Acme"},
            new_series_context(),
            options=ConvertOptions(iod=DERMOSCOPIC),
        )
    message = str(caught.value)
    for keyword in ("ManufacturerModelName", "DeviceSerialNumber", "SoftwareVersions"):
        assert keyword in message
    assert "\n" not in message


def test_derived_attributes_cannot_be_overridden() -> None:
    path = PNG_DIR / "basn2c08.png"
    with pytest.raises(ConversionError, match="Rows"):
        convert_image(path.read_bytes(), path.name, {"Rows": 5}, new_series_context())


def test_written_file_is_part10_with_matching_meta(tmp_path: Path) -> None:
    path = PNG_DIR / "basn2c08.png"
    ds = convert_image(path.read_bytes(), path.name, {}, new_series_context()).dataset
    payload = dicomio.to_bytes(ds)
    assert payload[128:132] == b"DICM"
    read = pydicom.dcmread(io.BytesIO(payload))
    assert read.file_meta.MediaStorageSOPInstanceUID == read.SOPInstanceUID
    assert read.file_meta.MediaStorageSOPClassUID == read.SOPClassUID
    assert read.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"


def test_template_json_is_the_documented_format() -> None:
    raw = json.loads((ROOT / "sample_data" / "tbp_regional_template.json").read_text())
    assert "PatientName" in raw and any(k.startswith("tbp:") for k in raw)


@pytest.mark.parametrize(
    ("mode", "dtype", "iod"),
    [
        ("L", np.uint8, VL_PHOTOGRAPHIC),
        ("RGB", np.uint8, VL_PHOTOGRAPHIC),
        ("I;16", np.uint16, SECONDARY_CAPTURE),
    ],
    ids=["grey8", "rgb8", "grey16"],
)
def test_tiff_converts_bit_exact_with_exif(mode: str, dtype, iod, tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(5)
    shape = (37, 41, 3) if mode == "RGB" else (37, 41)
    pixels = rng.integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype, endpoint=True)
    exif = Image.Exif()  # Pillow writes IFD0 tags into a TIFF (no Exif sub-IFD)
    exif[0x010F] = "Lumo Imaging"
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="TIFF", exif=exif)
    converted = convert_image(
        buffer.getvalue(), "scan.tif", {}, new_series_context(), options=ConvertOptions(iod=iod)
    )
    target, ds = round_trip(converted.dataset, tmp_path, converted.output_name)
    np.testing.assert_array_equal(ds.pixel_array, pixels)
    assert ds.LossyImageCompression == "00"
    assert ds.Manufacturer == "Lumo Imaging"
    assert ds.BitsAllocated == np.dtype(dtype).itemsize * 8
    report = dciodvfy(target)
    assert report.errors == (), report.output
    assert report.unexplained_warnings == (), report.output
