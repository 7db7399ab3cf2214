"""Display arrays for viewing an image or a DICOM file: downsampled, windowed, thumbnailed.

A viewer needs something small enough to send to a browser: :func:`preview_image`
and :func:`preview_dataset` (or :func:`preview_document` for a workspace
document) decode the pixels once and keep every ``factor``-th pixel in each
direction, so the longest side is at most :data:`MAX_SIDE` pixels. Taking
whole pixels (not averages) keeps the values real: what a viewer shows on
hover is a value that is in the file.

Grey values are *modality* values (DICOM Rescale Slope/Intercept or Modality
LUT applied: Hounsfield units for CT); colour values are the samples as
decoded (YBR converted to RGB by pydicom; palette colour expanded).

The default window comes from the file when it has one — Window Center/Width
(0028,1050)/(0028,1051), a frame's VOI LUT in the functional groups, or the
input range of a VOI LUT Sequence table — otherwise it spans the full range
for 8-bit samples (the picture as stored) and the minimum to maximum value for
deeper samples. :func:`apply_window` applies DICOM's linear window function
(PS3.3 C.11.2.1.2) to give 8-bit display values.

Nothing here imports streamlit; problems with the pixels raise
:class:`~tbp_core.errors.DicomReadError` or
:class:`~tbp_core.errors.CodecUnavailableError` naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_color_lut
from pydicom.uid import UID

from tbp_core.boundary import guarded
from tbp_core.errors import CodecUnavailableError, DicomReadError, one_line
from tbp_core.fileio import dicomio
from tbp_core.inspection.partialframes import complete_frames
from tbp_core.inspection.pixeltransforms import modality_values, suggested_window
from tbp_core.inspection.window import Window, apply_window, window_bounds, window_spanning

if TYPE_CHECKING:
    from tbp_core.session.workspace import Document
    from tbp_core.sources.images import SourceImage

#: Longest side, in pixels, of a preview.
MAX_SIDE = 1600

#: Longest side, in pixels, of a thumbnail.
THUMBNAIL_SIDE = 96

Array = npt.NDArray[Any]


@dataclass(frozen=True, eq=False)
class Preview:
    """Decoded pixels ready to show, with what a viewer needs to say about them.

    Attributes
    ----------
    values : numpy.ndarray
        Shape ``(frames, rows, columns)`` for grey or ``(frames, rows, columns, 3)``
        for colour: every ``factor``-th pixel of each frame. Grey values are
        modality values; colour values are RGB samples (uint8 or uint16).
    factor : int
        Downsampling factor (1 when the image is shown at full size).
    source_rows, source_columns : int
        Size of the full image.
    colour : bool
        RGB (True) or grey (False).
    bits_stored : int
        Significant bits per sample in the source.
    photometric : str
        Photometric interpretation (``"RGB"``, ``"MONOCHROME2"``, ...).
    invert : bool
        True for ``MONOCHROME1`` (low values are shown white).
    window : Window or None
        The default window; None for 8-bit colour, which is shown as stored.
    value_min, value_max : float
        Smallest and largest value in :attr:`values`.
    integer : bool
        Whether the values are whole numbers (window controls can step by 1).
    notes : tuple of str
        What the viewer should tell the user (palette applied, window ignored, ...).
    """

    values: Array
    factor: int
    source_rows: int
    source_columns: int
    colour: bool
    bits_stored: int
    photometric: str
    invert: bool
    window: Window | None
    value_min: float
    value_max: float
    integer: bool
    notes: tuple[str, ...] = ()

    @property
    def frame_count(self) -> int:
        """Number of frames."""
        return int(self.values.shape[0])

    @property
    def rows(self) -> int:
        """Rows of the preview (after downsampling)."""
        return int(self.values.shape[1])

    @property
    def columns(self) -> int:
        """Columns of the preview (after downsampling)."""
        return int(self.values.shape[2])

    @property
    def needs_window(self) -> bool:
        """True for grey and for deeper-than-8-bit images: a window chooses what is seen."""
        return self.window is not None

    def frame(self, index: int = 0) -> Array:
        """The values of one frame, ``(rows, columns)`` or ``(rows, columns, 3)``.

        Raises
        ------
        IndexError
            When ``index`` is not a frame of the preview.
        """
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index} does not exist: there are {self.frame_count}")
        frame: Array = self.values[index]
        return frame


def downsample_factor(rows: int, columns: int, max_side: int = MAX_SIDE) -> int:
    """The smallest integer factor that brings the longest side to at most ``max_side``.

    Parameters
    ----------
    rows, columns : int
        Image size.
    max_side : int
        Largest side wanted.

    Returns
    -------
    int
        1 when the image already fits.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, not {max_side}")
    longest = max(rows, columns, 1)
    return max(1, -(-longest // max_side))


def display_frame(
    preview: Preview, index: int = 0, window: Window | None = None
) -> npt.NDArray[np.uint8]:
    """One frame as 8-bit display pixels (grey or RGB).

    Parameters
    ----------
    preview : Preview
    index : int
        Frame number, from 0.
    window : Window, optional
        The window to apply; the preview's default when omitted.

    Returns
    -------
    numpy.ndarray of uint8
        ``(rows, columns)`` or ``(rows, columns, 3)``.
    """
    frame = preview.frame(index)
    window = window or preview.window
    if window is None:  # 8-bit colour, shown as stored
        shown: npt.NDArray[np.uint8] = np.asarray(frame, dtype=np.uint8)
        return shown
    return apply_window(frame, window.centre, window.width, invert=preview.invert)


def thumbnail(preview: Preview, side: int = THUMBNAIL_SIDE) -> npt.NDArray[np.uint8]:
    """A small 8-bit picture of the first frame, its longest side at most ``side``.

    Parameters
    ----------
    preview : Preview
    side : int
        Longest side in pixels.

    Returns
    -------
    numpy.ndarray of uint8
        ``(rows, columns)`` grey or ``(rows, columns, 3)`` RGB.
    """
    shown = display_frame(preview, 0)
    picture = Image.fromarray(shown)
    picture.thumbnail((side, side), Image.Resampling.BILINEAR)
    small: npt.NDArray[np.uint8] = np.asarray(picture, dtype=np.uint8)
    return small


@guarded("preview")
def preview_image(image: SourceImage, *, max_side: int = MAX_SIDE) -> Preview:
    """A preview of a decoded PNG, JPEG or TIFF picture (no copy when it fits).

    Parameters
    ----------
    image : SourceImage
    max_side : int
        Longest side of the preview.

    Returns
    -------
    Preview
    """
    stack = image.pixels[np.newaxis]
    factor = downsample_factor(image.rows, image.columns, max_side)
    values = _downsample(stack, factor).astype(
        np.uint16 if image.bits_allocated > 8 else np.uint8, copy=False
    )
    colour = image.samples_per_pixel == 3
    deep = image.bits_allocated > 8
    return _finish(
        values,
        factor=factor,
        rows=image.rows,
        columns=image.columns,
        colour=colour,
        bits_stored=image.source_bit_depth if deep else 8,
        photometric=image.photometric_interpretation,
        file_window=None,
        full_range=None if deep else (0, 255),
        notes=[],
    )


@guarded("preview")
def preview_dataset(ds: Dataset, *, name: str = "", max_side: int = MAX_SIDE) -> Preview:
    """A preview of a DICOM dataset's pixels, every frame.

    Parameters
    ----------
    ds : Dataset
        A dataset with Pixel Data (read lazily is fine).
    name : str
        The file's name, for messages.
    max_side : int
        Longest side of the preview.

    Returns
    -------
    Preview

    Raises
    ------
    DicomReadError
        When there is no Pixel Data or it cannot be decoded.
    CodecUnavailableError
        When no installed decoder handles its transfer syntax.
    """
    label = f"'{name}'" if name else "the dataset"
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        sop = ds.get("SOPClassUID")
        what = f" ({UID(str(sop)).name})" if sop else ""
        raise DicomReadError(f"{label}{what} has no Pixel Data — there is no image to show")
    partial = complete_frames(ds)
    if partial is not None:  # a truncated multi-frame file: show its whole frames
        shown = _preview_decoded(
            ds, np.asarray(dicomio.pixel_array(partial.dataset)), max_side=max_side
        )
        return replace(shown, notes=(*shown.notes, partial.note))
    try:
        decoded = dicomio.pixel_array(ds)
    except CodecUnavailableError as exc:
        raise CodecUnavailableError(f"{label}: {exc}") from exc
    except DicomReadError as exc:
        raise DicomReadError(f"{label}: {exc}") from exc
    except Exception as exc:  # attributes the decoder needs may be missing or wrong
        raise DicomReadError(
            f"{label}: the pixel data cannot be decoded ({one_line(exc)}) — "
            "check Rows, Columns, Bits Allocated and Samples per Pixel on the Tags page"
        ) from exc
    return _preview_decoded(ds, np.asarray(decoded), max_side=max_side)


@guarded("preview")
def preview_document(document: Document, *, max_side: int = MAX_SIDE) -> Preview:
    """A preview of a workspace document: its decoded image or its DICOM pixels.

    Raises
    ------
    DicomReadError, CodecUnavailableError
        As :func:`preview_dataset`, for DICOM documents.
    """
    if document.image is not None:
        return preview_image(document.image, max_side=max_side)
    from tbp_core.session.workspace import dataset_of

    try:
        return preview_dataset(dataset_of(document), name=document.name, max_side=max_side)
    except DicomReadError as exc:
        cut = next((w for w in document.read_warnings if w.startswith("truncated")), None)
        if cut is None:
            raise
        raise DicomReadError(f"{exc} — the file is cut short ({cut})") from exc


def _downsample(stack: Array, factor: int) -> Array:
    """Every ``factor``-th pixel of each frame, as an independent array."""
    if factor == 1:
        return stack
    return np.ascontiguousarray(stack[:, ::factor, ::factor])


def _preview_decoded(ds: Dataset, decoded: Array, *, max_side: int) -> Preview:
    photometric = str(ds.get("PhotometricInterpretation", "") or "").strip().upper()
    samples = _int(ds.get("SamplesPerPixel"), 1)
    notes: list[str] = []
    # pydicom gives (rows, columns[, samples]) for one frame, a leading frame axis for more
    stack = decoded if decoded.ndim == (4 if samples > 1 else 3) else decoded[np.newaxis]
    rows, columns = int(stack.shape[1]), int(stack.shape[2])
    factor = downsample_factor(rows, columns, max_side)
    values = _downsample(stack, factor)
    colour = values.ndim == 4
    bits_stored = _int(ds.get("BitsStored"), values.dtype.itemsize * 8)
    if photometric == "PALETTE COLOR" and not colour:
        try:
            values = np.asarray(apply_color_lut(values, ds))
        except Exception as exc:  # a damaged palette: show the indices as grey
            notes.append(f"the palette could not be applied ({one_line(exc)}); indices shown")
        else:
            colour = True
            bits_stored = 8 if values.dtype == np.uint8 else 16
            notes.append("palette colours applied")
    elif photometric.startswith("YBR") and colour:
        notes.append(f"{photometric} converted to RGB for display")
    file_window: Window | None = None
    full_range: tuple[float, float] | None = None
    if colour:
        if values.dtype.kind == "u" and values.dtype.itemsize > 1 and bits_stored <= 8:
            values = values.astype(np.uint8)
        if bits_stored <= 8:
            full_range = (0, 255)
    else:
        values, rescaled = modality_values(values, ds, notes)
        file_window = suggested_window(ds, notes)
        if not rescaled and values.dtype.kind == "u" and bits_stored <= 8:
            full_range = (0, 255)
    return _finish(
        values,
        factor=factor,
        rows=rows,
        columns=columns,
        colour=colour,
        bits_stored=bits_stored,
        photometric=photometric or ("RGB" if colour else "MONOCHROME2"),
        file_window=file_window,
        full_range=full_range,
        notes=notes,
    )


def _finish(
    values: Array,
    *,
    factor: int,
    rows: int,
    columns: int,
    colour: bool,
    bits_stored: int,
    photometric: str,
    file_window: Window | None,
    full_range: tuple[float, float] | None,
    notes: list[str],
) -> Preview:
    if values.dtype.kind == "f":
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        integer = bool(finite.size == 0 or np.all(finite == np.round(finite)))
    else:
        low, high = float(values.min()), float(values.max())
        integer = True
    window: Window | None
    if colour and full_range is not None:
        window = None  # 8-bit colour is shown as stored
    elif file_window is not None:
        window = file_window
    elif full_range is not None:
        window = window_spanning(*full_range, "the full 8-bit range")
    else:
        window = window_spanning(low, high, "the image's minimum and maximum")
    return Preview(
        values=values,
        factor=factor,
        source_rows=rows,
        source_columns=columns,
        colour=colour,
        bits_stored=bits_stored,
        photometric=photometric,
        invert=photometric == "MONOCHROME1",
        window=window,
        value_min=low,
        value_max=high,
        integer=integer,
        notes=tuple(notes),
    )


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


__all__ = [
    "MAX_SIDE",
    "THUMBNAIL_SIDE",
    "Preview",
    "Window",
    "apply_window",
    "display_frame",
    "downsample_factor",
    "preview_dataset",
    "preview_document",
    "preview_image",
    "thumbnail",
    "window_bounds",
]
