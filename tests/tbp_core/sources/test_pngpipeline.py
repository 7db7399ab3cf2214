"""PNG decoding in strips on a second thread while the stream check inflates (issue 13)."""

from __future__ import annotations

import struct
import threading
import zlib

import imagecodecs
import numpy as np
import pydicom
import pytest
from PIL import Image

from tbp_core.cli import main
from tbp_core.errors import ImageLoadError
from tbp_core.sources.images import load_image
from tbp_core.sources.pngchunks import parse_png
from tbp_core.sources.pngformat import Pass
from tbp_core.sources.pngstored import StoredPng
from tbp_core.sources.pngstream import in_background
from tbp_core.sources.pngstrips import STRIP_ROWS


def chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(kind))
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_of(rows: list[bytes], width: int, height: int, colour_type: int, depth: int) -> bytes:
    """A PNG from filtered scanlines, in IDAT chunks of 8 KiB (as libpng writes them)."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    stream = zlib.compress(b"".join(rows), 6)
    idats = b"".join(chunk(b"IDAT", stream[i : i + 8192]) for i in range(0, len(stream), 8192))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idats + chunk(b"IEND", b"")


def smooth_rgb(height: int, width: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(13)
    noise = rng.integers(0, 9, (height, width, 3))
    return ((np.stack([x, y, x + y], axis=-1) // 3 + noise) % 256).astype(np.uint8)


@pytest.mark.parametrize("mode", ["RGB", "L", "I;16", "RGBA"])
def test_many_strips_decode_as_pillow_decodes_the_file(mode: str, tmp_path) -> None:
    height = 3 * STRIP_ROWS + 77  # four strips, the last one short
    rgb = smooth_rgb(height, 301)
    if mode == "RGB":
        image = Image.fromarray(rgb, "RGB")
    elif mode == "L":
        image = Image.fromarray(rgb[..., 0], "L")
    elif mode == "RGBA":
        image = Image.fromarray(np.dstack([rgb, rgb[..., :1] | 1]), "RGBA")
    else:
        image = Image.fromarray(rgb[..., 0].astype(np.uint16) * 257 + 3)  # mode I;16
    path = tmp_path / "strips.png"
    image.save(path, optimize=True)  # Pillow picks a filter per row: every filter type occurs
    decoded = load_image(path.read_bytes(), "strips.png", alpha="drop")
    expected = np.asarray(Image.open(path))
    if mode == "RGBA":
        expected = expected[..., :3]
    np.testing.assert_array_equal(decoded.pixels, expected)


def test_a_bad_filter_byte_in_a_late_strip_is_one_line() -> None:
    height, width = 3 * STRIP_ROWS, 64
    pixels = smooth_rgb(height, width)
    rows = [b"\x01" + r.tobytes() for r in pixels]  # filter type 1 (Sub) everywhere
    rows[2 * STRIP_ROWS + 5] = b"\x09" + rows[2 * STRIP_ROWS + 5][1:]  # no filter type 9
    data = png_of(rows, width, height, 2, 8)
    with pytest.raises(ImageLoadError, match=r"^'late\.png' has damaged pixel data \(libpng"):
        load_image(data, "late.png")


def test_the_first_problem_in_stream_order_is_reported() -> None:
    """A bad filter byte early and a bad checksum at the end: the filter byte is named."""
    height, width = 3 * STRIP_ROWS, 64
    pixels = smooth_rgb(height, width)
    rows = [b"\x00" + r.tobytes() for r in pixels]
    rows[3] = b"\x07" + rows[3][1:]
    data = bytearray(png_of(rows, width, height, 2, 8))
    # Break the Adler-32 (last 4 bytes of the zlib stream), then the IDAT's CRC.
    end = data.rindex(b"IEND") - 4 - 4
    data[end - 1] ^= 0xFF
    start = data.rindex(b"IDAT")
    length = struct.unpack(">I", data[start - 4 : start])[0]
    crc = zlib.crc32(data[start : start + 4 + length])
    data[start + 4 + length : start + 8 + length] = struct.pack(">I", crc)
    with pytest.raises(ImageLoadError, match="damaged pixel data"):
        load_image(bytes(data), "two.png")


def test_sink_errors_surface_in_the_caller() -> None:
    taken: list[bytes] = []

    def sink(piece: bytes) -> None:
        if len(taken) == 2:
            raise ValueError("third piece refused")
        taken.append(piece)

    before = threading.active_count()
    with pytest.raises(ValueError, match="third piece"), in_background(sink) as feed:
        assert feed is not None
        for n in range(50):
            feed(bytes([n]))
    assert taken == [b"\x00", b"\x01"]
    assert threading.active_count() == before


def test_a_failure_of_the_feeder_waits_for_the_pieces_fed_before_it() -> None:
    taken: list[bytes] = []
    with pytest.raises(RuntimeError, match="stream broke"), in_background(taken.append) as feed:
        assert feed is not None
        for n in range(5):
            feed(bytes([n]))
        raise RuntimeError("stream broke")
    assert taken == [bytes([n]) for n in range(5)]


def test_an_earlier_piece_s_error_wins_over_the_feeder_s_later_failure() -> None:
    release = threading.Event()

    def refuses_after_a_while(piece: bytes) -> None:
        release.wait(10)
        raise ValueError(f"piece {piece[0]} refused")

    timer = threading.Timer(0.3, release.set)
    with (
        pytest.raises(ValueError, match="piece 0 refused"),
        in_background(refuses_after_a_while) as feed,
    ):
        assert feed is not None
        feed(b"\x00")
        timer.start()
        raise RuntimeError("stream broke")  # as the check does on a bad checksum
    timer.join()


def test_an_interruption_drops_what_is_queued_and_ends_the_thread() -> None:
    release = threading.Event()
    taken: list[bytes] = []

    def slow(piece: bytes) -> None:
        release.wait(10)
        taken.append(piece)

    before = threading.active_count()
    timer = threading.Timer(0.3, release.set)
    with pytest.raises(KeyboardInterrupt), in_background(slow) as feed:
        assert feed is not None
        for n in range(4):
            feed(bytes([n]))
        timer.start()
        raise KeyboardInterrupt
    timer.join()
    assert threading.active_count() == before
    assert taken in ([], [b"\x00"])  # at most the piece being taken; the queued ones dropped


def test_no_sink_runs_nothing_in_background() -> None:
    with in_background(None) as feed:
        assert feed is None


def test_corrupt_deflate_data_is_named_without_the_inflater_s_error_number() -> None:
    height, width = STRIP_ROWS, 64
    rows = [b"\x00" + r.tobytes() for r in smooth_rgb(height, width)]
    data = bytearray(png_of(rows, width, height, 2, 8))
    start = data.index(b"IDAT") + 4
    data[start + 2 : start + 40] = bytes(range(200, 238))  # garbage Huffman codes
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    crc = zlib.crc32(data[start - 4 : start + length])
    data[start + length : start + length + 4] = struct.pack(">I", crc)
    with pytest.raises(ImageLoadError) as caught:
        load_image(bytes(data), "garbled.png")
    message = str(caught.value)
    assert message.startswith(
        "'garbled.png' is a damaged PNG file: its compressed pixel data is corrupt ("
    )
    assert "Error -" not in message


def test_pool_workers_decode_in_strips_as_one_process_does(tmp_path, capsys) -> None:
    inputs = []
    for n in range(5):
        path = tmp_path / f"in{n}.png"
        Image.fromarray(np.roll(smooth_rgb(2 * STRIP_ROWS + 9, 120), n, axis=1)).save(path)
        inputs.append(path)
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        assert main(["convert", *map(str, inputs), "-o", str(out), "--jobs", str(jobs)]) == 0
    capsys.readouterr()
    for path in inputs:
        expected = np.asarray(Image.open(path))
        for jobs in (1, 2):
            ds = pydicom.dcmread(tmp_path / f"out{jobs}" / f"{path.stem}.dcm")
            np.testing.assert_array_equal(ds.pixel_array, expected)


def test_a_stored_png_takes_pieces_of_any_size_across_its_blocks() -> None:
    """Scanlines put in odd pieces land between the stored-block headers, once each."""
    height, width = 300, 250  # 300 × 751 bytes: four stored blocks, the last one short
    pixels = smooth_rgb(height, width)
    scanlines = b"".join(b"\x00" + row.tobytes() for row in pixels)
    info = parse_png(png_of([scanlines], width, height, 2, 8))
    shape = Pass(0, 0, 1, 1, width, height)
    rng = np.random.default_rng(5)
    built = []
    spare = None
    for _ in range(2):  # the second time in the first one's memory
        png = StoredPng(info, shape, spare)
        with pytest.raises(ValueError, match="missing"):
            StoredPng(info, shape).finish()
        view, taken = memoryview(scanlines), 0
        while not png.full:
            size = int(rng.choice([1, 7, 65534, 65535, 65536, 100_000]))
            taken += png.put(view[taken : taken + size])
        assert taken == len(scanlines) and png.put(view[:10]) == 0
        spare = png.finish()
        built.append(bytes(spare))
    assert built[0] == built[1]
    idat = built[0].index(b"IDAT")
    (length,) = struct.unpack(">I", built[0][idat - 4 : idat])
    assert zlib.decompress(built[0][idat + 4 : idat + 4 + length]) == scanlines  # Adler-32 checked
    decoded = np.empty_like(pixels)
    imagecodecs.png_decode(built[0], out=decoded)  # libpng checks the CRC
    np.testing.assert_array_equal(decoded, pixels)
