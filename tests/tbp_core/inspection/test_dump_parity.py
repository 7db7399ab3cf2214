"""dcmdump parity of the dump: UID names, value lengths, character sets, damaged files."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from tbp_core.fileio import dicomio
from tbp_core.inspection import dump
from tests.conftest import DATA

CHARSET = DATA / "charset"
CT = DATA / "dicom" / "CT_small.dcm"
TBP_DICOM = Path(sys.executable).parent / "tbp-dicom"

#: Patient's Name of pydicom's character set files (their FileInfo.txt; PS3.5 Annex H-K).
NAMES = {
    "pydicom__chrFren.dcm": "Buc^Jérôme",
    "pydicom__chrH31.dcm": "Yamada^Tarou=山田^太郎=やまだ^たろう",
    "pydicom__chrI2.dcm": "Hong^Gildong=洪^吉洞=홍^길동",
    "pydicom__chrX1.dcm": "Wang^XiaoDong=王^小東",
    "pydicom__chrX2.dcm": "Wang^XiaoDong=王^小东",
}


def _by_keyword(nodes: tuple[dump.DumpNode, ...]) -> dict[str, dump.DumpNode]:
    return {node.keyword: node for node in nodes}


@pytest.mark.parametrize(("name", "expected"), sorted(NAMES.items()))
def test_text_is_decoded_with_the_files_character_set(name: str, expected: str) -> None:
    _, dataset = dump.build_tree(dicomio.read(CHARSET / name))
    assert _by_keyword(dataset)["PatientName"].value_text == expected
    text = dump.render_text(dump.build_tree(dicomio.read(CHARSET / name)))
    assert expected in text


def test_a_sequence_item_uses_its_own_character_set() -> None:
    _, dataset = dump.build_tree(dicomio.read(CHARSET / "pydicom__chrSQEncoding.dcm"))
    item = _by_keyword(dataset)["RequestedProcedureCodeSequence"].items[0]
    assert _by_keyword(item)["PatientName"].value_text == "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"


def test_an_undecodable_value_is_shown_as_bytes() -> None:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "x"
    ds.StudyDescription = "fine"
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, implicit_vr=False, little_endian=True)
    broken = buffer.getvalue().replace(b"x\x20", b"\xff\xfe")
    _, dataset = dump.build_tree(dicomio.read(broken))
    nodes = _by_keyword(dataset)
    assert nodes["PatientName"].value_text == "<not valid ISO_IR 192: b'\\xff\\xfe'>"
    assert nodes["StudyDescription"].value_text == "fine"


def test_uids_are_named_and_lengths_shown() -> None:
    ds = pydicom.dcmread(CT, stop_before_pixels=True)
    meta, dataset = dump.build_tree(dicomio.read(CT))
    sop = _by_keyword(dataset)["SOPClassUID"]
    assert sop.uid_name == "CT Image Storage"
    assert _by_keyword(dataset)["SOPInstanceUID"].uid_name == ""
    assert _by_keyword(meta)["TransferSyntaxUID"].uid_name == "Explicit VR Little Endian"
    text = dump.render_text((meta, dataset))
    assert (
        "UI (0008, 0016) SOPClassUID"
        + " " * 37
        + "1.2.840.10008.5.1.4.1.1.2 = CT Image Storage  # 26 bytes"
    ) in text.splitlines()
    fresh = pydicom.dcmread(CT)
    raw = {tag: fresh.get_item(tag) for tag in list(fresh.keys())}  # RawDataElements: lengths
    raw_lengths = {
        int(tag): elem.length for tag, elem in raw.items() if isinstance(elem, RawDataElement)
    }
    assert len(raw_lengths) > 50
    for node in dataset:
        if node.tag in raw_lengths and node.vr != "SQ":
            assert node.length == raw_lengths[node.tag], node.tag_text
    assert _by_keyword(meta)["FileMetaInformationGroupLength"].length == 4
    assert len(ds.file_meta.TransferSyntaxUID) == 19  # stored padded to an even length
    assert _by_keyword(meta)["TransferSyntaxUID"].length == 20
    element = json.loads(json.dumps(dump.to_json((meta, dataset))))["dataset"]
    sop_json = next(e for e in element if e["keyword"] == "SOPClassUID")
    assert (sop_json["value"], sop_json["uid_name"], sop_json["length"]) == (
        "1.2.840.10008.5.1.4.1.1.2",
        "CT Image Storage",
        26,
    )


def test_a_damaged_file_says_where_reading_stopped(tmp_path: Path) -> None:
    damaged = tmp_path / "cut.dcm"
    damaged.write_bytes(CT.read_bytes()[:2500])
    text = subprocess.run([str(TBP_DICOM), "dump", str(damaged)], capture_output=True, text=True)
    assert text.returncode == 0
    assert text.stdout.rstrip().splitlines()[-1] == "# Damaged file: reading stopped at byte 2500"
    assert "reading stopped at byte 2500" in text.stderr
    as_json = subprocess.run(
        [str(TBP_DICOM), "dump", str(damaged), "--format", "json"], capture_output=True, text=True
    )
    assert json.loads(as_json.stdout)["stopped_at"] == 2500
    whole = subprocess.run(
        [str(TBP_DICOM), "dump", str(CT), "--format", "json"], capture_output=True, text=True
    )
    assert "stopped_at" not in json.loads(whole.stdout)
