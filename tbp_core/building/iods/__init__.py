"""IOD builders: VL Photographic, Dermoscopic Photography and Secondary Capture images."""

from tbp_core.building.iods.builder import (
    BuiltInstance,
    SeriesContext,
    build_instance,
    new_series_context,
)
from tbp_core.building.iods.spec import (
    DERMOSCOPIC,
    IODS,
    SECONDARY_CAPTURE,
    VL_PHOTOGRAPHIC,
    IodSpec,
    get_iod,
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
