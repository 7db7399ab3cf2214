"""Structure: the current document explained as IOD → Information Entity → Module → Attribute."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import streamlit as st

from tbp_core.inspection import explain, srtree
from tbp_core.inspection.explain import AttributeNode, ModuleNode, StructureTree
from tbp_core.inspection.srtree import SRItem
from tbp_core.session import workspace
from tbp_core.standard.formatting import usage_text
from ui.cache import memo
from ui.glossary import term_help
from ui.layout import header, require_dataset, require_document
from ui.lesion_panel import show_link_line
from ui.text import code, literal, quoted

#: Status → Streamlit badge colour.
COLOURS = {
    explain.PRESENT: "green",
    explain.EMPTY: "orange",
    explain.MISSING: "red",
    explain.NOT_APPLICABLE: "gray",
}
#: Wide tables scroll inside their box and long paths and values wrap (the page holds at
#: 1024 px); the short Tag, Type, VR and VM cells never break.
_TABLE_STYLE = """<style>
.stMarkdown table { display: block; max-width: 100%; overflow-x: auto; }
.stMarkdown td { overflow-wrap: anywhere; }
.stMarkdown td:nth-child(4), .stMarkdown td:nth-child(5),
.stMarkdown table:has(th:nth-child(8)) td:is(:nth-child(6), :nth-child(7)) {
  white-space: nowrap; overflow-wrap: normal;
}
</style>"""


def badge(status: str, count: int | None = None) -> str:
    """A coloured Markdown badge for an attribute status (with a count when given)."""
    shown = status.replace("-", " ")
    label = shown if count is None else f"{shown}: {count}"
    return f":{COLOURS.get(status, 'gray')}-badge[{label}]"


def module_title(module: ModuleNode) -> str:
    """The module's name as the standard writes it."""
    return module.name


def _counts(attributes: Iterable[AttributeNode]) -> Counter[str]:
    return Counter(attribute.status for attribute in attributes)


def value_cell(attribute: AttributeNode) -> str:
    """The value as text (escaped), a UID followed by the standard's name for it."""
    cell = literal(attribute.value)
    if attribute.uid_name:
        cell += f" *{literal(attribute.uid_name)}*"
    return cell


def _attribute_table(attributes: Iterable[AttributeNode], with_type: bool = True) -> str:
    head = "| Status | Attribute | Keyword (path) | Tag | Type | VR | VM | Value |"
    rule = "|---|---|---|---|:-:|:-:|:-:|---|"
    if not with_type:
        head = "| Status | Attribute | Keyword (path) | Tag | VR | Value |"
        rule = "|---|---|---|---|:-:|---|"
    lines = [head, rule]
    for attribute in attributes:
        name = literal(explain.display_name(attribute))
        if attribute.url:
            name = f"[{name}]({attribute.url})"
        where = attribute.path if with_type else attribute.keyword
        cells = [badge(attribute.status), name, code(where or ""), literal(attribute.tag)]
        more = [attribute.type, attribute.vr, attribute.vm] if with_type else [attribute.vr]
        cells += [literal(cell) for cell in more]
        cells.append(value_cell(attribute))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _full_values(attributes: Iterable[AttributeNode], key: str) -> None:
    """Offer the long values the table shows shortened, one at a time, in full."""
    long = {a.path or a.tag: a.full_value for a in attributes if a.full_value}
    if not long:
        return
    chosen = st.selectbox(
        "Show a long value in full",
        list(long),
        index=None,
        key=f"structure_full_{key}",
        placeholder="Pick an attribute whose value is shortened above",
    )
    if chosen is not None:
        st.code(long[chosen], language=None, wrap_lines=True)


def _module_label(module: ModuleNode, counts: Counter[str]) -> str:
    parts = [f"**{literal(module_title(module))}**", usage_text(module.usage) or module.usage]
    if not module.present:
        parts.append(":gray[not in this file]")
    else:
        parts.append(f"{counts[explain.PRESENT]} present")
    if counts[explain.EMPTY]:
        parts.append(f":orange[{counts[explain.EMPTY]} empty]")
    if counts[explain.MISSING]:
        parts.append(f":red[**{counts[explain.MISSING]} missing**]")
    return " · ".join(parts)


def _show_module(module: ModuleNode, show_all: bool) -> None:
    counts = _counts(module.attributes)
    with st.expander(_module_label(module, counts), expanded=bool(counts[explain.MISSING])):
        st.markdown(
            f"Usage in this IOD: **{module.usage}** ({usage_text(module.usage) or module.usage}) · "
            f"[{literal(module_title(module))} in the standard]({module.url})"
        )
        shown = [a for a in module.attributes if show_all or a.status != explain.NOT_APPLICABLE]
        if shown:
            st.markdown(_attribute_table(shown))
            _full_values(shown, module.key)
        else:
            st.caption("None of this module's attributes are in the file.")
        hidden = len(module.attributes) - len(shown)
        if hidden:
            st.caption(f"{hidden} optional or conditional attributes that are absent are hidden.")


def _sr_lines(node: SRItem, depth: int = 0) -> list[str]:
    """One Markdown list line per content item, nested two spaces a level."""
    parts = [f":gray[{literal(node.relationship)}]"] if node.relationship else []
    parts.append(f"**{literal(node.value_type or 'by reference')}**")
    if node.concept:
        parts.append(literal(node.concept))
    if node.value:
        parts.append(f"= {code(node.value)}")
    if node.damaged:
        parts.append(f":red-badge[damaged] {literal(node.damaged)}")
    lines = [f"{'  ' * depth}- {' '.join(parts)}"]
    for child in node.children:
        lines += _sr_lines(child, depth + 1)
    return lines


def _sr_tree(root: SRItem | None) -> None:
    if root is None:
        return
    with st.expander("SR content tree", icon=":material/account_tree:", expanded=True):
        st.caption(
            "The report's content items: relationship to the parent, value type, concept "
            "name and value (as `tbp-dicom dump FILE --sr-tree` prints them)."
        )
        st.markdown("\n".join(_sr_lines(root)))


def _summary(tree: StructureTree) -> None:
    counts = _counts(a for ie in tree.ies for m in ie.modules for a in m.attributes)
    badges = " ".join(badge(status, counts[status]) for status in COLOURS)
    st.markdown(f"{badges} :blue-badge[outside the IOD: {len(tree.foreign)}]")
    st.caption(
        "**present**: in the file with a value · **empty**: in the file without a value · "
        "**missing**: Type 1 or 2 of a module the file needs, but absent · "
        "**not applicable**: optional (Type 3) or conditional and absent."
    )


header(
    "Structure",
    "How the current document is built: its IOD, the Information Entities and modules it is "
    "made of, and the status and value of every attribute — with links to the standard. "
    "Words such as IOD, IE, module, Type, VR and private creator are explained in the "
    "Glossary in the sidebar.",
)
doc = require_document()
require_dataset(doc)
ds = workspace.dataset_of(doc)
tree: StructureTree = memo(doc, "structure", lambda: explain.build_structure(ds))

title_column, link_column = st.columns([4, 1], vertical_alignment="center")
st.html(_TABLE_STYLE)
title_column.subheader(literal(tree.iod_name))
sop_class = literal(tree.sop_class_uid or "(none)")
if tree.sop_class_name:
    sop_class += f" — {literal(tree.sop_class_name)}"
title_column.caption(f"SOP Class UID {sop_class}", help=term_help("SOP Class"))
if tree.iod:
    link_column.link_button(
        "Open in the standard", f"{explain.BROWSER}/{tree.iod}", icon=":material/open_in_new:"
    )
else:
    reason = (
        f"The SOP Class UID {quoted(tree.sop_class_uid)} is not one the standard's tables know"
        if tree.sop_class_uid
        else "The file has no SOP Class UID"
    )
    st.warning(f"{reason}, so there is no IOD to explain it against; every attribute is listed.")

_summary(tree)
show_link_line(doc)
_sr_tree(memo(doc, "sr_tree", lambda: srtree.build_sr_tree(ds)))
show_all = st.toggle(
    "Show absent optional attributes",
    key="structure_show_all",
    help="Also list Type 3 and conditional attributes that are not in the file.\n\n"
    + term_help("Type"),
)
for ie in tree.ies:
    st.markdown(f"#### {literal(ie.name)}")
    for module in ie.modules:
        _show_module(module, show_all)

if tree.foreign:
    st.markdown("#### Outside the IOD's modules")
    with st.expander(
        f"{len(tree.foreign)} attributes belong to no module of this IOD "
        "(private tags, other IODs' attributes)",
        expanded=not tree.ies,
    ):
        if any(int(a.tag[1:5], 16) % 2 for a in tree.foreign):
            st.caption(
                "A private element is named by the private creator that reserved its block; "
                "elements of known vendors' blocks get their names from pydicom's private "
                "dictionary.",
                help=term_help("private creator"),
            )
        st.markdown(_attribute_table(tree.foreign, with_type=False))
        _full_values(tree.foreign, "outside")
