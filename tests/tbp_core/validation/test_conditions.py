"""Type 1C/2C conditions parsed from the standard, evaluated on small built datasets."""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tbp_core import standard
from tbp_core.validation.conditions import condition_for
from tbp_core.validation.context import Context
from tbp_core.validation.standardconditions import holds, source, standard_condition

_PIXEL = standard.ModuleUsage("image-pixel", "M", "Image")


def _required(ds: Dataset, module: standard.ModuleUsage, keyword: str) -> bool | None:
    return condition_for(
        Context(ds, "ct-image"), module, standard.ModuleAttribute(keyword, "1C", ()), ds
    )


def test_source_names_the_standard_edition() -> None:
    assert "PS3.3 2020b" in source()


def test_planar_configuration_follows_samples_per_pixel() -> None:
    assert standard_condition("image-pixel", (), "PlanarConfiguration") is not None
    ds = Dataset()
    ds.SamplesPerPixel = 3
    assert _required(ds, _PIXEL, "PlanarConfiguration") is True
    ds.SamplesPerPixel = 1
    assert _required(ds, _PIXEL, "PlanarConfiguration") is False


def test_palette_descriptors_follow_photometric_interpretation() -> None:
    ds = Dataset()
    ds.PhotometricInterpretation = "PALETTE COLOR"
    assert _required(ds, _PIXEL, "RedPaletteColorLookupTableDescriptor") is True
    ds.PhotometricInterpretation = "MONOCHROME2"
    assert _required(ds, _PIXEL, "RedPaletteColorLookupTableDescriptor") is False


def test_pixel_data_required_unless_a_provider_url_is_given() -> None:
    ds = Dataset()
    assert _required(ds, _PIXEL, "PixelData") is True
    ds.PixelDataProviderURL = "http://example.com/pixels"
    assert _required(ds, _PIXEL, "PixelData") is False


def test_condition_on_an_item_looks_at_the_item_then_the_top_level() -> None:
    item = Dataset()
    item.CodeValue = "T-D1100"
    ds = Dataset()
    ds.AnatomicRegionSequence = Sequence([item])
    ctx = Context(ds, "ct-image")
    scheme = {"op": "+", "tag": "CodeValue", "type": "MU"}
    assert holds(ctx, scheme, item) is True
    assert holds(ctx, scheme, Dataset()) is False
    ds.CodeValue = "X"  # not in the item, but at the top level
    assert holds(ctx, scheme, Dataset()) is True


def test_and_or_and_undecidable_comparisons() -> None:
    ds = Dataset()
    ds.SamplesPerPixel = 3
    ctx = Context(ds, "ct-image")
    more = {"op": ">", "tag": "SamplesPerPixel", "values": ["1"]}
    absent = {"op": "-", "tag": "PixelDataProviderURL"}
    points = {"op": "=>", "tag": "FrameIncrementPointer", "values": ["(0018,1063)"]}
    ds.FrameIncrementPointer = 0x00181063
    assert holds(ctx, {"and": [more, absent], "type": "MU"}, ds) is True
    assert holds(ctx, {"and": [more, {"op": "+", "tag": "PixelDataProviderURL"}]}, ds) is False
    assert holds(ctx, {"or": [points, {"op": "+", "tag": "Rows"}]}, ds) is None
    assert holds(ctx, {"or": [points, more]}, ds) is True


def test_otherwise_clause_never_requires() -> None:
    ds = Dataset()
    ds.PixelData = b"\0\0"
    padding = standard.ModuleUsage("general-equipment", "M", "Equipment")
    assert _required(ds, padding, "PixelPaddingValue") is False
    ds.PixelPaddingRangeLimit = 10
    assert _required(ds, padding, "PixelPaddingValue") is True


def test_code_macro_values_keep_the_hand_written_rule() -> None:
    item = Dataset()
    item.LongCodeValue = "a code longer than sixteen characters"
    module = standard.ModuleUsage("general-series", "M", "Series")
    attribute = standard.ModuleAttribute("CodeValue", "1C", ("AnatomicRegionSequence",))
    ctx = Context(Dataset(), "ct-image")
    assert condition_for(ctx, module, attribute, item) is False
    urn = standard.ModuleAttribute("URNCodeValue", "1C", ("AnatomicRegionSequence",))
    assert condition_for(ctx, module, urn, item) is None


def test_unparsed_condition_falls_back_to_the_hand_written_rule() -> None:
    assert standard_condition("general-series", (), "Laterality") is None
    ds = Dataset()
    ds.ImageLaterality = "L"
    module = standard.ModuleUsage("general-series", "M", "Series")
    attribute = standard.ModuleAttribute("Laterality", "2C", ())
    assert condition_for(Context(ds, "ct-image"), module, attribute, ds) is False
