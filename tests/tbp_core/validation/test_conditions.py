"""Type 1C/2C conditions parsed from the standard, evaluated on small built datasets."""

from __future__ import annotations

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence

from tbp_core import standard
from tbp_core.validation import standardconditions
from tbp_core.validation.conditions import condition_for, module_required
from tbp_core.validation.context import Context
from tbp_core.validation.requirements import evaluate
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


# --------------------------------------------------------------------------- module usage


def _modules(ds: Dataset, iod: str) -> dict[str, bool]:
    return {m.module.key: m.present for m in evaluate(Context(ds, iod)).modules}


def _problems(ds: Dataset, iod: str) -> set[tuple[str, str]]:
    return {(p.keyword, p.problem) for p in evaluate(Context(ds, iod)).problems}


def test_module_usage_keys_are_c_modules_of_known_iods() -> None:
    usage = standardconditions._table()["module_usage"]
    assert sum(len(modules) for modules in usage.values()) >= 50
    # Removed from PS3.3 after the 2020b edition the data comes from.
    dropped = {("vl-whole-slide-microscopy-image", "multi-resolution-navigation")}
    for iod, modules in usage.items():
        ours = {m.key: m.usage for m in standard.modules_of_iod(iod)}
        assert ours, iod
        for key in modules:
            assert ours.get(key) == "C" or (iod, key) in dropped, (iod, key)


def test_image_type_value_3_selects_the_nm_module() -> None:
    ds = Dataset()
    ds.ImageType = ["ORIGINAL", "PRIMARY", "DYNAMIC"]
    assert _modules(ds, "nuclear-medicine-image")["nm-phase"] is True
    ds.ImageType = ["ORIGINAL", "DYNAMIC", "STATIC"]  # DYNAMIC is Value 2, not 3
    assert _modules(ds, "nuclear-medicine-image")["nm-phase"] is False


def test_palette_color_requires_the_palette_module_in_ultrasound() -> None:
    ds = Dataset()
    ds.PhotometricInterpretation = "PALETTE COLOR"
    assert _modules(ds, "ultrasound-image")["palette-color-lookup-table"] is True
    assert ("RedPaletteColorLookupTableDescriptor", "type1-missing") in _problems(
        ds, "ultrasound-image"
    )
    ds.PhotometricInterpretation = "RGB"
    assert _modules(ds, "ultrasound-image")["palette-color-lookup-table"] is False
    assert ("RedPaletteColorLookupTableDescriptor", "type1-missing") not in _problems(
        ds, "ultrasound-image"
    )


def test_frame_increment_pointer_is_compared_as_a_tag() -> None:
    iod = "multi-frame-true-color-secondary-capture-image"
    ds = Dataset()
    ds.FrameIncrementPointer = 0x00181063  # Frame Time
    assert _modules(ds, iod)["cine"] is True
    ds.FrameIncrementPointer = 0x00181065  # Frame Time Vector
    assert _modules(ds, iod)["cine"] is True
    ds.FrameIncrementPointer = 0x00182002  # Frame Label Vector
    assert _modules(ds, iod)["cine"] is False
    ds.NumberOfFrames = 2
    assert _modules(ds, iod)["sc-multi-frame-vector"] is True
    ds.NumberOfFrames = 1
    assert _modules(ds, iod)["sc-multi-frame-vector"] is False


def test_undecidable_usage_keeps_the_own_attributes_rule() -> None:
    ds = Dataset()
    ctx = Context(ds, "ct-image")
    contrast = next(m for m in standard.modules_of_iod("ct-image") if m.key == "contrast-bolus")
    assert module_required(ctx, contrast) is None  # "if contrast media was used"
    assert _modules(ds, "ct-image")["contrast-bolus"] is False
    ds.ContrastBolusRoute = "IV"  # Type 3 only: still not shown to be present
    assert _modules(ds, "ct-image")["contrast-bolus"] is False
    ds.ContrastBolusAgent = "Iodine"
    assert _modules(ds, "ct-image")["contrast-bolus"] is True


def test_voi_lut_module_follows_presentation_intent() -> None:
    ds = Dataset()
    ds.PresentationIntentType = "FOR PROCESSING"
    assert _modules(ds, "digital-x-ray-image")["voi-lut"] is False
    ds.PresentationIntentType = "FOR PRESENTATION"
    assert _modules(ds, "digital-x-ray-image")["voi-lut"] is True


def test_modality_lut_condition_read_past_its_optional_paragraph() -> None:
    ds = Dataset()
    ds.PixelIntensityRelationship = "LOG"
    assert _modules(ds, "x-ray-angiographic-image")["modality-lut"] is True
    ds.PixelIntensityRelationship = "DISP"
    assert _modules(ds, "x-ray-angiographic-image")["modality-lut"] is False


def test_sc_frame_of_reference_follows_spatial_functional_groups() -> None:
    iod = "multi-frame-grayscale-byte-secondary-capture-image"
    ds = Dataset()
    assert _modules(ds, iod)["frame-of-reference"] is False
    group = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [0.5, 0.5]
    group.PixelMeasuresSequence = Sequence([measures])
    ds.SharedFunctionalGroupsSequence = Sequence([group])
    assert _modules(ds, iod)["frame-of-reference"] is True
    assert ("FrameOfReferenceUID", "type1-missing") in _problems(ds, iod)


def test_rt_beams_follow_the_fraction_groups() -> None:
    ds = Dataset()
    assert _modules(ds, "rt-plan")["rt-beams"] is False
    fraction = Dataset()
    fraction.NumberOfBeams = 0
    fraction.NumberOfBrachyApplicationSetups = 1
    ds.FractionGroupSequence = Sequence([fraction])
    assert _modules(ds, "rt-plan")["rt-beams"] is False
    assert _modules(ds, "rt-plan")["rt-brachy-application-setups"] is True
    fraction.NumberOfBeams = 2
    assert _modules(ds, "rt-plan")["rt-beams"] is True
    assert ("BeamSequence", "type1-missing") in _problems(ds, "rt-plan")


# ------------------------------------------------------------- hand-written attribute rules


def test_animal_attributes_only_for_an_animal_patient() -> None:
    patient = standard.ModuleUsage("patient", "M", "Patient")
    ds = Dataset()
    for keyword in ("ResponsiblePerson", "PatientBreedCodeSequence", "PatientSpeciesDescription"):
        assert _required(ds, patient, keyword) is False
    ds.PatientSpeciesDescription = "Canis lupus familiaris"
    assert _required(ds, patient, "ResponsiblePerson") is True
    assert _required(ds, patient, "PatientBreedCodeSequence") is True
    assert _required(ds, patient, "PatientBreedDescription") is True  # no breed code
    assert _required(ds, patient, "PatientSpeciesCodeSequence") is False  # description given
    series = standard.ModuleUsage("general-series", "M", "Series")
    assert _required(ds, series, "AnatomicalOrientationType") is None
    assert _required(Dataset(), series, "AnatomicalOrientationType") is False


def test_extended_offset_lengths_and_provider_url() -> None:
    ds = Dataset()
    assert _required(ds, _PIXEL, "ExtendedOffsetTableLengths") is False
    ds.ExtendedOffsetTable = b"\0" * 8
    assert _required(ds, _PIXEL, "ExtendedOffsetTableLengths") is True
    assert _required(ds, _PIXEL, "PixelDataProviderURL") is None  # no file meta
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.94"
    assert _required(ds, _PIXEL, "PixelDataProviderURL") is True
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    assert _required(ds, _PIXEL, "PixelDataProviderURL") is False


def test_concatenation_attributes_go_together() -> None:
    module = standard.ModuleUsage("enhanced-ct-image-multi-frame-functional-groups", "M", "Image")
    ds = Dataset()
    for keyword in ("ConcatenationUID", "InConcatenationNumber", "ConcatenationFrameOffsetNumber"):
        assert _required(ds, module, keyword) is False
    ds.ConcatenationUID = "1.2.3"
    assert _required(ds, module, "InConcatenationNumber") is True
    assert _required(ds, module, "SOPInstanceUIDOfConcatenationSource") is True
    other = Dataset()
    other.InConcatenationNumber = 2
    assert _required(other, module, "ConcatenationUID") is True
