"""Crafted PNG image data: size bound, Adler-32, padding, surplus; nothing on stderr."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import png
import pydicom
import pytest

from tbp_core.errors import ImageLoadError
from tbp_core.sources.decodernotes import native_warnings, pillow_warnings
from tbp_core.sources.images import load_image
from tbp_core.sources.pngstream import idat_limit

TBP_DICOM = Path(sys.executable).parent / "tbp-dicom"
WIDTH = HEIGHT = 100


def chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(kind))
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def rgb_png(idat_parts: list[bytes], *, interlaced: bool = False) -> bytes:
    """A 100×100 8-bit RGB PNG with the given IDAT chunk payloads."""
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, int(interlaced))
    body = b"".join(chunk(b"IDAT", part) for part in idat_parts)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + body + chunk(b"IEND", b"")


def scanlines() -> tuple[np.ndarray, bytes]:
    """Random pixels and their filtered scanlines (filter type 0 on every row)."""
    pixels = np.random.default_rng(7).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    raw = b"".join(b"\0" + row.tobytes() for row in pixels)
    return pixels, raw


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TBP_DICOM), *args], capture_output=True, text=True, timeout=60)


def test_twenty_megabytes_of_idat_are_refused_in_one_line(tmp_path: Path) -> None:
    _, raw = scanlines()
    stream = zlib.compress(raw * 700, 1)  # a valid stream, 700 times the data needed
    padding = b"\0" * (20_000_000 - len(stream))
    parts = [stream[i : i + 8192] for i in range(0, len(stream), 8192)]
    parts += [padding[i : i + 1_000_000] for i in range(0, len(padding), 1_000_000)]
    source = tmp_path / "huge.png"
    source.write_bytes(rgb_png(parts))
    done = run("convert", str(source), "-o", str(tmp_path / "huge.dcm"))
    assert done.returncode == 2  # how fast: bench/crafted.py
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    limit = idat_limit(HEIGHT * (3 * WIDTH + 1))
    assert "'huge.png'" in lines[0] and "20,000,000 bytes of compressed pixel data" in lines[0]
    assert f"at most {limit:,} compressed" in lines[0] and "re-export" in lines[0]
    assert not (tmp_path / "huge.dcm").exists()


def test_refusal_happens_in_process_before_decoding() -> None:
    data = rgb_png([b"\0" * 20_000_000])
    with pytest.raises(ImageLoadError, match="far more than 100×100 pixels can need"):
        load_image(data, "big.png")


@pytest.mark.parametrize("split", [False, True], ids=["one-chunk", "checksum-in-own-chunk"])
def test_bad_adler32_is_refused_in_one_line(tmp_path: Path, split: bool) -> None:
    _, raw = scanlines()
    stream = zlib.compress(raw)
    bad = stream[:-4] + struct.pack(">I", zlib.adler32(raw) ^ 1)
    source = tmp_path / "badsum.png"
    # libpng stops after the last row: with the checksum in its own chunk it never looks.
    source.write_bytes(rgb_png([bad[:-4], bad[-4:]] if split else [bad]))
    done = run("convert", str(source), "-o", str(tmp_path / "badsum.dcm"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "'badsum.png'" in done.stderr and "Adler-32 checksum" in done.stderr
    assert "re-export it or copy the original again" in done.stderr
    assert "PNG warning" not in done.stderr


def test_stream_without_checksum_is_truncated() -> None:
    _, raw = scanlines()
    stream = zlib.compress(raw)
    with pytest.raises(ImageLoadError, match="ends without its Adler-32 checksum"):
        load_image(rgb_png([stream[:-4]]), "short.png")


@pytest.mark.parametrize("interlaced", [False, True])
def test_padding_after_the_stream_converts_with_a_note(tmp_path: Path, interlaced: bool) -> None:
    pixels, raw = scanlines()
    stream = zlib.compress(raw)
    if interlaced:  # re-encode the same pixels with Adam7 by pypng
        out = tmp_path / "interlaced.png"
        with out.open("wb") as handle:
            png.Writer(WIDTH, HEIGHT, greyscale=False, interlace=True).write(
                handle, pixels.reshape(HEIGHT, -1).tolist()
            )
        stream = b"".join(
            body for kind, body in png.Reader(filename=str(out)).chunks() if kind == b"IDAT"
        )
    source = tmp_path / "padded.png"
    source.write_bytes(rgb_png([stream + b"\0" * 300], interlaced=interlaced))
    out_dcm = tmp_path / "padded.dcm"
    done = run("convert", str(source), "-o", str(out_dcm))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "ignored 300 bytes after the end of the compressed pixel data" in done.stdout
    assert np.array_equal(pydicom.dcmread(out_dcm).pixel_array, pixels)


def test_surplus_pixel_data_is_dropped_with_a_note() -> None:
    pixels, raw = scanlines()
    data = rgb_png([zlib.compress(raw + b"\0" * 5000)])
    image = load_image(data, "surplus.png")
    assert any("ignored 5,000 bytes of decompressed pixel data" in n for n in image.notices)
    assert not any(n.startswith("libpng:") for n in image.notices)
    decoded = np.frombuffer(image.buffer, np.uint8).reshape(HEIGHT, WIDTH, 3)
    assert np.array_equal(decoded, pixels)


def test_far_too_much_decompressed_data_is_refused() -> None:
    _, raw = scanlines()
    data = rgb_png([zlib.compress(raw * 60, 9)])  # small on disk, 60× the pixels
    with pytest.raises(ImageLoadError, match="inflates to more than"):
        load_image(data, "bomb.png")


def test_native_stderr_lines_become_notes(capfd: pytest.CaptureFixture[str]) -> None:
    notes: list[str] = []
    with native_warnings(notes):
        os.write(2, b"PNG warning: IDAT: Extra compressed data\nsomething else\n")
    assert notes == ["libpng: IDAT: Extra compressed data"]
    captured = capfd.readouterr()
    assert "PNG warning" not in captured.err
    assert "something else" in captured.err  # other output is passed on, not swallowed


def test_python_warnings_become_notes() -> None:
    notes: list[str] = []
    with pillow_warnings(notes):
        warnings.warn("odd EXIF", UserWarning, stacklevel=1)
    assert notes == ["Pillow: odd EXIF"]
    with pytest.raises(ResourceWarning), pillow_warnings(notes, fatal=(ResourceWarning,)):
        warnings.warn("too big", ResourceWarning, stacklevel=1)
