"""The image viewer: a Plotly figure of a document's pixels with frame and window controls.

Pixels are decoded and downsampled once per document revision
(:func:`ui.cache.memo` over :func:`tbp_core.inspection.preview.preview_document`); a rerun
only rebuilds the small figure around the cached arrays. Grey images are a
Plotly heatmap whose colour range is the window, so hovering shows the real
(modality) value while the sliders change only what is black and white.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from tbp_core.errors import CodecUnavailableError, DicomReadError, TbpError
from tbp_core.inspection.preview import (
    Preview,
    Window,
    display_frame,
    preview_document,
    thumbnail,
)
from tbp_core.session.workspace import Document, dataset_of
from ui.cache import memo
from ui.guard import PASS_THROUGH, failure_text, shielded
from ui.text import literal

#: Plotly's controls: scroll to zoom, no logo, pan and zoom kept, picture download named.
PLOT_CONFIG: dict[str, Any] = {
    "scrollZoom": True,
    "displaylogo": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
}

_GREYS = [[0.0, "rgb(0,0,0)"], [1.0, "rgb(255,255,255)"]]
_GREYS_INVERTED = [[0.0, "rgb(255,255,255)"], [1.0, "rgb(0,0,0)"]]


def _attempt_preview(doc: Document) -> Preview | TbpError:
    try:
        with st.spinner(f"Building the preview of {literal(doc.name)}…"):
            return preview_document(doc)
    except TbpError as exc:  # kept, so a failing decode is not retried on every rerun
        return exc
    except PASS_THROUGH:
        raise
    except BaseException as exc:  # any decoder failure, even a Rust panic: kept as an error
        return DicomReadError(failure_text(f"The preview of '{doc.name}'", exc))


def cached_preview(doc: Document) -> Preview | TbpError:
    """The document's preview, or the core's error explaining why there is none.

    Computed once per document revision.
    """
    return memo(doc, "preview", lambda: _attempt_preview(doc))


def cached_thumbnail(doc: Document) -> np.ndarray | None:
    """A small 8-bit picture of the document, or None when its pixels cannot be shown."""

    def compute() -> np.ndarray | None:
        preview = cached_preview(doc)
        if not isinstance(preview, Preview):
            return None
        try:
            return thumbnail(preview)
        except PASS_THROUGH:
            raise
        except BaseException:  # a picture that cannot be made small is simply not shown
            return None

    return memo(doc, "thumbnail", compute)


def image_figure(preview: Preview, frame: int = 0, window: Window | None = None) -> go.Figure:
    """A zoomable figure of one frame; hovering shows the position and the real value.

    Parameters
    ----------
    preview : Preview
    frame : int
        Frame number, from 0.
    window : Window, optional
        Window for grey or deep images; the preview's default when omitted.
    """
    values = preview.frame(frame)
    step = preview.factor
    window = window or preview.window
    trace: go.Image | go.Heatmap
    if preview.colour:
        # Deeper than 8 bits: every channel goes through the same window to 0-255
        # (Plotly's own zmin/zmax take four numbers and are not worth the risk).
        shown = values if window is None else display_frame(preview, frame, window)
        what = "RGB" if window is None else "RGB shown (after the window)"
        trace = go.Image(
            z=np.asarray(shown, dtype=np.uint8),
            x0=0,
            dx=step,
            y0=0,
            dy=step,
            colormodel="rgb",
            hovertemplate=f"column %{{x}}, row %{{y}}<br>{what} %{{z}}<extra></extra>",
        )
    else:
        lower, upper = (
            window.bounds if window is not None else (preview.value_min, preview.value_max)
        )
        trace = go.Heatmap(
            z=values,
            x=np.arange(values.shape[1]) * step,
            y=np.arange(values.shape[0]) * step,
            zmin=lower,
            zmax=max(upper, lower + 1e-6),
            colorscale=_GREYS_INVERTED if preview.invert else _GREYS,
            showscale=False,
            hovertemplate="column %{x}, row %{y}<br>value %{z}<extra></extra>",
        )
    figure = go.Figure(trace)
    aspect = preview.source_rows / max(preview.source_columns, 1)
    figure.update_layout(
        height=int(min(700, max(320, 700 * aspect))),
        margin={"l": 40, "r": 10, "t": 10, "b": 30},
        dragmode="zoom",
        plot_bgcolor="#eef1f4",
    )
    figure.update_xaxes(showgrid=False, zeroline=False, constrain="domain")
    figure.update_yaxes(
        showgrid=False,
        zeroline=False,
        autorange="reversed",
        scaleanchor="x",
        scaleratio=1,
        constrain="domain",
    )
    return figure


def _slider_range(preview: Preview, default: Window) -> tuple[float, float]:
    lower, upper = default.bounds
    low = min(preview.value_min, lower)
    high = max(preview.value_max, upper)
    if preview.integer:
        low, high = math.floor(low), math.ceil(high)
    if high <= low:
        high = low + 1
    return low, high


def window_controls(preview: Preview, key: str) -> Window | None:
    """Window centre and width sliders (grey and deep images), starting at the default.

    Parameters
    ----------
    preview : Preview
    key : str
        Widget key prefix, unique per document.

    Returns
    -------
    Window or None
        The chosen window; None for 8-bit colour images, which need none.
    """
    default = preview.window
    if default is None:
        return None
    low, high = _slider_range(preview, default)
    span = high - low
    # The range is part of the key: a new range (after an edit) starts from the default.
    suffix = f"{key}_{low:g}_{high:g}"
    left, right = st.columns(2)
    if preview.integer:
        centre_default = int(min(max(round(default.centre), low), high))
        width_default = int(min(max(round(default.width), 1), 2 * (span + 1)))
        centre: float = left.slider(
            "Window centre",
            int(low),
            int(high),
            centre_default,
            key=f"upload_wc_{suffix}",
            help="The value shown mid-grey (DICOM Window Center).",
        )
        width: float = right.slider(
            "Window width",
            1,
            int(2 * (span + 1)),
            width_default,
            key=f"upload_ww_{suffix}",
            help="The range of values from black to white (DICOM Window Width).",
        )
    else:
        step = span / 1000
        centre = left.slider(
            "Window centre",
            float(low),
            float(high),
            float(min(max(default.centre, low), high)),
            step=step,
            key=f"upload_wc_{suffix}",
            help="The value shown mid-grey (DICOM Window Center).",
        )
        width = right.slider(
            "Window width",
            1.0,
            float(max(2 * span, 2.0)),
            float(min(max(default.width, 1.0), max(2 * span, 2.0))),
            step=max(step, 1e-6),
            key=f"upload_ww_{suffix}",
            help="The range of values from black to white (DICOM Window Width).",
        )
    st.caption(
        f"Default window: centre {default.centre:g}, width {default.width:g} "
        f"— from {literal(default.source)}."
    )
    return Window(centre=float(centre), width=float(width), source="chosen")


def _describe_size(preview: Preview) -> str:
    full = f"{preview.source_columns} × {preview.source_rows} px"
    if preview.factor == 1:
        return f"{full}, shown at full size"
    return (
        f"{full}, shown downsampled by a factor of {preview.factor} "
        f"(1 in {preview.factor} pixels in each direction: "
        f"{preview.columns} × {preview.rows} px); coordinates are full-size pixels"
    )


_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def _has_pixels(doc: Document) -> bool:
    """Whether the document has pixels (an image, or DICOM with a Pixel Data element)."""
    if doc.kind == "image":
        return True
    try:
        ds = dataset_of(doc)
    except TbpError:
        return False
    return any(keyword in ds for keyword in _PIXEL_KEYWORDS)


def show_viewer(doc: Document) -> None:
    """The interactive picture of ``doc`` with its controls, or why it cannot be shown."""
    with shielded(f"The picture of '{doc.name}'"):
        _show_viewer(doc)


def _show_viewer(doc: Document) -> None:
    preview = cached_preview(doc)
    if isinstance(preview, CodecUnavailableError):
        st.warning(f"The pixels cannot be shown: {literal(preview)}")
        return
    if isinstance(preview, TbpError):
        if _has_pixels(doc):  # the pixels are there but could not be shown: a failure
            st.error(f"The picture cannot be shown: {literal(preview)}")
        else:
            st.info(f"No picture to show: {literal(preview)}")
        return
    frame = 0
    if preview.frame_count > 1:
        chosen = st.slider(
            "Frame",
            1,
            preview.frame_count,
            1,
            key=f"upload_frame_{doc.id}_{preview.frame_count}",
            help="This DICOM file holds several frames; choose the one to show.",
        )
        frame = int(chosen) - 1
        st.caption(f"Showing frame {frame + 1} of {preview.frame_count}.")
    window = window_controls(preview, doc.id)
    st.plotly_chart(
        image_figure(preview, frame, window),
        key=f"upload_plot_{doc.id}",
        config=PLOT_CONFIG,
        theme=None,
        width="stretch",
    )
    value_kind = "RGB samples" if preview.colour else "values"
    if preview.colour and window is not None:
        value_kind = f"RGB as shown ({preview.bits_stored}-bit samples through the window)"
    if not preview.colour and preview.photometric.startswith("MONOCHROME"):
        value_kind = "modality values (after any rescale)"
    st.caption(
        f"{_describe_size(preview)}. Drag to zoom, double-click to reset, scroll to zoom; "
        f"hover shows the pixel's {value_kind}."
    )
    for note in preview.notes:
        st.caption(literal(note[0].upper() + note[1:] + "."))
