"""Rich HTML for Jupyter: the library's results as compact, coloured tables.

The results a student handles in a notebook — the dump tree
(:func:`tbp_core.inspection.dump.build_tree`), the Structure tree
(:func:`tbp_core.inspection.explain.build_structure`), a validation report and
its findings, index rows, the SR content tree and the conformance statement —
each have a ``_repr_html_`` method that calls the matching function here, so
Jupyter shows them as tables instead of a dataclass ``repr``.

Every piece of text that can come from a file (values, names, paths, file names,
messages that quote values) goes through :func:`html.escape`: a DICOM file is
untrusted input, and a value such as ``<script>`` must show as text, never run.
Markup is only ever made by :func:`_element` from escaped content; the
:class:`Html` type marks what is already safe. Colours follow the app:
present green, empty orange, missing red; errors red, warnings orange.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pydicom.uid import UID

from tbp_core.standard.formatting import title_of, usage_text

if TYPE_CHECKING:
    from tbp_core.building.conformance import Conformance, IodConformance, ModuleConformance
    from tbp_core.inspection.dump import DumpNode, DumpTree
    from tbp_core.inspection.explain import AttributeNode, IENode, ModuleNode, StructureTree
    from tbp_core.inspection.index import Index, InstanceRow
    from tbp_core.inspection.srtree import SRItem
    from tbp_core.validation.findings import Finding, ValidationReport

__all__ = [
    "MAX_ROWS",
    "SEVERITY_COLOURS",
    "STATUS_COLOURS",
    "Html",
    "attribute_html",
    "conformance_html",
    "dump_html",
    "dump_node_html",
    "finding_html",
    "ie_html",
    "index_html",
    "index_rows_html",
    "iod_conformance_html",
    "module_conformance_html",
    "module_html",
    "report_html",
    "sr_html",
    "structure_html",
]

#: Rows of a dump table shown before the rest is summarised (render_text has them all).
MAX_ROWS = 2000

#: Attribute status → colour (as the app's Structure page: green, orange, red, grey).
STATUS_COLOURS = {
    "present": "#1a7f37",
    "empty": "#b35900",
    "missing": "#cf222e",
    "not-applicable": "#6e7781",
}
#: Finding severity → colour (as the app's Validate page).
SEVERITY_COLOURS = {"error": "#cf222e", "warning": "#b35900", "info": "#0969da"}

_GREY = "#6e7781"
_BOX = "font-size: 12px; line-height: 1.35; margin: 0.2em 0; overflow-x: auto;"
_TABLE = "border-collapse: collapse; margin: 0.2em 0 0.6em 0; font-size: 12px;"
_CELL = (
    "text-align: left; vertical-align: top; padding: 1px 8px 1px 0;"
    " border-bottom: 1px solid rgba(128, 128, 128, 0.25);"
)
_HEAD = _CELL + " font-weight: 600;"
_MONO = "font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 11px;"
_HEADING = "font-weight: 600; font-size: 13px; margin: 0.5em 0 0.2em 0;"
_NOTE = f"color: {_GREY};"
_NOWRAP = "white-space: nowrap;"
_INDENT_CH = 2


class Html(str):
    """Markup made here from escaped text: never escaped again."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return str(self)


def _escape(content: object) -> Html:
    """``content`` as safe markup: :class:`Html` unchanged, anything else escaped."""
    if isinstance(content, Html):
        return content
    return Html(html.escape(str(content), quote=True))


def _element(tag: str, *content: object, style: str = "", title: str = "", **attrs: str) -> Html:
    """``<tag style=... title=...>content</tag>`` with every attribute and text escaped."""
    pairs = {"style": style, "title": title, **attrs}
    attributes = "".join(f' {key}="{_escape(value)}"' for key, value in pairs.items() if value)
    inner = "".join(_escape(part) for part in content)
    return Html(f"<{tag}{attributes}>{inner}</{tag}>")


def _join(parts: Iterable[object], separator: str = "") -> Html:
    return Html(_escape(separator).join(_escape(part) for part in parts))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _mono(text: object) -> Html:
    return _element("span", text, style=_MONO)


def _value(text: str) -> Html:
    """A value: monospace, wrapped at spaces when long."""
    return _element("span", text, style=_MONO + " overflow-wrap: break-word;")


def _tag(text: str) -> Html:
    return _element("span", text, style=_MONO + _NOWRAP)


def _note(text: object) -> Html:
    return _element("span", text, style=_NOTE)


def _badge(text: str, colour: str) -> Html:
    style = (
        f"background: {colour}; color: #fff; border-radius: 0.6em; padding: 0 0.5em;"
        " font-size: 11px; white-space: nowrap;"
    )
    return _element("span", text, style=style)


def _status_badge(status: str) -> Html:
    return _badge(status.replace("-", " "), STATUS_COLOURS.get(status, _GREY))


def _severity_badge(severity: str) -> Html:
    return _badge(severity, SEVERITY_COLOURS.get(severity, _GREY))


def _heading(*content: object) -> Html:
    return _element("div", *content, style=_HEADING)


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> Html:
    head = _element("tr", *(_element("th", header, style=_HEAD) for header in headers))
    body = [_element("tr", *(_element("td", cell, style=_CELL) for cell in row)) for row in rows]
    return _element("table", _element("thead", head), _element("tbody", *body), style=_TABLE)


def _box(*content: object) -> Html:
    return _element("div", *content, style=_BOX)


def _uid_text(uid: str) -> Html:
    """A UID with the standard's name for it when it has one."""
    name = UID(uid).name if uid else ""
    return _join([_value(uid), " ", _note(f"({name})")]) if name and name != uid else _value(uid)


# --------------------------------------------------------------------------- dump


def _dump_rows(nodes: Iterable[DumpNode], rows: list[list[object]]) -> None:
    """One row per element, items of sequences nested below their sequence."""
    from tbp_core.inspection.dump import length_text

    for node in nodes:
        indent = f"padding-left: {node.depth * _INDENT_CH}ch;"
        if node.keyword and not node.private_creator:
            label = _element("span", node.keyword, style=_MONO + indent, title=node.name)
        else:  # private or unknown: the name says more than a keyword
            creator = f" [{node.private_creator}]" if node.private_creator else ""
            label = _element("span", node.name, _note(creator), style=indent)
        value: object = _note(_count(node.vm, "item"))
        if node.vr != "SQ":
            value = _value(node.value_text)
            if node.uid_name:
                value = _join([value, " ", _note(f"({node.uid_name})")])
        tag = _tag(node.tag_text)
        length = _element("span", length_text(node), style=_NOWRAP)
        rows.append([tag, node.vr, label, node.vm, length, value])
        for number, item in enumerate(node.items, start=1):
            marker = f"padding-left: {(node.depth + 1) * _INDENT_CH}ch; color: {_GREY};"
            rows.append(["", "", _element("span", f"item {number}", style=marker), "", "", ""])
            _dump_rows(item, rows)


def _dump_table(nodes: Iterable[DumpNode]) -> Html:
    rows: list[list[object]] = []
    _dump_rows(nodes, rows)
    shown = rows[:MAX_ROWS]
    table = _table(("Tag", "VR", "Attribute", "VM", "Length", "Value"), shown)
    if len(rows) > MAX_ROWS:
        more = len(rows) - MAX_ROWS
        return _join([table, _note(f"… {more} more rows: dump.render_text shows them all")])
    return table


def dump_html(tree: DumpTree) -> Html:
    """The dump tree as two tables: file meta, then the dataset.

    Parameters
    ----------
    tree : DumpTree
        From :func:`tbp_core.inspection.dump.build_tree`.

    Returns
    -------
    Html
        Tag, VR, keyword (its name on hover; the name for a private
        element), VM, length and value per element; sequence
        items indented under their sequence; UIDs followed by their names.
    """
    meta, dataset = tree
    parts: list[object] = []
    if meta:
        parts += [_heading(f"File meta ({_count(len(meta), 'element')})"), _dump_table(meta)]
    top = _count(len(dataset), "top-level element")
    parts += [_heading(f"Dataset ({top})"), _dump_table(dataset)]
    return _box(*parts)


def dump_node_html(node: DumpNode) -> Html:
    """One dump element (and, for a sequence, its items) as a table.

    Parameters
    ----------
    node : DumpNode

    Returns
    -------
    Html
    """
    return _box(_dump_table([node]))


# --------------------------------------------------------------------------- structure


_ATTRIBUTE_HEADERS = ("Status", "Attribute", "Name", "Tag", "Type", "VR", "Value")


def _attribute_row(node: AttributeNode) -> list[object]:
    where = _value(node.path or node.keyword or node.tag)
    return [_status_badge(node.status), where, node.name, _tag(node.tag), node.type, node.vr,
            _value(node.value)]  # fmt: skip


def attribute_html(node: AttributeNode) -> Html:
    """One attribute of the Structure tree as a one-row table.

    Parameters
    ----------
    node : AttributeNode

    Returns
    -------
    Html
    """
    return _box(_table(_ATTRIBUTE_HEADERS, [_attribute_row(node)]))


def _counts(attributes: Iterable[AttributeNode]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_COLOURS, 0)
    for attribute in attributes:
        counts[attribute.status] = counts.get(attribute.status, 0) + 1
    return counts


def _count_badges(counts: dict[str, int]) -> Html:
    shown = [(s, n) for s, n in counts.items() if n and s != "not-applicable"]
    return _join((_badge(f"{n} {s}", STATUS_COLOURS[s]) for s, n in shown), " ")


def module_html(module: ModuleNode, *, open_: bool | None = None) -> Html:
    """One module: a summary line that opens onto its attributes.

    Parameters
    ----------
    module : ModuleNode
    open_ : bool, optional
        Show the attributes opened; by default only when one is missing.

    Returns
    -------
    Html
        The attributes absent and not required (``not-applicable``) are counted,
        not listed.
    """
    from tbp_core.inspection.explain import _module_state

    counts = _counts(module.attributes)
    usage = usage_text(module.usage) or module.usage
    summary = _element(
        "summary",
        _element("b", module.name),
        _note(f" · {usage} · {_module_state(module)} "),
        _count_badges(counts),
        style="cursor: pointer;",
    )
    shown = [a for a in module.attributes if a.status != "not-applicable"]
    body: list[object] = [_table(_ATTRIBUTE_HEADERS, map(_attribute_row, shown))] if shown else []
    hidden = len(module.attributes) - len(shown)
    if hidden:
        body.append(_element("div", _note(f"{hidden} optional or conditional attributes absent")))
    is_open = bool(counts["missing"]) if open_ is None else open_
    attrs = {"open": "open"} if is_open else {}
    return _box(_element("details", summary, *body, style="margin-left: 1ch;", **attrs))


def ie_html(ie: IENode) -> Html:
    """An Information Entity and its modules.

    Parameters
    ----------
    ie : IENode

    Returns
    -------
    Html
    """
    return _box(_heading(f"{ie.name} (Information Entity)"), *map(module_html, ie.modules))


def structure_html(tree: StructureTree) -> Html:
    """The Structure tree: IOD → Information Entity → module → attribute, with statuses.

    Parameters
    ----------
    tree : StructureTree
        From :func:`tbp_core.inspection.explain.build_structure`.

    Returns
    -------
    Html
        A heading with the IOD and SOP Class, then each IE with its modules
        (click a module to see its attributes; those with a missing attribute are
        open), then the attributes of no module of the IOD.
    """
    every = [a for ie in tree.ies for m in ie.modules for a in m.attributes]
    parts: list[object] = [
        _heading(f"IOD: {tree.iod_name} ", _count_badges(_counts(every))),
        _element("div", _note("SOP Class UID: "), _uid_text(tree.sop_class_uid or "absent")),
    ]
    if not tree.iod:
        parts.append(_note("No IOD is known for this SOP Class: every attribute is listed below."))
    parts += [ie_html(ie) for ie in tree.ies]
    if tree.foreign:
        rows = [[_tag(a.tag), a.vr, _value(a.path), a.name, _value(a.value)] for a in tree.foreign]
        parts += [
            _heading(f"Outside the IOD ({len(tree.foreign)})"),
            _table(("Tag", "VR", "Attribute", "Name", "Value"), rows),
        ]
    parts.append(_note("present: has a value · empty: no value · missing: required but absent"))
    return _box(*parts)


# --------------------------------------------------------------------------- validation


_FINDING_HEADERS = ("Severity", "Module", "Attribute", "Message")


def _finding_row(finding: Finding) -> list[object]:
    module = _element("span", title_of(finding.module), style=_NOWRAP) if finding.module else ""
    where = (
        _join([_value(finding.path), " ", _tag(finding.tag)]) if finding.path else _tag(finding.tag)
    )
    return [_severity_badge(finding.severity), module, where, finding.message]


def finding_html(finding: Finding) -> Html:
    """One validation finding as a one-row table.

    Parameters
    ----------
    finding : Finding

    Returns
    -------
    Html
    """
    return _box(_table(_FINDING_HEADERS, [_finding_row(finding)]))


def report_html(report: ValidationReport) -> Html:
    """A validation report: the verdict, the counts, then the findings by module.

    Parameters
    ----------
    report : ValidationReport
        From :func:`tbp_core.validation.validate.validate`.

    Returns
    -------
    Html
        Modules with errors first (as :func:`tbp_core.validation.summary.by_module`
        orders them), each finding's severity, attribute and message.
    """
    from tbp_core.validation.summary import by_module, count_text

    if report.is_valid:
        verdict = _badge("valid", STATUS_COLOURS["present"])
    else:
        verdict = _badge("not valid", STATUS_COLOURS["missing"])
    against = title_of(report.iod) if report.iod else "no known IOD"
    parts: list[object] = [
        _heading(verdict, f" against {against}: {count_text(report.findings)}"),
    ]
    if report.sop_class_uid:
        parts.append(_element("div", _note("SOP Class UID: "), _uid_text(report.sop_class_uid)))
    rows = [
        _finding_row(finding) for group in by_module(report.findings) for finding in group.findings
    ]
    parts.append(_table(_FINDING_HEADERS, rows) if rows else _note("No findings."))
    return _box(*parts)


# --------------------------------------------------------------------------- index


def _value_cell(value: str | None) -> object:
    return _note("absent") if value is None else _value(value)


def index_rows_html(rows: Sequence[InstanceRow], columns: Sequence[str] = ()) -> Html:
    """Index rows as one table, a row per instance.

    Parameters
    ----------
    rows : sequence of InstanceRow
        From :func:`tbp_core.inspection.index.index_datasets` or an
        :class:`~tbp_core.inspection.index.Index`.
    columns : sequence of str, optional
        The columns to show; by default those of the first row.

    Returns
    -------
    Html
        An absent element shows as *absent*, an empty one as an empty cell; the
        notes of a damaged file that could still be read are listed last.
    """
    names = list(columns or (rows[0].values if rows else ()))
    notes = any(row.notes for row in rows)
    table_rows = [
        [*(_value_cell(row.values.get(name)) for name in names)]
        + (["; ".join(row.notes)] if notes else [])
        for row in rows
    ]
    return _box(_table([*names, *(["Notes"] if notes else [])], table_rows))


def index_html(index: Index) -> Html:
    """An index: its instances, then the input files that are not instances and why.

    Parameters
    ----------
    index : Index
        From :func:`tbp_core.inspection.index.index_paths`.

    Returns
    -------
    Html
    """
    found = f"{_count(len(index.instances), 'instance')}, {len(index.unreadable)} unreadable"
    parts: list[object] = [_heading(found), index_rows_html(index.instances, index.columns)]
    if index.unreadable:
        rows = [[_mono(item.file), item.error] for item in index.unreadable]
        parts += [_heading("Unreadable"), _table(("File", "Why"), rows)]
    return _box(*parts)


# --------------------------------------------------------------------------- SR tree


def _sr_item(node: SRItem) -> Html:
    parts: list[object] = [_note(node.relationship + " ")] if node.relationship else []
    parts.append(_element("b", node.value_type or "by reference"))
    if node.concept:
        parts.append(f" {node.concept}")
    if node.value:
        parts += [" = ", _mono(node.value)]
    if node.damaged:
        parts += [" ", _badge("damaged", STATUS_COLOURS["missing"]), f" {node.damaged}"]
    children = [_sr_item(child) for child in node.children]
    if children:
        parts.append(_element("ul", *children, style="margin: 0; padding-left: 2.2ch;"))
    return _element("li", *parts)


def sr_html(tree: SRItem) -> Html:
    """The SR content tree as nested lists: relationship, value type, concept, value.

    Parameters
    ----------
    tree : SRItem
        The root from :func:`tbp_core.inspection.srtree.build_sr_tree` (or any item).

    Returns
    -------
    Html
    """
    items = _element("ul", _sr_item(tree), style="margin: 0; padding-left: 2.2ch;")
    return _box(_heading("SR content tree"), items)


# --------------------------------------------------------------------------- conformance


def module_conformance_html(module: ModuleConformance) -> Html:
    """The attributes the converter writes in one module, with their sources.

    Parameters
    ----------
    module : ModuleConformance

    Returns
    -------
    Html
    """
    rows = [
        [_tag(a.tag), _mono(a.keyword), a.name, ", ".join(a.sources), a.when]
        for a in module.attributes
    ]
    usage = usage_text(module.usage) or module.usage
    heading = _heading(module.title, _note(f" · {module.information_entity} · {usage}"))
    return _box(heading, _table(("Tag", "Keyword", "Name", "Sources", "Written"), rows))


def iod_conformance_html(iod: IodConformance) -> Html:
    """One IOD of the conformance statement: its modules and the attributes written.

    Parameters
    ----------
    iod : IodConformance

    Returns
    -------
    Html
    """
    heading = _heading(f"{iod.title} ", _note(f"(Modality {iod.modality})"))
    sop = _element("div", _note("SOP Class UID: "), _uid_text(iod.sop_class_uid))
    return _box(heading, sop, *map(module_conformance_html, iod.modules))


def conformance_html(statement: Conformance) -> Html:
    """The conformance statement: each IOD, the transfer syntaxes, the private block.

    Parameters
    ----------
    statement : Conformance
        From :func:`tbp_core.building.conformance.conformance`.

    Returns
    -------
    Html
    """
    from tbp_core.building.conformance import _private_tag

    syntaxes = [[name, _mono(uid), text] for name, uid, text in statement.transfer_syntaxes]
    group = statement.private_group
    private = [
        [_tag(_private_tag(group, a.offset)), a.vr, a.vm, _mono(a.key), a.name]
        for a in statement.private_attributes
    ]
    return _box(
        *map(iod_conformance_html, statement.iods),
        _heading("Transfer syntaxes"),
        _table(("Name", "UID", "Encoding"), syntaxes),
        _heading(f"Private block: creator '{statement.private_creator}' in group {group:04X}"),
        _table(("Tag", "VR", "VM", "Key", "Name"), private),
    )
