"""A TBP session in the app (issue 15, item 2): uploaded documents + a manifest → one study.

Real documents (PNGs made with Pillow, opened as the upload opens them) are
planned from a manifest and from their file names with the command line's
rules, then applied; every refused manifest names its CSV line and the fix,
and leaves the documents exactly as they were.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pydicom
import pytest
from PIL import Image
from pydicom.uid import DermoscopicPhotographyImageStorage, VLPhotographicImageStorage

from tbp_core.building import lesionlink
from tbp_core.building.iods import DERMOSCOPIC, VL_PHOTOGRAPHIC, new_series_context
from tbp_core.building.iods.spec import SECONDARY_CAPTURE
from tbp_core.errors import TbpError
from tbp_core.session import export, sessionplan, workspace
from tbp_core.session.sessionplan import apply_plan, plan_from_manifest, plan_from_names
from tbp_core.session.workspace import Document
from tbp_core.standard import private
from tests.conftest import DATA

EQUIPMENT = {
    "Manufacturer": "DermaCo",
    "ManufacturerModelName": "Scope 3",
    "DeviceSerialNumber": "SN-42",
    "SoftwareVersions": "1.2",
}
HEADER = "file,region,laterality,lesion_id,regional,x,y\n"
ROWS = (
    "back_overview.png,Skin of back,,,,,\n"
    "left-arm_overview.png,left-arm,,,,,\n"
    "lesion_a.png,,,L1,back_overview.png,30,20\n"
    "lesion_b.png,,,L2,left-arm_overview.png,5,6\n"
)
NAMES = ("back_overview.png", "left-arm_overview.png", "lesion_a.png", "lesion_b.png")


def _png(seed: int, size: tuple[int, int] = (80, 60)) -> bytes:
    image = Image.new("RGB", size, (120 + seed * 20, 90, 70))
    image.putpixel((seed, seed), (0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _documents(names: tuple[str, ...] = NAMES) -> list[Document]:
    context = new_series_context()
    return [
        workspace.open_document(name, _png(i), context, instance_number=i + 1)
        for i, name in enumerate(names)
    ]


def _state(docs: list[Document]) -> list[tuple[Any, ...]]:
    """Everything a session would change on a document."""
    return [
        (d.iod, d.context, d.instance_number, dict(d.metadata), d.link, d.revision) for d in docs
    ]


def _by_name(docs: list[Document]) -> dict[str, Document]:
    return {d.name: d for d in docs}


def test_a_manifest_plans_kinds_series_numbers_and_links() -> None:
    docs = _documents()
    before = _state(docs)
    plan = plan_from_manifest((HEADER + ROWS).encode(), "session.csv", docs, equipment=EQUIPMENT)

    assert plan.ok and plan.problems == ()
    assert _state(docs) == before  # planning changes nothing
    by_name = _by_name(docs)
    planned = {image.name: image for image in plan.images}
    assert [i.name for i in plan.of_kind("overview")] == [
        "back_overview.png",
        "left-arm_overview.png",
    ]
    assert [i.instance_number for i in plan.of_kind("overview")] == [1, 2]
    assert [i.instance_number for i in plan.of_kind("closeup")] == [1, 2]
    assert planned["lesion_a.png"].overview_id == by_name["back_overview.png"].id
    assert planned["lesion_b.png"].overview_id == by_name["left-arm_overview.png"].id
    assert planned["lesion_a.png"].iod is DERMOSCOPIC
    assert planned["back_overview.png"].iod is VL_PHOTOGRAPHIC
    counts = {(r.region, r.overviews, r.closeups) for r in plan.regions()}
    assert counts == {("Skin of back", 1, 1), ("Skin of upper extremity (left)", 1, 1)}
    assert "right-arm" in plan.missing_views and "posterior-trunk" not in plan.missing_views
    assert "left-arm" not in plan.missing_views


def test_applying_makes_one_study_two_series_and_linked_close_ups() -> None:
    docs = _documents()
    context = docs[0].context
    plan = plan_from_manifest((HEADER + ROWS).encode(), "session.csv", docs, equipment=EQUIPMENT)
    applied = apply_plan(plan, docs, context)

    written = {d.name: pydicom.dcmread(io.BytesIO(export.export_bytes(d))) for d in docs}
    assert {ds.StudyInstanceUID for ds in written.values()} == {applied.study_instance_uid}
    overview, closeup = (
        applied.series_instance_uids["overview"],
        applied.series_instance_uids["closeup"],
    )
    assert overview == context.series_instance_uid and closeup != overview
    back, arm = written["back_overview.png"], written["left-arm_overview.png"]
    lesion_a, lesion_b = written["lesion_a.png"], written["lesion_b.png"]
    for ds, series, number in ((back, overview, 1), (arm, overview, 2)):
        assert ds.SOPClassUID == VLPhotographicImageStorage
        assert (ds.SeriesInstanceUID, ds.SeriesNumber, ds.InstanceNumber) == (series, 1, number)
    for ds, number in ((lesion_a, 1), (lesion_b, 2)):
        assert ds.SOPClassUID == DermoscopicPhotographyImageStorage
        assert (ds.SeriesInstanceUID, ds.SeriesNumber, ds.InstanceNumber) == (closeup, 2, number)
        assert ds.Manufacturer == "DermaCo" and ds.DeviceSerialNumber == "SN-42"
    assert back.AnatomicRegionSequence[0].CodeValue == "66643007"  # Skin of back
    assert arm.ImageLaterality == "L"
    assert lesion_b.ImageLaterality == "L"  # a close-up is on its overview's region
    assert lesion_a.AnatomicRegionSequence[0].CodeValue == "66643007"
    (reference,) = lesion_a.ReferencedImageSequence
    assert reference.ReferencedSOPInstanceUID == back.SOPInstanceUID
    assert lesion_b.ReferencedImageSequence[0].ReferencedSOPInstanceUID == arm.SOPInstanceUID
    assert private.get_tbp_values(lesion_a)[lesionlink.LOCATION_KEY] == [30.0, 20.0]
    assert (lesion_a.TrackingID, lesion_b.TrackingID) == ("L1", "L2")
    assert lesion_a.TrackingUID == lesionlink.tracking_uid("", "L1")
    # applying again gives the same series (the close-ups' UID derives from the context)
    again = apply_plan(plan, docs, context)
    assert again.series_instance_uids == applied.series_instance_uids


def test_the_patient_and_the_capture_time_are_shared() -> None:
    docs = _documents()
    by_name = _by_name(docs)
    workspace.set_metadata(by_name["lesion_b.png"], {"PatientID": "TBP-7", "PatientName": "Doe^J"})
    plan = plan_from_manifest((HEADER + ROWS).encode(), "session.csv", docs, equipment=EQUIPMENT)
    apply_plan(plan, docs, docs[0].context)
    written = [pydicom.dcmread(io.BytesIO(export.export_bytes(d))) for d in docs]
    assert {(ds.PatientID, str(ds.PatientName)) for ds in written} == {("TBP-7", "Doe^J")}
    assert len({(ds.StudyDate, ds.StudyTime) for ds in written}) == 1


def test_file_names_plan_the_same_session() -> None:
    names = ("back_overview.png", "left-arm_overview.png", "back_closeup_L1.png", "x_notes.png")
    docs = _documents(names[:3])
    plan = plan_from_names(docs, equipment=EQUIPMENT)
    assert plan.ok, plan.problems
    closeup = plan.of_kind("closeup")[0]
    assert closeup.entry.lesion_id == "L1"
    assert closeup.overview_id == _by_name(docs)["back_overview.png"].id
    apply_plan(plan, docs, docs[0].context)
    assert [d.iod for d in docs] == [VL_PHOTOGRAPHIC, VL_PHOTOGRAPHIC, DERMOSCOPIC]

    # a name that tells no region: the command line's message, with the app's way out
    refused = _documents(names)
    before = _state(refused)
    plan = plan_from_names(refused, equipment=EQUIPMENT)
    assert not plan.ok and plan.images == ()
    (problem,) = plan.problems
    assert problem.startswith("x_notes.png: cannot tell the body region from the name")
    assert "rename it <region>_<overview|closeup>" in problem
    assert "upload a session.csv with them" in problem
    assert _state(refused) == before


def test_a_manifest_in_a_zip_archive_finds_its_images_by_relative_path() -> None:
    context = new_series_context()
    docs = [
        workspace.open_document(f"tbp.zip!visit/{name}", _png(i), context)
        for i, name in enumerate(NAMES)
    ]
    assert sessionplan.document_path(docs[0]) == Path("tbp.zip/visit/back_overview.png")
    plan = plan_from_manifest(
        (HEADER + ROWS).encode(), "tbp.zip!visit/session.csv", docs, equipment=EQUIPMENT
    )
    assert plan.ok, plan.problems
    assert plan.origin == "session.csv"


def _refusal(rows: str, docs: list[Document], **kwargs: Any) -> tuple[str, ...]:
    before = _state(docs)
    plan = plan_from_manifest((HEADER + rows).encode(), "session.csv", docs, **kwargs)
    assert not plan.ok and plan.images == ()
    assert _state(docs) == before
    with pytest.raises(TbpError, match="nothing was changed"):
        apply_plan(plan, docs, docs[0].context)
    assert _state(docs) == before
    return plan.problems


@pytest.mark.parametrize(
    ("rows", "line", "expected"),
    [
        (
            ROWS.replace("left-arm,", "elbowz,"),
            3,
            "region 'elbowz' is not a known anatomic region; close matches",
        ),
        (
            ROWS + "head_overview.png,head,,,,,\n",
            6,
            "image 'head_overview.png' is not among the uploaded documents — upload it with "
            "the manifest (or in the same ZIP archive), or correct the file name",
        ),
        (
            ROWS.replace("L1,back_overview.png,30,20", "L1,back_overview.png,80,20"),
            4,
            "x,y 80,20 lie outside the overview back_overview.png (80 columns × 60 rows) — "
            "give a pixel inside it",
        ),
        (
            ROWS.replace("L2,left-arm_overview.png", "L2,lesion_a.png"),
            5,
            "regional 'lesion_a.png' (line 4) is a close-up, not an overview — name an "
            "overview's file, or set that row's kind to overview",
        ),
        (
            ROWS.replace(",left-arm,,", ",left-arm,R,"),
            3,
            "region 'left-arm' is side L but laterality says R — correct one of them",
        ),
    ],
)
def test_each_refused_manifest_names_its_line_and_the_fix_and_changes_nothing(
    rows: str, line: int, expected: str
) -> None:
    problems = _refusal(rows, _documents(), equipment=EQUIPMENT)
    assert any(p.startswith(f"session.csv line {line}: {expected}") for p in problems), problems


def test_close_ups_without_the_dermatoscope_say_how_to_give_it_in_the_app() -> None:
    (problem,) = _refusal(ROWS, _documents())
    assert problem.startswith(
        "session.csv: the close-ups are Dermoscopic Photography Images, which need the "
        "dermatoscope's Manufacturer, ManufacturerModelName, DeviceSerialNumber, SoftwareVersions"
    )
    assert sessionplan.EQUIPMENT_FIX in problem and "--" not in problem
    # values a close-up already holds count; the others are still asked for
    docs = _documents()
    workspace.set_metadata(_by_name(docs)["lesion_a.png"], EQUIPMENT)
    (problem,) = _refusal(ROWS, docs, equipment={"Manufacturer": "DermaCo"})
    assert "need the dermatoscope's ManufacturerModelName" in problem


def test_two_patients_in_one_session_are_refused() -> None:
    docs = _documents()
    workspace.set_metadata(_by_name(docs)["back_overview.png"], {"PatientID": "A"})
    workspace.set_metadata(_by_name(docs)["lesion_b.png"], {"PatientID": "B"})
    (problem,) = _refusal(ROWS, docs, equipment=EQUIPMENT)
    assert problem.startswith("session.csv line 5: 'lesion_b.png' has PatientID 'B' but")
    assert "make them the same on the Metadata page" in problem


def test_a_dicom_file_or_a_16_bit_picture_cannot_be_listed() -> None:
    docs = _documents()
    ct = DATA / "dicom" / "CT_small.dcm"
    docs.append(workspace.open_document("ct.dcm", ct.read_bytes(), docs[0].context))
    problems = _refusal(ROWS + "ct.dcm,back,,,,,\n", docs, equipment=EQUIPMENT)
    assert any(p.startswith("session.csv line 6: 'ct.dcm' is a DICOM file") for p in problems)

    deep = io.BytesIO()
    Image.new("I;16", (40, 30), 4000).save(deep, "PNG")
    docs = _documents()
    docs[0] = workspace.open_document(
        "back_overview.png", deep.getvalue(), docs[0].context, iod=SECONDARY_CAPTURE
    )
    problems = _refusal(ROWS, docs, equipment=EQUIPMENT)
    assert any(
        p.startswith("session.csv line 2: 'back_overview.png' has 16-bit samples") for p in problems
    ), problems


def test_images_left_out_of_the_manifest_are_named_and_get_a_series_of_their_own() -> None:
    docs = _documents((*NAMES, "extra.png", "more.png"))
    plan = plan_from_manifest((HEADER + ROWS).encode(), "session.csv", docs, equipment=EQUIPMENT)
    assert plan.ok
    assert any(n.startswith("'extra.png' is not in session.csv: left as it is") for n in plan.notes)

    context = docs[0].context
    extra, more = docs[4], docs[5]
    metadata = dict(extra.metadata)
    applied = apply_plan(plan, docs, context)
    written = {d.name: pydicom.dcmread(io.BytesIO(export.export_bytes(d))) for d in docs}
    session_series = set(applied.series_instance_uids.values())
    left = {written[n].SeriesInstanceUID for n in ("extra.png", "more.png")}
    assert len(left) == 1 and not left & session_series  # one series, not the session's
    assert (written["extra.png"].InstanceNumber, written["more.png"].InstanceNumber) == (1, 2)
    assert written["extra.png"].StudyInstanceUID == applied.study_instance_uid
    assert extra.metadata == metadata  # their own values are kept
    overview_numbers = [
        ds.InstanceNumber
        for ds in written.values()
        if ds.SeriesInstanceUID == applied.series_instance_uids["overview"]
    ]
    assert sorted(overview_numbers) == [1, 2]  # no repeated Instance Number
    assert more.context == extra.context


def test_a_value_refused_while_applying_puts_every_document_back() -> None:
    docs = _documents((*NAMES, "extra.png"))
    too_long = dict(EQUIPMENT, Manufacturer="X" * 80)  # LO allows 64 characters
    plan = plan_from_manifest((HEADER + ROWS).encode(), "session.csv", docs, equipment=too_long)
    before = _state(docs)
    with pytest.raises(TbpError, match="LO allows at most 64 characters"):
        apply_plan(plan, docs, docs[0].context)
    # every document as it was, the left-out image's series and number too (restoring
    # touches them, so only their revision moves on)
    assert [state[:5] for state in _state(docs)] == [state[:5] for state in before]


def test_a_document_removed_before_applying_changes_nothing() -> None:
    docs = _documents()
    plan = plan_from_manifest((HEADER + ROWS).encode(), "session.csv", docs, equipment=EQUIPMENT)
    kept = docs[:3]
    before = _state(kept)
    with pytest.raises(TbpError, match=re.escape("'lesion_b.png' was removed meanwhile")):
        apply_plan(plan, kept, kept[0].context)
    assert _state(kept) == before
