"""No PHI by accident: identifying EXIF stays out of every output unless asked for."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from tbp_core.building.transfersyntaxes import TRANSFER_SYNTAXES
from tests.referee import dciodvfy

TBP_DICOM = Path(sys.executable).parent / "tbp-dicom"

OWNER = b"Jane Owner"
BODY_SERIAL = b"BODY-SN-123456"
LENS_SERIAL = b"LENS-SN-987654"
DEVICE_IDENTITY = (OWNER, BODY_SERIAL, LENS_SERIAL)
MAKER_NOTE = b"MAKERNOTE-SECRET-4711"
NEVER = (
    b"patient MRN 445566",  # UserComment
    b"GPS-DATUM-SECRET",  # GPSMapDatum
    b"xmp-secret",  # XMP
    b"COM secret",  # JPEG comment
    b"Artist Person",  # Artist
)


def camera_jpeg() -> bytes:
    """A 4:2:0 baseline JPEG whose EXIF identifies owner, camera, lens and place."""
    rng = np.random.default_rng(11)
    image = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x010F] = "TestMaker"
    exif[0x0110] = "TestModel"
    exif[0x013B] = "Artist Person"
    ifd = exif.get_ifd(0x8769)
    ifd[0xA430] = OWNER.decode()  # CameraOwnerName
    ifd[0xA431] = BODY_SERIAL.decode()  # BodySerialNumber
    ifd[0xA435] = LENS_SERIAL.decode()  # LensSerialNumber
    ifd[0x9286] = b"ASCII\x00\x00\x00patient MRN 445566"  # UserComment
    ifd[0x927C] = b"Vendor\x00" + MAKER_NOTE  # MakerNote
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 29.0)
    gps[0x12] = "GPS-DATUM-SECRET"  # GPSMapDatum
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>xmp-secret</rdf:Description>'
    out = io.BytesIO()
    image.save(
        out, "JPEG", quality=90, subsampling=2, exif=exif, comment=b"COM secret", xmp=xmp + b"</x>"
    )
    return out.getvalue()


def convert(tmp_path: Path, syntax: str, *flags: str) -> tuple[bytes, str, Path]:
    source = tmp_path / "camera.jpg"
    if not source.exists():
        data = camera_jpeg()
        assert all(s in data for s in (*DEVICE_IDENTITY, MAKER_NOTE, *NEVER))
        source.write_bytes(data)
    out = tmp_path / f"{syntax}{''.join(flags)}.dcm"
    done = subprocess.run(
        [str(TBP_DICOM), "convert", str(source), "-o", str(out), "--transfer-syntax", syntax,
         "-v", *flags],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return out.read_bytes(), done.stdout, out


@pytest.mark.parametrize("syntax", list(TRANSFER_SYNTAXES))
def test_nothing_identifying_without_opt_in(tmp_path: Path, syntax: str) -> None:
    output, report, path = convert(tmp_path, syntax)
    for secret in (*DEVICE_IDENTITY, MAKER_NOTE, *NEVER):
        assert secret not in output, secret
    ds = pydicom.dcmread(path)
    for keyword in ("CameraOwnerName", "DeviceSerialNumber", "LensSerialNumber", "MakerNote"):
        assert keyword not in ds
    assert not [e.keyword for e in ds if e.keyword.startswith("GPS")]
    assert ds.Manufacturer == "TestMaker"  # the camera make and model are still copied
    # The mapping report says what was left out and which flag brings it.
    assert report.count("use --include-device-identity") == 3
    assert report.count("use --include-maker-note") == 1
    assert "use --include-gps" in report


@pytest.mark.parametrize("syntax", list(TRANSFER_SYNTAXES))
def test_opt_in_flags_copy_identity_into_valid_attributes(tmp_path: Path, syntax: str) -> None:
    flags = ("--include-device-identity", "--include-maker-note")
    output, report, path = convert(tmp_path, syntax, *flags)
    ds = pydicom.dcmread(path)
    assert ds.CameraOwnerName == OWNER.decode()
    assert ds.DeviceSerialNumber == BODY_SERIAL.decode()
    assert ds.LensSerialNumber == LENS_SERIAL.decode()
    assert MAKER_NOTE in ds.MakerNote
    for secret in NEVER:
        assert secret not in output, secret
    assert "use --include-device-identity" not in report
    referee = dciodvfy(path)
    assert referee.errors == (), referee.output


def test_only_the_requested_group_is_copied(tmp_path: Path) -> None:
    output, _, _ = convert(tmp_path, "explicit-le", "--include-maker-note")
    assert MAKER_NOTE in output
    assert not any(secret in output for secret in DEVICE_IDENTITY)
