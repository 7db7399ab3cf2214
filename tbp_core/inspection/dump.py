"""Pretty dump of a DICOM dataset: a structured tree, its text and its JSON.

:func:`build_tree` turns a dataset (as read by :func:`tbp_core.fileio.dicomio.read`)
into frozen :class:`DumpNode` trees, one for the file meta and one for the
dataset. Large values that the reader deferred (Pixel Data above all) are
described from their length and never read. :func:`render_text` prints the
tree with sequences as ``Name(n)`` and numbered items; :func:`to_json` gives
the ``dump --format json`` structure of ARCHITECTURE.md §4; :func:`search`
finds elements by tag, keyword or value with their full sequence path.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from pydicom.datadict import (
    dictionary_description,
    dictionary_has_tag,
    dictionary_keyword,
    dictionary_VR,
    private_dictionary_description,
)
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.encaps import generate_fragments
from pydicom.filewriter import correct_ambiguous_vr_element
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID

import tbp_core.standard.private as tbp_private
from tbp_core.boundary import guarded
from tbp_core.errors import one_line
from tbp_core.fileio.pixelbuffer import value_length
from tbp_core.standard import vr as vrs
from tbp_core.standard.formatting import size_text, tag_text

#: Text values longer than this many characters are shortened.
MAX_TEXT = 64

_UNDEFINED_LENGTH = 0xFFFFFFFF
_PIXEL_DATA = 0x7FE00010
_ITEM_RULE = "-" * 11
_KEYWORD_WIDTH = 48
_INDENT = " " * 8
#: VRs whose values are decoded with the Specific Character Set (PS3.5 6.1.2.3).
_CHARSET_VRS = frozenset({"SH", "LO", "ST", "LT", "UC", "UT", "PN"})
_TAG_QUERY = re.compile(r"^\(?\s*([0-9a-fA-F]{4})\s*,?\s*([0-9a-fA-F]{4})\s*\)?$")


@dataclass(frozen=True)
class DumpNode:
    """One element of a dumped dataset.

    Attributes
    ----------
    tag : int
        The element's tag, e.g. ``0x00080104``.
    tag_text : str
        The tag as ``"(GGGG,EEEE)"``.
    vr : str
        Value Representation.
    keyword : str
        DICOM keyword; ``tbp:<Keyword>`` for the TBP private block; ``""`` when unknown.
    name : str
        Human-readable name (through the private creator for private elements).
    vm : int
        Value Multiplicity of the stored value.
    value_text : str
        The value as shown to people (shortened when long; ``""`` for sequences).
    length : int or None
        Stored value length in bytes (``None`` when unknown or undefined).
    private_creator : str or None
        The creator of the private block holding the element.
    path : str
        Path from the top level, e.g. ``"AnatomicRegionSequence[0].CodeMeaning"``.
    depth : int
        Nesting depth: 0 for top-level elements.
    items : tuple of tuple of DumpNode
        For sequences, the child elements of each item; empty otherwise.
    uid_name : str
        For a UI value the standard names (a SOP class, a transfer syntax, ...),
        that name, e.g. ``"CT Image Storage"``; ``""`` otherwise.
    """

    tag: int
    tag_text: str
    vr: str
    keyword: str
    name: str
    vm: int
    value_text: str
    length: int | None
    private_creator: str | None
    path: str
    depth: int
    items: tuple[tuple[DumpNode, ...], ...] = ()
    uid_name: str = ""

    @property
    def label(self) -> str:
        """Short name of the element for paths: keyword, else name, else tag."""
        if self.keyword:
            return self.keyword
        return self.tag_text

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import dump_node_html

        return dump_node_html(self)


class DumpTree(NamedTuple):
    """File meta nodes and dataset nodes, as returned by :func:`build_tree`."""

    file_meta: tuple[DumpNode, ...]
    dataset: tuple[DumpNode, ...]

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import dump_html

        return dump_html(self)


@dataclass(frozen=True)
class SearchHit:
    """One search match: the element and its path, e.g. ``A[0] > CodeMeaning``."""

    path_text: str
    node: DumpNode


def _reason(exc: BaseException) -> str:
    """First sentence of the exception's message, on one line."""
    first = one_line(exc).split(". ")[0].rstrip(".")
    return first if len(first) <= 100 else f"{first[:100]}…"


def _private_creator(ds: Dataset, tag: int) -> str | None:
    group, element = tag >> 16, tag & 0xFFFF
    if group % 2 == 0 or element < 0x1000:
        return None
    creator_tag = BaseTag((group << 16) | (element >> 8))
    if creator_tag not in ds:
        return None
    try:
        value = ds[creator_tag].value
    except Exception:  # a damaged creator element must not stop the dump
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).strip() if value is not None else None


def _names(tag: int, creator: str | None) -> tuple[str, str]:
    """Return (keyword, name) for ``tag``."""
    group, element = tag >> 16, tag & 0xFFFF
    if group % 2 == 1:
        if 0x0010 <= element <= 0x00FF:
            return "", "Private Creator"
        if element == 0:
            return "", "Private Group Length"
        if creator is None:
            return "", "Private tag data"
        keyword = ""
        if creator == tbp_private.TBP_PRIVATE_CREATOR and group == tbp_private.TBP_GROUP:
            for attr in tbp_private.TBP_ATTRIBUTES:
                if attr.offset == element & 0xFF:
                    keyword = attr.key
        try:
            return keyword, private_dictionary_description(tag, creator)
        except KeyError:
            return keyword, "Private tag data"
    if dictionary_has_tag(tag):
        return dictionary_keyword(tag), dictionary_description(tag)
    if element == 0:
        return "", "Group Length"
    return "", "Unknown tag"


def _dictionary_vr(tag: int, creator: str | None) -> str:
    if (tag >> 16) % 2 == 1:
        if 0x0010 <= (tag & 0xFFFF) <= 0x00FF:
            return "LO"
        if creator is not None:
            from pydicom.datadict import private_dictionary_VR

            try:
                return str(private_dictionary_VR(tag, creator))
            except KeyError:
                return "UN"
        return "UN"
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UL" if tag & 0xFFFF == 0 else "UN"


def _deferred_vr(ds: Dataset, raw: RawDataElement, creator: str | None) -> str:
    vr = str(raw.VR) if raw.VR else _dictionary_vr(raw.tag, creator)
    if " or " in vr:
        probe = DataElement(raw.tag, vr, None)
        with contextlib.suppress(Exception):  # ambiguous VR needs values we did not read
            vr = str(correct_ambiguous_vr_element(probe, ds, raw.is_little_endian).VR)
        if " or " in vr:
            vr = vr.split(" or ")[0]
    return vr


def _text(value: Any, vr: str = "") -> str:
    if vr in ("FL", "OF") and isinstance(value, float):
        return f"{value:.7g}"  # a float32 shown with the digits it holds
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace")
    if isinstance(value, BaseTag):
        return tag_text(int(value))
    return str(value)


def _shorten(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return f"{text[:MAX_TEXT]}… ({len(text)} chars)"


def _encapsulated_text(vr: str, value: bytes, little: bool) -> str:
    try:
        count = sum(1 for _ in generate_fragments(value, endianness="<" if little else ">"))
    except Exception:  # fragments unparsable: describe without a count
        return f"<{vr}, encapsulated, {size_text(len(value))}>"
    fragments = max(count - 1, 0)  # the first item is the Basic Offset Table
    noun = "fragment" if fragments == 1 else "fragments"
    return f"<encapsulated, {fragments} {noun}, {size_text(len(value))}>"


def _value_text(elem: DataElement) -> str:
    value = elem.value
    vr = str(elem.VR)
    if value is None or value == "" or value == b"":
        return ""
    if isinstance(value, bytes | bytearray):
        if elem.is_undefined_length and elem.tag == _PIXEL_DATA:
            return _encapsulated_text("OB", bytes(value), True)
        return f"<{vr}, {size_text(len(value))}>"
    if vrs.is_binary(vr) and not isinstance(value, str):
        size = value_length(value)
        if size is None and _is_buffer(value):
            size = len(bytes(value))
        return f"<{vr}, {size_text(size)}>" if size is not None else ""
    if isinstance(value, MultiValue | list | tuple):
        return _shorten("\\".join(_text(v, vr) for v in value))
    return _shorten(_text(value, vr))


def _is_buffer(value: Any) -> bool:
    try:
        bytes(value)
    except Exception:  # not a buffer
        return False
    return True


def _vm(elem: DataElement) -> int:
    try:
        return int(elem.VM)
    except Exception:  # VM of an odd value
        return 1


@dataclass(frozen=True)
class _Options:
    include_private: bool
    max_depth: int | None


def _child_path(parent: str, label: str) -> str:
    return f"{parent}.{label}" if parent else label


def _node(ds: Dataset, tag: BaseTag, path_prefix: str, depth: int, opts: _Options) -> DumpNode:
    creator = _private_creator(ds, tag)
    keyword, name = _names(int(tag), creator)
    label = keyword or tag_text(int(tag))
    path = _child_path(path_prefix, label)
    # get_item is typed as returning DataElement, but gives the raw element when unconverted
    stored = cast("DataElement | RawDataElement", ds.get_item(tag, keep_deferred=True))
    if isinstance(stored, RawDataElement) and stored.value is None and stored.length:
        vr = _deferred_vr(ds, stored, creator)
        if vr != "SQ":
            length = None if stored.length == _UNDEFINED_LENGTH else int(stored.length)
            text = f"<{vr}, {size_text(length)}>" if length is not None else ""
            if length is None and int(tag) == _PIXEL_DATA:
                # Encapsulated Pixel Data is OB (PS3.5 A.4), whatever VR the file wrote.
                stored_as = "" if vr == "OB" else f"; stored with VR {vr}"
                vr, text = "OB", f"<OB, encapsulated, undefined length{stored_as}>"
            elif length is None:
                text = f"<{vr}, undefined length>"
            return DumpNode(
                int(tag), tag_text(int(tag)), vr, keyword, name, 1, text, length,
                creator, path, depth,
            )  # fmt: skip
    raw_length = getattr(stored, "length", None) if isinstance(stored, RawDataElement) else None
    raw_bytes = stored.value if isinstance(stored, RawDataElement) else None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            elem = ds[tag]
    except Exception as exc:  # undecodable value: say so, never raise
        vr = _deferred_vr(ds, stored, creator) if isinstance(stored, RawDataElement) else "UN"
        return DumpNode(
            int(tag), tag_text(int(tag)), vr, keyword, name, 0,
            f"<unreadable: {_reason(exc)}>", raw_length, creator, path, depth,
        )  # fmt: skip
    vr = str(elem.VR)
    if " or " in vr:
        with contextlib.suppress(Exception):  # when unresolvable, the first VR below
            vr = str(correct_ambiguous_vr_element(elem, ds, ds.is_little_endian is not False).VR)
        if " or " in vr:
            vr = vr.split(" or ")[0]
    if int(tag) == _PIXEL_DATA and elem.is_undefined_length:
        vr = "OB"  # encapsulated Pixel Data is OB (PS3.5 A.4)
    length = raw_length
    if length is None or length == _UNDEFINED_LENGTH:
        length = None if elem.is_undefined_length else _length_of(elem)
    if vr == "SQ" and isinstance(elem.value, Sequence):
        items: tuple[tuple[DumpNode, ...], ...] = ()
        if opts.max_depth is None or depth < opts.max_depth:
            items = tuple(
                _nodes(item, f"{path}[{index}]", depth + 1, opts)
                for index, item in enumerate(elem.value)
            )
        return DumpNode(
            int(tag), tag_text(int(tag)), vr, keyword, name, len(elem.value), "", length,
            creator, path, depth, items,
        )  # fmt: skip
    undecodable = (
        vr in _CHARSET_VRS
        and isinstance(raw_bytes, bytes)
        and any("decode" in str(warning.message) for warning in caught)
    )
    try:
        text = _undecodable_text(ds, raw_bytes) if undecodable else _value_text(elem)
    except Exception as exc:  # value that cannot be shown as text
        text = f"<unreadable: {_reason(exc)}>"
    return DumpNode(
        int(tag), tag_text(int(tag)), vr, keyword, name, _vm(elem), text, length, creator,
        path, depth, (), _uid_name(elem) if vr == "UI" else "",
    )  # fmt: skip


def _undecodable_text(ds: Dataset, raw: Any) -> str:
    """A value the character set cannot decode, shown as its bytes."""
    charset: Any = ds.get("SpecificCharacterSet") or ds.original_character_set
    if isinstance(charset, MultiValue | list):
        charset = "\\".join(str(part) for part in charset)
    return _shorten(f"<not valid {charset}: {bytes(raw)!r}>")


def _uid_name(elem: DataElement) -> str:
    """The standard's name of a single UID value, or ``""``."""
    value = elem.value
    if not isinstance(value, str) or not value:
        return ""
    name = UID(value.strip("\0 ")).name
    return "" if name == value.strip("\0 ") else str(name)


def describe_element(ds: Dataset, tag: int) -> DumpNode:
    """One element of ``ds`` as a dump node without its items; never loads a deferred value.

    Parameters
    ----------
    ds : Dataset
        The dataset or sequence item holding the element.
    tag : int
        The element's tag.

    Returns
    -------
    DumpNode
        VR, names, VM (item count for sequences) and the value as text.
    """
    return _node(ds, Tag(tag), "", 0, _Options(include_private=True, max_depth=0))


#: Bytes per value of the fixed-size VRs.
_FIXED_SIZE = {"US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "AT": 4, "FD": 8, "SV": 8, "UV": 8}


def _length_of(elem: DataElement) -> int | None:
    """The encoded length of a value read without its raw length (file meta, edits)."""
    size = value_length(elem.value)
    if size is not None or elem.VR == "SQ":
        return size
    vr = str(elem.VR)
    if vr in _FIXED_SIZE:
        return _FIXED_SIZE[vr] * _vm(elem)
    if elem.value is None:
        return 0
    if vr in _CHARSET_VRS:
        return None  # the encoded size depends on the character set
    values = elem.value if isinstance(elem.value, MultiValue | list) else [elem.value]
    text = "\\".join(str(value) for value in values)
    return len(text) + len(text) % 2


def _nodes(ds: Dataset, path_prefix: str, depth: int, opts: _Options) -> tuple[DumpNode, ...]:
    nodes: list[DumpNode] = []
    for tag in sorted(ds.keys()):
        if not opts.include_private and (int(tag) >> 16) % 2 == 1:
            continue
        nodes.append(_node(ds, Tag(tag), path_prefix, depth, opts))
    return tuple(nodes)


@guarded("dump")
def build_tree(
    ds: Dataset, *, include_private: bool = True, max_depth: int | None = None
) -> DumpTree:
    """Build the dump tree of a dataset without loading its deferred values.

    Parameters
    ----------
    ds : Dataset
        A dataset, typically from :func:`tbp_core.fileio.dicomio.read`.
    include_private : bool, optional
        Include private elements (odd groups); default True.
    max_depth : int, optional
        Deepest nesting level whose sequences are expanded: 0 shows only the
        top-level elements (sequences without their items). ``None`` (default)
        expands everything.

    Returns
    -------
    tuple
        ``(file_meta_nodes, dataset_nodes)``, each a tuple of :class:`DumpNode`.
    """
    opts = _Options(include_private, max_depth)
    meta = getattr(ds, "file_meta", None)
    meta_nodes = _nodes(meta, "", 0, opts) if meta is not None else ()
    return DumpTree(meta_nodes, _nodes(ds, "", 0, opts))


def _text_lines(nodes: Iterable[DumpNode], label: str) -> Iterator[str]:
    for node in nodes:
        indent = _INDENT * node.depth
        private = (node.tag >> 16) % 2 == 1
        title = node.name if private or not node.keyword else node.keyword
        if node.vr == "SQ":
            yield f"{node.vr} {_seed_tag(node.tag)} {indent}{title}({node.vm}){_length_note(node)}"
            for index, item in enumerate(node.items, start=1):
                number = f"{label}.{index}"
                yield f"{indent}{number} {_ITEM_RULE}"
                yield from _text_lines(item, number)
            continue
        head = f"{indent}{title}"
        value = f"{node.value_text} = {node.uid_name}" if node.uid_name else node.value_text
        line = f"{node.vr} {_seed_tag(node.tag)} {head:<{_KEYWORD_WIDTH}}{value}"
        yield line.rstrip() + _length_note(node)


def length_text(node: DumpNode) -> str:
    """The stored value length in words: ``"26 bytes"``, ``"undefined length"`` or ``""``.

    Parameters
    ----------
    node : DumpNode

    Returns
    -------
    str
        ``""`` when the length is unknown (an element added in memory and never encoded).
    """
    if node.length is None:
        return "undefined length" if node.vr == "SQ" or "encapsulated" in node.value_text else ""
    return f"{node.length} byte{'' if node.length == 1 else 's'}"


def _length_note(node: DumpNode) -> str:
    """The stored value length, as dcmdump shows it after each element."""
    text = length_text(node)
    return f"  # {text}" if text else ""


def _seed_tag(tag: int) -> str:
    return f"({tag >> 16:04x}, {tag & 0xFFFF:04x})"


@guarded("dump")
def render_text(tree: DumpTree, *, title: str = "", stopped_at: int | None = None) -> str:
    """Render a dump tree as text: file meta first, then the dataset.

    Each element is one line ``VR (gggg, eeee) Keyword   value  # n bytes``,
    indented by nesting depth; a UID the standard names is followed by its
    name (``1.2.840.10008.5.1.4.1.1.2 = CT Image Storage``); a sequence shows
    as ``Name(n)`` and each of its items starts with a numbered rule
    (``1.1 -----------``, nested ``1.1.2``).

    Parameters
    ----------
    tree : tuple
        The result of :func:`build_tree`.
    title : str, optional
        A first line (e.g. the file name).
    stopped_at : int, optional
        Where reading a damaged file stopped
        (:attr:`tbp_core.fileio.dicomio.ReadResult.stopped_at`): a last line says so.

    Returns
    -------
    str
    """
    meta, dataset = tree
    lines: list[str] = [title] if title else []
    if meta:
        lines.append("# File meta")
        lines.extend(_text_lines(meta, "1"))
        lines.append("")
    lines.append("# Dataset")
    lines.extend(_text_lines(dataset, "1"))
    if stopped_at is not None:
        lines.append(f"# Damaged file: reading stopped at byte {stopped_at}")
    return "\n".join(lines) + "\n"


def _node_json(node: DumpNode) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tag": node.tag_text,
        "vr": node.vr,
        "keyword": node.keyword,
        "name": node.name,
        "vm": node.vm,
        "value": node.value_text,
        "private_creator": node.private_creator,
        "length": node.length,
    }
    if node.vr == "UI":
        out["uid_name"] = node.uid_name or None
    if node.vr == "SQ":
        out["items"] = [[_node_json(child) for child in item] for item in node.items]
    return out


@guarded("dump")
def to_json(tree: DumpTree, *, stopped_at: int | None = None) -> dict[str, Any]:
    """Return the ``dump --format json`` structure (ARCHITECTURE.md §4).

    Parameters
    ----------
    tree : tuple
        The result of :func:`build_tree`.
    stopped_at : int, optional
        Where reading a damaged file stopped; given, it is the ``stopped_at`` key.

    Returns
    -------
    dict
        ``{"file_meta": [...], "dataset": [...]}`` (plus ``stopped_at`` for a
        damaged file). Each element has the keys of §4 (``items`` only for SQ)
        and ``length`` (bytes, null when undefined); UI elements also
        ``uid_name`` (the standard's name of the UID, or null).
    """
    meta, dataset = tree
    out: dict[str, Any] = {
        "file_meta": [_node_json(node) for node in meta],
        "dataset": [_node_json(node) for node in dataset],
    }
    if stopped_at is not None:
        out["stopped_at"] = stopped_at
    return out


def _walk(nodes: Iterable[DumpNode], trail: str) -> Iterator[tuple[str, DumpNode]]:
    for node in nodes:
        path = f"{trail} > {node.label}" if trail else node.label
        yield path, node
        for index, item in enumerate(node.items):
            yield from _walk(item, f"{path}[{index}]")


def _matches(node: DumpNode, query: str, tag: int | None) -> bool:
    if tag is not None and node.tag == tag:
        return True
    needle = query.casefold()
    return (
        needle in node.keyword.casefold()
        or needle in node.name.casefold()
        or needle in node.value_text.casefold()
    )


@guarded("dump")
def search(tree: DumpTree, query: str) -> list[SearchHit]:
    """Find elements by tag, keyword or value text, with their sequence path.

    Parameters
    ----------
    tree : tuple
        The result of :func:`build_tree`.
    query : str
        A tag (``(0008,0104)``, ``0008,0104`` or ``00080104``), part of a
        keyword or name (case-insensitive), or part of a value's text.

    Returns
    -------
    list of SearchHit
        In dump order (file meta first); the path reads like dcmdump ``+P +p``,
        e.g. ``AnatomicRegionSequence[0] > CodeMeaning``.
    """
    query = query.strip()
    if not query:
        return []
    match = _TAG_QUERY.match(query)
    tag = int(match.group(1) + match.group(2), 16) if match else None
    meta, dataset = tree
    hits: list[SearchHit] = []
    for nodes in (meta, dataset):
        for path, node in _walk(nodes, ""):
            if _matches(node, query, tag):
                hits.append(SearchHit(path, node))
    return hits
