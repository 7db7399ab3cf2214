"""The complete frames of a truncated file: what a viewer can still show, and where data stops.

A multi-frame file cut short (an interrupted copy, a partial download) keeps
the frames before the cut intact. For native (uncompressed) Pixel Data each
frame has a fixed size, so :func:`complete_frames` can tell how many whole
frames the bytes hold and give a dataset that declares only those, for the
usual decoder to read.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.uid import UID

from tbp_core.standard.formatting import size_text

_NUMBER_OF_FRAMES = 0x00280008


@dataclass(frozen=True)
class PartialFrames:
    """The whole frames of truncated native Pixel Data.

    Attributes
    ----------
    dataset : Dataset
        A shallow copy of the dataset whose Pixel Data holds only the whole
        frames and whose Number of Frames says how many (the original is unchanged).
    complete : int
        Whole frames in the file.
    declared : int
        Frames the file declares (Number of Frames).
    present_bytes, expected_bytes : int
        Length of the Pixel Data read, and what the declared frames need.
    """

    dataset: Dataset
    complete: int
    declared: int
    present_bytes: int
    expected_bytes: int

    @property
    def note(self) -> str:
        """Where the data stops, for a person."""
        return (
            f"the pixel data stops after {size_text(self.present_bytes)} of "
            f"{size_text(self.expected_bytes)}: {self.complete} of {self.declared} frames "
            f"are complete and shown; frames {self.complete + 1}–{self.declared} are missing"
        )


def frame_bytes(ds: Dataset) -> int | None:
    """Bytes of one native frame (Rows × Columns × Samples × Bits Allocated / 8), or None.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    int or None
        None when an attribute is missing or not a positive number, or when
        Bits Allocated is not a multiple of 8 (bit-packed frames are not cut
        on byte boundaries).
    """
    try:
        rows, columns = int(ds.Rows), int(ds.Columns)
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
        bits = int(ds.BitsAllocated)
    except (AttributeError, TypeError, ValueError):
        return None
    if min(rows, columns, samples, bits) < 1 or bits % 8:
        return None
    return rows * columns * samples * bits // 8


def _is_native(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    return syntax is None or not UID(str(syntax)).is_compressed


def complete_frames(ds: Dataset) -> PartialFrames | None:
    """The whole frames of native Pixel Data that is shorter than its frames need.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    PartialFrames or None
        None when the Pixel Data is compressed, complete, or holds no whole frame.
    """
    if "PixelData" not in ds or not _is_native(ds):
        return None
    size = frame_bytes(ds)
    if size is None:
        return None
    try:
        declared = max(int(ds.get("NumberOfFrames", 1) or 1), 1)
    except (TypeError, ValueError):
        return None
    present = len(ds.PixelData or b"")
    expected = declared * size
    complete = min(present // size, declared)
    if present >= expected or complete < 1:
        return None
    trimmed = Dataset()  # new elements for the two that change; the rest are shared
    trimmed.update(ds)
    if hasattr(ds, "file_meta"):
        trimmed.file_meta = ds.file_meta
    trimmed.set_original_encoding(*ds.original_encoding)
    pixels = ds["PixelData"]
    trimmed[pixels.tag] = DataElement(pixels.tag, pixels.VR, bytes(pixels.value[: complete * size]))
    trimmed[_NUMBER_OF_FRAMES] = DataElement(_NUMBER_OF_FRAMES, "IS", str(complete))
    return PartialFrames(
        dataset=trimmed,
        complete=complete,
        declared=declared,
        present_bytes=present,
        expected_bytes=expected,
    )
