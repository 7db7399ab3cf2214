"""Display arrays: downsampling, default windows, windowing, thumbnails, pixel errors."""

from __future__ import annotations

import copy
import io
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_modality_lut
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian

from tbp_core.building.iods import new_series_context
from tbp_core.errors import CodecUnavailableError, DicomReadError
from tbp_core.fileio import dicomio
from tbp_core.inspection.preview import (
    MAX_SIDE,
    THUMBNAIL_SIDE,
    Window,
    apply_window,
    display_frame,
    downsample_factor,
    preview_dataset,
    preview_document,
    preview_image,
    thumbnail,
    window_bounds,
)
from tbp_core.session.workspace import dataset_of, open_document
from tbp_core.sources.images import SourceImage, load_image

ROOT = Path(__file__).resolve().parents[3]
DICOM = ROOT / "tests" / "data" / "dicom"
PNG = ROOT / "tests" / "data" / "png"


def _read(name: str) -> Dataset:
    return dicomio.read((DICOM / name).read_bytes(), name=name)


def _dataset(pixels: np.ndarray, photometric: str = "MONOCHROME2", frames: int = 1) -> Dataset:
    """A native little-endian dataset holding ``pixels`` (frames first when ``frames`` > 1)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    colour = photometric == "RGB"
    shape = pixels.shape[1:] if frames > 1 else pixels.shape
    ds.Rows, ds.Columns = int(shape[0]), int(shape[1])
    ds.SamplesPerPixel = 3 if colour else 1
    if colour:
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = photometric
    bits = pixels.dtype.itemsize * 8
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = pixels.astype(pixels.dtype.newbyteorder("<")).tobytes()
    return ds


def _source_image(pixels: np.ndarray) -> SourceImage:
    rows, columns = pixels.shape[:2]
    channels = 3 if pixels.ndim == 3 else 1
    bits = pixels.dtype.itemsize * 8
    return SourceImage(
        name="big.png",
        format="PNG",
        buffer=bytearray(pixels.astype(pixels.dtype.newbyteorder("<")).tobytes()),
        rows=rows,
        columns=columns,
        samples_per_pixel=channels,
        bits_allocated=bits,
        source_bit_depth=bits,
        source_mode=f"{'RGB' if channels == 3 else 'grey'} {bits}-bit",
    )


@pytest.mark.parametrize(
    ("rows", "columns", "factor"),
    [(1, 1, 1), (1600, 1600, 1), (1601, 10, 2), (3200, 100, 2), (3201, 100, 3), (6000, 8660, 6)],
)
def test_downsample_factor_brings_the_longest_side_within_the_limit(
    rows: int, columns: int, factor: int
) -> None:
    assert downsample_factor(rows, columns) == factor
    assert -(-max(rows, columns) // factor) <= MAX_SIDE


def test_a_big_rgb_image_keeps_every_factor_th_pixel() -> None:
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, size=(3300, 2000, 3), dtype=np.uint8)
    preview = preview_image(_source_image(pixels))
    assert preview.factor == 3
    assert preview.values.shape == (1, 1100, 667, 3)
    assert (preview.source_rows, preview.source_columns) == (3300, 2000)
    np.testing.assert_array_equal(preview.frame(0), pixels[::3, ::3])
    assert preview.colour and preview.window is None  # 8-bit colour is shown as stored
    np.testing.assert_array_equal(display_frame(preview), pixels[::3, ::3])


def test_the_downsampled_preview_does_not_hold_the_full_array() -> None:
    pixels = np.arange(3400 * 20, dtype=np.uint16).reshape(3400, 20)
    preview = preview_dataset(_dataset(pixels))
    assert preview.factor == 3
    assert preview.values.shape == (1, 1134, 7)
    assert preview.values.base is None or preview.values.base.size == preview.values.size
    np.testing.assert_array_equal(preview.frame(0), pixels[::3, ::3])


def test_a_small_image_is_shown_at_full_size_without_a_copy() -> None:
    image = load_image((PNG / "basn2c08.png").read_bytes(), "basn2c08.png")
    preview = preview_image(image)
    assert preview.factor == 1
    assert np.shares_memory(preview.values, image.pixels)


def test_grey_16_bit_window_comes_from_the_files_window_center_and_width() -> None:
    ds = _read("MR_small.dcm")
    preview = preview_dataset(ds, name="MR_small.dcm")
    assert not preview.colour
    assert preview.bits_stored == 16
    assert preview.window == Window(600.0, 1600.0, "Window Center/Width in the file")
    assert preview.needs_window
    np.testing.assert_array_equal(preview.frame(0), dcmread(DICOM / "MR_small.dcm").pixel_array)


def test_ct_values_are_rescaled_and_the_default_window_spans_min_to_max() -> None:
    ds = _read("CT_small.dcm")
    preview = preview_dataset(ds, name="CT_small.dcm")
    reference = dcmread(DICOM / "CT_small.dcm")
    expected = apply_modality_lut(reference.pixel_array, reference)  # Hounsfield units
    np.testing.assert_array_equal(preview.frame(0), expected)
    assert preview.integer
    assert (preview.value_min, preview.value_max) == (expected.min(), expected.max())
    assert preview.window is not None
    assert preview.window.bounds == (expected.min(), expected.max())
    assert "minimum and maximum" in preview.window.source


def test_a_voi_lut_sequence_gives_the_default_window() -> None:
    ds = _read("CT_small.dcm")
    item = Dataset()
    item.LUTDescriptor = [1024, -200, 8]
    item.LUTData = list(range(1024))
    ds.VOILUTSequence = Sequence([item])
    preview = preview_dataset(ds)
    assert preview.window is not None
    assert (preview.window.centre, preview.window.width) == (-200 + 512, 1024)
    assert "VOI LUT" in preview.window.source


def test_an_unusable_window_in_the_file_is_reported_and_replaced() -> None:
    ds = _read("MR_small.dcm")
    ds.WindowWidth = 0
    preview = preview_dataset(ds)
    assert preview.window is not None and "minimum and maximum" in preview.window.source
    assert any("unusable" in note for note in preview.notes)


def test_rgb_rle_dicom_decodes_as_colour() -> None:
    preview = preview_dataset(_read("SC_rgb_rle.dcm"), name="SC_rgb_rle.dcm")
    reference = dcmread(DICOM / "SC_rgb_rle.dcm").pixel_array
    assert preview.colour and preview.values.dtype == np.uint8
    assert preview.window is None
    np.testing.assert_array_equal(preview.frame(0), reference)
    assert thumbnail(preview).shape == (THUMBNAIL_SIDE, THUMBNAIL_SIDE, 3)


def test_jpeg_2000_dicom_decodes() -> None:
    preview = preview_dataset(_read("JPEG2000.dcm"), name="JPEG2000.dcm")
    reference = dcmread(DICOM / "JPEG2000.dcm").pixel_array
    assert preview.values.shape == (1, 1024, 256)
    np.testing.assert_array_equal(preview.frame(0), reference)
    small = thumbnail(preview)
    assert small.dtype == np.uint8 and max(small.shape) <= THUMBNAIL_SIDE


def test_a_dataset_without_pixel_data_raises_a_clear_error() -> None:
    with pytest.raises(
        DicomReadError, match=r"'rtplan\.dcm' \(RT Plan Storage\) has no Pixel Data"
    ):
        preview_dataset(_read("rtplan.dcm"), name="rtplan.dcm")


def test_a_transfer_syntax_without_decoder_raises_codec_unavailable() -> None:
    ds = _read("CT_small.dcm")
    ds.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.4.100")  # MPEG2 MP@ML
    with pytest.raises(CodecUnavailableError, match=r"^'ct\.dcm': no decoder exists for MPEG2"):
        preview_dataset(ds, name="ct.dcm")


def test_truncated_pixel_data_raises_dicom_read_error_naming_the_file() -> None:
    ds = _read("CT_small.dcm")
    ds.PixelData = ds.PixelData[:100]
    with pytest.raises(DicomReadError, match=r"^'short\.dcm': "):
        preview_dataset(ds, name="short.dcm")


def test_multi_frame_previews_keep_every_frame() -> None:
    frames = np.arange(3 * 10 * 12, dtype=np.uint8).reshape(3, 10, 12)
    preview = preview_dataset(_dataset(frames, frames=3))
    assert preview.frame_count == 3
    np.testing.assert_array_equal(preview.frame(2), frames[2])
    with pytest.raises(IndexError):
        preview.frame(3)


def test_multi_frame_colour() -> None:
    frames = np.zeros((2, 4, 5, 3), dtype=np.uint8)
    frames[1, ..., 0] = 200
    preview = preview_dataset(_dataset(frames, photometric="RGB", frames=2))
    assert preview.colour and preview.frame_count == 2
    np.testing.assert_array_equal(preview.frame(1), frames[1])


def test_monochrome1_is_inverted_for_display() -> None:
    pixels = np.array([[0, 255]], dtype=np.uint8)
    preview = preview_dataset(_dataset(pixels, photometric="MONOCHROME1"))
    assert preview.invert
    np.testing.assert_array_equal(display_frame(preview), [[255, 0]])


def test_palette_colour_is_expanded_to_rgb() -> None:
    ds = _dataset(np.array([[0, 1], [1, 0]], dtype=np.uint8), photometric="PALETTE COLOR")
    for colour, values in (("Red", [255, 0]), ("Green", [0, 128]), ("Blue", [0, 255])):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [2, 0, 8])
        setattr(ds, f"{colour}PaletteColorLookupTableData", bytes(values))
    preview = preview_dataset(ds)
    assert preview.colour
    np.testing.assert_array_equal(preview.frame(0)[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(preview.frame(0)[0, 1], [0, 128, 255])


def test_8_bit_grey_images_default_to_the_full_range_and_show_as_stored() -> None:
    image = load_image((PNG / "basn0g08.png").read_bytes(), "basn0g08.png")
    preview = preview_image(image)
    assert preview.window == Window(128.0, 256.0, "the full 8-bit range")
    np.testing.assert_array_equal(display_frame(preview), image.pixels)


def test_16_bit_grey_png_window_spans_its_values() -> None:
    image = load_image((PNG / "basn0g16.png").read_bytes(), "basn0g16.png")
    preview = preview_image(image)
    assert preview.values.dtype == np.uint16 and preview.bits_stored == 16
    assert preview.window is not None
    assert preview.window.bounds == (float(image.pixels.min()), float(image.pixels.max()))


def test_16_bit_rgb_png_gets_a_window() -> None:
    image = load_image((PNG / "basn2c08.png").read_bytes(), "basn2c08.png")
    deep = load_image((PNG / "oi4n2c16.png").read_bytes(), "oi4n2c16.png")
    assert preview_image(image).window is None
    preview = preview_image(deep)
    assert preview.colour and preview.window is not None
    assert display_frame(preview).dtype == np.uint8


def test_window_bounds_follow_the_dicom_linear_function() -> None:
    assert window_bounds(128, 256) == (0.0, 255.0)
    assert window_bounds(40, 400) == (-160.0, 239.0)
    with pytest.raises(ValueError, match="at least 1"):
        window_bounds(0, 0.5)


def test_apply_window_maps_linearly_and_clips() -> None:
    values = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(apply_window(values, 128, 256), values)
    ramp = apply_window(np.array([-200, -160, 39.5, 239, 240, 1000]), 40, 400)
    np.testing.assert_array_equal(ramp, [0, 0, 128, 255, 255, 255])
    np.testing.assert_array_equal(apply_window(np.array([9, 10, 11]), 10.5, 1), [0, 0, 255])
    np.testing.assert_array_equal(apply_window(values[:2], 128, 256, invert=True), [255, 254])


def test_thumbnail_keeps_the_aspect_ratio() -> None:
    image = load_image((ROOT / "sample_data" / "regional_back.png").read_bytes(), "back.png")
    small = thumbnail(preview_image(image))
    assert small.shape == (72, 96, 3)
    assert small.dtype == np.uint8


def test_preview_document_handles_both_kinds() -> None:
    context = new_series_context()
    picture = open_document("a.png", (PNG / "basn2c08.png").read_bytes(), context)
    dicom = open_document("MR_small.dcm", (DICOM / "MR_small.dcm").read_bytes(), context)
    assert preview_document(picture).colour
    assert preview_document(dicom).window == Window(
        600.0, 1600.0, "Window Center/Width in the file"
    )


def test_the_dataset_is_left_unchanged() -> None:
    ds = _read("CT_small.dcm")
    before = copy.deepcopy(ds)
    preview_dataset(ds)
    assert ds == before


# ------------------------------------------------------------------ deep colour, floats, cuts


def test_16_bit_rgb_dicom_gets_a_window_and_8_bit_display_pixels() -> None:
    ds = _read("SC_rgb_16bit.dcm")
    preview = preview_dataset(ds, name="SC_rgb_16bit.dcm")
    stored = dicomio.pixel_array(ds)
    assert preview.colour and preview.values.dtype == np.uint16
    assert preview.window is not None  # deeper than 8 bits: a window chooses what is seen
    assert (preview.value_min, preview.value_max) == (stored.min(), stored.max())
    shown = display_frame(preview, 0)
    assert shown.dtype == np.uint8 and shown.shape == (100, 100, 3)
    expected = apply_window(stored, preview.window.centre, preview.window.width)
    np.testing.assert_array_equal(shown, expected)
    assert thumbnail(preview).shape == (96, 96, 3)


def test_32_bit_two_frame_rgb_shows_both_frames_windowed() -> None:
    ds = _read("SC_rgb_rle_32bit_2frame.dcm")
    preview = preview_dataset(ds, name="SC_rgb_rle_32bit_2frame.dcm")
    assert preview.frame_count == 2 and preview.colour and preview.bits_stored == 32
    first, second = display_frame(preview, 0), display_frame(preview, 1)
    assert first.dtype == np.uint8 and first.shape == (100, 100, 3)
    assert int(first.max()) == 255 and int(first.min()) == 0  # the full range is used
    assert not np.array_equal(first, second)


def test_16_bit_rgb_png_preview_is_windowed_to_8_bits() -> None:
    image = load_image((PNG / "oi4n2c16.png").read_bytes(), "oi4n2c16.png")
    preview = preview_image(image)
    assert preview.colour and preview.window is not None
    assert display_frame(preview).dtype == np.uint8


def test_a_window_shows_nan_black_and_infinities_at_the_ends() -> None:
    values = np.array([np.nan, np.inf, -np.inf, 0.0, 99.0], dtype=np.float32)
    assert apply_window(values, 50, 100).tolist() == [0, 255, 0, 0, 255]


def _multiframe(frames: int, rows: int = 8, columns: int = 8) -> bytes:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = UID("1.2.840.10008.5.1.4.1.1.7.3")  # multi-frame grey word SC
    ds.SOPInstanceUID = UID("1.2.3.4")
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, columns, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.NumberOfFrames = frames
    ds.PixelData = np.arange(frames * rows * columns, dtype=np.uint16).tobytes()
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_a_cut_multiframe_file_shows_its_complete_frames_and_where_data_stops() -> None:
    whole = _multiframe(5)
    frame = 8 * 8 * 2
    cut = whole[: len(whole) - 2 * frame - 10]  # frames 1-2 whole, frame 3 partial
    doc = open_document("cut.dcm", cut, new_series_context(), instance_number=1)
    preview = preview_document(doc)
    assert preview.frame_count == 2
    np.testing.assert_array_equal(
        preview.values[1], np.arange(frame // 2, 2 * frame // 2).reshape(8, 8)
    )
    assert any("2 of 5 frames are complete" in note for note in preview.notes)
    assert any("frames 3–5 are missing" in note for note in preview.notes)
    assert len(dataset_of(doc).PixelData) == 3 * frame - 10  # the document is unchanged


def test_a_file_cut_before_its_pixel_data_says_so() -> None:
    whole = _multiframe(2)
    inside_rows = whole.index(b"\x28\x00\x10\x00") + 9  # within (0028,0010) Rows
    doc = open_document("cut.dcm", whole[:inside_rows], new_series_context(), instance_number=1)
    assert doc.read_warnings
    with pytest.raises(DicomReadError, match="cut short"):
        preview_document(doc)
