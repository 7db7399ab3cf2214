"""The standard's knowledge, one module per rule.

- :mod:`~tbp_core.standard.tables`: IOD → module → attribute tables (highdicom's copy).
- :mod:`~tbp_core.standard.enumerations`: enumerated values and defined terms.
- :mod:`~tbp_core.standard.vr`: VR families, VM, and checks of stored values.
- :mod:`~tbp_core.standard.normalform`: the normal form of typed values, per VR.
- :mod:`~tbp_core.standard.anatomy`: SNOMED CT anatomic regions and laterality.
- :mod:`~tbp_core.standard.private`: the TBP private block.
- :mod:`~tbp_core.standard.references`: purposes of reference between images.

The names of :mod:`tables` are re-exported here, so ``standard.modules_of_iod``
reads as the standard's own table.
"""

from tbp_core.standard.tables import (
    PRODUCED_IODS,
    AttributeInfo,
    ModuleAttribute,
    ModuleUsage,
    anatomic_region_table,
    attribute_info,
    attributes_of_module,
    compute_top_level_keywords,
    iod_for_sop_class,
    module_attributes_by_path,
    modules_of_iod,
    table_folder,
    tables_version,
    top_level_keywords_of_iod,
    write_produced_iod_keywords,
)

__all__ = [
    "PRODUCED_IODS",
    "AttributeInfo",
    "ModuleAttribute",
    "ModuleUsage",
    "anatomic_region_table",
    "attribute_info",
    "attributes_of_module",
    "compute_top_level_keywords",
    "iod_for_sop_class",
    "module_attributes_by_path",
    "modules_of_iod",
    "table_folder",
    "tables_version",
    "top_level_keywords_of_iod",
    "write_produced_iod_keywords",
]
