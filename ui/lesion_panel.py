"""The lesion link of a close-up: its regional overview, where the lesion is on it, its id.

Glue between the pages and :mod:`tbp_core.session.links`. The Metadata page
shows :func:`lesion_link_section` for an image converted as Dermoscopic
Photography or VL Photographic: pick the overview among the session's other
documents (only those that are, or will be, VL images; the others are listed
with the reason), click the lesion on the overview's picture (a grid of
invisible points over it turns a click into a pixel position) or type X and Y,
and give the lesion's id. Every change is applied at once by the widget's
callback, so the form, the Tags table and the downloads carry the link.

Structure and Validate & Download show one line saying what a document is
linked to (:func:`show_link_line`); Validate & Download also shows the
session check of the link (:func:`show_link_check`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from tbp_core.building.iods import DERMOSCOPIC, VL_PHOTOGRAPHIC
from tbp_core.errors import TbpError
from tbp_core.inspection.preview import Preview
from tbp_core.session import links
from tbp_core.session.workspace import Document
from tbp_core.validation.findings import Finding
from ui import state
from ui.cache import memo
from ui.guard import shielded
from ui.text import literal
from ui.viewer import PLOT_CONFIG, cached_preview, image_figure

#: IODs a close-up may be converted as to carry a link.
CLOSE_UP_IODS = (DERMOSCOPIC, VL_PHOTOGRAPHIC)
#: Clickable points along the longer side of the overview's picture.
GRID_POINTS = 100
#: Index of the clickable grid's trace in :func:`click_figure` (the picture is trace 0).
GRID_TRACE = 1

_STORE = "lesion_link"
#: How many documents that are not offered as overviews are listed with their reason.
_REASONS_SHOWN = 5


def overview_key(doc_id: str) -> str:
    """Widget key of the overview picker of a document."""
    return f"lesion_overview_{doc_id}"


def x_key(doc_id: str) -> str:
    """Widget key of the lesion's column (X) on the overview."""
    return f"lesion_x_{doc_id}"


def y_key(doc_id: str) -> str:
    """Widget key of the lesion's row (Y) on the overview."""
    return f"lesion_y_{doc_id}"


def lesion_key(doc_id: str) -> str:
    """Widget key of the lesion id."""
    return f"lesion_id_{doc_id}"


def _plot_key(doc_id: str, overview_id: str) -> str:
    return f"lesion_plot_{doc_id}_{overview_id}"


def _problems() -> dict[str, str]:
    """Document id → why its last lesion link change was refused (this tab only)."""
    store = state.page_store(_STORE)
    problems = store.get("problems")
    if not isinstance(problems, dict):
        problems = store["problems"] = {}
    return problems


# ------------------------------------------------------------------ callbacks


def _apply(doc_id: str) -> None:
    """Link the document as the widgets say (no overview: unlink); keep a refusal's reason."""
    doc = state.find(doc_id)
    if doc is None:
        return
    problems = _problems()
    problems.pop(doc_id, None)
    chosen = str(st.session_state.get(overview_key(doc_id)) or "")
    if not chosen:
        links.unlink(doc)
        return
    overview = state.find(chosen)
    if overview is None:
        problems[doc_id] = "That overview was removed from the session — pick another one"
        return
    x, y = st.session_state.get(x_key(doc_id)), st.session_state.get(y_key(doc_id))
    if (x is None) != (y is None):
        problems[doc_id] = "Give both X (column) and Y (row) of the lesion, or neither"
        return
    location = None if x is None or y is None else (float(x), float(y))
    lesion = str(st.session_state.get(lesion_key(doc_id)) or "")
    try:
        links.link_to_overview(doc, overview, location=location, lesion_id=lesion)
    except TbpError as exc:
        problems[doc_id] = str(exc)


def _overview_changed(doc_id: str) -> None:
    """Another overview: the position was on the old one's picture, so it is cleared."""
    st.session_state[x_key(doc_id)] = None
    st.session_state[y_key(doc_id)] = None
    _apply(doc_id)


def clicked_point(event: Mapping[str, Any] | None) -> tuple[float, float] | None:
    """The (column, row) of the grid point a click selected, or None.

    Parameters
    ----------
    event : Mapping or None
        ``st.plotly_chart``'s selection state of :func:`click_figure`'s figure:
        ``{"selection": {"points": [{"curve_number": 1, "x": ..., "y": ...}]}}``.

    Returns
    -------
    tuple of float or None
        The last selected point of the grid (trace 1); None when none was.
    """
    selection = (event or {}).get("selection") or {}
    points = [p for p in selection.get("points") or () if p.get("curve_number") == GRID_TRACE]
    if not points:
        return None
    return float(points[-1]["x"]), float(points[-1]["y"])


def _clicked(doc_id: str, plot_key: str) -> None:
    """A click on the overview's picture: its grid point becomes the lesion's position."""
    point = clicked_point(st.session_state.get(plot_key))
    if point is None:
        return
    st.session_state[x_key(doc_id)], st.session_state[y_key(doc_id)] = point
    _apply(doc_id)


def _unlink(doc_id: str) -> None:
    doc = state.find(doc_id)
    if doc is None:
        return
    links.unlink(doc)
    _problems().pop(doc_id, None)
    st.session_state[overview_key(doc_id)] = ""
    for key in (x_key(doc_id), y_key(doc_id)):
        st.session_state[key] = None
    st.session_state[lesion_key(doc_id)] = ""


# ------------------------------------------------------------------ drawing


def _seed(doc: Document) -> None:
    """Fill the widget keys from the document's link when they are not there yet."""
    link = doc.link
    seeds: dict[str, object] = {
        overview_key(doc.id): link.overview_id if link else "",
        x_key(doc.id): link.location[0] if link and link.location else None,
        y_key(doc.id): link.location[1] if link and link.location else None,
        lesion_key(doc.id): (link.lesion_id or "") if link else "",
    }
    for key, value in seeds.items():
        if key not in st.session_state:
            st.session_state[key] = value


def grid_step(preview: Preview) -> int:
    """Pixels between the clickable points (about :data:`GRID_POINTS` along the longer side)."""
    return max(1, math.ceil(max(preview.source_columns, preview.source_rows) / GRID_POINTS))


def click_figure(preview: Preview, location: tuple[float, float] | None) -> go.Figure:
    """The overview's picture with a grid of invisible clickable points and the chosen one.

    Parameters
    ----------
    preview : Preview
        The overview's preview (coordinates are full-size pixels).
    location : tuple of float, optional
        The lesion's (column, row), drawn as a marker.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0 is the picture, trace 1 the grid, trace 2 (when given) the marker.
    """
    figure = image_figure(preview)
    columns, rows = preview.source_columns, preview.source_rows
    step = grid_step(preview)
    xs, ys = np.meshgrid(np.arange(0, columns, step), np.arange(0, rows, step))
    figure.add_trace(
        go.Scatter(
            x=xs.ravel(),
            y=ys.ravel(),
            mode="markers",
            marker={"size": max(6, step), "color": "rgba(0,0,0,0)"},
            hovertemplate="column %{x}, row %{y}<br>click: the lesion is here<extra></extra>",
            showlegend=False,
        )
    )
    if location is not None:
        figure.add_trace(
            go.Scatter(
                x=[location[0]],
                y=[location[1]],
                mode="markers",
                marker={"symbol": "x-thin-open", "size": 18, "color": "#ff2b2b", "line_width": 3},
                hovertemplate="lesion at column %{x}, row %{y}<extra></extra>",
                showlegend=False,
            )
        )
    return figure


def _picture(doc: Document, overview: Document) -> None:
    preview = cached_preview(overview)
    if not isinstance(preview, Preview):
        st.info(f"The overview's picture cannot be shown ({literal(preview)}); type X and Y.")
        return
    link = doc.link
    location = link.location if link and link.overview_id == overview.id else None
    key = _plot_key(doc.id, overview.id)
    st.plotly_chart(
        click_figure(preview, location),
        key=key,
        on_select=partial(_clicked, doc.id, key),  # ids only: see ui.state.remove_id
        selection_mode="points",
        config=PLOT_CONFIG,
        theme=None,
        width="stretch",
    )
    st.caption(
        f"Click the lesion on {literal(overview.name)} (a point every {grid_step(preview)} "
        "pixels), then adjust X and Y if needed. Coordinates are the overview's pixels: "
        "X the column, Y the row, from the top left corner."
    )


def _label(choices: links.OverviewChoices, link: links.LesionLink | None) -> dict[str, str]:
    labels = {"": "— not linked —"}
    labels.update({d.id: d.name for d in choices.offered})
    if link is not None and link.overview_id not in labels:
        labels[link.overview_id] = f"{link.overview_name} (removed from the session)"
    return labels


def starts_open(doc: Document) -> bool:
    """Whether the section starts expanded: a linked document, or a dermoscopic close-up."""
    return doc.link is not None or doc.iod is DERMOSCOPIC


def lesion_link_section(doc: Document) -> None:
    """The Metadata page's lesion link section for the current document."""
    with shielded(f"The lesion link of '{doc.name}'"):
        _section(doc)


def _section(doc: Document) -> None:
    if doc.kind != "image":
        st.caption(
            "A DICOM file's link to an overview is its Referenced Image Sequence "
            "(purpose Localizer): edit it on the Tags page."
        )
        return
    if doc.iod not in CLOSE_UP_IODS and doc.link is None:
        st.caption(
            f"A {literal(doc.iod.title)} is not linked to an overview: choose Dermoscopic "
            "Photography Image or VL Photographic Image on the Upload page for a close-up."
        )
        return
    st.caption(
        "The regional overview this close-up was taken on: the close-up references it "
        "(Referenced Image Sequence, purpose Localizer), joins its patient and study (unless "
        "this form gives them) and records the lesion's position on it and its Tracking ID."
    )
    _seed(doc)
    choices = links.overview_choices(doc, state.documents())
    labels = _label(choices, doc.link)
    if st.session_state.get(overview_key(doc.id)) not in labels:
        st.session_state[overview_key(doc.id)] = ""
    chosen = st.selectbox(
        "Regional overview",
        list(labels),
        format_func=labels.__getitem__,
        key=overview_key(doc.id),
        on_change=_overview_changed,
        args=(doc.id,),
        help="Another document of this session that is (or will be) a VL image.",
    )
    if not choices.offered:
        st.info(
            "No document of this session can be the overview: upload the regional photograph "
            "(it becomes a VL Photographic Image) or a VL image DICOM file."
        )
    if choices.refused:
        shown = [f"{name} {why}" for name, why in choices.refused[:_REASONS_SHOWN]]
        more = len(choices.refused) - len(shown)
        tail = f"; and {more} more" if more else ""
        st.caption(f"Not offered: {literal('; '.join(shown))}{tail}.")
    overview = state.find(str(chosen)) if chosen else None
    if overview is not None:
        _picture(doc, overview)
    x_column, y_column, id_column = st.columns(3)
    off = overview is None
    for column, key, label, what in (
        (x_column, x_key(doc.id), "X (column)", "column on the overview (0 = left edge)"),
        (y_column, y_key(doc.id), "Y (row)", "row on the overview (0 = top edge)"),
    ):
        column.number_input(
            label,
            min_value=0.0,
            step=1.0,
            format="%.1f",
            key=key,
            on_change=_apply,
            args=(doc.id,),
            disabled=off,
            help=f"The lesion's pixel {what}.",
        )
    id_column.text_input(
        "Lesion id",
        key=lesion_key(doc.id),
        placeholder="e.g. L7",
        on_change=_apply,
        args=(doc.id,),
        disabled=off,
        help="Tracking ID (0062,0020); the Tracking UID is derived from it and the Patient ID, "
        "so the same lesion gets the same UID in every visit.",
    )
    problem = _problems().get(doc.id)
    if problem:
        st.error(f"{literal(problem)} — not applied; the link stays as it was.")
    if doc.iod is VL_PHOTOGRAPHIC and doc.link is not None and doc.link.lesion_id:
        st.caption(
            "A VL Photographic Image has no Tracking ID in the standard: it is kept, and the "
            "file becomes a Standard Extended SOP Class. Dermoscopic Photography has it."
        )
    if doc.link is not None:
        show_link_line(doc)
        st.button(
            "Remove the link", key=f"lesion_unlink_{doc.id}", on_click=_unlink, args=(doc.id,)
        )


def _session_stamp() -> tuple[tuple[str, int], ...]:
    return tuple((d.id, d.revision) for d in state.documents())


def show_link_line(doc: Document) -> None:
    """'Linked to overview <name> at (x, y), lesion <id>' for a linked document."""
    text = memo(
        doc,
        "lesion_link_text",
        lambda: links.session_link_text(doc, state.documents()),
        _session_stamp(),
    )
    if text:
        st.info(literal(text), icon=":material/link:")


def link_findings(doc: Document) -> tuple[Finding, ...]:
    """The session check of the document's localizer references (memoised per session state)."""
    return memo(
        doc,
        "lesion_link_findings",
        lambda: links.document_link_findings(doc, state.documents()),
        _session_stamp(),
    )


def show_link_check(doc: Document, show: Callable[[Finding], None]) -> None:
    """The link line and the session check's findings, drawn by the page's ``show``."""
    findings = link_findings(doc)
    if not findings:
        return
    show_link_line(doc)
    for finding in findings:
        show(finding)
