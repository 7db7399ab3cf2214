"""The Browse page's data: one index row per document, cached per revision and columns.

The rows come from :func:`tbp_core.inspection.index.index_datasets` (the same
values as ``tbp-dicom index``), one document at a time through
:func:`ui.cache.memo`, so an edit recomputes only the edited document's row and
a removed document takes its row with it. The tree groups the rows with
:func:`tbp_core.inspection.hierarchy.group_instances`; the CSV is
:func:`tbp_core.inspection.indexformat.to_csv`'s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from tbp_core.errors import TbpError
from tbp_core.inspection.hierarchy import ALL, PatientNode, Scope, group_instances, scopes
from tbp_core.inspection.index import (
    DICOMDIR_ERROR,
    FILE_COLUMN,
    Index,
    InstanceRow,
    index_datasets,
    parse_columns,
)
from tbp_core.inspection.indexformat import to_csv
from tbp_core.session.workspace import Document, dataset_of
from ui import state
from ui.cache import memo
from ui.text import code, literal
from ui.wording import browser_words

#: The columns shown before the user picks others.
DEFAULT_PICKS: tuple[str, ...] = (
    "PatientName",
    "StudyDate",
    "Modality",
    "SeriesNumber",
    "InstanceNumber",
)
#: Widget key of the table (its row selection makes a document current).
TABLE_KEY = "browse_table"
#: Widget key of the tree's "Show" choice (everything, a patient, a study or a series).
SCOPE_KEY = "browse_scope"
#: A series lists at most this many instance names in the tree.
MAX_TREE_INSTANCES = 25
#: How a differing cell is marked in the table.
DIFFERS_STYLE = "background-color: #fff1a8"
#: The page's scratch store name (:func:`ui.state.page_store`).
_STORE = "browse"


@dataclass(frozen=True)
class Browsed:
    """The session's documents as index rows.

    Attributes
    ----------
    columns : tuple of str
        ``file`` then the picked columns.
    rows : tuple of InstanceRow
        One per document that has a dataset and is an instance.
    ids : tuple of str
        The document id of each row.
    left_out : tuple of (str, str)
        Documents without a row: name and why.
    """

    columns: tuple[str, ...]
    rows: tuple[InstanceRow, ...]
    ids: tuple[str, ...]
    left_out: tuple[tuple[str, str], ...]


def checked_columns(picked: Iterable[str]) -> tuple[tuple[str, ...], list[str]]:
    """The picked columns that are keywords, tags or paths, and a message per other one."""
    good: list[str] = []
    problems: list[str] = []
    for column in picked:
        try:
            good.extend(c for c in parse_columns([column], base=()) if c not in good)
        except TbpError as exc:
            problems.append(str(exc))
    return tuple(c for c in good if c != FILE_COLUMN), problems


def _row(doc: Document, columns: tuple[str, ...]) -> InstanceRow | str:
    """The document's index row, or why it has none."""
    try:
        ds = dataset_of(doc)
    except TbpError as exc:
        return browser_words(str(exc))
    rows = index_datasets([(doc.name, ds)], (FILE_COLUMN, *columns))
    return rows[0] if rows else DICOMDIR_ERROR


def _cached_row(doc: Document, columns: tuple[str, ...]) -> InstanceRow | str:
    return memo(doc, "browse_row", lambda: _row(doc, columns), columns)


def browse(docs: Sequence[Document], columns: tuple[str, ...]) -> Browsed:
    """Index rows of ``docs`` with ``file`` and ``columns`` (each row cached per revision).

    Parameters
    ----------
    docs : sequence of Document
    columns : tuple of str
        Checked columns (:func:`checked_columns`), without ``file``.
    """
    rows: list[InstanceRow] = []
    ids: list[str] = []
    left_out: list[tuple[str, str]] = []
    for doc in docs:
        found = _cached_row(doc, columns)
        if isinstance(found, str):
            left_out.append((doc.name, found))
        else:
            rows.append(found)
            ids.append(doc.id)
    return Browsed((FILE_COLUMN, *columns), tuple(rows), tuple(ids), tuple(left_out))


def _keywords(doc: Document) -> tuple[str, ...]:
    try:
        ds = dataset_of(doc)
    except TbpError:
        return ()
    return tuple(elem.keyword for elem in ds if elem.keyword)


def _cached_keywords(doc: Document) -> tuple[str, ...]:
    return memo(doc, "browse_keywords", lambda: _keywords(doc))


def suggestions(docs: Sequence[Document]) -> list[str]:
    """The keywords present in any document's top level, the default picks first."""
    found: set[str] = set()
    for doc in docs:
        found.update(_cached_keywords(doc))
    return [*DEFAULT_PICKS, *sorted(found - set(DEFAULT_PICKS))]


def frame(browsed: Browsed) -> pd.DataFrame:
    """The rows as a table of text (absent elements as empty cells, like the CSV)."""
    return pd.DataFrame(
        [[row.values.get(column) or "" for column in browsed.columns] for row in browsed.rows],
        columns=list(browsed.columns),
        dtype="string",
    )


def differing(table: pd.DataFrame) -> list[str]:
    """The columns (other than ``file``) whose value is not the same in every row."""
    return [c for c in table.columns if c != FILE_COLUMN and table[c].nunique(dropna=False) > 1]


def _marks(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """CSS per cell: cells that differ from their column's most common value are marked."""
    styles = pd.DataFrame("", index=table.index, columns=table.columns)
    for column in columns:
        common = Counter(table[column].tolist()).most_common(1)[0][0]
        styles.loc[table[column] != common, column] = DIFFERS_STYLE
    return styles


def styled(table: pd.DataFrame) -> Styler:
    """The table with the cells that differ from their column's usual value marked."""
    columns = differing(table)
    return table.style.apply(lambda part: _marks(part, columns), axis=None)


def filtered(table: pd.DataFrame, text: str) -> pd.DataFrame:
    """The rows holding ``text`` (case-insensitive) in any cell; all rows for blank text."""
    wanted = text.strip().casefold()
    if not wanted:
        return table
    hits = table.apply(lambda column: column.str.casefold().str.contains(wanted, regex=False))
    return table[hits.any(axis=1)]


def csv_text(browsed: Browsed, positions: Iterable[int]) -> str:
    """The rows at ``positions`` as ``tbp-dicom index --format csv`` writes them."""
    rows = tuple(browsed.rows[position] for position in positions)
    return to_csv(Index(columns=browsed.columns, instances=rows, unreadable=()))


_PLURALS = {"study": "studies", "series": "series", "instance": "instances"}


def _count(count: int, noun: str) -> str:
    return f"{count} {noun if count == 1 else _PLURALS[noun]}"


def patient_label(patient: PatientNode) -> str:
    """An expander label: the patient and the counts below them (Markdown-escaped)."""
    series = sum(len(study.series) for study in patient.studies)
    return (
        f"{literal(patient.label)} — {_count(len(patient.studies), 'study')}, "
        f"{_count(series, 'series')}, {_count(patient.instance_count, 'instance')}"
    )


def patient_markdown(patient: PatientNode) -> str:
    """Studies → series → instances of one patient as a nested Markdown list."""
    lines: list[str] = []
    for study in patient.studies:
        lines.append(
            f"- **Study** {literal(study.label)} — {_count(len(study.series), 'series')}, "
            f"{_count(study.instance_count, 'instance')} · {code(study.uid)}"
        )
        for series in study.series:
            lines.append(
                f"    - **Series** {literal(series.label)} — "
                f"{_count(len(series.instances), 'instance')} · {code(series.uid)}"
            )
            shown = series.instances[:MAX_TREE_INSTANCES]
            for row in shown:
                number = (row.hierarchy.get("InstanceNumber") or "").strip()
                prefix = f"#{literal(number)} " if number else ""
                lines.append(f"        - {prefix}{code(row.file)}")
            if len(series.instances) > len(shown):
                lines.append(f"        - … and {len(series.instances) - len(shown)} more")
    return "\n".join(lines)


def tree(browsed: Browsed) -> tuple[PatientNode, ...]:
    """Patient → Study → Series → Instance of the rows."""
    return group_instances(browsed.rows)


def scope_choices(patients: Sequence[PatientNode]) -> dict[str, Scope]:
    """The tree's nodes by key, for the "Show" choice; a choice that is gone becomes "all".

    Parameters
    ----------
    patients : sequence of PatientNode
        From :func:`tree`.

    Returns
    -------
    dict of str to Scope
        In tree order, everything first.
    """
    choices = {scope.key: scope for scope in scopes(patients)}
    if st.session_state.get(SCOPE_KEY) not in choices:
        st.session_state[SCOPE_KEY] = ALL  # its documents were removed: show everything
    return choices


def scope_label(scope: Scope) -> str:
    """The choice as listed: indented by level, with what it is and how many instances."""
    kind = ("", "Patient ", "Study ", "Series ")[scope.level]
    indent = "\u2003" * max(scope.level - 1, 0)
    return f"{indent}{kind}{scope.label} ({_count(len(scope.instances), 'instance')})"


def in_scope(browsed: Browsed, scope: Scope) -> list[int]:
    """Positions of the rows (of :func:`frame`) under ``scope``."""
    wanted = {id(row) for row in scope.instances}
    return [position for position, row in enumerate(browsed.rows) if id(row) in wanted]


def follow_selection() -> None:
    """Make the document of a newly selected table row current.

    Runs before the page draws anything (the sidebar then shows the new
    current document). The row positions refer to the table of the previous
    run, whose document ids :func:`remember_ids` kept; a selection already
    followed is not followed again, so the sidebar picker keeps working while
    a row stays selected.
    """
    store = state.page_store(_STORE)
    chosen = st.session_state.get(TABLE_KEY)
    rows: tuple[int, ...] = ()
    if chosen is not None:
        try:
            rows = tuple(int(r) for r in chosen["selection"]["rows"])
        except (KeyError, TypeError):
            rows = ()
    if rows == store.get("followed"):
        return
    store["followed"] = rows
    ids = store.get("ids")
    if len(rows) == 1 and isinstance(ids, tuple) and 0 <= rows[0] < len(ids):
        state.set_current_id(str(ids[rows[0]]))


def remember_ids(ids: Sequence[str]) -> None:
    """The document id of each row of the table as drawn (for :func:`follow_selection`)."""
    state.page_store(_STORE)["ids"] = tuple(ids)
