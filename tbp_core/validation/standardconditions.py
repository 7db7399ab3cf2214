"""Type 1C/2C and module usage conditions as the standard states them.

Read from tbp_core/data/conditions.json, which tools/build_conditions.py builds
from PS3.3's module tables (the condition prose of each Type 1C/2C attribute)
and IOD module tables (the condition of each C module), parsed into structured
conditions; see that script for the source and its edition. A condition tests
attributes of the item that would hold the conditional attribute, or of the
top-level dataset when the item lacks them ("at the image level").
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from tbp_core.validation.context import Context, has, is_empty, tag_of, value_of

_DATA = Path(__file__).parents[1] / "data" / "conditions.json"

#: A parsed condition as stored in the data file.
ParsedCondition = dict[str, Any]


@cache
def _table() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_DATA.read_text(encoding="utf-8"))
    return loaded


def source() -> str:
    """Where the conditions come from (standard edition and parser)."""
    return str(_table()["source"])


def standard_condition(
    module_key: str, path: tuple[str, ...], keyword: str
) -> ParsedCondition | None:
    """The parsed condition of an attribute of a module, or None when the data has none.

    Parameters
    ----------
    module_key : str
        highdicom's module key, e.g. ``"image-pixel"``.
    path : tuple of str
        Keywords of the sequences above the attribute (``()`` at the top level).
    keyword : str
        The attribute's keyword.

    Returns
    -------
    dict or None
        The condition (keys ``type``, ``op``, ``tag``, ``values``, ``and``,
        ``or``, ``other`` as they apply).
    """
    table = _table()
    for source_key in _source_modules(module_key):
        specific = table["by_path"].get(source_key, {}).get(".".join((*path, keyword)))
        if specific is not None:
            return dict(specific)
        if keyword in table["modules"].get(source_key, ()):
            return dict(table["by_keyword"][keyword])
    return None


#: PS3.3 modules that highdicom splits per IOD ("enhanced-ct-image-multi-frame-functional-groups"):
#: the per-IOD module's own rows are the shared module's.
_SPLIT_MODULES = ("multi-frame-functional-groups",)


def _source_modules(module_key: str) -> tuple[str, ...]:
    """The module keys of the data file that may hold a module's rows."""
    shared = tuple(s for s in _SPLIT_MODULES if module_key.endswith(f"-{s}"))
    return (module_key, *shared)


def module_condition(iod: str, module_key: str) -> ParsedCondition | None:
    """The parsed usage condition of a C module of an IOD, or None when the data has none.

    Parameters
    ----------
    iod : str
        highdicom's IOD key, e.g. ``"nuclear-medicine-image"``.
    module_key : str
        highdicom's module key, e.g. ``"nm-phase"``.

    Returns
    -------
    dict or None
        The condition under which the module is required (same form as
        :func:`standard_condition`); test it on the top-level dataset.
    """
    found = _table().get("module_usage", {}).get(iod, {}).get(module_key)
    return None if found is None else dict(found)


def holds(ctx: Context, condition: ParsedCondition, item: Dataset) -> bool | None:
    """Whether the attribute with ``condition`` is required in ``item``.

    Parameters
    ----------
    ctx : Context
        The validation in progress (its dataset is the top level).
    condition : dict
        A parsed condition from :func:`standard_condition`.
    item : Dataset
        The dataset or sequence item that would hold the attribute.

    Returns
    -------
    bool or None
        True when required, False when not, None when a value it tests cannot
        be compared.
    """
    # An "otherwise" clause (``other``) only says when the attribute may be
    # present ("May be present otherwise only if ..."): it never requires it.
    return _matches(ctx, condition, item)


def _matches(ctx: Context, condition: ParsedCondition, item: Dataset) -> bool | None:
    if "and" in condition:
        results = [_matches(ctx, part, item) for part in condition["and"]]
        if False in results:
            return False
        return None if None in results else True
    if "or" in condition:
        results = [_matches(ctx, part, item) for part in condition["or"]]
        if True in results:
            return True
        return None if None in results else False
    return _test(ctx, condition, item)


def _holder(ctx: Context, item: Dataset, keyword: str) -> Dataset | None:
    """The item when it holds ``keyword``, else the top level when that does, else None."""
    if has(item, keyword):
        return item
    if item is not ctx.ds and has(ctx.ds, keyword):
        return ctx.ds
    return None


def _test(ctx: Context, condition: ParsedCondition, item: Dataset) -> bool | None:
    keyword = str(condition.get("tag", ""))
    tag = tag_of(keyword)
    if tag is None:
        return None
    holder = _holder(ctx, item, keyword)
    op = condition.get("op")
    if op == "+":
        return holder is not None
    if op == "-":
        return holder is None
    if holder is None:
        return False
    if op == "++":
        return not is_empty(ctx, holder, tag, keyword)
    return _compare(op, _nth(value_of(ctx, holder, keyword), condition.get("index", 0)), condition)


def _nth(value: Any, index: int) -> Any:
    """Value ``index`` of a possibly multi-valued value (0-based, as parsed: "Value 3" is 2)."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return value[index] if index < len(value) else None
    return value if index == 0 else None


def _compare(op: Any, value: Any, condition: ParsedCondition) -> bool | None:
    if value is None or isinstance(value, (bytes, Dataset)):
        return None if isinstance(value, (bytes, Dataset)) else False
    wanted = condition.get("values", [])
    tags = bool(wanted) and all(isinstance(w, int) for w in wanted)
    if op in ("=", "!=") and isinstance(value, int) and tags:
        # An AT value (e.g. Frame Increment Pointer) against tags stored as numbers.
        found = int(value) in set(wanted)
        return found if op == "=" else not found
    if op in ("=", "!="):
        found = str(value).strip().upper() in {str(w).strip().upper() for w in wanted}
        return found if op == "=" else not found
    try:
        number = float(value)
        if op == "!0":
            return number != 0
        if op in (">", "<") and wanted:
            limit = float(wanted[0])
            return number > limit if op == ">" else number < limit
    except (TypeError, ValueError):
        return None
    return None  # "=>" (points to a tag) and anything else: not compared
