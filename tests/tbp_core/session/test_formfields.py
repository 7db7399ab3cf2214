"""The metadata form without a user interface: fields per IOD, findings, typed input."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.dataset import Dataset

from tbp_core import standard
from tbp_core.building.iods import DERMOSCOPIC, new_series_context
from tbp_core.building.iods.builder import DERMOSCOPIC_EQUIPMENT
from tbp_core.building.metadata import parse_template
from tbp_core.errors import MetadataError
from tbp_core.inspection import tags
from tbp_core.session import formfields, workspace
from tbp_core.session.formfields import CALIBRATION_IE, FormField, FormSection
from tbp_core.standard import anatomy, private
from tbp_core.validation.findings import Finding
from tbp_core.validation.validate import validate
from tests.conftest import DATA, ROOT

VL = "vl-photographic-image"
DERM = "dermoscopic-photography-image"
SC = "secondary-capture-image"
SAMPLE = ROOT / "sample_data" / "regional_back.png"
LESION = ROOT / "sample_data" / "dermoscopic_lesion.png"
CT = DATA / "dicom" / "CT_small.dcm"


def _by_key(sections: tuple[FormSection, ...]) -> dict[str, FormField]:
    return {f.key: f for f in formfields.form_fields(sections)}


def _module_types(module_key: str) -> dict[str, str]:
    return {a.keyword: a.type for a in standard.attributes_of_module(module_key) if not a.path}


# ------------------------------------------------------------------ layout per IOD


@pytest.mark.parametrize("iod", [VL, DERM, SC])
def test_sections_follow_the_iod_modules_and_take_types_from_the_standard(iod: str) -> None:
    sections = formfields.form_sections(iod)
    ies = [s.ie for s in sections]
    assert ies[:3] == ["Patient", "Study", "Series"]
    assert ies[-1] == CALIBRATION_IE
    assert "Equipment" in ies and "Image" in ies
    iod_modules = [m.key for m in standard.modules_of_iod(iod)]
    shown = [m.key for s in sections for m in s.modules if s.ie != CALIBRATION_IE]
    assert shown == [k for k in iod_modules if k in shown]  # the standard's order
    for section in sections:
        for module in section.modules:
            assert module.fields, module.key
            for field in module.fields:
                assert field.ie == section.ie and field.module == module.key
                if not field.is_private:
                    assert field.type == _module_types(module.key)[field.keyword], field.key
                    info = standard.attribute_info(field.keyword)
                    assert info is not None
                    assert field.name == info.name and field.vr == info.vr
    keys = [f.key for f in formfields.form_fields(sections)]
    assert len(keys) == len(set(keys))  # each attribute once


def test_vl_photographic_fields_have_names_tags_kinds_and_choices() -> None:
    fields = _by_key(formfields.form_sections(VL))
    name = fields["PatientName"]
    assert (name.name, name.tag, name.vr, name.type) == ("Patient's Name", "(0010,0010)", "PN", "2")
    assert (name.module, name.module_name, name.ie, name.kind) == (
        "patient",
        "Patient",
        "Patient",
        "person_name",
    )
    assert fields["PatientBirthDate"].kind == "date"
    assert fields["PatientBirthDate"].tag == "(0010,0030)"
    assert fields["StudyTime"].kind == "time"
    sex = fields["PatientSex"]
    assert (sex.kind, sex.choices) == ("choice", ("M", "F", "O"))
    assert fields["PatientSize"].kind == "number" and fields["PatientSize"].ie == "Study"
    assert fields["PatientWeight"].module == "patient-study"
    assert fields["ReferringPhysicianName"].kind == "text"
    assert fields["SoftwareVersions"].kind == "text"  # VM 1-n: backslash-separated
    assert fields["Manufacturer"].module == "general-equipment"
    assert fields["Manufacturer"].type == "2"
    region = fields["AnatomicRegionSequence"]
    assert (region.kind, region.module, region.type) == ("anatomic_region", "vl-image", "1C")
    for derived in ("Rows", "SOPInstanceUID", "PixelData", "Modality", "InstanceNumber"):
        assert derived not in fields
    for labelled in (
        "Patient ID",
        "Patient's Sex",
        "Patient's Size",
        "Patient's Weight",
        "Study Description",
        "Study Date",
        "Accession Number",
        "Referring Physician's Name",
        "Series Description",
        "Manufacturer",
    ):
        assert labelled in {f.name for f in fields.values()}


def test_dermoscopic_shows_its_equipment_as_type_1_and_its_image_module() -> None:
    sections = formfields.form_sections(DERM)
    equipment = next(s for s in sections if s.ie == "Equipment")
    enhanced = next(m for m in equipment.modules if m.key == "enhanced-general-equipment")
    assert [f.keyword for f in enhanced.fields] == list(DERMOSCOPIC_EQUIPMENT)
    assert {f.type for f in enhanced.fields} == {"1"}
    general = next(m for m in equipment.modules if m.key == "general-equipment")
    assert "Manufacturer" not in [f.keyword for f in general.fields]  # shown once
    fields = _by_key(sections)
    assert fields["LightSourcePolarization"].choices == ("POLARIZED", "NON_POLARIZED")
    assert fields["ContactMethod"].module == "dermoscopic-image"
    visual = fields["RecognizableVisualFeatures"]
    assert (visual.module, visual.type, visual.choices) == ("dermoscopic-image", "1", ("YES", "NO"))
    assert formfields.builder_required(DERM) == DERMOSCOPIC_EQUIPMENT
    assert formfields.builder_required(VL) == ()


def test_secondary_capture_has_no_vl_image_module() -> None:
    sections = formfields.form_sections(SC)
    fields = _by_key(sections)
    assert "vl-image" not in {f.module for f in fields.values()}
    assert fields["AnatomicRegionSequence"].module == "general-image"
    assert fields["AnatomicRegionSequence"].type == "3"
    assert "LightSourcePolarization" not in fields
    equipment = next(s for s in sections if s.ie == "Equipment")
    assert equipment.modules[0].usage == "U"


def test_an_unknown_iod_gets_the_common_modules() -> None:
    sections = formfields.form_sections(None, calibration=False)
    assert [s.ie for s in sections] == ["Patient", "Study", "Series", "Equipment", "Image"]
    assert formfields.form_sections("no-such-iod", calibration=False) == sections


def test_the_calibration_block_is_its_own_section() -> None:
    sections = formfields.form_sections(VL)
    calibration = sections[-1]
    assert calibration.ie == CALIBRATION_IE
    fields = calibration.fields
    lesion_link = "tbp:LesionLocationOnRegional"  # the lesion link's, not calibration
    assert [f.key for f in fields] == [
        a.key for a in private.TBP_ATTRIBUTES if a.key != lesion_link
    ]
    assert formfields.form_field(lesion_link, VL) is None
    focal = fields[0]
    assert (focal.name, focal.tag, focal.vr, focal.type) == (
        "Focal Length (pixels)",
        "(0011,1010)",
        "DS",
        "",
    )
    assert focal.is_private and focal.kind == "number"
    assert "private attribute" in focal.help and focal.description in focal.help
    parfocal = next(f for f in fields if f.key == "tbp:Parfocal")
    assert parfocal.choices == ("1", "0")
    assert CALIBRATION_IE not in [s.ie for s in formfields.form_sections(VL, calibration=False)]


def test_exif_values_are_offered_and_marked_until_the_user_gives_a_value() -> None:
    doc = workspace.open_document(SAMPLE.name, SAMPLE.read_bytes(), new_series_context())
    exif = doc.exif_values
    assert exif["Manufacturer"] == "Lumo Imaging"
    fields = _by_key(formfields.form_sections(VL, exif_values=exif))
    assert fields["Manufacturer"].from_exif
    assert "EXIF" in fields["Manufacturer"].help
    assert not fields["PatientName"].from_exif
    exposure = fields["ExposureTimeInSeconds"]  # not a hand-filled field: offered by EXIF
    assert exposure.module == "vl-photographic-acquisition" and exposure.from_exif
    entered = _by_key(
        formfields.form_sections(VL, exif_values=exif, metadata={"Manufacturer": "Mine"})
    )
    assert not entered["Manufacturer"].from_exif
    assert "ExposureTimeInSeconds" not in _by_key(formfields.form_sections(VL))


def test_help_names_tag_type_vr_and_module() -> None:
    field = _by_key(formfields.form_sections(VL))["PatientBirthDate"]
    assert field.help.startswith("(0010,0030) · Type 2 · VR DA, VM 1 · Patient module")


def test_ie_of_and_select_by_ie() -> None:
    assert formfields.ie_of("PatientName", VL) == "Patient"
    assert formfields.ie_of("PatientWeight", VL) == "Study"
    assert formfields.ie_of("Manufacturer", DERM) == "Equipment"
    assert formfields.ie_of("tbp:FocalLengthPx", VL) == CALIBRATION_IE
    assert formfields.ie_of("AnatomicRegionSequence", VL) == "Image"
    values = {"PatientName": "A^B", "StudyDescription": "TBP", "tbp:Parfocal": 1, "FNumber": "2"}
    assert formfields.select_by_ie(values, VL, ["Patient", "Study"]) == {
        "PatientName": "A^B",
        "StudyDescription": "TBP",
    }


# ------------------------------------------------------------------ typed input


def _fields(*keys: str) -> list[FormField]:
    fields = _by_key(formfields.form_sections(VL))
    return [fields[k] for k in keys]


def test_a_bad_date_is_a_problem_that_keeps_the_typed_text() -> None:
    typed = {"PatientBirthDate": "1948-02-30", "PatientID": " TBP-7 ", "PatientSize": "1.68"}
    result = formfields.read_form(_fields(*typed), typed)
    assert result.values == {"PatientID": "TBP-7", "PatientSize": "1.68"}
    problem = result.problems["PatientBirthDate"]
    assert problem.value == "1948-02-30"
    assert "'1948-02-30' is not a valid date" in problem.message
    assert problem.message.startswith("PatientBirthDate:")


def test_dates_before_1970_and_empty_values_are_accepted() -> None:
    fields = _fields("PatientBirthDate", "StudyDate")
    result = formfields.read_form(fields, {"PatientBirthDate": "1931-05-04", "StudyDate": ""})
    assert result.values == {"PatientBirthDate": "19310504", "StudyDate": None}
    assert not result.problems


def test_name_parts_are_composed_and_checked() -> None:
    [name] = _fields("PatientName")
    typed = {"family": " Müller ", "given": "Zoë", "middle": ""}
    assert formfields.read_form([name], {"PatientName": typed}).values == {
        "PatientName": "Müller^Zoë"
    }
    bad = formfields.read_form([name], {"PatientName": {"family": "Doe^Jane", "given": ""}})
    assert bad.problems["PatientName"].value == {"family": "Doe^Jane", "given": ""}
    assert "type each part of the name in its own field" in bad.problems["PatientName"].message
    empty = formfields.read_form([name], {"PatientName": {"family": "", "given": ""}})
    assert empty.values == {"PatientName": None}


def test_name_parts_round_trip_with_prefix_suffix_and_other_groups() -> None:
    parts = formfields.name_parts("Yamada^Tarou^^Dr^Jr=山田^太郎")
    assert (parts["family"], parts["given"], parts["middle"]) == ("Yamada", "Tarou", "")
    assert (parts["prefix"], parts["suffix"], parts["groups"]) == ("Dr", "Jr", "山田^太郎")
    assert formfields.compose_name(parts) == "Yamada^Tarou^^Dr^Jr=山田^太郎"
    assert formfields.name_parts(None)["family"] == ""
    assert formfields.compose_name({"family": "Doe", "given": "Jane"}) == "Doe^Jane"


def test_choices_numbers_and_private_values_are_normalised() -> None:
    fields = [*_fields("PatientSex", "SeriesNumber"), *formfields.form_sections(VL)[-1].fields]
    typed = {
        "PatientSex": "X",
        "SeriesNumber": "two",
        "tbp:FocalLengthPx": "1560.0",
        "tbp:PrincipalPoint": "285.2\\427",
        "tbp:Parfocal": "1",
    }
    result = formfields.read_form(fields, typed)
    assert result.values == {
        "tbp:FocalLengthPx": "1560.0",
        "tbp:PrincipalPoint": [285.2, 427.0],
        "tbp:Parfocal": 1,
    }
    assert "not one of M, F, O" in result.problems["PatientSex"].message
    assert result.problems["SeriesNumber"].value == "two"


def test_typed_input_meets_the_iods_enumerated_values() -> None:
    immersion = formfields.form_field("ImmersionMedia", DERM)
    assert immersion is not None and immersion.vm == "1-n"  # several media: typed as text
    result = formfields.read_form([immersion], {"ImmersionMedia": "gel"})
    problem = result.problems["ImmersionMedia"]
    assert problem.value == "gel"
    assert "ULTRASOUND_GEL, ALCOHOL, WATER, MINERAL_OIL, PLASTIC_CAP" in problem.message
    assert problem.suggestion == "ULTRASOUND_GEL"
    modality = formfields.form_field("Modality", VL)
    assert modality is not None and modality.choices == ("XC",)
    assert (
        "one of XC"
        in formfields.read_form([modality], {"Modality": "DMS"}).problems["Modality"].message
    )
    unknown = formfields.form_field("Modality", "no-such-iod")
    assert unknown is not None and unknown.kind == "text"
    assert formfields.read_form([unknown], {"Modality": "DMS"}).values == {"Modality": "DMS"}
    assert formfields.form_field("NotInTheIod", VL) is None


def test_text_of_shows_values_as_typed() -> None:
    assert formfields.text_of(None) == ""
    assert formfields.text_of(["a", "b"]) == "a\\b"
    assert formfields.text_of([285.2, 427.0]) == "285.2\\427.0"
    assert formfields.text_of(1) == "1"


# ------------------------------------------------------------------ findings


def test_findings_of_a_real_validation_land_on_their_fields() -> None:
    ds = pydicom.dcmread(CT)
    ds.PatientSex = "X"
    item = Dataset()
    item.CodeValue = "T-02471"
    item.CodingSchemeDesignator = "SRT"
    item.CodeMeaning = "Buttock"
    ds.AnatomicRegionSequence = [item]
    report = validate(ds)
    fields = formfields.form_fields(formfields.form_sections("ct-image"))
    mapped = formfields.map_findings(report.findings, fields)
    assert any("PatientSex" in f.message for f in mapped.by_field["PatientSex"])
    region = mapped.by_field["AnatomicRegionSequence"]
    assert any(f.path == "AnatomicRegionSequence[0].CodeValue" for f in region)
    assert all(f.path.split(".")[0].split("[")[0] not in mapped.by_field for f in mapped.unmatched)
    total = sum(len(v) for v in mapped.by_field.values()) + len(mapped.unmatched)
    assert total == len(report.findings)


def test_findings_are_matched_by_hint_path_keyword_and_private_tag() -> None:
    fields = formfields.form_fields(formfields.form_sections(VL))
    findings = [
        Finding("warning", "x", "w", keyword="PatientID", path="PatientID"),
        Finding("error", "y", "e", tag="(0010,0020)", keyword="PatientID", path="PatientID"),
        Finding("error", "z", "hint", field="StudyDate"),
        Finding("error", "p", "private", tag="(0011,1013)", path="(0011,1013)"),
        Finding("error", "n", "nested", keyword="CodeValue", path="Foo[0].CodeValue"),
        Finding("error", "m", "meta", keyword="TransferSyntaxUID", path="TransferSyntaxUID"),
    ]
    mapped = formfields.map_findings(findings, fields)
    assert [f.severity for f in mapped.by_field["PatientID"]] == ["error", "warning"]
    assert mapped.by_field["StudyDate"][0].message == "hint"
    assert mapped.by_field["tbp:Parfocal"][0].message == "private"
    assert [f.message for f in mapped.unmatched] == ["nested", "meta"]


# ------------------------------------------------------------------ datasets and edits


def test_dataset_values_are_read_for_the_fields() -> None:
    ds = pydicom.dcmread(CT)
    fields = formfields.form_fields(formfields.form_sections("ct-image"))
    values = formfields.dataset_form_values(ds, fields)
    assert values["PatientName"] == "CompressedSamples^CT1"
    assert values["Manufacturer"] == "GE MEDICAL SYSTEMS"
    assert "AnatomicRegionSequence" not in values


def test_an_images_built_dataset_gives_its_values_and_calibration() -> None:
    doc = workspace.open_document(SAMPLE.name, SAMPLE.read_bytes(), new_series_context())
    template = (ROOT / "sample_data" / "tbp_regional_template.json").read_bytes()
    workspace.set_metadata(doc, parse_template(template))
    fields = formfields.form_fields(formfields.form_sections(VL))
    values = formfields.dataset_form_values(workspace.dataset_of(doc), fields)
    assert values["PatientName"] == "Doe^Jane"
    assert values["tbp:FocalLengthPx"] == "1560.0"
    assert values["tbp:PrincipalPoint"] == [285.2, 427.0]
    assert values["AnatomicRegionSequence"][0]["CodeValue"] == "66643007"


def test_edits_set_public_values_and_add_or_set_the_private_block() -> None:
    ds = pydicom.dcmread(CT)
    assert "PatientComments" not in ds
    assert formfields.edit_for(ds, "PatientComments", None) is None  # absent and empty
    edit = formfields.edit_for(ds, "PatientName", "Edited^Name")
    assert edit == tags.SetValue("PatientName", "Edited^Name")
    assert tags.apply_edit(ds, edit).applied
    add = formfields.edit_for(ds, "tbp:PrincipalPoint", [285.2, 427.0])
    assert isinstance(add, tags.AddElement)
    assert tags.apply_edit(ds, add).applied
    assert private.get_tbp_values(ds)["tbp:PrincipalPoint"] == [285.2, 427.0]
    change = formfields.edit_for(ds, "tbp:PrincipalPoint", [1.5, 2.5])
    assert isinstance(change, tags.SetValue)
    assert tags.apply_edit(ds, change).applied
    assert private.get_tbp_values(ds)["tbp:PrincipalPoint"] == [1.5, 2.5]
    assert formfields.edit_for(ds, "tbp:Parfocal", None) is None
    with pytest.raises(MetadataError):
        formfields.edit_for(ds, "tbp:Nope", 1)


# ------------------------------------------------------------------ anatomic region


def test_region_value_and_choice_round_trip_with_laterality_and_modifiers() -> None:
    forearm = anatomy.region_by_code("70559009")
    assert forearm is not None and forearm.paired
    value = formfields.region_value(forearm, "L")
    assert value is not None
    choice = formfields.region_choice(value)
    assert choice.region == forearm and choice.laterality == "L" and not choice.modifiers
    with_modifier = [
        {
            **value[0],
            "AnatomicRegionModifierSequence": [
                *value[0]["AnatomicRegionModifierSequence"],
                {
                    "CodeValue": "255561001",
                    "CodingSchemeDesignator": "SCT",
                    "CodeMeaning": "Medial",
                },
            ],
        },
        {"CodeValue": "66643007", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Skin of back"},
    ]
    kept = formfields.region_choice(with_modifier)
    assert [m.code_meaning for m in kept.modifiers] == ["Medial"]
    assert len(kept.others) == 1
    moved = formfields.region_value(forearm, "R", keep=kept)
    assert moved is not None and len(moved) == 2
    modifiers = moved[0]["AnatomicRegionModifierSequence"]
    assert [m["CodeMeaning"] for m in modifiers] == ["Right", "Medial"]
    assert formfields.region_value(None, None, keep=kept) is None


def test_laterality_on_an_unpaired_region_is_refused() -> None:
    back = anatomy.region_by_code("66643007")
    assert back is not None
    with pytest.raises(MetadataError, match="Skin of back"):
        formfields.region_value(back, "L")


def test_an_unknown_code_is_kept_as_its_own_region() -> None:
    choice = formfields.region_choice(
        [{"CodeValue": "123", "CodingSchemeDesignator": "99LOCAL", "CodeMeaning": "Mole 7"}]
    )
    assert choice.region is not None
    assert (choice.region.code_meaning, choice.region.paired) == ("Mole 7", False)
    assert formfields.region_choice(None).region is None


def test_dermoscopic_document_needs_the_required_fields() -> None:
    doc = workspace.open_document(
        LESION.name, LESION.read_bytes(), new_series_context(), iod=DERMOSCOPIC
    )
    error = workspace.build_error(doc)
    assert error is not None
    required = formfields.builder_required(DERM)
    assert required and all(keyword in error for keyword in required), error
    fields = _by_key(formfields.form_sections(DERM, exif_values=doc.exif_values))
    assert "DeviceSerialNumber" not in doc.exif_values  # identity only when asked for
    typed = {k: doc.exif_offers[k] for k in formfields.builder_required(DERM)}
    result = formfields.read_form([fields[k] for k in typed], typed)
    assert not result.problems
    workspace.set_metadata(doc, result.values)
    assert workspace.build_error(doc) is None
