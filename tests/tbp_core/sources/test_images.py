"""Image decoding (sources.images): every PNG layout, JPEG, TIFF, alpha, orientation, bad input.

Pixel expectations come from pypng (pure Python, shares no code with libpng or
Pillow) or from the arrays the test itself encoded; alpha compositing is
recomputed here in floating point, independently of the integer maths under test.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import imagecodecs
import numpy as np
import png
import pytest
from PIL import Image, ImageCms, ImageOps

from tbp_core.errors import ImageLoadError, TbpError, UnsupportedImageError
from tbp_core.sources import images, pngchunks
from tbp_core.sources.images import DEFAULT_MAX_PIXELS, SourceImage, load_image
from tests.conftest import CORPUS, DATA, ROOT

PNG_DIR = DATA / "png"
IMAGE_DIR = DATA / "images"
CORRUPT_DIR = DATA / "corrupt"
PNGSUITE_VALID = sorted(p for p in PNG_DIR.glob("*.png") if not p.name.startswith("x"))
PNGSUITE_CORRUPT = sorted(PNG_DIR.glob("x*.png"))
CORRUPT_FILES = PNGSUITE_CORRUPT + sorted(CORRUPT_DIR.glob("*"))
CORPUS_IMAGES = CORPUS / "images"
PILLOW_GUARD = Image.MAX_IMAGE_PIXELS


# --------------------------------------------------------------------------- helpers


def chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def with_chunks(data: bytes, extra: list[bytes], before: bytes = b"IDAT") -> bytes:
    """Insert serialised chunks before the first chunk of type ``before``."""
    at = data.index(before) - 4
    return data[:at] + b"".join(extra) + data[at:]


def without_chunk(data: bytes, kind: bytes) -> bytes:
    chunks = [c for c in png.Reader(bytes=data).chunks() if c[0] != kind]
    out = io.BytesIO()
    png.write_chunks(out, chunks)
    return out.getvalue()


def reference(data: bytes) -> tuple[np.ndarray, int, bool]:
    """pypng's direct decode: (rows, cols, planes) int64 samples, their maximum, has alpha.

    sBIT is removed first: pypng would rescale to it, libpng (rightly) does not.
    1/2/4-bit samples are scaled to 8 bits as v * 255 // (2**b - 1).
    """
    width, height, rows, info = png.Reader(bytes=without_chunk(data, b"sBIT")).asDirect()
    planes, depth = info["planes"], info["bitdepth"]
    samples = np.array([list(row) for row in rows], dtype=np.int64).reshape(height, width, planes)
    if depth < 8:
        samples = samples * 255 // (2**depth - 1)
    return samples, (65535 if depth == 16 else 255), bool(info["alpha"])


def expected(samples: np.ndarray, top: int, has_alpha: bool, policy: str) -> np.ndarray:
    """What the loader must produce, computed in floating point (no ties: top is odd)."""
    if has_alpha:
        colour, alpha = samples[..., :-1], samples[..., -1:]
        if policy in ("white", "black") and alpha.min() < top:
            bg = top if policy == "white" else 0
            mixed = (colour * alpha + bg * (top - alpha)).astype(np.float64) / top
            samples = np.rint(mixed).astype(np.int64)
        else:
            samples = colour
    return samples[..., 0] if samples.shape[-1] == 1 else samples


def transparent(samples: np.ndarray, top: int, has_alpha: bool) -> bool:
    return has_alpha and bool(samples[..., -1].min() < top)


def check_layout(image: SourceImage, depth: int) -> None:
    bits = 16 if depth == 16 else 8
    assert image.bits_allocated == bits
    assert image.source_bit_depth == depth
    assert image.pixels.dtype == np.dtype("<u2" if bits == 16 else "u1")
    assert len(image.buffer) == image.rows * image.columns * image.samples_per_pixel * bits // 8
    assert image.photometric_interpretation == (
        "RGB" if image.samples_per_pixel == 3 else "MONOCHROME2"
    )


# --------------------------------------------------------------------------- generated PNGs

COLOUR_TYPES = {"grey": 0, "RGB": 2, "palette": 3, "grey+alpha": 4, "RGBA": 6}
CASES = (
    [("grey", d, i, t) for d in (1, 2, 4, 8, 16) for i in (False, True) for t in (False, True)]
    + [("grey+alpha", d, i, False) for d in (8, 16) for i in (False, True)]
    + [("palette", d, i, t) for d in (1, 2, 4, 8) for i in (False, True) for t in (False, True)]
    + [("RGB", d, i, t) for d in (8, 16) for i in (False, True) for t in (False, True)]
    + [("RGBA", d, i, False) for d in (8, 16) for i in (False, True)]
)


def make_png(
    kind: str,
    depth: int,
    interlace: bool,
    trns: bool,
    size: tuple[int, int] = (13, 11),
    seed: int = 1,
) -> bytes:
    """A deterministic PNG written by pypng; ``size`` is (width, height)."""
    width, height = size
    rng = np.random.default_rng(seed)
    top = 2**depth - 1
    kwargs: dict[str, object] = {"bitdepth": depth, "interlace": interlace}
    if kind == "palette":
        entries = min(2**depth, 20)
        colours = rng.integers(0, 256, (entries, 3))
        alphas = rng.choice([0, 77, 255], entries)
        kwargs["palette"] = [
            tuple(c) + ((int(a),) if trns else ())
            for c, a in zip(colours.tolist(), alphas, strict=True)
        ]
        pixels = rng.integers(0, entries, (height, width, 1))
    else:
        planes = {"grey": 1, "grey+alpha": 2, "RGB": 3, "RGBA": 4}[kind]
        pixels = rng.integers(0, top + 1, (height, width, planes))
        pixels[0, 0] = top  # extremes present
        pixels[-1, -1] = 0
        kwargs["greyscale"] = kind.startswith("grey")
        kwargs["alpha"] = kind in ("grey+alpha", "RGBA")
        if trns:
            key = pixels[height // 2, width // 2].tolist()
            pixels[1, :] = key  # a whole row of the transparent colour
            kwargs["transparent"] = key[0] if kind == "grey" else tuple(key)
    out = io.BytesIO()
    writer = png.Writer(width, height, **kwargs)  # type: ignore[arg-type]
    writer.write(out, pixels.reshape(height, -1).tolist())
    return out.getvalue()


@pytest.mark.parametrize(("kind", "depth", "interlace", "trns"), CASES, ids=lambda v: str(v))
def test_every_png_layout_matches_pypng(kind: str, depth: int, interlace: bool, trns: bool) -> None:
    data = make_png(kind, depth, interlace, trns)
    samples, top, has_alpha = reference(data)
    name = f"{kind}-{depth}.png"
    for policy in ("drop", "white", "black", "refuse"):
        if policy == "refuse" and transparent(samples, top, has_alpha):
            with pytest.raises(UnsupportedImageError, match="transparent pixels"):
                load_image(data, name, alpha=policy)
            continue
        image = load_image(data, name, alpha=policy)
        want = expected(samples, top, has_alpha, policy)
        np.testing.assert_array_equal(image.pixels, want, err_msg=f"{name} {policy}")
        check_layout(image, depth)
        assert image.samples_per_pixel == (1 if kind.startswith("grey") else 3)
        assert image.interlaced is interlace
        assert image.format == "PNG" and not image.lossy and image.original is None
        assert image.file_size == len(data)
        assert image.source_mode == f"{kind} {depth}-bit" + (" + tRNS" if trns else "")


@pytest.mark.parametrize("size", [(1, 1), (2, 1), (1, 9), (9, 1), (8, 8), (17, 3)])
@pytest.mark.parametrize("kind", ["RGB", "grey+alpha"])
def test_interlaced_16_bit_odd_sizes(size: tuple[int, int], kind: str) -> None:
    data = make_png(kind, 16, True, False, size=size, seed=7)
    samples, top, has_alpha = reference(data)
    image = load_image(data, "odd.png", alpha="white")
    np.testing.assert_array_equal(image.pixels, expected(samples, top, has_alpha, "white"))
    assert (image.columns, image.rows) == size
    assert image.bits_allocated == 16


@pytest.mark.parametrize("path", PNGSUITE_VALID, ids=lambda p: p.name)
def test_pngsuite_files_match_pypng(path: Path) -> None:
    data = path.read_bytes()
    samples, top, has_alpha = reference(data)
    for policy in ("white", "black"):
        image = load_image(data, path.name, alpha=policy)
        np.testing.assert_array_equal(image.pixels, expected(samples, top, has_alpha, policy))
        reader = png.Reader(bytes=data)
        reader.preamble()
        check_layout(image, reader.bitdepth)


def test_generated_cases_cover_every_png_colour_type_and_depth() -> None:
    covered = {(COLOUR_TYPES[k], d, i) for k, d, i, _ in CASES}
    for ctype, depths in {
        0: (1, 2, 4, 8, 16),
        2: (8, 16),
        3: (1, 2, 4, 8),
        4: (8, 16),
        6: (8, 16),
    }.items():
        for depth in depths:
            assert {(ctype, depth, False), (ctype, depth, True)} <= covered


def test_sixteen_bit_samples_are_little_endian_in_the_buffer() -> None:
    data = make_png("grey", 16, False, False, size=(2, 1))
    image = load_image(data, "le.png")
    first = reference(data)[0][0, 0, 0]
    assert image.buffer[:2] == int(first).to_bytes(2, "little")


# --------------------------------------------------------------------------- alpha


def test_refuse_message_is_the_documented_one_line() -> None:
    with pytest.raises(UnsupportedImageError) as caught:
        load_image((PNG_DIR / "basn6a08.png").read_bytes(), "basn6a08.png")
    assert str(caught.value) == (
        "'basn6a08.png' has transparent pixels (alpha channel); DICOM images have no "
        "transparency — choose --alpha drop (keep colours), white or black "
        "(composite onto that background)"
    )


@pytest.mark.parametrize("depth", [8, 16])
def test_fully_opaque_alpha_is_dropped_silently(depth: int) -> None:
    top = 2**depth - 1
    rgb = np.random.default_rng(3).integers(0, top + 1, (5, 6, 3))
    rgba = np.concatenate([rgb, np.full((5, 6, 1), top)], axis=2)
    out = io.BytesIO()
    png.Writer(6, 5, greyscale=False, alpha=True, bitdepth=depth).write(
        out, rgba.reshape(5, -1).tolist()
    )
    image = load_image(out.getvalue(), "opaque.png")  # default policy: refuse
    assert image.samples_per_pixel == 3
    np.testing.assert_array_equal(image.pixels, rgb)
    assert all("error" not in n for n in image.notices)


def test_palette_trns_that_is_all_opaque_needs_no_alpha_choice() -> None:
    out = io.BytesIO()
    png.Writer(3, 2, palette=[(1, 2, 3, 255), (4, 5, 6, 255)], bitdepth=1).write(
        out, [[0, 1, 0], [1, 1, 0]]
    )
    image = load_image(out.getvalue(), "p.png")
    assert image.samples_per_pixel == 3
    assert image.source_mode == "palette 1-bit + tRNS"


@pytest.mark.parametrize("policy", ["white", "black", "drop"])
def test_large_rgba_composite_across_several_bands(policy: str) -> None:
    # 2600 x 2000 RGBA 8-bit is 20.8 MB: the in-place alpha removal runs in two bands.
    rng = np.random.default_rng(11)
    rgba = rng.integers(0, 256, (2000, 2600, 4), dtype=np.uint8)
    data = imagecodecs.png_encode(rgba, level=1)
    image = load_image(data, "big.png", alpha=policy)  # type: ignore[arg-type]
    colour, alpha = rgba[..., :3].astype(np.int64), rgba[..., 3:].astype(np.int64)
    if policy == "drop":
        want = colour
    else:
        bg = 255 if policy == "white" else 0
        want = np.rint((colour * alpha + bg * (255 - alpha)) / 255.0).astype(np.int64)
    np.testing.assert_array_equal(image.pixels, want)


def test_alpha_policy_must_be_known() -> None:
    with pytest.raises(ValueError, match="alpha must be one of"):
        load_image((PNG_DIR / "basn0g08.png").read_bytes(), "a.png", alpha="grey")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- orientation


def png_with_orientation(value: int, mode: str = "RGB") -> bytes:
    rng = np.random.default_rng(value)
    if mode == "I;16":
        pixels = rng.integers(0, 65536, (5, 7))
        out = io.BytesIO()
        png.Writer(7, 5, greyscale=True, bitdepth=16).write(out, pixels.tolist())
        exif = Image.Exif()
        exif[274] = value
        return with_chunks(out.getvalue(), [chunk(b"eXIf", exif.tobytes()[6:])])
    im = Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[274] = value
    out = io.BytesIO()
    im.save(out, "PNG", exif=exif)
    return out.getvalue()


@pytest.mark.parametrize("value", range(1, 9))
@pytest.mark.parametrize("mode", ["RGB", "I;16"])
def test_every_exif_orientation_matches_pillow_exif_transpose(value: int, mode: str) -> None:
    data = png_with_orientation(value, mode)
    image = load_image(data, "o.png")
    with Image.open(io.BytesIO(data)) as im:
        upright = np.asarray(ImageOps.exif_transpose(im))
    np.testing.assert_array_equal(image.pixels, upright)
    assert image.orientation == value
    assert (f"upright from EXIF orientation {value}" in " ".join(image.notices)) is (value != 1)
    assert image.exif is not None and image.exif[:4] in (b"II*\0", b"MM\0*")


def test_jpeg_orientation_6_is_turned_upright() -> None:
    data = (IMAGE_DIR / "pillow__hopper_orientation_6.jpg").read_bytes()
    image = load_image(data, "hopper_orientation_6.jpg")
    with Image.open(io.BytesIO(data)) as im:
        upright = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    np.testing.assert_array_equal(image.pixels, upright)
    assert image.orientation == 6
    assert "rotated upright from EXIF orientation 6" in image.notices
    assert image.original is None  # rotated pixels no longer match the bitstream


def test_invalid_orientation_is_ignored_with_a_notice() -> None:
    image = load_image(png_with_orientation(9), "o.png")
    assert image.orientation == 1
    assert any("invalid EXIF orientation value 9" in n for n in image.notices)


def _exif_with_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[274] = value
    return exif.tobytes()[6:]


# --------------------------------------------------------------------------- PNG metadata


def test_png_exif_chunk_and_text_are_kept() -> None:
    image = load_image((IMAGE_DIR / "pillow__exif.png").read_bytes(), "exif.png")
    assert image.exif is not None and image.exif[:4] in (b"II*\0", b"MM\0*")
    assert image.text  # six tEXt chunks
    assert image.icc_profile is None


def test_png_text_chunks_are_decoded() -> None:
    base = (PNG_DIR / "basn2c08.png").read_bytes()
    extra = [
        chunk(b"tEXt", b"Author\0J\xf6rg"),
        chunk(b"zTXt", b"Comment\0\0" + zlib.compress("Hautbild Rücken".encode("latin-1"))),
        chunk(b"iTXt", b"Title\0\0\0de\0Titel\0" + "Ärztin ✓".encode()),
        chunk(b"iTXt", b"Note\0\1\0\0\0" + zlib.compress("packed ✓".encode())),
    ]
    image = load_image(with_chunks(base, extra), "t.png")
    assert image.text == {
        "Author": "Jörg",
        "Comment": "Hautbild Rücken",
        "Title": "Ärztin ✓",
        "Note": "packed ✓",
    }


def test_png_icc_profile_is_kept_when_it_fits() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    iccp = chunk(b"iCCP", b"sRGB\0\0" + zlib.compress(profile))
    image = load_image(with_chunks((PNG_DIR / "basn2c08.png").read_bytes(), [iccp]), "icc.png")
    assert image.icc_profile == profile
    grey = load_image(with_chunks((PNG_DIR / "basn0g08.png").read_bytes(), [iccp]), "grey.png")
    assert grey.icc_profile is None
    assert any("ICC profile" in n for n in grey.notices)


def test_decompression_bombs_in_metadata_stay_bounded() -> None:
    bomb = chunk(b"iCCP", b"p\0\0" + zlib.compress(b"\0" * 40_000_000, 9))
    data = with_chunks((PNG_DIR / "basn2c08.png").read_bytes(), [bomb])
    dos = (IMAGE_DIR / "pillow__png_decompression_dos.png").read_bytes()
    tracemalloc.start()
    try:
        image = load_image(data, "bomb.png")
        dos_image = load_image(dos, "dos.png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20
    assert image.icc_profile is None and any("16 MiB" in n for n in image.notices)
    assert not dos_image.text
    assert any("skipped the zTXt chunk" in n for n in dos_image.notices)


def test_imagemagick_exif_text_is_used_when_there_is_no_exif_chunk() -> None:
    block = _exif_with_orientation(3)
    hexed = "\nexif\n" + f"{len(block):8d}\n" + block.hex() + "\n"
    text = chunk(b"zTXt", b"Raw profile type exif\0\0" + zlib.compress(hexed.encode()))
    image = load_image(with_chunks((PNG_DIR / "basn2c08.png").read_bytes(), [text]), "im.png")
    assert image.exif == block
    assert image.orientation == 3


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("path", CORRUPT_FILES, ids=lambda p: p.name)
def test_corrupt_files_raise_one_line_naming_the_file(path: Path) -> None:
    with pytest.raises(ImageLoadError) as caught:
        load_image(path.read_bytes(), path.name)
    message = str(caught.value)
    assert "\n" not in message
    assert f"'{path.name}'" in message
    assert " — " in message  # the fix follows the problem


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("xc1n0g08.png", "colour type 1"),
        ("xd3n2c08.png", "bit depth 3"),
        ("xdtn0g01.png", "no IDAT"),
        ("xhdn0g08.png", "IHDR chunk at byte 8 fails its CRC"),
        ("xcrn0g04.png", "signature is damaged"),
        ("xs4n0g01.png", "signature is damaged"),
    ],
)
def test_pngsuite_corruption_is_named(name: str, needle: str) -> None:
    with pytest.raises(ImageLoadError, match=needle):
        load_image((PNG_DIR / name).read_bytes(), name)


def test_apple_cgbi_png_gets_its_own_advice() -> None:
    with pytest.raises(ImageLoadError, match=r"Apple-optimised PNG .*re-save it"):
        load_image((CORRUPT_DIR / "iphone_basi0g01.png").read_bytes(), "icon.png")


def idat_payload(data: bytes) -> bytes:
    return b"".join(body for kind, body in png.Reader(bytes=data).chunks() if kind == b"IDAT")


def rebuild(data: bytes, idat: bytes) -> bytes:
    chunks = [(k, b) for k, b in png.Reader(bytes=data).chunks() if k != b"IDAT" and k != b"IEND"]
    out = io.BytesIO()
    png.write_chunks(out, [*chunks, (b"IDAT", idat), (b"IEND", b"")])
    return out.getvalue()


@pytest.mark.parametrize("interlace", [False, True])
def test_damaged_compressed_data_inside_valid_chunks(interlace: bool) -> None:
    data = make_png("RGB", 8, interlace, False, size=(40, 30))
    stream = idat_payload(data)
    cut = rebuild(data, stream[: len(stream) // 2])
    with pytest.raises(ImageLoadError, match=r"'cut\.png'"):
        load_image(cut, "cut.png")
    flipped = bytearray(stream)
    flipped[len(flipped) // 2] ^= 0xFF
    with pytest.raises(ImageLoadError, match=r"'flip\.png'"):
        load_image(rebuild(data, bytes(flipped)), "flip.png")


def test_truncated_png_and_missing_iend() -> None:
    data = (PNG_DIR / "basn2c08.png").read_bytes()
    with pytest.raises(ImageLoadError, match="truncated"):
        load_image(data[: len(data) // 2], "half.png")
    with pytest.raises(ImageLoadError, match="without an IEND"):
        load_image(data[:-12], "noend.png")


def test_far_too_little_pixel_data_is_refused_before_allocating() -> None:
    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    data = (
        pngchunks.SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )
    with pytest.raises(ImageLoadError, match="far too little pixel data"):
        load_image(data, "liar.png", max_pixels=10**9)


def test_empty_file() -> None:
    with pytest.raises(ImageLoadError, match=r"^'empty\.png' is empty \(0 bytes\)"):
        load_image(b"", "empty.png")


def test_text_file_named_png() -> None:
    with pytest.raises(ImageLoadError) as caught:
        load_image(b"Patient notes: mole on left shoulder.\n", "notes.png")
    assert str(caught.value) == (
        "'notes.png' is not a PNG, JPEG or TIFF image (it starts with text) — "
        "export the picture as PNG and try again"
    )


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\x00\x01\x02\x03binary", "it starts with bytes 00 01 02 03"),
        (b"\x00" * 128 + b"DICM" + b"\x00" * 20, "already a DICOM file"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "a WebP image"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "a HEIC image"),
    ],
)
def test_other_content_is_described(data: bytes, needle: str) -> None:
    with pytest.raises(ImageLoadError, match=needle):
        load_image(data, "x.png")


def test_gif_is_named() -> None:
    out = io.BytesIO()
    Image.new("P", (2, 2)).save(out, "GIF")
    with pytest.raises(ImageLoadError, match=r"'a\.png' is a GIF image, not a PNG, JPEG or TIFF"):
        load_image(out.getvalue(), "a.png")


def test_size_limit_is_checked_from_the_header() -> None:
    with pytest.raises(UnsupportedImageError) as caught:
        load_image((PNG_DIR / "basn0g08.png").read_bytes(), "big.png", max_pixels=100)
    assert str(caught.value) == (
        "'big.png' is 32×32 = 1,024 pixels, above the 100 pixels limit — "
        "downscale it or crop it, then try again"
    )


def test_size_limit_message_in_megapixels() -> None:
    header = struct.pack(">IIBBBBB", 12000, 9000, 8, 2, 0, 0, 0)
    data = pngchunks.SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", b"x") + chunk(b"IEND", b"")
    with pytest.raises(
        UnsupportedImageError,
        match=r"'big\.png' is 12000×9000 = 108\.0 MP, above the 80\.0 MP limit",
    ):
        load_image(data, "big.png")
    assert DEFAULT_MAX_PIXELS < Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_size_limit_for_pillow_formats(fmt: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (20, 10)).save(out, fmt)
    with pytest.raises(
        UnsupportedImageError, match="20×10 = 200 pixels, above the 100 pixels limit"
    ):
        load_image(out.getvalue(), "x", max_pixels=100)


def test_pillow_bomb_guard_caps_a_larger_limit() -> None:
    out = io.BytesIO()
    Image.new("L", (8, 8)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 20000, 20000)  # claims 400 MP
    with pytest.raises(UnsupportedImageError, match=r"above the 89\.5 MP limit"):
        load_image(bytes(data), "huge.jpg", max_pixels=10**12)
    assert Image.MAX_IMAGE_PIXELS == PILLOW_GUARD


# --------------------------------------------------------------------------- JPEG


def jpeg(mode: str = "RGB", **save: object) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(5)
    shape = (24, 40) if mode == "L" else (24, 40, 3)
    im = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90, **save)
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as decoded:
        return data, np.asarray(decoded)


def test_baseline_jpeg_keeps_its_bitstream_and_metadata() -> None:
    exif = Image.Exif()
    exif[271] = "Canfield"
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data, pixels = jpeg(exif=exif, icc_profile=profile, comment=b"back, left")
    image = load_image(data, "photo.jpg")
    np.testing.assert_array_equal(image.pixels, pixels)
    assert image.original == data
    assert image.lossy and image.format == "JPEG" and not image.interlaced
    assert image.source_mode == "JPEG YCbCr 8-bit baseline"
    assert image.exif is not None and image.exif[:4] in (b"II*\0", b"MM\0*")
    assert image.icc_profile == profile
    assert image.text == {"Comment": "back, left"}
    check_layout(image, 8)


def test_grey_jpeg_has_one_sample() -> None:
    data, pixels = jpeg("L")
    image = load_image(data, "grey.jpg")
    assert image.samples_per_pixel == 1
    np.testing.assert_array_equal(image.pixels, pixels)
    assert image.source_mode == "JPEG grey 8-bit baseline"
    assert image.original == data


def test_progressive_jpeg_is_decoded_but_not_passed_through() -> None:
    data, pixels = jpeg(progressive=True)
    image = load_image(data, "prog.jpg")
    np.testing.assert_array_equal(image.pixels, pixels)
    assert image.source_mode == "JPEG YCbCr 8-bit progressive"
    assert image.interlaced and image.original is None


def test_jpeg_bitstream_stops_at_its_end_marker() -> None:
    data, _ = jpeg()
    image = load_image(data + b"trailing second image", "mpf.jpg")
    assert image.original == data


def test_cmyk_jpeg_becomes_rgb_with_a_notice() -> None:
    data = (IMAGE_DIR / "pillow__pil_sample_cmyk.jpg").read_bytes()
    image = load_image(data, "cmyk.jpg")
    assert image.samples_per_pixel == 3
    assert any(n.startswith("CMYK converted to RGB") for n in image.notices)
    assert image.source_mode == "JPEG YCCK 8-bit baseline"
    assert image.original is None
    with Image.open(io.BytesIO(data)) as im:
        np.testing.assert_array_equal(image.pixels, np.asarray(im.convert("RGB")))


def test_cmyk_jpeg_with_an_unusable_profile_falls_back_and_drops_it() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("CMYK", (8, 8), (10, 20, 30, 40)).save(out, "JPEG", icc_profile=srgb)
    image = load_image(out.getvalue(), "c.jpg")
    assert image.icc_profile is None  # an RGB profile must not describe converted CMYK
    assert image.notices == (
        "CMYK converted to RGB (approximate colours: no usable CMYK ICC profile)",
    )
    assert image.source_mode == "JPEG CMYK 8-bit baseline"


def test_truncated_jpeg() -> None:
    with pytest.raises(
        ImageLoadError, match=r"^'t\.jpg' could not be decoded as JPEG: image file is truncated"
    ):
        load_image((CORRUPT_DIR / "pillow__truncated_jpeg.jpg").read_bytes(), "t.jpg")


# --------------------------------------------------------------------------- TIFF


def tiff(im: Image.Image, **save: object) -> bytes:
    out = io.BytesIO()
    im.save(out, "TIFF", **save)
    return out.getvalue()


@pytest.mark.parametrize("compression", [None, "tiff_lzw"])
def test_tiff_grey_rgb_and_16_bit(compression: str | None) -> None:
    rng = np.random.default_rng(9)
    grey = rng.integers(0, 256, (6, 9), dtype=np.uint8)
    rgb = rng.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    deep = rng.integers(0, 65536, (6, 9)).astype(np.uint16)
    save = {"compression": compression} if compression else {}
    cases = [
        (tiff(Image.fromarray(grey), **save), grey, "TIFF grey 8-bit", 8),
        (tiff(Image.fromarray(rgb), **save), rgb, "TIFF RGB 8-bit", 8),
        (
            tiff(Image.frombytes("I;16", (9, 6), deep.astype("<u2").tobytes()), **save),
            deep,
            "TIFF grey 16-bit",
            16,
        ),
    ]
    for data, want, mode, bits in cases:
        image = load_image(data, "t.tif")
        np.testing.assert_array_equal(image.pixels, want)
        assert image.source_mode == mode and image.format == "TIFF"
        check_layout(image, bits)


def test_big_endian_16_bit_tiff_becomes_little_endian() -> None:
    deep = np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000
    data = tiff(Image.frombytes("I;16B", (4, 3), deep.astype(">u2").tobytes()))
    assert data[:2] == b"MM"
    image = load_image(data, "be.tif")
    np.testing.assert_array_equal(image.pixels, deep)
    assert image.buffer[:4] == deep.astype("<u2").tobytes()[:4]


def test_tiff_orientation_and_exif() -> None:
    rgb = np.random.default_rng(2).integers(0, 256, (4, 7, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[274] = 6
    exif[271] = "Maker"
    image = load_image(tiff(Image.fromarray(rgb), exif=exif), "o.tif")
    np.testing.assert_array_equal(image.pixels, np.rot90(rgb, -1))
    assert image.orientation == 6
    assert "rotated upright from EXIF orientation 6" in image.notices
    assert image.exif is not None and image.exif[:4] in (b"II*\0", b"MM\0*")
    loaded = Image.Exif()
    loaded.load(image.exif)
    assert loaded[271] == "Maker"


@pytest.mark.parametrize(
    ("mode", "what"),
    [("RGBA", "RGB with alpha"), ("1", "1-bit"), ("F", "floating point"), ("CMYK", "CMYK")],
)
def test_unsupported_tiff_modes(mode: str, what: str) -> None:
    with pytest.raises(UnsupportedImageError, match=f"{what}.*Pillow mode {mode}.*8-bit RGB PNG"):
        load_image(tiff(Image.new(mode, (3, 2))), "u.tif")


def test_multipage_tiff_uses_the_first_page() -> None:
    first, second = Image.new("L", (3, 2), 10), Image.new("L", (3, 2), 200)
    image = load_image(tiff(first, save_all=True, append_images=[second]), "pages.tif")
    assert int(image.pixels.max()) == 10
    assert any("2 pages" in n for n in image.notices)


def test_truncated_tiff() -> None:
    data = tiff(Image.new("RGB", (64, 64), (1, 2, 3)))
    with pytest.raises(ImageLoadError, match=r"'cut\.tif' could not be decoded as TIFF"):
        load_image(data[:300], "cut.tif")


# --------------------------------------------------------------------------- process-level checks


def test_pillow_guard_is_unchanged() -> None:
    for path in (
        IMAGE_DIR / "pillow__pil_sample_cmyk.jpg",
        IMAGE_DIR / "pillow__hopper_orientation_6.jpg",
    ):
        load_image(path.read_bytes(), path.name)
    load_image(tiff(Image.new("RGB", (3, 3))), "t.tif")
    assert Image.MAX_IMAGE_PIXELS == PILLOW_GUARD
    assert PILLOW_GUARD is not None


def test_one_pixel_buffer_for_plain_png_and_in_place_alpha_removal() -> None:
    rng = np.random.default_rng(4)
    rgb = rng.integers(0, 256, (1200, 1500, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, np.full((1200, 1500, 1), 255, np.uint8)], axis=2)
    for array in (rgb, rgba):
        data = imagecodecs.png_encode(array, level=1)
        tracemalloc.start()
        try:
            image = load_image(data, "m.png")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert image.samples_per_pixel == 3
        # one decoded buffer (RGB, or RGBA shrunk in place) plus band temporaries (< 4 MiB)
        assert peak < array.nbytes + 5 * 2**20, (array.shape, peak)


def test_libpng_prints_nothing_for_interlaced_corrupt_or_odd_files(tmp_path: Path) -> None:
    generated = []
    for kind, depth in (("RGB", 16), ("grey+alpha", 16), ("palette", 4), ("grey", 2)):
        path = tmp_path / f"interlaced-{kind}-{depth}.png"
        path.write_bytes(make_png(kind, depth, True, False))
        generated.append(path)
    files = [
        *generated,
        PNG_DIR / "basi2c08.png",
        PNG_DIR / "basi6a16.png",
        PNG_DIR / "s40i3p04.png",
        PNG_DIR / "ch1n3p04.png",
        *PNGSUITE_CORRUPT,
        *sorted(CORRUPT_DIR.glob("*.png")),
        IMAGE_DIR / "libpng__crashers_empty_ancillary_chunks.png",
        IMAGE_DIR / "pillow__1_trns.png",
        IMAGE_DIR / "pillow__png_decompression_dos.png",
    ]
    code = (
        "import sys\n"
        "from tbp_core.sources.images import load_image\n"
        "from tbp_core.errors import TbpError\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        load_image(open(path, 'rb').read(), path, alpha='white')\n"
        "        print('ok', path)\n"
        "    except TbpError as exc:\n"
        "        print('refused', path)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, files)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.count("ok ") == len(generated) + 4 + 3


@pytest.mark.skipif(not CORPUS_IMAGES.is_dir(), reason="shared corpus not present")
def test_corpus_sweep_loads_or_raises_tbp_errors() -> None:
    files = sorted(
        p
        for p in CORPUS_IMAGES.iterdir()
        if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif", ".tiff")
    )
    assert files
    for path in files:
        for policy in ("refuse", "white"):
            try:
                image = load_image(path.read_bytes(), path.name, alpha=policy)  # type: ignore[arg-type]
            except TbpError as exc:
                assert "\n" not in str(exc) and path.name in str(exc)
                continue
            assert image.samples_per_pixel in (1, 3)
            assert (
                len(image.buffer)
                == image.rows * image.columns * image.samples_per_pixel * image.bits_allocated // 8
            )


def test_module_exports_are_stable() -> None:
    assert images.DEFAULT_MAX_PIXELS == 80_000_000
    assert set(SourceImage.__dataclass_fields__) >= {
        "name", "format", "buffer", "rows", "columns", "samples_per_pixel", "bits_allocated",
        "source_bit_depth", "source_mode", "interlaced", "orientation", "icc_profile", "exif",
        "text", "lossy", "file_size", "notices", "original",
    }  # fmt: skip
