"""IOD builders: VL Photographic, Dermoscopic Photography and Secondary Capture images.

The IODs themselves (:mod:`~tbp_core.building.iods.spec`) are imported at
once; the builder, which imports pydicom, on first use of one of its names,
so that the command line can list the IODs without loading pydicom.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tbp_core.building.iods.spec import (
    DERMOSCOPIC,
    IODS,
    SECONDARY_CAPTURE,
    VL_PHOTOGRAPHIC,
    IodSpec,
    get_iod,
)

if TYPE_CHECKING:
    from tbp_core.building.iods.builder import (
        BuiltInstance,
        SeriesContext,
        build_instance,
        new_series_context,
    )

#: Names defined by :mod:`~tbp_core.building.iods.builder`.
_BUILDER_NAMES = frozenset(
    {"BuiltInstance", "SeriesContext", "build_instance", "new_series_context"}
)

__all__ = [
    "DERMOSCOPIC",
    "IODS",
    "SECONDARY_CAPTURE",
    "VL_PHOTOGRAPHIC",
    "BuiltInstance",
    "IodSpec",
    "SeriesContext",
    "build_instance",
    "get_iod",
    "new_series_context",
]


def __getattr__(name: str) -> Any:
    """Import the builder when one of its names is first asked for."""
    if name in _BUILDER_NAMES:
        return getattr(importlib.import_module("tbp_core.building.iods.builder"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
