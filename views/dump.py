"""Dump: the current document as a pretty, searchable, collapsible dump."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import PurePath

import streamlit as st

from tbp_core.inspection import dump
from tbp_core.inspection.dump import DumpNode, DumpTree, SearchHit
from tbp_core.session import workspace
from tbp_core.session.names import safe_basename
from ui.cache import memo
from ui.layout import header, require_dataset, require_document
from ui.text import html_literal, literal, quoted

#: How deep sequence items are included: label → max_depth for dump.build_tree.
DEPTHS: dict[str, int | None] = {
    "All levels": None,
    "Top level only": 0,
    "1 level of items": 1,
    "2 levels of items": 2,
    "3 levels of items": 3,
}
#: At most this many search hits are listed.
MAX_HITS = 200
#: Dumps with more lines than this start with every sequence closed, its content
#: left out until opened ("Open sequences", or a search hit inside it).
LARGE_DUMP = 2000
_CLOSED = ' <span class="count">— closed: open it with “Open sequences” above</span>'

_STYLE = """
<style>
.tbp-dump, .tbp-hits {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.8rem; line-height: 1.5; border: 1px solid rgba(49, 51, 63, 0.15);
  border-radius: 0.5rem; padding: 0.5rem 0.75rem; background: #fafbfc; overflow: auto;
}
.tbp-dump { max-height: 72vh; }
.tbp-hits { max-height: 16rem; margin-bottom: 0.75rem; }
.tbp-dump .ln, .tbp-hits .ln, .tbp-dump summary { white-space: pre; }
.tbp-dump .ln { padding-left: 1.6ch; }
.tbp-dump summary { list-style: none; cursor: pointer; }
.tbp-dump summary::-webkit-details-marker { display: none; }
.tbp-dump details > summary::before { content: "▸"; display: inline-block; width: 1.6ch; }
.tbp-dump details[open] > summary::before { content: "▾"; }
.tbp-dump .items { margin-left: 2.4ch; border-left: 1px dotted #c5ccd3; padding-left: 0.4ch; }
.tbp-dump .item > summary { color: #6b7785; }
.tbp-dump .section { font-weight: 600; color: #31333f; margin: 0.3rem 0 0.1rem; }
.tbp-dump .vr, .tbp-hits .vr { color: #8a6d3b; }
.tbp-dump .tag, .tbp-hits .tag { color: #2f6f8f; }
.tbp-dump .name { display: inline-block; min-width: 44ch; color: #31333f; }
.tbp-dump .owner { color: #8a94a0; }
.tbp-dump .value, .tbp-hits .value { color: #0f5132; }
.tbp-dump .count { color: #6b7785; }
.tbp-dump .uidname { color: #5a3e8a; }
.tbp-dump .len { color: #8a94a0; }
.tbp-dump .hit { background: #fff1a8; border-radius: 3px; }
.tbp-hits .found { font-family: sans-serif; margin-bottom: 0.25rem; }
.tbp-hits mark { background: #fff1a8; padding: 0 0.25ch; border-radius: 3px; }
</style>
"""


def _title(node: DumpNode) -> str:
    """Keyword, or the name for private and unknown elements, with the private creator."""
    private = (node.tag >> 16) % 2 == 1
    title = node.name if private or not node.keyword else node.keyword
    text = f'<span class="name">{html_literal(title)}'
    if node.private_creator:
        text += f' <span class="owner">[{html_literal(node.private_creator)}]</span>'
    return text + "</span>"


def _head(node: DumpNode) -> str:
    return (
        f'<span class="vr">{html_literal(node.vr)}</span> '
        f'<span class="tag">{html_literal(node.tag_text)}</span> '
    )


def _extra(node: DumpNode) -> str:
    """The standard's name of a UI value, and the stored value length (as dcmdump shows)."""
    text = f' <span class="uidname">= {html_literal(node.uid_name)}</span>' if node.uid_name else ""
    length = dump.length_text(node)
    return text + (f' <span class="len"># {html_literal(length)}</span>' if length else "")


def anchor(path: str) -> str:
    """The HTML id of a dump line: stable per path, safe in an attribute and a URL."""
    return "dump-" + hashlib.sha1(path.encode("utf-8")).hexdigest()[:16]


def node_count(nodes: Iterable[DumpNode]) -> int:
    """Lines of a dump: elements at every depth, and one per sequence item."""
    total = 0
    for node in nodes:
        total += 1 + sum(1 + node_count(item) for item in node.items)
    return total


def container_paths(nodes: Iterable[DumpNode]) -> Iterable[str]:
    """Paths of the sequences and items that hold elements, in dump order."""
    for node in nodes:
        if node.vr == "SQ" and node.items:
            yield node.path
            for index, item in enumerate(node.items):
                yield f"{node.path}[{index}]"
                yield from container_paths(item)


def _lines(
    nodes: Iterable[DumpNode],
    hits: frozenset[str],
    opened: frozenset[str],
    expand: bool,
    lazy: bool = False,
) -> Iterable[str]:
    """HTML lines; with ``lazy``, closed sequences and items leave their content out."""
    for node in nodes:
        hit = " hit" if node.path in hits else ""
        line = f'id="{anchor(node.path)}"'
        head = f"{_head(node)}{_title(node)}"
        if node.vr != "SQ":
            value = html_literal(node.value_text)
            yield (
                f'<div class="ln{hit}" {line}>{head} <span class="value">{value}</span>'
                f"{_extra(node)}</div>"
            )
            continue
        count = f'<span class="count">({node.vm})</span>{_extra(node)}'
        if not node.items:
            hidden = " — items below the chosen depth" if node.vm else ""
            yield f'<div class="ln{hit}" {line}>{head}{count}{hidden}</div>'
            continue
        is_open = expand or node.path in opened
        if lazy and not is_open:
            yield f'<div class="ln{hit}" {line}>{head}{count}{_CLOSED}</div>'
            continue
        state = " open" if is_open else ""
        yield f'<details{state}><summary {line} class="{hit.strip()}">{head}{count}</summary>'
        yield '<div class="items">'
        for index, item in enumerate(node.items):
            item_path = f"{node.path}[{index}]"
            item_open = expand or item_path in opened
            noun = "element" if len(item) == 1 else "elements"
            title = f"Item {index + 1} of {node.vm} · {len(item)} {noun}"
            if lazy and not item_open:
                yield f'<div class="ln item" id="{anchor(item_path)}">{title}{_CLOSED}</div>'
                continue
            item_state = " open" if item_open else ""
            yield (
                f'<details class="item"{item_state}>'
                f'<summary id="{anchor(item_path)}">{title}</summary>'
            )
            yield from _lines(item, hits, opened, expand, lazy)
            yield "</details>"
        yield "</div></details>"


def _ancestors(path: str) -> set[str]:
    """Sequence and item paths enclosing ``path`` (``A[0].B`` → ``A``, ``A[0]``)."""
    found: set[str] = set()
    for position, char in enumerate(path):
        if char == "[":
            found.add(path[:position])
        elif char == "]":
            found.add(path[: position + 1])
    return found


def dump_html(
    tree: DumpTree,
    hits: Iterable[SearchHit],
    expand: bool,
    lazy: bool = False,
    chosen: Iterable[str] = (),
) -> str:
    """The dump tree as collapsible HTML; every value is escaped.

    Parameters
    ----------
    tree : DumpTree
    hits : iterable of SearchHit
        Their lines are marked, and the sequences and items around them open.
    expand : bool
        Open every sequence and item.
    lazy : bool
        Leave out the content of closed sequences and items (large files).
    chosen : iterable of str
        Sequence and item paths to open (with the sequences and items around them).
    """
    listed = list(hits)[:MAX_HITS] if lazy else list(hits)  # only listed hits open their items
    hit_paths = frozenset(hit.node.path for hit in listed)
    wanted = {*hit_paths, *chosen}
    opened = frozenset({path for want in wanted for path in _ancestors(want)} | set(chosen))
    meta, dataset = tree
    parts = [_STYLE, '<div class="tbp-dump">']
    if meta:
        parts.append('<div class="section"># File meta</div>')
        parts.extend(_lines(meta, hit_paths, opened, expand, lazy))
    parts.append('<div class="section"># Dataset</div>')
    parts.extend(_lines(dataset, hit_paths, opened, expand, lazy))
    parts.append("</div>")
    return "".join(parts)


def hits_html(hits: list[SearchHit], query: str) -> str:
    """The search hits, each with its full sequence path highlighted, and its value."""
    plural = "" if len(hits) == 1 else "es"
    first = f" (the first {MAX_HITS} shown)" if len(hits) > MAX_HITS else ""
    rows = [
        f'<div class="found"><b>{len(hits)} match{plural}</b> for '
        f"&ldquo;{html_literal(query)}&rdquo;{first}: path, tag, VR, value</div>"
    ]
    rows += [
        f'<div class="ln"><a href="#{anchor(hit.node.path)}"><mark><b>'
        f"{html_literal(hit.path_text)}</b></mark></a> "
        f'<span class="tag">{html_literal(hit.node.tag_text)}</span> '
        f'<span class="vr">{html_literal(hit.node.vr)}</span> '
        f'<span class="value">{html_literal(hit.node.value_text)}</span></div>'
        for hit in hits[:MAX_HITS]
    ]
    return f'{_STYLE}<div class="tbp-hits">{"".join(rows)}</div>'


header(
    "Dump",
    "The whole dataset as a dump: one line per element, sequences as collapsible items. "
    "Long values are shortened and Pixel Data is summarised, never printed.",
)
doc = require_document()
require_dataset(doc)
ds = workspace.dataset_of(doc)

for problem in doc.read_warnings:
    st.warning(literal(problem))

search_column, depth_column, options_column = st.columns([4, 2, 2], vertical_alignment="bottom")
query = search_column.text_input(
    "Search the dump",
    key="dump_search",
    placeholder="Keyword, name, tag such as (0010,0010), or value — at any depth",
)
depth_label = depth_column.selectbox(
    "Sequence depth",
    list(DEPTHS),
    key="dump_max_depth",
    help="How many levels of sequence items to include.",
)
max_depth = DEPTHS.get(str(depth_label))
hide_private = options_column.checkbox("Hide private tags", key="dump_hide_private")

tree: DumpTree = memo(
    doc,
    "dump_tree",
    lambda: dump.build_tree(ds, include_private=not hide_private, max_depth=max_depth),
    hide_private,
    max_depth,
)
lines = memo(
    doc, "dump_lines", lambda: node_count(tree[0]) + node_count(tree[1]), hide_private, max_depth
)
large = lines > LARGE_DUMP
expand = options_column.toggle(
    "Open all sequences",
    value=not large,
    key=f"dump_expand_{'large' if large else 'small'}",
    help="Large dumps start closed: their sequences are loaded when opened.",
)
chosen: list[str] = []
if large and not expand:
    containers = memo(
        doc, "dump_containers", lambda: list(container_paths(tree[1])), hide_private, max_depth
    )
    chosen = st.multiselect(
        "Open sequences",
        containers,
        key="dump_open",
        placeholder="Choose sequences or items to show their elements",
        help=f"This dump has {lines:,} lines: only the sequences and items chosen here "
        "(and those around search hits) are loaded.",
    )
hits = memo(doc, "dump_hits", lambda: dump.search(tree, query), hide_private, max_depth, query)

if query.strip():
    if hits:
        st.html(hits_html(hits, query.strip()))
    else:
        st.info(f"Nothing in this dump matches {quoted(query.strip())}.")

with st.spinner("Laying out the dump…"):
    st.html(
        memo(
            doc,
            "dump_html",
            lambda: dump_html(tree, hits, expand, lazy=large, chosen=chosen),
            hide_private,
            max_depth,
            query,
            expand,
            tuple(chosen),
        )
    )


def _dump_text() -> str:
    return dump.render_text(tree, title=doc.name)


st.download_button(
    "Download dump (.txt)",
    data=_dump_text if large else _dump_text(),  # a large dump is written only when asked
    file_name=safe_basename(f"{PurePath(doc.name).stem}_dump.txt", fallback="dump.txt"),
    mime="text/plain",
    key="dump_download",
    icon=":material/download:",
)
