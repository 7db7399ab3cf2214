"""Sending to a real PACS (Orthanc, started by conftest.py): C-STORE, STOW-RS, refusals."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from tbp_core.cli import main
from tbp_core.errors import TbpError
from tbp_core.sharing.send import parse_destination, send, verify
from tests.conftest import DATA, ROOT
from tests.tbp_core.sharing.conftest import Pacs, free_port

TEMPLATE = ROOT / "sample_data" / "tbp_regional_template.json"
PROJECT_FILES = [DATA / "dicom" / "CT_small.dcm", DATA / "dicom" / "MR_small.dcm"]


def converted(tmp_path: Path, name: str) -> Path:
    """A fresh VL Photographic object from the sample PNG (new UIDs each time)."""
    target = tmp_path / f"{name}.dcm"
    status = main(
        [
            "convert",
            str(ROOT / "sample_data" / "regional_back.png"),
            "--metadata",
            str(TEMPLATE),
            "-o",
            str(target),
        ]
    )
    assert status == 0
    return target


def uid_of(path: Path) -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)


@pytest.mark.parametrize("scheme", ["dicom", "dicomweb"])
def test_converted_and_project_files_arrive_with_same_uid(
    pacs: Pacs, tmp_path: Path, scheme: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [converted(tmp_path, "a"), converted(tmp_path, "b"), *PROJECT_FILES]
    url = pacs.dicom_url if scheme == "dicom" else pacs.dicomweb_url
    before = pacs.sop_instance_uids()
    new_files = [f for f in files if uid_of(f) not in before]
    assert len(new_files) >= 2  # the converted ones are always new
    status = main(["send", *map(str, files), "--to", url])
    out = capsys.readouterr().out
    assert status == 0, out
    assert {uid_of(f) for f in files} <= pacs.sop_instance_uids()
    assert out.count("stored") >= len(files)


def test_unknown_sop_class_is_refused_by_c_store_with_exit_1(
    pacs: Pacs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = converted(tmp_path, "good")
    odd = converted(tmp_path, "odd")
    ds = pydicom.dcmread(odd)
    ds.SOPClassUID = "1.2.826.0.1.3680043.8.498.4242"
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.save_as(odd, enforce_file_format=True)
    status = main(["send", str(good), str(odd), "--to", pacs.dicom_url])
    out = capsys.readouterr().out
    assert status == 1
    assert "1.2.826.0.1.3680043.8.498.4242" in out
    refused = [line for line in out.splitlines() if "REFUSED" in line]
    assert len(refused) == 1 and refused[0].startswith(str(odd))
    assert uid_of(good) in pacs.sop_instance_uids()
    assert uid_of(odd) not in pacs.sop_instance_uids()


def test_stow_refusal_is_exit_1_with_the_status(
    pacs: Pacs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = converted(tmp_path, "broken")
    ds = pydicom.dcmread(broken)
    del ds.SOPInstanceUID  # Orthanc cannot index an instance without its UID
    ds.save_as(broken)
    status = main(["send", str(broken), "--to", pacs.dicomweb_url])
    out = capsys.readouterr().out
    assert status == 1, out
    assert "REFUSED" in out and "HTTP" in out


@pytest.mark.parametrize("scheme", ["dicom", "http"])
def test_no_server_is_exit_2_with_one_line(
    tmp_path: Path, scheme: str, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    url = f"dicom://NOBODY@127.0.0.1:{port}" if scheme == "dicom" else f"http://127.0.0.1:{port}/dw"
    status = main(["send", str(converted(tmp_path, "x")), "--to", url, "--timeout", "3"])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"127.0.0.1:{port}" in err


def test_wrong_called_aet_is_rejected(pacs: Pacs) -> None:
    with pytest.raises(TbpError, match=r"rejected the association|could not be reached"):
        verify(parse_destination(f"dicom://WRONGAET@127.0.0.1:{pacs.dicom_port}"))


def test_verify_answers(pacs: Pacs) -> None:
    assert "C-ECHO" in verify(parse_destination(pacs.dicom_url))
    assert "QIDO-RS" in verify(parse_destination(pacs.dicomweb_url))


def test_send_yields_one_outcome_per_object(pacs: Pacs, tmp_path: Path) -> None:
    path = converted(tmp_path, "lib")
    outcomes = list(send(parse_destination(pacs.dicom_url), [("lib", pydicom.dcmread(path))]))
    assert [(o.name, o.sop_instance_uid, o.stored) for o in outcomes] == [
        ("lib", uid_of(path), True)
    ]
    assert outcomes[0].status.startswith("0x0000")


def test_unusable_input_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom")
    assert main(["send", str(junk), "--to", "dicom://A@127.0.0.1:1"]) == 2
    assert "junk.dcm" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text",
    ["dicom://127.0.0.1:104", "dicom://AET@host", "ftp://host/x", "dicom://THISAETISTOOLONG17@h:1"],
)
def test_bad_destinations_are_refused(text: str) -> None:
    with pytest.raises(TbpError):
        parse_destination(text)


def test_destinations_parse() -> None:
    dimse = parse_destination("dicom://PACS@10.0.0.5:11112")
    assert (dimse.scheme, dimse.called_aet, dimse.host, dimse.port) == (
        "dicom",
        "PACS",
        "10.0.0.5",
        11112,
    )
    web = parse_destination("https://pacs.example/dicom-web/")
    assert (web.scheme, web.port, web.url) == ("dicomweb", 443, "https://pacs.example/dicom-web")


CORPUS_DICOM = ROOT.parent / "shared" / "corpus" / "dicom"


def _corpus_instances(limit: int) -> list[Path]:
    """Readable corpus files with a SOP Class and Instance UID (the first ``limit``)."""
    found = []
    for path in sorted(CORPUS_DICOM.glob("*")):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            if str(ds.SOPClassUID).startswith("1.2.840.10008.5.1.4.1.1.") and ds.SOPInstanceUID:
                found.append(path)
        except Exception:  # damaged or not DICOM: not for this test
            continue
        if len(found) == limit:
            break
    return found


@pytest.mark.skipif(not CORPUS_DICOM.is_dir(), reason="shared corpus absent")
@pytest.mark.parametrize("scheme", ["dicom", "dicomweb"])
def test_corpus_files_reach_the_pacs_or_are_refused_with_a_status(
    pacs: Pacs, scheme: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _corpus_instances(12)
    assert len(files) == 12
    url = pacs.dicom_url if scheme == "dicom" else pacs.dicomweb_url
    status = main(["send", *map(str, files), "--to", url])
    captured = capsys.readouterr()
    assert status in (0, 1), captured.err  # stored, or some refused by the PACS
    assert "Traceback" not in captured.err
    stored = pacs.sop_instance_uids()
    arrived = [f for f in files if uid_of(f) in stored]
    assert len(arrived) >= 8, captured.out + captured.err
    if status == 0:
        assert len(arrived) == len(files)


def test_a_compressed_file_the_pacs_does_not_take_is_sent_uncompressed(
    pacs: Pacs, capsys: pytest.CaptureFixture[str]
) -> None:
    """Orthanc's default DIMSE setup takes no RLE: the file goes as Explicit VR Little Endian."""
    rle = DATA / "dicom" / "SC_rgb_rle.dcm"
    status = main(["send", str(rle), "--to", pacs.dicom_url])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "sent as Explicit VR Little Endian: the PACS does not take RLE Lossless" in out
    assert uid_of(rle) in pacs.sop_instance_uids()
    assert pydicom.dcmread(rle).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"  # unchanged
