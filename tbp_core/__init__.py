"""TBP DICOM Studio core library.

Turns Total Body Photography images (PNG, JPEG, TIFF) into standard DICOM
objects and reads, inspects and validates DICOM files. This package never
imports streamlit; the web app in ``app.py``/``views/``/``ui/`` is built on it.

The public API is listed in ``__all__``; each name is imported from its
subpackage on first use (module ``__getattr__``), so ``import tbp_core`` — and
a CLI command that needs one part — stays cheap::

    import tbp_core

    ds = tbp_core.read("image.dcm")
    report = tbp_core.validate(ds)
    found = tbp_core.index_paths(["study.zip"])

Subpackages, by stage: ``sources`` (reading images), ``building`` (making
DICOM objects), ``standard`` and ``validation`` (the standard's rules and
checks), ``inspection`` (dump, structure, tag table, index), ``fileio``
(reading and writing files), ``session`` (the app's working documents).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS: dict[str, str] = {
    # errors
    "TbpError": "tbp_core.errors",
    "DicomReadError": "tbp_core.errors",
    "ConversionError": "tbp_core.errors",
    "TagEditError": "tbp_core.errors",
    "MetadataError": "tbp_core.errors",
    "ImageLoadError": "tbp_core.errors",
    "UnsupportedImageError": "tbp_core.errors",
    "CodecUnavailableError": "tbp_core.errors",
    # reading and writing DICOM files
    "read": "tbp_core.fileio.dicomio",
    "read_with_report": "tbp_core.fileio.dicomio",
    "write": "tbp_core.fileio.dicomio",
    # building
    "convert_image": "tbp_core.building.convert",
    "ConvertOptions": "tbp_core.building.convert",
    "get_iod": "tbp_core.building.iods",
    "new_series_context": "tbp_core.building.iods",
    "parse_template": "tbp_core.building.templates",
    "lesion_link_metadata": "tbp_core.building.lesionlink",
    "parse_manifest": "tbp_core.building.manifest",
    "session_from_folder": "tbp_core.building.sessionfolder",
    "SessionJob": "tbp_core.building.sessionconvert",
    "convert_session": "tbp_core.building.sessionconvert",
    "conformance": "tbp_core.building.conformance",
    # editing
    "apply_edits": "tbp_core.inspection.tagapply",
    # sharing
    "deidentify": "tbp_core.sharing.deidentify",
    "DeidentifyOptions": "tbp_core.sharing.deidentify",
    "IdentifierMap": "tbp_core.sharing.identifiers",
    # validation
    "validate": "tbp_core.validation.validate",
    "ValidationReport": "tbp_core.validation.findings",
    # inspection
    "build_tree": "tbp_core.inspection.dump",
    "build_structure": "tbp_core.inspection.explain",
    "index_paths": "tbp_core.inspection.index",
    "index_datasets": "tbp_core.inspection.index",
    "group_instances": "tbp_core.inspection.hierarchy",
}

__all__ = [
    "CodecUnavailableError",
    "ConversionError",
    "ConvertOptions",
    "DeidentifyOptions",
    "DicomReadError",
    "IdentifierMap",
    "ImageLoadError",
    "MetadataError",
    "SessionJob",
    "TagEditError",
    "TbpError",
    "UnsupportedImageError",
    "ValidationReport",
    "__version__",
    "apply_edits",
    "build_structure",
    "build_tree",
    "conformance",
    "convert_image",
    "convert_session",
    "deidentify",
    "get_iod",
    "group_instances",
    "index_datasets",
    "index_paths",
    "lesion_link_metadata",
    "new_series_context",
    "parse_manifest",
    "parse_template",
    "read",
    "read_with_report",
    "session_from_folder",
    "validate",
    "write",
]

if TYPE_CHECKING:
    from tbp_core.building.conformance import conformance
    from tbp_core.building.convert import ConvertOptions, convert_image
    from tbp_core.building.iods import get_iod, new_series_context
    from tbp_core.building.lesionlink import lesion_link_metadata
    from tbp_core.building.manifest import parse_manifest
    from tbp_core.building.sessionconvert import SessionJob, convert_session
    from tbp_core.building.sessionfolder import session_from_folder
    from tbp_core.building.templates import parse_template
    from tbp_core.errors import (
        CodecUnavailableError,
        ConversionError,
        DicomReadError,
        ImageLoadError,
        MetadataError,
        TagEditError,
        TbpError,
        UnsupportedImageError,
    )
    from tbp_core.fileio.dicomio import read, read_with_report, write
    from tbp_core.inspection.dump import build_tree
    from tbp_core.inspection.explain import build_structure
    from tbp_core.inspection.hierarchy import group_instances
    from tbp_core.inspection.index import index_datasets, index_paths
    from tbp_core.inspection.tagapply import apply_edits
    from tbp_core.sharing.deidentify import DeidentifyOptions, deidentify
    from tbp_core.sharing.identifiers import IdentifierMap
    from tbp_core.validation.findings import ValidationReport
    from tbp_core.validation.validate import validate


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tbp_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names as well as the module's own."""
    return sorted({*globals(), *_EXPORTS})
