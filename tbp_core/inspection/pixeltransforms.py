"""The pixel transforms a DICOM file carries: Modality LUT / Rescale and its VOI window.

:func:`modality_values` turns stored values into modality values (Hounsfield
units for CT); :func:`suggested_window` finds the window the file suggests
(Window Center/Width, a frame's VOI LUT in the functional groups, or a VOI LUT
Sequence's input range). Both add a note for anything they could not use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels.processing import apply_modality_lut

from tbp_core.errors import one_line
from tbp_core.inspection.window import Window

Array = npt.NDArray[Any]


def _float(value: object) -> float | None:
    """A finite number from a DICOM value (the first of several), or None."""
    if isinstance(value, MultiValue | list | tuple):
        value = value[0] if len(value) else None
    try:
        number = float(str(value))
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _functional_item(ds: Dataset, sequence: str) -> Dataset | None:
    """The first frame's item of a functional group macro (per-frame, else shared)."""
    for groups in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"):
        try:
            group = ds.get(groups)
            if group and sequence in group[0] and group[0][sequence].value:
                item: Dataset = group[0][sequence].value[0]
                return item
        except (AttributeError, IndexError, KeyError, TypeError):
            continue
    return None


def modality_values(values: Array, ds: Dataset, notes: list[str]) -> tuple[Array, bool]:
    """Apply the Modality LUT or Rescale Slope/Intercept; say whether values changed."""
    if "ModalityLUTSequence" in ds:
        try:
            return np.asarray(apply_modality_lut(values, ds)), True
        except Exception as exc:  # a damaged table: show the stored values
            notes.append(f"the Modality LUT could not be applied ({one_line(exc)})")
            return values, False
    source: Dataset | None = ds if "RescaleSlope" in ds or "RescaleIntercept" in ds else None
    if source is None:
        source = _functional_item(ds, "PixelValueTransformationSequence")
    if source is None:
        return values, False
    slope = _float(source.get("RescaleSlope"))
    intercept = _float(source.get("RescaleIntercept"))
    slope = 1.0 if slope is None else slope
    intercept = 0.0 if intercept is None else intercept
    if slope == 1.0 and intercept == 0.0:
        return values, False
    if slope.is_integer() and intercept.is_integer():
        rescaled = values.astype(np.int64) * int(slope) + int(intercept)
        return _compact(rescaled), True
    return (values.astype(np.float32) * np.float32(slope) + np.float32(intercept)), True


def _compact(values: Array) -> Array:
    """Whole numbers in the smallest of int16/uint16/int32 that holds them."""
    low, high = int(values.min()), int(values.max())
    for dtype in (np.int16, np.uint16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return values.astype(dtype)
    return values.astype(np.float64)


def suggested_window(ds: Dataset, notes: list[str]) -> Window | None:
    """The window the file suggests: Window Center/Width, else a VOI LUT's input range."""
    source: Dataset | None = ds if "WindowCenter" in ds or "WindowWidth" in ds else None
    where = "Window Center/Width in the file"
    if source is None:
        source = _functional_item(ds, "FrameVOILUTSequence")
        where = "Window Center/Width of the first frame's VOI LUT"
    if source is not None:
        centre = _float(source.get("WindowCenter"))
        width = _float(source.get("WindowWidth"))
        if centre is not None and width is not None and width >= 1:
            function = str(source.get("VOILUTFunction", "") or "").upper()
            if function == "SIGMOID":
                notes.append("the file asks for a sigmoid VOI function; shown linear")
            explanation = source.get("WindowCenterWidthExplanation")
            if explanation:
                first = explanation[0] if not isinstance(explanation, str) else explanation
                where = f"{where} ({first})"
            return Window(centre=centre, width=width, source=where)
        notes.append(
            f"the file's window (centre {source.get('WindowCenter')!s}, width "
            f"{source.get('WindowWidth')!s}) is unusable; a window from the values is used"
        )
    lut = ds.get("VOILUTSequence")
    if lut:
        try:
            entries, first = (int(v) for v in list(lut[0].LUTDescriptor)[:2])
        except (AttributeError, IndexError, TypeError, ValueError):
            return None
        entries = entries or 65536
        return Window(
            centre=first + entries / 2,
            width=float(entries),
            source="the input range of the file's VOI LUT",
        )
    return None
