"""One rule, every door: what the validator calls an enumerated-value error, no input lets in.

For every attribute with Enumerated Values in the IODs we write (VL Photographic,
Dermoscopic Photography, Secondary Capture), each value the validator rejects is
refused by every input, with the allowed values in the message: a ``--set``
argument, a template, the metadata form and a tag edit. Each allowed value is
accepted by all of them and gives no enumerated-value finding on a converted file.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from pydicom import datadict
from pydicom._dicom_dict import RepeatersDictionary
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

from tbp_core import standard
from tbp_core.building.convert import ConvertOptions, convert_image
from tbp_core.building.derived import DERIVED_KEYWORDS
from tbp_core.building.iods import (
    DERMOSCOPIC,
    SECONDARY_CAPTURE,
    VL_PHOTOGRAPHIC,
    IodSpec,
    new_series_context,
)
from tbp_core.building.iods.builder import DERMOSCOPIC_EQUIPMENT
from tbp_core.building.metadata import merge_metadata, parse_assignment, parse_template
from tbp_core.errors import MetadataError
from tbp_core.inspection.tags import SetValue, apply_edit
from tbp_core.session import formfields
from tbp_core.standard import vr as vrs
from tbp_core.standard.enumerations import RULES, EnumRule, allowed_values, rules_for
from tbp_core.standard.formatting import tag_text
from tbp_core.validation.validate import validate
from tests.conftest import DATA, ROOT

IODS: dict[str, IodSpec] = {
    spec.standard_key: spec for spec in (VL_PHOTOGRAPHIC, DERMOSCOPIC, SECONDARY_CAPTURE)
}
PICTURE = DATA / "png" / "basn2c08.png"
EQUIPMENT = {keyword: "TBP test device 1" for keyword in DERMOSCOPIC_EQUIPMENT}
TBP_DICOM = Path(sys.executable).parent / "tbp-dicom"


# ------------------------------------------------------------------ the cases


def _input_rules(keyword: str, iod_key: str) -> tuple[EnumRule, ...]:
    """The Enumerated Values rules an input can apply (no transfer syntax or samples needed)."""
    return tuple(
        rule
        for rule in rules_for(keyword, iod_key, True)
        if rule.severity == "error" and rule.transfer_syntaxes is None and rule.samples is None
    )


def _top_level_keywords(iod_key: str) -> set[str]:
    return {
        attribute.keyword
        for module in standard.modules_of_iod(iod_key)
        for attribute in standard.attributes_of_module(module.key)
        if attribute.path == ()
    }


@cache
def _tag_of(keyword: str) -> BaseTag:
    """The tag of a keyword; repeating-group keywords (overlays) in their first group."""
    tag = datadict.tag_for_keyword(keyword)
    if tag is not None:
        return Tag(tag)
    mask = next(m for m, entry in RepeatersDictionary.items() if entry[4] == keyword)
    return Tag(int(mask.replace("xx", "00"), 16))


def _by_keyword(keyword: str) -> bool:
    """Whether inputs can name the attribute by keyword (pydicom does not name repeaters)."""
    return datadict.tag_for_keyword(keyword) is not None


CASES = sorted(
    (iod_key, keyword)
    for iod_key in IODS
    for keyword in {rule.keyword for rule in RULES} & _top_level_keywords(iod_key)
    if _input_rules(keyword, iod_key)
)


def test_the_cases_cover_every_written_iod() -> None:
    covered = {iod for iod, _ in CASES}
    assert covered == set(IODS)
    assert ("dermoscopic-photography-image", "ImmersionMedia") in CASES
    assert ("vl-photographic-image", "Modality") in CASES
    assert ("vl-photographic-image", "MeteringMode") in CASES


@dataclass(frozen=True)
class Candidate:
    """A value for an attribute: its text (``\\`` between values) and the value index it tests."""

    text: str
    index: int


def _indexes(rules: tuple[EnumRule, ...]) -> list[int]:
    return sorted({0 if rule.index is None else rule.index for rule in rules})


def _allowed_text(keyword: str, iod_key: str, current: str | None) -> str:
    """An allowed value: the converted file's own when allowed, else the first allowed one."""
    indexes = _indexes(_input_rules(keyword, iod_key))
    parts = [allowed_values(keyword, iod_key, index=i)[0] for i in range(max(indexes) + 1)]
    if current is not None:
        values = current.split("\\")
        if all(values[i] in allowed_values(keyword, iod_key, index=i) for i in indexes):
            return current
    return "\\".join(parts)


def _refused_texts(keyword: str, iod_key: str) -> list[Candidate]:
    """Values the IOD's rules refuse: a made-up one, and ones other rules allow."""
    vr = datadict.dictionary_VR(_tag_of(keyword))
    good = _allowed_text(keyword, iod_key, None).split("\\")
    found = []
    for index in _indexes(_input_rules(keyword, iod_key)):
        allowed = allowed_values(keyword, iod_key, index=index)
        made_up = str(max(int(v) for v in allowed) + 1) if vr in vrs.NUMBER_VRS else "FOO"
        others = sorted(
            {
                value
                for rule in RULES
                if rule.keyword == keyword and rule.index in (None, index)
                for value in rule.allowed
            }
            - set(allowed)
            - {""}
        )
        for bad in [made_up, *others[:2]]:
            values = list(good)
            values[index] = bad
            found.append(Candidate("\\".join(values), index))
    return found


# ------------------------------------------------------------------ converted files


@cache
def _converted(iod_key: str, metadata_json: str = "{}") -> Dataset:
    metadata = json.loads(metadata_json)
    if iod_key == DERMOSCOPIC.standard_key:
        metadata = {**EQUIPMENT, **metadata}
    converted = convert_image(
        PICTURE.read_bytes(),
        PICTURE.name,
        metadata,
        new_series_context(),
        options=ConvertOptions(iod=IODS[iod_key]),
    )
    return converted.dataset


def _fresh(iod_key: str) -> Dataset:
    return copy.deepcopy(_converted(iod_key))


def _stored(ds: Dataset, keyword: str) -> str | None:
    tag = _tag_of(keyword)
    if tag not in ds:
        return None
    value = ds[tag].value
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(vrs.stored_text(v) for v in value)
    return None if value is None else vrs.stored_text(value)


def _with_value(ds: Dataset, keyword: str, text: str) -> Dataset:
    """``ds`` with the attribute set directly (no input's checks), as a file could hold it."""
    tag = _tag_of(keyword)
    vr = datadict.dictionary_VR(tag)
    parts = text.split("\\")
    values: list[object] = [int(p) for p in parts] if vr in vrs.BINARY_INT_VRS else parts
    ds[tag] = DataElement(tag, vr, values[0] if len(values) == 1 else values)
    return ds


def _enum_findings(ds: Dataset, keyword: str | None = None) -> list[str]:
    return [
        finding.message
        for finding in validate(ds).findings
        if finding.code == "enumerated-value" and keyword in (None, finding.keyword)
    ]


# ------------------------------------------------------------------ the inputs


def _template_value(text: str) -> object:
    return text.split("\\") if "\\" in text else text


def _input_messages(iod_key: str, keyword: str, text: str) -> dict[str, str | None]:
    """What each input says about a value: None when it takes it, else its message.

    An attribute inputs cannot name by keyword (an overlay's) is reached by a
    tag edit of its tag only; every keyword input refuses its keyword.
    """
    said: dict[str, str | None] = {}
    if _by_keyword(keyword):
        try:
            merge_metadata({}, dict([parse_assignment(f"{keyword}={text}", iod_key=iod_key)]))
            said["--set"] = None
        except MetadataError as error:
            said["--set"] = str(error)
        try:
            parse_template(json.dumps({keyword: _template_value(text)}), iod_key=iod_key)
            said["template"] = None
        except MetadataError as error:
            said["template"] = str(error)
        field = formfields.form_field(keyword, iod_key)
        assert field is not None, f"the form has no field for {keyword} in {iod_key}"
        read = formfields.read_form([field], {field.key: text})
        problem = read.problems.get(field.key)
        said["form"] = None if problem is None else problem.message
        path = keyword
    else:
        with pytest.raises(MetadataError, match="unknown DICOM keyword"):
            parse_assignment(f"{keyword}={text}", iod_key=iod_key)
        assert formfields.form_field(keyword, iod_key) is None
        path = tag_text(_tag_of(keyword))
    result = apply_edit(_fresh(iod_key), SetValue(path, text))
    said["tag edit"] = None if result.applied else result.message
    return said


def _names_allowed_values(message: str, keyword: str, iod_key: str, text: str, index: int) -> bool:
    """Whether the message lists every allowed value of a rule that refuses the value."""
    value = text.split("\\")[index]
    refusing = [rule for rule in _input_rules(keyword, iod_key) if value not in rule.allowed]
    return any(all(v in message for v in rule.allowed if v) for rule in refusing)


# ------------------------------------------------------------------ the invariant


@pytest.mark.parametrize(("iod_key", "keyword"), CASES, ids=[f"{i}-{k}" for i, k in CASES])
def test_a_value_the_validator_rejects_is_refused_by_every_input(
    iod_key: str, keyword: str
) -> None:
    for candidate in _refused_texts(keyword, iod_key):
        rejected = _enum_findings(_with_value(_fresh(iod_key), keyword, candidate.text), keyword)
        assert rejected, f"the validator takes {keyword}={candidate.text!r} in {iod_key}"
        for door, message in _input_messages(iod_key, keyword, candidate.text).items():
            assert message is not None, f"{door} let {keyword}={candidate.text!r} in"
            assert "\n" not in message
            assert keyword in message or tag_text(_tag_of(keyword)) in message, message
            assert _names_allowed_values(
                message, keyword, iod_key, candidate.text, candidate.index
            ), f"{door}: {message}"


@pytest.mark.parametrize(("iod_key", "keyword"), CASES, ids=[f"{i}-{k}" for i, k in CASES])
def test_an_allowed_value_is_taken_by_every_input_and_passes_the_validator(
    iod_key: str, keyword: str
) -> None:
    text = _allowed_text(keyword, iod_key, _stored(_converted(iod_key), keyword))
    said = _input_messages(iod_key, keyword, text)
    assert said == dict.fromkeys(said), said
    if keyword in DERIVED_KEYWORDS or not _by_keyword(keyword):
        ds = _fresh(iod_key)  # values the converter makes, or overlays: edit a converted file
        assert apply_edit(ds, SetValue(tag_text(_tag_of(keyword)), text)).applied
    else:
        value = parse_template(json.dumps({keyword: _template_value(text)}), iod_key=iod_key)
        ds = _converted(iod_key, json.dumps(value))
    assert _stored(ds, keyword) == text
    assert _enum_findings(ds) == []


# ------------------------------------------------------------------ the real command


def test_cli_refuses_an_immersion_media_outside_the_enumerated_values(tmp_path: Path) -> None:
    out = tmp_path / "x.dcm"
    done = subprocess.run(
        [
            str(TBP_DICOM),
            "convert",
            str(ROOT / "sample_data" / "dermoscopic_lesion.png"),
            "--iod",
            "dermoscopic",
            "--metadata",
            str(ROOT / "sample_data" / "dermoscopic_equipment_template.json"),
            "--set",
            "ImmersionMedia=FOO",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "ImmersionMedia" in lines[0] and "'FOO'" in lines[0]
    for allowed in ("ULTRASOUND_GEL", "ALCOHOL", "WATER", "MINERAL_OIL", "PLASTIC_CAP"):
        assert allowed in lines[0]
    assert not out.exists()


def test_cli_edit_refuses_a_modality_of_another_iod(tmp_path: Path) -> None:
    source = tmp_path / "vl.dcm"
    made = subprocess.run(
        [str(TBP_DICOM), "convert", str(PICTURE), "-o", str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    done = subprocess.run(
        [
            str(TBP_DICOM),
            "edit",
            str(source),
            "-o",
            str(tmp_path / "y.dcm"),
            "--set",
            "Modality=DMS",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "one of XC" in done.stderr, done.stderr
    assert not (tmp_path / "y.dcm").exists()
