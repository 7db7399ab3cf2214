"""Widgets for one metadata field: text, date, time, number or a choice, with its messages.

A field's widget takes its value from ``st.session_state`` under its key (the
Metadata page seeds those keys from the document), never from a ``value=``
argument, so what a person typed survives reruns. Under each widget a small
caption says where the value came from ("from EXIF"), why what was typed was
not taken, and what the validator found (errors red, warnings orange).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from tbp_core.session.formfields import FormField
from tbp_core.validation.findings import Finding
from ui.text import literal

#: Widget key prefix of the Metadata page.
PREFIX = "meta_"

#: The person-name parts entered separately, with their label suffix.
NAME_PART_LABELS = (("family", "family name"), ("given", "given name"), ("middle", "middle name"))

_PLACEHOLDERS = {
    "date": "YYYYMMDD or YYYY-MM-DD; empty if unknown",
    "time": "HHMMSS or HH:MM:SS",
    "datetime": "YYYYMMDDHHMMSS or ISO 8601",
    "number": "a number",
}

_CHOICE_WORDS = {
    "M": "M — male",
    "F": "F — female",
    "O": "O — other",
    "YES": "YES",
    "NO": "NO",
    "1": "1 — parfocal",
    "0": "0 — not parfocal",
}

#: Label of the empty choice.
NOT_GIVEN = "— not given —"

Callback = Callable[..., None]


def widget_key(field: FormField, part: str = "") -> str:
    """The session-state key of a field's widget (``meta_PatientName_family``).

    Parameters
    ----------
    field : FormField
    part : str
        A name part (``"family"``, ...) for the person-name field.
    """
    base = field.key.replace("tbp:", "tbp_")
    return f"{PREFIX}{base}_{part}" if part else f"{PREFIX}{base}"


def widget_keys(field: FormField) -> tuple[str, ...]:
    """Every widget key of a field (three for the person-name field)."""
    if field.kind == "person_name":
        return tuple(widget_key(field, part) for part, _ in NAME_PART_LABELS)
    return (widget_key(field),)


def plain(text: str) -> str:
    """Escape Markdown so a message shows exactly as written (see :func:`ui.text.literal`)."""
    return literal(text)


def _choice_options(field: FormField) -> list[str]:
    options = ["", *field.choices]
    current = st.session_state.get(widget_key(field))
    if isinstance(current, str) and current not in options:
        options.append(current)  # a stored value outside the list: shown, and flagged
    return options


def _choice_label(value: str) -> str:
    if not value:
        return NOT_GIVEN
    return _CHOICE_WORDS.get(value, value)


def field_widget(
    field: FormField,
    on_change: Callback,
    args: Sequence[Any] = (),
    *,
    disabled: bool = False,
) -> None:
    """Draw the widget(s) of one field; ``on_change(*args)`` runs when it changes.

    Parameters
    ----------
    field : FormField
        The field; its ``kind`` picks the widget.
    on_change : callable
        Called (before the next run) after the value changed.
    args : sequence
        Arguments for ``on_change``.
    disabled : bool
        Show the value without letting it change.
    """
    help_text = field.help
    if field.kind == "person_name":
        # The tooltip sits on a heading: a help button on each part would share its
        # accessible name with the input ("Help for Patient's Name — family name").
        st.markdown(field.name, help=help_text)
        columns = st.columns(len(NAME_PART_LABELS))
        for column, (part, words) in zip(columns, NAME_PART_LABELS, strict=True):
            column.text_input(
                f"{field.name} — {words}",
                key=widget_key(field, part),
                on_change=on_change,
                args=tuple(args),
                disabled=disabled,
            )
        return
    if field.kind == "choice":
        st.selectbox(
            field.name,
            _choice_options(field),
            format_func=_choice_label,
            key=widget_key(field),
            help=help_text,
            on_change=on_change,
            args=tuple(args),
            disabled=disabled,
        )
        return
    placeholder = _PLACEHOLDERS.get(field.kind)
    if field.kind == "text" and field.vm != "1":
        placeholder = "several values separated by \\"
    elif field.kind == "text" and field.vr == "PN":
        placeholder = "Family^Given^Middle"
    st.text_input(
        field.name,
        key=widget_key(field),
        help=help_text,
        placeholder=placeholder,
        on_change=on_change,
        args=tuple(args),
        disabled=disabled,
    )


def typed_value(field: FormField) -> Any:
    """What the field's widget holds: text, a choice, or the name parts as a dict."""
    if field.kind == "person_name":
        return {
            part: st.session_state.get(widget_key(field, part), "") for part, _ in NAME_PART_LABELS
        }
    return st.session_state.get(widget_key(field), "")


def seed(field: FormField, shown: Any) -> None:
    """Put a value into the field's widget state (before the widget is drawn).

    Parameters
    ----------
    field : FormField
    shown : str or dict
        Text for the widget; for the person-name field a dict of name parts.
    """
    if field.kind == "person_name":
        parts: Mapping[str, Any] = shown if isinstance(shown, Mapping) else {}
        for part, _ in NAME_PART_LABELS:
            _put(widget_key(field, part), str(parts.get(part) or ""))
        return
    _put(widget_key(field), "" if shown is None else str(shown))


def _put(key: str, value: str) -> None:
    """Set a widget's state only when it differs (an unchanged widget is left alone)."""
    if key not in st.session_state or st.session_state[key] != value:
        st.session_state[key] = value


def field_messages(
    field: FormField,
    *,
    problem: str | None = None,
    findings: Sequence[Finding] = (),
    notes: Sequence[str] = (),
) -> None:
    """Small captions under a field: where the value came from, problems, findings.

    Parameters
    ----------
    field : FormField
    problem : str, optional
        Why what was typed was not taken (shown in red; the document keeps its value).
    findings : sequence of Finding
        The validator's findings on this field; errors red, warnings orange,
        information left to the Validate page.
    notes : sequence of str
        Further plain notes (e.g. "required for this IOD").
    """
    if field.from_exif:
        st.caption("from EXIF")
    if problem:
        st.caption(f":red[{plain(problem)}]")
    for note in notes:
        st.caption(f":red[{plain(note)}]")
    for finding in findings:
        if finding.severity == "error":
            st.caption(f":red[{plain(finding.message)}]")
        elif finding.severity == "warning":
            st.caption(f":orange[{plain(finding.message)}]")
