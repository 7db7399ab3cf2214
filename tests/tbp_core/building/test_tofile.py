"""convert_to_file: PNGs decoded straight into the DICOM file give the usual file, or none."""

from __future__ import annotations

import errno
import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset

from tbp_core.building.convert import ConvertOptions, convert_image
from tbp_core.building.iods import SECONDARY_CAPTURE, new_series_context
from tbp_core.building.tofile import convert_to_file
from tbp_core.errors import ImageLoadError, TbpError
from tbp_core.fileio import dicomio, mappedpixels
from tbp_core.fileio.mappedpixels import write_mapped_pixels
from tbp_core.sources.images import load_image
from tbp_core.sources.pngdirect import pending_png
from tests.referee import dciodvfy
from tests.tbp_core.sources.test_images import make_png

#: Differ between two conversions of the same image by construction.
_PER_INSTANCE = {
    "SOPInstanceUID",
    "MediaStorageSOPInstanceUID",
    "FileMetaInformationGroupLength",
    "InstanceCreationTime",
    "InstanceCreationDate",
}

#: Layouts libpng returns as Pixel Data needs them: (kind, depth, interlaced, size).
DIRECT = [
    ("RGB", 8, False, (300, 70)),  # one strip of rows
    ("RGB", 8, False, (64, 600)),  # three strips (256 rows each), decoded on a second thread
    ("RGB", 16, False, (33, 21)),
    ("grey", 8, False, (13, 11)),  # 143 bytes: odd, padded
    ("grey", 16, False, (13, 11)),
    ("grey", 2, False, (13, 11)),  # low depth, scaled to 8 bits by libpng
    ("palette", 4, False, (13, 11)),  # expanded to RGB
    ("RGB", 8, True, (29, 17)),  # interlaced
]


def with_idat_padding(data: bytes, extra: bytes) -> bytes:
    """The PNG with ``extra`` bytes appended to its last IDAT chunk (after the zlib stream)."""
    start = data.rindex(b"IDAT") - 4
    (length,) = struct.unpack(">I", data[start : start + 4])
    payload = data[start + 8 : start + 8 + length] + extra
    chunk = struct.pack(">I", len(payload)) + b"IDAT" + payload
    chunk += struct.pack(">I", zlib.crc32(payload, zlib.crc32(b"IDAT")))
    return data[:start] + chunk + data[start + 12 + length :]


def with_broken_adler(data: bytes) -> bytes:
    """The PNG with the last byte of its zlib stream (Adler-32) flipped, CRCs fixed."""
    start = data.rindex(b"IDAT") - 4
    (length,) = struct.unpack(">I", data[start : start + 4])
    payload = bytearray(data[start + 8 : start + 8 + length])
    payload[-1] ^= 0xFF
    crc = struct.pack(">I", zlib.crc32(bytes(payload), zlib.crc32(b"IDAT")))
    return data[: start + 8] + bytes(payload) + crc + data[start + 12 + length :]


def both_ways(data: bytes, name: str, tmp_path: Path, options: ConvertOptions | None = None):
    """Convert ``data`` into the file (``direct.dcm``) and the usual way (``usual.dcm``)."""
    context = new_series_context()
    direct_path = tmp_path / "direct.dcm"
    direct = convert_to_file(data, name, {}, context, target=direct_path, options=options)
    usual = convert_image(data, name, {}, context, options=options)
    usual_path = tmp_path / "usual.dcm"
    dicomio.write(usual.dataset, usual_path)
    return direct, direct_path, usual, usual_path


def assert_same_file(first: Path, second: Path) -> None:
    """Equal elements (apart from per-instance UIDs and times) and equal pixel bytes."""
    a, b = pydicom.dcmread(first), pydicom.dcmread(second)
    for group_a, group_b in ((a.file_meta, b.file_meta), (a, b)):
        keys_a = {e.keyword or str(e.tag) for e in group_a}
        assert keys_a == {e.keyword or str(e.tag) for e in group_b}
        for element in group_a:
            if element.keyword not in _PER_INSTANCE:
                assert group_b[element.tag].value == element.value, element.keyword
    raw_a, raw_b = first.read_bytes(), second.read_bytes()
    pixels = len(a.PixelData)
    assert raw_a[-pixels:] == raw_b[-pixels:]
    assert a.PixelData == b.PixelData


@pytest.mark.parametrize(("kind", "depth", "interlaced", "size"), DIRECT, ids=str)
def test_png_decoded_into_the_file_gives_the_usual_file(
    kind: str, depth: int, interlaced: bool, size: tuple[int, int], tmp_path: Path
) -> None:
    data = make_png(kind, depth, interlaced, False, size=size)
    assert pending_png(data, "x.png", max_pixels=10**8) is not None
    options = ConvertOptions(iod=SECONDARY_CAPTURE) if depth == 16 else None  # VL: 8 bits only
    direct, direct_path, usual, usual_path = both_ways(data, "x.png", tmp_path, options)
    assert_same_file(direct_path, usual_path)
    assert direct.notices == usual.notices
    assert direct.image.buffer == bytearray()  # the pixels are in the file only
    assert "PixelData" not in direct.dataset
    image = load_image(data, "x.png")
    pixels = bytes(image.buffer)  # little-endian 16-bit, as Pixel Data holds it
    assert pydicom.dcmread(direct_path).PixelData[: len(pixels)] == pixels
    assert len(list(tmp_path.glob(".tbp-*"))) == 0


def test_a_direct_file_passes_dciodvfy(tmp_path: Path) -> None:
    data = make_png("RGB", 8, False, False, size=(64, 600))
    report = dciodvfy(both_ways(data, "back.png", tmp_path)[1])
    assert report.errors == (), report.output
    assert report.unexplained_warnings == (), report.output


def test_decoder_notices_keep_their_place(tmp_path: Path) -> None:
    data = with_idat_padding(make_png("RGB", 8, False, False, size=(40, 30)), b"\0" * 5)
    direct, direct_path, usual, usual_path = both_ways(data, "pad.png", tmp_path)
    assert any("after the end of the compressed pixel data" in n for n in direct.notices)
    assert direct.notices == usual.notices
    assert_same_file(direct_path, usual_path)


@pytest.mark.parametrize(
    ("kind", "depth", "trns"),
    [("RGBA", 8, False), ("grey+alpha", 16, False), ("RGB", 8, True), ("palette", 4, True)],
    ids=str,
)
def test_pixels_that_change_after_decoding_go_the_usual_way(
    kind: str, depth: int, trns: bool, tmp_path: Path
) -> None:
    data = make_png(kind, depth, False, trns)
    assert pending_png(data, "a.png", max_pixels=10**8) is None
    iod = SECONDARY_CAPTURE if depth == 16 else ConvertOptions().iod
    options = ConvertOptions(iod=iod, alpha="white")
    direct, direct_path, _usual, usual_path = both_ways(data, "a.png", tmp_path, options)
    assert_same_file(direct_path, usual_path)
    assert (
        bytes(direct.image.buffer)
        == pydicom.dcmread(direct_path).PixelData[: len(direct.image.buffer)]
    )


def test_an_exif_turn_goes_the_usual_way(tmp_path: Path) -> None:
    image = Image.fromarray(np.arange(60, dtype=np.uint8).reshape(5, 4, 3), "RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif.tobytes())
    data = out.getvalue()
    assert pending_png(data, "turned.png", max_pixels=10**8) is None
    direct, direct_path, _usual, usual_path = both_ways(data, "turned.png", tmp_path)
    assert (direct.image.rows, direct.image.columns) == (4, 5)
    assert_same_file(direct_path, usual_path)


def test_damaged_pixel_data_leaves_nothing_behind(tmp_path: Path) -> None:
    data = with_broken_adler(make_png("RGB", 8, False, False, size=(64, 600)))
    with pytest.raises(ImageLoadError) as expected:
        load_image(data, "bad.png")
    target = tmp_path / "bad.dcm"
    target.write_bytes(b"the old file")
    with pytest.raises(TbpError) as raised:
        convert_to_file(data, "bad.png", {}, new_series_context(), target=target)
    assert str(raised.value) == str(expected.value)
    assert "Adler-32" in str(raised.value)
    assert target.read_bytes() == b"the old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.dcm"]


def test_mapped_writer_refuses_a_dataset_that_still_holds_pixel_data(tmp_path: Path) -> None:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3"
    ds.PixelData = b"\0\0"
    with open(tmp_path / "x.dcm", "w+b") as stream, pytest.raises(ValueError, match="Pixel"):
        write_mapped_pixels(ds, stream, "OB", 2, lambda region, written: None)


def test_mapped_writer_gives_fill_exactly_the_value_and_pads_odd_lengths(tmp_path: Path) -> None:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3"
    seen: list[int] = []

    def fill(region: memoryview, written: Callable[[int], None]) -> None:
        seen.append(region.nbytes)
        region[:] = b"\x07" * region.nbytes
        written(region.nbytes)

    path = tmp_path / "x.dcm"
    with open(path, "w+b") as stream:
        write_mapped_pixels(ds, stream, "OB", 5, fill)
        assert stream.tell() == path.stat().st_size
    assert seen == [5]
    read = pydicom.dcmread(path)
    assert read.PixelData == b"\x07" * 5 + b"\0"
    assert read["PixelData"].VR == "OB"


def test_a_file_system_that_cannot_map_files_gets_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: mmap refused with ENODEV, as on some FUSE file systems."""
    data = make_png("RGB", 8, False, False, size=(64, 600))

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENODEV, "No such device")

    context = new_series_context()
    usual = convert_image(data, "m.png", {}, context)
    dicomio.write(usual.dataset, tmp_path / "usual.dcm")
    monkeypatch.setattr(mappedpixels.mmap, "mmap", refuse)
    direct = convert_to_file(data, "m.png", {}, context, target=tmp_path / "direct.dcm")
    assert direct.image.buffer == bytearray()  # it went the direct way, without a map
    assert_same_file(tmp_path / "direct.dcm", tmp_path / "usual.dcm")


def test_decoding_reports_final_rows_as_strips_end(tmp_path: Path) -> None:
    data = make_png("RGB", 8, False, False, size=(64, 600))
    pending = pending_png(data, "p.png", max_pixels=10**8)
    assert pending is not None
    reported: list[int] = []
    target = bytearray(pending.size)
    pending.decode_into(memoryview(target), reported.append)
    row = 64 * 3
    # after strips of 257, 256 and 87 rows: all but each strip's last row, then all
    assert reported == [256 * row, 512 * row, 600 * row]
    assert bytes(target) == bytes(load_image(data, "p.png").buffer)
