"""Dataset ⇄ tag table, and safe tag edits addressed by path: the public face.

- :mod:`tbp_core.inspection.tagtable`: :func:`to_table`, one row per element
  (nested ones too); large values are never read.
- :mod:`tbp_core.inspection.tagedits`: the edits (:class:`SetValue`,
  :class:`AddElement`, ...), the paths they are addressed by
  (``AnatomicRegionSequence[0].CodeValue``, ``(0011,1010)``), the
  :class:`Change` an applied edit gives and :func:`undo`.
- :mod:`tbp_core.inspection.tagapply`: :func:`apply_edit`, which checks an edit
  completely (VR, VM, Enumerated Values in the dataset's IOD) before changing
  anything, and :func:`apply_edits`, all or nothing.
"""

from __future__ import annotations

from tbp_core.inspection.tagapply import apply_edit, apply_edits
from tbp_core.inspection.tagedits import (
    AddElement,
    AddItem,
    Change,
    DeleteElement,
    Edit,
    EditResult,
    RegenerateUID,
    RemoveItem,
    SetValue,
    parse_cli_edits,
    undo,
)
from tbp_core.inspection.tagtable import TABLE_COLUMNS, to_table

__all__ = [
    "TABLE_COLUMNS",
    "AddElement",
    "AddItem",
    "Change",
    "DeleteElement",
    "Edit",
    "EditResult",
    "RegenerateUID",
    "RemoveItem",
    "SetValue",
    "apply_edit",
    "apply_edits",
    "parse_cli_edits",
    "to_table",
    "undo",
]
