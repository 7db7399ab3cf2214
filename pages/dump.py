"""Dump: the current document as a pretty, searchable, collapsible dump."""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import PurePath

import streamlit as st

from tbp_core.inspection import dump
from tbp_core.inspection.dump import DumpNode, DumpTree, SearchHit
from tbp_core.session import workspace
from ui.cache import memo
from ui.layout import header, require_dataset, require_document

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
.tbp-dump .hit { background: #fff1a8; border-radius: 3px; }
.tbp-hits .found { font-family: sans-serif; margin-bottom: 0.25rem; }
.tbp-hits mark { background: #fff1a8; padding: 0 0.25ch; border-radius: 3px; }
</style>
"""


def _title(node: DumpNode) -> str:
    """Keyword, or the name for private and unknown elements, with the private creator."""
    private = (node.tag >> 16) % 2 == 1
    title = node.name if private or not node.keyword else node.keyword
    text = f'<span class="name">{html.escape(title)}'
    if node.private_creator:
        text += f' <span class="owner">[{html.escape(node.private_creator)}]</span>'
    return text + "</span>"


def _head(node: DumpNode) -> str:
    return (
        f'<span class="vr">{html.escape(node.vr)}</span> <span class="tag">{node.tag_text}</span> '
    )


def _lines(
    nodes: Iterable[DumpNode], hits: frozenset[str], opened: frozenset[str], expand: bool
) -> Iterable[str]:
    for node in nodes:
        hit = " hit" if node.path in hits else ""
        head = f"{_head(node)}{_title(node)}"
        if node.vr != "SQ":
            value = html.escape(node.value_text)
            yield f'<div class="ln{hit}">{head} <span class="value">{value}</span></div>'
            continue
        count = f'<span class="count">({node.vm})</span>'
        if not node.items:
            hidden = " — items below the chosen depth" if node.vm else ""
            yield f'<div class="ln{hit}">{head}{count}{hidden}</div>'
            continue
        state = " open" if expand or node.path in opened else ""
        yield f'<details{state}><summary class="{hit.strip()}">{head}{count}</summary>'
        yield '<div class="items">'
        for index, item in enumerate(node.items):
            item_path = f"{node.path}[{index}]"
            item_state = " open" if expand or item_path in opened else ""
            noun = "element" if len(item) == 1 else "elements"
            yield (
                f'<details class="item"{item_state}><summary>Item {index + 1} of {node.vm} '
                f"· {len(item)} {noun}</summary>"
            )
            yield from _lines(item, hits, opened, expand)
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


def dump_html(tree: DumpTree, hits: Iterable[SearchHit], expand: bool) -> str:
    """The dump tree as collapsible HTML; every value is escaped."""
    hit_paths = frozenset(hit.node.path for hit in hits)
    opened = frozenset(path for hit in hit_paths for path in _ancestors(hit))
    meta, dataset = tree
    parts = [_STYLE, '<div class="tbp-dump">']
    if meta:
        parts.append('<div class="section"># File meta</div>')
        parts.extend(_lines(meta, hit_paths, opened, expand))
    parts.append('<div class="section"># Dataset</div>')
    parts.extend(_lines(dataset, hit_paths, opened, expand))
    parts.append("</div>")
    return "".join(parts)


def hits_html(hits: list[SearchHit], query: str) -> str:
    """The search hits, each with its full sequence path highlighted, and its value."""
    plural = "" if len(hits) == 1 else "es"
    first = f" (the first {MAX_HITS} shown)" if len(hits) > MAX_HITS else ""
    rows = [
        f'<div class="found"><b>{len(hits)} match{plural}</b> for '
        f"&ldquo;{html.escape(query)}&rdquo;{first}: path, tag, VR, value</div>"
    ]
    rows += [
        f'<div class="ln"><mark><b>{html.escape(hit.path_text)}</b></mark> '
        f'<span class="tag">{hit.node.tag_text}</span> <span class="vr">{hit.node.vr}</span> '
        f'<span class="value">{html.escape(hit.node.value_text)}</span></div>'
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
    st.warning(problem)

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
expand = options_column.toggle("Open all sequences", value=True, key="dump_expand")

tree: DumpTree = memo(
    doc,
    "dump_tree",
    lambda: dump.build_tree(ds, include_private=not hide_private, max_depth=max_depth),
    hide_private,
    max_depth,
)
text: str = memo(
    doc, "dump_text", lambda: dump.render_text(tree, title=doc.name), hide_private, max_depth
)
hits = memo(doc, "dump_hits", lambda: dump.search(tree, query), hide_private, max_depth, query)

if query.strip():
    if hits:
        st.html(hits_html(hits, query.strip()))
    else:
        st.info(f"Nothing in this dump matches “{query.strip()}”.")

st.html(
    memo(
        doc,
        "dump_html",
        lambda: dump_html(tree, hits, expand),
        hide_private,
        max_depth,
        query,
        expand,
    )
)
st.download_button(
    "Download dump (.txt)",
    data=text,
    file_name=f"{PurePath(doc.name).stem}_dump.txt",
    mime="text/plain",
    key="dump_download",
    icon=":material/download:",
)
