"""The Upload page's TBP session panel: a manifest, or the file names, arrange the images.

A ``session.csv`` uploaded with the images (or inside their ZIP archive) is
kept (:func:`ui.state.set_manifest`) and tried once the upload is read
(:func:`after_upload`); "Arrange as a TBP session" does the same from the
images' file names. The plan and its application are the core's
(:mod:`tbp_core.session.sessionplan`); this module reads the dermatoscope's
inputs, shows every problem (nothing is applied then) or a short summary of
the session, and drops the widget values the new documents make stale.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from tbp_core.building.iods.builder import DERMOSCOPIC_EQUIPMENT
from tbp_core.errors import TbpError
from ui import lesion_panel, state
from ui.guard import shielded
from ui.text import literal
from ui.wording import attribute_name, browser_words

if TYPE_CHECKING:  # the session's rules (regions, manifests) load when first used
    from tbp_core.session.sessionplan import SessionPlan

__all__ = [
    "APPLY_KEY",
    "ARRANGE_KEY",
    "after_upload",
    "equipment_key",
    "is_manifest_name",
    "session_section",
    "take_manifest",
]

_STORE = "session"
APPLY_KEY = "session_apply_manifest"
ARRANGE_KEY = "session_arrange"
FORGET_KEY = "session_forget_manifest"


@dataclass(frozen=True)
class Outcome:
    """The last try: its plan, and the refusal when applying failed."""

    plan: SessionPlan
    error: str | None = None

    @property
    def applied(self) -> bool:
        """Whether the plan was applied."""
        return self.plan.ok and self.error is None


def equipment_key(keyword: str) -> str:
    """The widget key of one dermatoscope value (``Manufacturer``, ...)."""
    return f"session_{keyword}"


def _store() -> dict[str, object]:
    return state.page_store(_STORE)


def _equipment() -> dict[str, str]:
    values = {k: str(st.session_state.get(equipment_key(k)) or "") for k in DERMOSCOPIC_EQUIPMENT}
    return {k: v.strip() for k, v in values.items() if v.strip()}


def _stamp(name: str, data: bytes) -> str:
    return f"{name}:{hashlib.sha1(data).hexdigest()}"


# ------------------------------------------------------------------ callbacks


def is_manifest_name(name: str) -> bool:
    """Whether an uploaded file is a session manifest (the core's rule, loaded on use)."""
    from tbp_core.session.sessionplan import is_manifest_name as manifest_rule

    return manifest_rule(name)


def take_manifest(name: str, data: bytes) -> None:
    """Keep a manifest the uploader got (applied by :func:`after_upload`)."""
    state.set_manifest(name, data)


def after_upload() -> None:
    """Try the manifest after an upload: a new one, or a refused one with new documents.

    A manifest applied once is applied again only with its button, so later
    uploads do not undo what the user changed since.
    """
    held = state.manifest()
    if held is None:
        return
    stamp = (_stamp(*held), tuple(d.id for d in state.documents()))
    last = _store().get("tried")
    outcome = _store().get("outcome")
    applied = isinstance(outcome, Outcome) and outcome.applied
    if isinstance(last, tuple) and (last[0] == stamp[0] and (applied or last == stamp)):
        return
    _store()["tried"] = stamp
    apply_manifest()


def apply_manifest() -> None:
    """Check the kept manifest against the documents; apply it when nothing is wrong."""
    held = state.manifest()
    if held is None:
        return
    from tbp_core.session import sessionplan

    name, data = held
    plan = sessionplan.plan_from_manifest(data, name, state.documents(), equipment=_equipment())
    _apply(plan)


def arrange_by_names() -> None:
    """Arrange the uploaded images as a session from their file names."""
    from tbp_core.session import sessionplan

    _apply(sessionplan.plan_from_names(state.documents(), equipment=_equipment()))


def _apply(plan: SessionPlan) -> None:
    from tbp_core.session import sessionplan

    error = None
    if plan.ok:
        try:
            sessionplan.apply_plan(plan, state.documents(), state.context())
        except TbpError as exc:
            error = str(exc)
        else:
            _drop_stale_widgets(plan)
    _store()["outcome"] = Outcome(plan, error)


def _drop_stale_widgets(plan: SessionPlan) -> None:
    """Forget widget values the session changed: the IOD choice and the lesion link's inputs."""
    for image in plan.images:
        doc_id = image.document_id
        keys = [state.iod_widget_key(doc_id), lesion_panel.overview_key(doc_id)]
        keys += [lesion_panel.x_key(doc_id), lesion_panel.y_key(doc_id)]
        for key in (*keys, lesion_panel.lesion_key(doc_id)):
            st.session_state.pop(key, None)


def _forget_manifest() -> None:
    state.forget_manifest()
    _store().pop("outcome", None)
    _store().pop("tried", None)


# ------------------------------------------------------------------ drawing


def session_section() -> None:
    """The panel: manifest, dermatoscope, the two ways to apply, and the last outcome."""
    held = state.manifest()
    outcome = _store().get("outcome")
    if held is None and not state.documents():
        return
    with st.expander(
        "TBP session: arrange the images as one study",
        expanded=held is not None or outcome is not None,
        icon=":material/photo_library:",
    ):
        st.caption(
            "Regional overviews become VL Photographic Images (series 1), dermoscopic close-ups "
            "Dermoscopic Photography Images (series 2) linked to their overview, all in one "
            "study. Describe the session in a session.csv (columns file, region, laterality, "
            "lesion_id, regional, x, y; see the README) uploaded with the images, or name the "
            "images <region>_<overview|closeup>[_<lesion id>] (e.g. back_overview.png, "
            "left-arm_closeup_L12.jpg)."
        )
        _dermatoscope()
        manifest_column, names_column = st.columns(2)
        if held is not None:
            manifest_column.markdown(f"Manifest: **{literal(held[0])}**")
            manifest_column.button(
                f"Apply {held[0]}",
                key=APPLY_KEY,
                on_click=apply_manifest,
                help="Check the manifest against the documents and apply it when nothing is wrong.",
            )
            manifest_column.button(
                "Forget the manifest",
                key=FORGET_KEY,
                on_click=_forget_manifest,
                help="The documents stay as they are.",
            )
        names_column.button(
            "Arrange as a TBP session",
            key=ARRANGE_KEY,
            on_click=arrange_by_names,
            disabled=not any(d.kind == "image" for d in state.documents()),
            help="From the images' file names: <region>_<overview|closeup>[_<lesion id>].",
        )
        if isinstance(outcome, Outcome):
            with shielded("Showing the TBP session"):
                _show_outcome(outcome)


def _dermatoscope() -> None:
    st.markdown(
        "**Dermatoscope** (the close-ups' equipment, Type 1 for Dermoscopic Photography; "
        "kept when a close-up already has it)"
    )
    for column, keyword in zip(st.columns(4), DERMOSCOPIC_EQUIPMENT, strict=True):
        column.text_input(attribute_name(keyword), key=equipment_key(keyword))


def _show_outcome(outcome: Outcome) -> None:
    from tbp_core.building.sessionconvert import SERIES
    from tbp_core.building.templates import TBP_SESSION
    from tbp_core.session import sessionplan

    plan = outcome.plan
    problems = plan.problems or ((outcome.error,) if outcome.error else ())
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        st.error(
            f"{literal(plan.origin)}: {len(problems)} {noun} — {literal(sessionplan.APPLY_FIX)}."
        )
        for problem in problems:
            st.error(literal(browser_words(problem)))
        return
    overviews, closeups = plan.of_kind("overview"), plan.of_kind("closeup")
    linked = sum(image.overview_id is not None for image in closeups)
    st.success(
        f"{literal(plan.origin)} applied: one study; {len(overviews)} overview(s) in series "
        f"{SERIES['overview'][0]} (VL Photographic Image), {len(closeups)} close-up(s) in series "
        f"{SERIES['closeup'][0]} (Dermoscopic Photography Image), {linked} linked to their "
        "overview. Download them all on Validate & Download."
    )
    rows = [f"| {literal(r.region)} | {r.overviews} | {r.closeups} |" for r in plan.regions()]
    st.markdown("| Region | Overviews | Close-ups |\n|---|---|---|\n" + "\n".join(rows))
    if plan.missing_views:
        st.info(
            f"Views of the {TBP_SESSION.name} template without an overview: "
            f"{literal(', '.join(plan.missing_views))}."
        )
    for note in plan.notes:
        st.warning(literal(browser_words(note)))
