"""JPEG metadata segments are left out; the compressed pixels stay byte for byte."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tbp_core.building.jpegsegments import strip_metadata
from tbp_core.errors import ConversionError
from tests.conftest import DATA

SECRETS = (
    b"Jane Owner",
    b"BODY-SN-123456",
    b"LENS-SN-987654",
    b"patient MRN 445566",
    b"xmp-secret",
)


def camera_jpeg() -> bytes:
    """A 4:2:0 JPEG carrying EXIF (owner, serials, user comment, GPS), XMP and a comment."""
    rng = np.random.default_rng(3)
    image = Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x010F] = "TestMaker"
    exif[0x0110] = "TestModel"
    ifd = exif.get_ifd(0x8769)
    ifd[0xA430] = "Jane Owner"  # CameraOwnerName
    ifd[0xA431] = "BODY-SN-123456"  # BodySerialNumber
    ifd[0xA435] = "LENS-SN-987654"  # LensSerialNumber
    ifd[0x9286] = b"ASCII\x00\x00\x00patient MRN 445566"  # UserComment
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 29.0)
    out = io.BytesIO()
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b"<rdf:Description>xmp-secret</rdf:Description></x:xmpmeta>"
    )
    image.save(out, "JPEG", quality=90, subsampling=2, exif=exif, comment=b"COM secret", xmp=xmp)
    return out.getvalue()


def _markers_before_scan(data: bytes) -> list[int]:
    markers, position = [], 2
    while True:
        marker = int.from_bytes(data[position : position + 2], "big")
        markers.append(marker)
        if marker == 0xFFDA:
            return markers
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")


def test_metadata_segments_are_removed_pixels_unchanged() -> None:
    original = camera_jpeg()
    assert all(secret in original for secret in SECRETS)
    stripped = strip_metadata(original, "camera.jpg")
    for secret in (*SECRETS, b"COM secret", b"Exif"):
        assert secret not in stripped.data
    assert not [m for m in _markers_before_scan(stripped.data) if 0xFFE0 <= m <= 0xFFEF]
    assert 0xFFFE not in _markers_before_scan(stripped.data)
    assert any("EXIF" in r for r in stripped.removed)
    assert any("comment" in r for r in stripped.removed)
    scan = original.index(b"\xff\xda")
    assert stripped.data.endswith(original[scan:])  # scan data byte for byte
    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(stripped.data)) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize(
    "name", ["exifpy__Canon_40D.jpg", "exifpy__Nikon_D70.jpg", "pillow__exif_gps.jpg"]
)
def test_camera_files_decode_identically(name: str) -> None:
    original = (DATA / "exif" / name).read_bytes()
    stripped = strip_metadata(original, name)
    assert len(stripped.data) < len(original) and stripped.removed
    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(stripped.data)) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize(
    "data",
    [b"not a jpeg", b"\xff\xd8\xff\xe1\x00", b"\xff\xd8\xff\xe1\x40\x00abc", b"\xff\xd8\xff\xd9"],
)
def test_damaged_headers_are_refused(data: bytes) -> None:
    with pytest.raises(ConversionError):
        strip_metadata(data, "bad.jpg")


def test_passthrough_output_carries_none_of_it(tmp_path: Path) -> None:
    from tbp_core.building.convert import ConvertOptions, convert_image
    from tbp_core.building.iods import new_series_context
    from tbp_core.fileio import dicomio

    original = camera_jpeg()
    converted = convert_image(
        original,
        "camera.jpg",
        {},
        new_series_context(),
        options=ConvertOptions(transfer_syntax="jpeg-passthrough"),
    )
    target = tmp_path / "out.dcm"
    dicomio.write(converted.dataset, target)
    written = target.read_bytes()
    for secret in (b"xmp-secret", b"COM secret", b"patient MRN 445566"):
        assert secret not in written
