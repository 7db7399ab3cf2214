"""Which attributes a dataset must have, and where it has them: one evaluation.

:func:`evaluate` walks the modules of an IOD over a dataset and gives every
attribute of every module, at every item where it may occur, a status —
``present``, ``empty``, ``missing`` or ``not-applicable`` — together with the
problem, if any, that the validator reports for it. The validator
(:mod:`tbp_core.validation.validate`) turns the problems into findings and the
Structure view (:mod:`tbp_core.inspection.explain`) shows the statuses, so the
two cannot contradict each other.

Rules, in one place:

- M modules are always checked; C modules when the IOD's usage condition for
  them holds (:func:`~tbp_core.validation.conditions.module_required`); C/U
  modules also when one of their own Type 1/2 attributes is there.
- When several modules list an attribute, the stricter Type applies, except that
  an IOD-specific module refines a general one.
- Type 1 and 2 are required in a checked module; 1C and 2C when their condition
  (:mod:`tbp_core.validation.conditions`) holds. Type 1 and 1C must not be empty.
- Functional group macros directly inside the functional group sequences are
  required per IOD, not by the module table, and SR content items depend on their
  value type: those rows are listed, never required.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydicom.dataset import Dataset

from tbp_core import standard
from tbp_core.standard.formatting import tag_text, type_rank
from tbp_core.validation.conditions import condition_for, module_required
from tbp_core.validation.context import (
    Context,
    is_empty,
    items,
    join_path,
    raw_element,
    tag_of,
    top_level_tags,
)

Status = Literal["present", "empty", "missing", "not-applicable"]
PRESENT: Status = "present"
EMPTY: Status = "empty"
MISSING: Status = "missing"
NOT_APPLICABLE: Status = "not-applicable"

_FUNCTIONAL_GROUPS = frozenset(
    {"SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"}
)


#: Modules whose table flattens a recursive structure: only these attributes are checked.
_ONLY = {"sr-document-content": frozenset({"ValueType"})}


@dataclass(frozen=True)
class AttributeStatus:
    """One attribute of one module at one place in the dataset.

    Attributes
    ----------
    keyword : str
        The attribute's keyword.
    tag : int
        Its tag (for overlays, the tag in the overlay group present).
    path : str
        Where it is, e.g. ``AnatomicRegionSequence[0].CodeValue``.
    type : str
        The Type that applies here (``1``, ``1C``, ``2``, ``2C``, ``3``).
    status : str
        ``present``, ``empty``, ``missing`` or ``not-applicable``.
    problem : str
        The validator's finding code for it (``type1-missing``, ``type2c-missing``,
        ``type1-empty``, ``type1c-empty``, ...), or ``""``.
    module : str
        Key of the module whose Type applies.
    information_entity : str
        That module's IE.
    """

    keyword: str
    tag: int
    path: str
    type: str
    status: Status
    problem: str
    module: str
    information_entity: str


@dataclass(frozen=True)
class ModuleStatus:
    """A module of the IOD, whether the dataset holds it, and its attributes' statuses."""

    module: standard.ModuleUsage
    present: bool
    attributes: tuple[AttributeStatus, ...]


@dataclass(frozen=True)
class Evaluation:
    """Every module of the IOD evaluated over one dataset.

    Attributes
    ----------
    iod : str
        The IOD key.
    modules : tuple of ModuleStatus
        In the IOD's order.
    problems : tuple of AttributeStatus
        The statuses with a problem, each place once, in evaluation order.
    unevaluated : frozenset of str
        Generic paths of absent conditional attributes whose condition could not
        be decided.
    """

    iod: str
    modules: tuple[ModuleStatus, ...]
    problems: tuple[AttributeStatus, ...]
    unevaluated: frozenset[str]


def evaluate(ctx: Context) -> Evaluation:
    """Evaluate the modules of ``ctx.iod`` over ``ctx.ds``.

    Parameters
    ----------
    ctx : Context
        The validation context: dataset and IOD key (non-empty). Values that
        cannot be read become findings in it; deferred values are never read.

    Returns
    -------
    Evaluation
        Statuses per module and the problems the validator reports.
    """
    modules = standard.modules_of_iod(ctx.iod)
    shared = _shared_keywords(ctx.iod)
    presence = {module.key: _module_present(ctx, module, shared) for module in modules}
    effective = _effective_rows(modules, presence)
    checked: dict[tuple[str, int], AttributeStatus] = {}
    unevaluated: set[str] = set()
    unconditional: set[str] = set()
    overlays = _overlay_groups(ctx.ds)
    by_path: dict[tuple[str, ...], list[tuple[standard.ModuleUsage, standard.ModuleAttribute]]] = {}
    for (path, _), pair in effective.items():
        by_path.setdefault(path, []).append(pair)
    for path, pairs in by_path.items():
        for prefix, item in _items_at(ctx, ctx.ds, path, ""):
            for module, attribute in pairs:
                generic = ".".join((*attribute.path, attribute.keyword))
                if attribute.type in ("1", "2"):
                    unconditional.add(generic)
                for tag in _tags_for(attribute, path, overlays):
                    status, decided = _status(ctx, module, attribute, item, prefix, tag)
                    if not decided:
                        unevaluated.add(generic)
                    checked.setdefault((status.path, tag), status)
    module_statuses = tuple(
        ModuleStatus(module, presence[module.key], tuple(_listing(ctx, module, checked, overlays)))
        for module in modules
    )
    return Evaluation(
        iod=ctx.iod,
        modules=module_statuses,
        problems=tuple(s for s in checked.values() if s.problem),
        unevaluated=frozenset(unevaluated - unconditional),
    )


# --------------------------------------------------------------------------- which rows apply


def _effective_rows(
    modules: tuple[standard.ModuleUsage, ...], presence: dict[str, bool]
) -> dict[tuple[tuple[str, ...], str], tuple[standard.ModuleUsage, standard.ModuleAttribute]]:
    """(path, keyword) → the (module, row) whose Type applies.

    Top-level rows of the modules in use, and nested rows of every module.
    """
    effective: dict[
        tuple[tuple[str, ...], str], tuple[standard.ModuleUsage, standard.ModuleAttribute]
    ] = {}
    for module in modules:
        for path, attributes in standard.module_attributes_by_path(module.key):
            # A sequence's items follow its item Types wherever the sequence is,
            # so nested rows apply even when the module is not otherwise in use.
            if not _checked(path) or not (path or presence[module.key]):
                continue
            only = _ONLY.get(module.key)
            for attribute in attributes:
                if only is not None and attribute.keyword not in only:
                    continue
                key = (path, attribute.keyword)
                if key not in effective or applies_over(effective[key], module, attribute):
                    effective[key] = (module, attribute)
    return effective


def _module_present(ctx: Context, module: standard.ModuleUsage, shared: frozenset[str]) -> bool:
    """M modules always; C modules whose condition holds; C/U modules with own attributes.

    A C module is required when the IOD's condition for it holds
    (:func:`~tbp_core.validation.conditions.module_required`); otherwise, and
    for U modules, it is present when one of its own Type 1/2/1C/2C top-level
    attributes is there. ``shared`` holds keywords that also belong to another
    module of the IOD: they do not show which of the modules is present.
    """
    if module.usage == "M" or module_required(ctx, module):
        return True
    ds = ctx.ds
    for path, attributes in standard.module_attributes_by_path(module.key):
        if path:
            continue
        for attribute in attributes:
            if attribute.keyword in shared or attribute.type not in ("1", "2", "1C", "2C"):
                continue
            tag = tag_of(attribute.keyword)
            if tag is not None and _present_in_any_group(ds, tag):
                return True
    return False


def _checked(path: tuple[str, ...]) -> bool:
    """Whether Types at this path are meaningful on their own.

    Functional group macros (directly inside the functional group sequences)
    are required per IOD, not by the module table; SR content items depend
    on their value type.
    """
    if len(path) == 1 and path[0] in _FUNCTIONAL_GROUPS:
        return False
    return "ContentSequence" not in path


@cache
def _shared_keywords(iod: str) -> frozenset[str]:
    """Top-level keywords listed by more than one module of the IOD (mandatory ones first)."""
    seen: dict[str, int] = {}
    mandatory: set[str] = set()
    for module in standard.modules_of_iod(iod):
        for path, rows in standard.module_attributes_by_path(module.key):
            if path:
                continue
            for attribute in rows:
                seen[attribute.keyword] = seen.get(attribute.keyword, 0) + 1
                if module.usage == "M":
                    mandatory.add(attribute.keyword)
    return frozenset(k for k, n in seen.items() if n > 1) | frozenset(mandatory)


def applies_over(
    current: tuple[standard.ModuleUsage, standard.ModuleAttribute],
    module: standard.ModuleUsage,
    attribute: standard.ModuleAttribute,
) -> bool:
    """Whether ``module``'s row, not the current one, gives a shared attribute its Type.

    The stricter Type wins, except that an IOD-specific module refines a
    general one (SC Equipment's Modality, Type 3, over General Series' Type 1).
    The validator, the Structure view and the metadata form all use this rule.

    Parameters
    ----------
    current : tuple of (ModuleUsage, ModuleAttribute)
        The module and row that give the Type so far.
    module : ModuleUsage
        Another module listing the attribute.
    attribute : ModuleAttribute
        Its row in that module.

    Returns
    -------
    bool
        True when the other module's Type applies instead.
    """
    old_module, old = current
    if old_module.key.startswith("general-") and not module.key.startswith(
        ("general-", "sop-common", "common-")
    ):
        return True
    return type_rank(attribute.type) < type_rank(old.type)


# --------------------------------------------------------------------------- places


def _overlay_groups(ds: Dataset) -> list[int]:
    """Offsets (0, 0x20000, ...) of the overlay groups 60xx present in the dataset."""
    groups = sorted({(t >> 16) for t in top_level_tags(ds) if 0x6000 <= (t >> 16) <= 0x601E})
    return [(g - 0x6000) << 16 for g in groups if g % 2 == 0]


def _present_in_any_group(ds: Dataset, tag: int) -> bool:
    if tag >> 16 != 0x6000:
        return tag in ds
    return any((tag + offset) in ds for offset in _overlay_groups(ds))


def _tags_for(
    attribute: standard.ModuleAttribute, path: tuple[str, ...], overlays: list[int]
) -> list[int]:
    """The tags an attribute row stands for: one per overlay group for top-level 60xx rows."""
    tag = tag_of(attribute.keyword)
    if tag is None:
        return []
    if tag >> 16 == 0x6000 and not path:
        return [tag + offset for offset in overlays]
    return [tag]


def _place(prefix: str, keyword: str, tag: int) -> str:
    """The path of an attribute; overlays outside group 6000 by tag, so groups stay apart."""
    if tag >> 16 != 0x6000 and 0x6000 <= tag >> 16 <= 0x601E:
        return join_path(prefix, tag_text(tag))
    return join_path(prefix, keyword)


def _items_at(
    ctx: Context, ds: Dataset, path: tuple[str, ...], prefix: str
) -> Iterator[tuple[str, Dataset]]:
    """(path text, item) for every item at a sequence path (the dataset for ``()``)."""
    if not path:
        yield prefix, ds
        return
    head, rest = path[0], path[1:]
    for item_path, item in items(ctx, ds, head, join_path(prefix, head)):
        yield from _items_at(ctx, item, rest, item_path)


# --------------------------------------------------------------------------- statuses


def _status(
    ctx: Context,
    module: standard.ModuleUsage,
    attribute: standard.ModuleAttribute,
    item: Dataset,
    prefix: str,
    tag: int,
) -> tuple[AttributeStatus, bool]:
    """The status of one required-or-conditional row at one item; False when undecided."""
    kind = attribute.type
    path = _place(prefix, attribute.keyword, tag)

    def result(status: Status, problem: str = "") -> AttributeStatus:
        return AttributeStatus(
            attribute.keyword,
            tag,
            path,
            kind,
            status,
            problem,
            module.key,
            module.information_entity,
        )

    if tag in item:
        if not is_empty(ctx, item, tag, path):
            return result(PRESENT), True
        if kind == "1":
            return result(EMPTY, "type1-empty"), True
        if kind == "1C":
            return result(EMPTY, "type1c-empty"), True
        return result(EMPTY), True
    if kind in ("1", "2"):
        return result(MISSING, f"type{kind}-missing"), True
    if kind in ("1C", "2C"):
        required = condition_for(ctx, module, attribute, item)
        if required:
            return result(MISSING, f"type{kind.lower()}-missing"), True
        return result(NOT_APPLICABLE), required is not None
    return result(NOT_APPLICABLE), True


def _listing(
    ctx: Context,
    module: standard.ModuleUsage,
    checked: dict[tuple[str, int], AttributeStatus],
    overlays: list[int],
) -> Iterator[AttributeStatus]:
    """Every row of a module at every item present, with the evaluated status where there is one.

    Rows inside unchecked places (SR content items, functional group macros)
    are listed only for items that exist and are never required.
    """
    for path, attributes in standard.module_attributes_by_path(module.key):
        rows = []
        for attribute in attributes:
            base = tag_of(attribute.keyword)
            rows.append(
                (
                    attribute,
                    _tags_for(attribute, path, overlays) or ([] if base is None else [base]),
                )
            )
        for prefix, item in _items_at(ctx, ctx.ds, path, ""):
            for attribute, tags in rows:
                for tag in tags:
                    key = (_place(prefix, attribute.keyword, tag), tag)
                    found = checked.get(key)
                    yield (
                        found
                        if found is not None
                        else _observed(ctx, module, attribute, item, prefix, tag)
                    )


def _observed(
    ctx: Context,
    module: standard.ModuleUsage,
    attribute: standard.ModuleAttribute,
    item: Dataset,
    prefix: str,
    tag: int,
) -> AttributeStatus:
    """The status of a row nobody requires here: present, empty, or not applicable."""
    path = _place(prefix, attribute.keyword, tag)
    status = NOT_APPLICABLE
    if raw_element(item, tag) is not None:
        status = EMPTY if is_empty(ctx, item, tag, path) else PRESENT
    return AttributeStatus(
        attribute.keyword,
        tag,
        path,
        attribute.type,
        status,
        "",
        module.key,
        module.information_entity,
    )
