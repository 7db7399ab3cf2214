"""Browse: every document at once, as a Patient → Study → Series tree and a tag table."""

from __future__ import annotations

import streamlit as st

from ui import browse, state
from ui.layout import UPLOAD_PAGE, header
from ui.text import code, literal

browse.follow_selection()  # before the sidebar is drawn: it shows the new current document
header(
    "Browse",
    "All the session's documents: Patient → Study → Series → Instance, and a table of the "
    "tags you pick, one row per document. Show one patient, study or series to narrow the "
    "table; click a row to make that document current.",
)
documents = state.documents()
if not documents:
    st.info("No documents yet.")
    st.page_link(UPLOAD_PAGE, label="Upload several DICOM files, a folder's worth or a ZIP")
    st.stop()

picked = st.multiselect(
    "Columns",
    browse.suggestions(documents),
    default=list(browse.DEFAULT_PICKS),
    key="browse_columns",
    accept_new_options=True,
    placeholder="Keyword, tag such as (0018,0050), or path such as "
    "AnatomicRegionSequence[0].CodeMeaning",
    help="Suggestions are the keywords found in the documents; type a tag "
    "(gggg,eeee) or a sequence path and press Enter to add it.",
)
columns, problems = browse.checked_columns(picked)
for problem in problems:
    st.error(literal(problem))

with st.spinner(f"Reading {len(documents)} documents…"):
    browsed = browse.browse(documents, columns)

tree_column, table_column = st.columns([2, 5])
with tree_column:
    st.subheader("Patients")
    patients = browse.tree(browsed)
    choices = browse.scope_choices(patients)
    scope = choices[
        st.selectbox(
            "Show",
            list(choices),
            format_func=lambda key: browse.scope_label(choices[key]),
            key=browse.SCOPE_KEY,
            help="Limit the table to one patient, study or series of the tree.",
        )
    ]
    for patient in patients:
        with st.expander(browse.patient_label(patient), expanded=len(patients) <= 3):
            st.markdown(browse.patient_markdown(patient))
    if browsed.left_out:
        with st.expander(f"Not in the table ({len(browsed.left_out)})"):
            st.markdown(
                "\n".join(f"- {code(name)}: {literal(why)}" for name, why in browsed.left_out)
            )

with table_column:
    st.subheader(f"Tags of {len(browsed.rows)} documents")
    table = browse.frame(browsed)
    scoped = table.loc[browse.in_scope(browsed, scope)]
    query = st.text_input(
        "Filter rows",
        key="browse_filter",
        placeholder="Text found in any cell, e.g. a name, a date or a UID",
    )
    shown = browse.filtered(scoped, query)
    ids = [browsed.ids[position] for position in shown.index]
    browse.remember_ids(ids)
    different = browse.differing(shown)
    st.dataframe(
        browse.styled(shown.reset_index(drop=True)),
        key=browse.TABLE_KEY,
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
    )
    current = state.current()
    facts = [f"{len(shown)} of {len(table)} rows shown"]
    if scope.level:
        facts.append(f"only {literal(browse.scope_label(scope).strip())}")
    if current is not None:
        facts.append(f"current: {code(current.name)}")
    st.caption(" · ".join(facts))
    if different:
        st.caption(
            "Marked cells differ from their column's most common value; columns that differ: "
            + ", ".join(code(column) for column in different)
        )
    elif len(shown) > 1:
        st.caption("Every picked column has the same value in every row shown.")
    st.download_button(
        "Download (.csv)",
        data=browse.csv_text(browsed, shown.index),
        file_name="browse.csv",
        mime="text/csv",
        key="browse_download",
        icon=":material/download:",
    )
