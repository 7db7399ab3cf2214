"""A TBP session as a whole: manifest and folder → one study, a series per kind (issue 15, 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from tbp_core.building import lesionlink
from tbp_core.building.manifest import ManifestError, parse_manifest, session_csv
from tbp_core.building.sessionconvert import SessionJob, convert_session
from tbp_core.building.sessionfolder import session_from_folder
from tbp_core.building.sessionvalues import lookup_region, parse_laterality
from tbp_core.building.templates import TBP_SESSION, parse_template
from tbp_core.cli import main
from tbp_core.errors import MetadataError
from tests.conftest import ROOT
from tests.referee import dciodvfy

EQUIPMENT = ROOT / "sample_data" / "dermoscopic_equipment_template.json"
DERMOSCOPIC = "dermoscopic-photography-image"
#: Sizes of the generated images (columns, rows).
IMAGES = {
    "back.png": (64, 48),
    "arms/left_arm.png": (48, 64),
    "l1.png": (32, 24),
    "l2.png": (32, 24),
    "l3.png": (32, 24),
}
MANIFEST = """file,region,laterality,lesion_id,regional,x,y
back.png,Skin of back,,,,,
arms/left_arm.png,upper extremity,left,,,,
l1.png,,,L1,back.png,10,20
l2.png,371311000,L,L2,arms/left_arm.png,,
l3.png,left-leg,,L3,,,
"""


def _png(path: Path, size: tuple[int, int], seed: int, taken: str = "") -> None:
    """A small random RGB PNG, with EXIF DateTimeOriginal when ``taken`` is given."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    if taken:
        exif[0x010F] = "Lumo Imaging"  # Make: Pillow writes no EXIF with an empty IFD0
        exif.get_ifd(0x8769)[0x9003] = taken
    Image.fromarray(pixels).save(path, exif=exif)


@pytest.fixture
def session_dir(tmp_path: Path) -> Path:
    """A session folder: 2 overviews + 3 close-ups and the manifest describing them."""
    folder = tmp_path / "visit"
    for seed, (name, size) in enumerate(IMAGES.items()):
        taken = "2024:03:01 09:58:00" if name == "l2.png" else "2024:03:01 10:15:30"
        _png(folder / name, size, seed, taken)
    (folder / "session.csv").write_text(MANIFEST, encoding="utf-8")
    return folder


def _job(patient: str = "TBP-0001") -> SessionJob:
    closeup = parse_template(EQUIPMENT.read_bytes(), iod_key=DERMOSCOPIC)
    return SessionJob({"PatientID": patient}, {**closeup, "PatientID": patient})


def _read_all(out: Path) -> dict[str, pydicom.Dataset]:
    return {path.name: pydicom.dcmread(path) for path in sorted(out.glob("*.dcm"))}


def test_manifest_converts_a_session_into_one_study(session_dir: Path, tmp_path: Path) -> None:
    session = parse_manifest(session_dir / "session.csv")
    out = tmp_path / "out"
    result = convert_session(session, out, _job(), jobs=1)
    assert not result.failed
    files = _read_all(out)
    assert sorted(files) == ["back.dcm", "l1.dcm", "l2.dcm", "l3.dcm", "left_arm.dcm"]

    assert {ds.StudyInstanceUID for ds in files.values()} == {result.study_instance_uid}
    assert {ds.PatientID for ds in files.values()} == {"TBP-0001"}
    # One Study Date/Time everywhere: the earliest capture (l2.png's EXIF).
    assert {(ds.StudyDate, ds.StudyTime) for ds in files.values()} == {("20240301", "095800")}
    overviews = [files["back.dcm"], files["left_arm.dcm"]]
    closeups = [files["l1.dcm"], files["l2.dcm"], files["l3.dcm"]]
    for series, sop_class, modality, number in (
        (overviews, pydicom.uid.VLPhotographicImageStorage, "XC", 1),
        (closeups, "1.2.840.10008.5.1.4.1.1.77.1.7", "DMS", 2),
    ):
        assert len({ds.SeriesInstanceUID for ds in series}) == 1
        assert {(ds.SOPClassUID, ds.Modality, ds.SeriesNumber) for ds in series} == {
            (sop_class, modality, number)
        }
        assert [ds.InstanceNumber for ds in series] == list(range(1, len(series) + 1))
    assert overviews[0].SeriesInstanceUID != closeups[0].SeriesInstanceUID

    for closeup, overview in ((files["l1.dcm"], overviews[0]), (files["l2.dcm"], overviews[1])):
        (ref,) = closeup.ReferencedImageSequence
        assert ref.ReferencedSOPInstanceUID == overview.SOPInstanceUID
        assert ref.ReferencedSOPClassUID == overview.SOPClassUID
        (purpose,) = ref.PurposeOfReferenceCodeSequence
        assert (purpose.CodeValue, purpose.CodeMeaning) == ("121311", "Localizer")
    assert "ReferencedImageSequence" not in files["l3.dcm"]
    assert [ds.TrackingID for ds in closeups] == ["L1", "L2", "L3"]
    assert files["l1.dcm"].TrackingUID == lesionlink.tracking_uid("TBP-0001", "L1")

    def region(ds: pydicom.Dataset) -> tuple[str, str, str]:
        (item,) = ds.AnatomicRegionSequence
        sides = [m.CodeMeaning for m in item.get("AnatomicRegionModifierSequence", [])]
        return item.CodeValue, item.CodeMeaning, "".join(sides)

    assert region(files["back.dcm"]) == ("66643007", "Skin of back", "")
    assert region(files["left_arm.dcm"]) == ("371311000", "Skin of upper extremity", "Left")
    assert region(files["l1.dcm"]) == region(files["back.dcm"])  # inherited from its overview
    assert region(files["l2.dcm"]) == ("371311000", "Skin of upper extremity", "Left")
    assert region(files["l3.dcm"]) == ("371304004", "Skin of lower extremity", "Left")
    assert files["left_arm.dcm"].ImageLaterality == "L"

    for name in files:
        report = dciodvfy(out / name)
        assert report.errors == (), (name, report.output)
        assert report.unexplained_warnings == (), (name, report.output)


def test_tracking_uid_is_the_same_in_a_second_run(session_dir: Path, tmp_path: Path) -> None:
    session = parse_manifest(session_dir / "session.csv")
    first = convert_session(session, tmp_path / "a", _job(), jobs=1)
    second = convert_session(session, tmp_path / "b", _job(), jobs=1)
    convert_session(session, tmp_path / "c", _job("TBP-0002"), jobs=1)
    assert first.study_instance_uid != second.study_instance_uid
    a, b, c = (_read_all(tmp_path / d) for d in "abc")
    for name in ("l1.dcm", "l2.dcm", "l3.dcm"):
        assert a[name].SOPInstanceUID != b[name].SOPInstanceUID
        assert a[name].TrackingUID == b[name].TrackingUID
        assert c[name].TrackingUID != a[name].TrackingUID
    assert len({a[n].TrackingUID for n in ("l1.dcm", "l2.dcm", "l3.dcm")}) == 3


def _errors(session_dir: Path, tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]):
    (session_dir / "session.csv").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = main(
        [
            "convert",
            "--manifest",
            str(session_dir / "session.csv"),
            "-o",
            str(out),
            "--closeup-metadata",
            str(EQUIPMENT),
        ]
    )
    assert code == 2
    assert not out.exists()
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "line", "fix"),
    [
        pytest.param(
            "file,region\nback.png,back\nmissing.png,back\n",
            "session.csv line 3: image 'missing.png' not found",
            "correct the path; relative paths are read from the manifest's folder",
            id="missing-file",
        ),
        pytest.param(
            "file,region\nback.png,bak\n",
            "session.csv line 2: region 'bak' is not a known anatomic region",
            "write a code meaning, a SNOMED CT code or a view of 'tbp-dicom templates'",
            id="unknown-region",
        ),
        pytest.param(
            "file,region,lesion_id,regional\nback.png,back,,\nl1.png,back,L1,\nl2.png,,L2,l1.png\n",
            "session.csv line 4: regional 'l1.png' (line 3) is a close-up, not an overview",
            "name an overview's file",
            id="regional-is-a-close-up",
        ),
        pytest.param(
            "file,region,regional\nback.png,back,\nl1.png,back,front.png\n",
            "session.csv line 3: regional 'front.png' is not a file of this manifest",
            "add a row for it",
            id="regional-not-in-manifest",
        ),
        pytest.param(
            "file,region\nback.png,back\nl1.png,back\n./back.png,back\n",
            "session.csv line 4: './back.png' is already listed on line 2",
            "remove the duplicate row",
            id="duplicate-file",
        ),
        pytest.param(
            "file,laterality\nback.png,\n",
            "session.csv line 1: no 'region' column",
            "the header must name the columns",
            id="missing-column",
        ),
        pytest.param(
            "file,region,regoinal\nback.png,back,\n",
            "session.csv line 1: unknown column 'regoinal'",
            "did you mean 'regional'?",
            id="unknown-column",
        ),
        pytest.param(
            "file,region,laterality\nback.png,back,left\n",
            "session.csv line 2: 'Skin of back' has no left or right side",
            "clear laterality or choose a paired region",
            id="side-of-unpaired-region",
        ),
        pytest.param(
            "file,region,laterality\nback.png,arm,up\n",
            "session.csv line 2: laterality 'up' is not one of",
            "(or left, right, both, unilateral)",
            id="bad-laterality",
        ),
        pytest.param(
            "file,region,regional,x,y\nback.png,back,,,\nl1.png,,back.png,64,0\n",
            "session.csv line 3: x,y 64,0 lie outside the overview back.png (64 columns × 48 rows)",
            "give a pixel inside it",
            id="location-outside-overview",
        ),
        pytest.param(
            "file,region,x,y\nback.png,back,,\nl1.png,back,1,2\n",
            "session.csv line 3: x,y need a regional overview",
            "fill regional with the overview's file",
            id="location-without-regional",
        ),
        pytest.param(
            "file,region\nback.png,\n",
            "session.csv line 2: overview 'back.png' has no region",
            "fill the region column",
            id="overview-without-region",
        ),
    ],
)
def test_manifest_errors_name_the_line_and_the_fix_and_write_nothing(
    session_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    line: str,
    fix: str,
) -> None:
    err = _errors(session_dir, tmp_path, text, capsys)
    problem = next(row for row in err.splitlines() if line in row)
    assert fix in problem
    assert err.rstrip().endswith("nothing was written")
    assert "Traceback" not in err


def test_every_problem_is_reported_at_once(
    session_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _errors(session_dir, tmp_path, "file,region\nnope.png,back\nback.png,nowhere\n", capsys)
    assert "line 2: image 'nope.png' not found" in err
    assert "line 3: region 'nowhere'" in err


def test_close_ups_without_the_dermatoscope_are_refused_first(
    session_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["convert", "--manifest", str(session_dir / "session.csv"), "-o", str(out)])
    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "need the dermatoscope's Manufacturer, ManufacturerModelName" in err
    assert "--closeup-metadata TEMPLATE.json" in err


def test_semicolons_comments_and_aliases_are_read(session_dir: Path) -> None:
    text = (
        "File;Region;Side;Lesion ID;Overview\n# a comment\nback.png;Back;;;\n\n"
        "l1.png;;;L1;back.png\n"
    )
    (session_dir / "s.csv").write_text(text, encoding="utf-8")
    session = parse_manifest(session_dir / "s.csv")
    assert [(e.origin, e.kind, e.lesion_id) for e in session.entries] == [
        ("s.csv line 3", "overview", None),
        ("s.csv line 5", "closeup", "L1"),
    ]
    assert session.entries[1].regional == session_dir / "back.png"


@pytest.mark.parametrize(
    ("text", "meaning", "side"),
    [
        ("66643007", "Skin of back", None),
        ("SKIN OF BACK", "Skin of back", None),
        ("back", "Skin of back", None),  # the skin site wins over Annex L's "Back"
        ("upper_extremity", "Skin of upper extremity", None),
        ("Right-Leg", "Skin of lower extremity", "R"),
        ("posterior trunk", "Skin of back", None),
    ],
)
def test_lookup_region(text: str, meaning: str, side: str | None) -> None:
    region, implied = lookup_region(text)
    assert (region.code_meaning, implied) == (meaning, side)


def test_unknown_region_lists_close_matches() -> None:
    with pytest.raises(MetadataError, match=r"close matches: 'Skin of upper arm|'Skin of ante"):
        lookup_region("upper arm skin")
    with pytest.raises(MetadataError, match=r"close matches: .*'Skin of scalp'"):
        lookup_region("scalpp")


@pytest.mark.parametrize(
    ("text", "letter"),
    [("L", "L"), ("left", "L"), ("Right", "R"), ("both", "B"), ("bilateral", "B"), ("u", "U")],
)
def test_parse_laterality_takes_letters_and_words(text: str, letter: str) -> None:
    assert parse_laterality(text) == letter
    assert parse_laterality(" ") is None


def test_session_template_views_are_dermatology_sites() -> None:
    names = [view.name for view in TBP_SESSION.views]
    assert names == [
        "head",
        "neck",
        "anterior-trunk",
        "posterior-trunk",
        "left-arm",
        "right-arm",
        "left-leg",
        "right-leg",
    ]
    for view in TBP_SESSION.views:
        assert view.region().is_skin, view.name
        assert view.region().coding_scheme == "SCT"
        (item,) = view.metadata()["AnatomicRegionSequence"]
        assert ("AnatomicRegionModifierSequence" in item) == (view.laterality is not None)


def test_folder_session_from_file_names(tmp_path: Path) -> None:
    folder = tmp_path / "visit"
    names = [
        "back_overview.png",
        "Left-Arm_Overview.png",
        "back_closeup_L1.png",
        "left-arm_dermoscopic_L2.png",
        "right-leg_closeup_L3.png",
    ]
    for seed, name in enumerate(names):
        _png(folder / name, (32, 24), seed)
    session = session_from_folder(folder)
    by_name = {e.source.name: e for e in session.entries}
    assert [e.source.name for e in session.overviews] == [
        "back_overview.png",
        "Left-Arm_Overview.png",
    ]
    assert by_name["back_closeup_L1.png"].regional == folder / "back_overview.png"
    assert by_name["left-arm_dermoscopic_L2.png"].regional == folder / "Left-Arm_Overview.png"
    assert by_name["left-arm_dermoscopic_L2.png"].laterality == "L"
    assert by_name["right-leg_closeup_L3.png"].regional is None
    assert any("right-leg_closeup_L3.png: no overview" in note for note in session.notes)
    assert [e.lesion_id for e in session.closeups] == ["L1", "L2", "L3"]
    # The dry-run manifest reads back as the same session.
    (folder / "again.csv").write_text(session_csv(session, base=folder), encoding="utf-8")
    again = parse_manifest(folder / "again.csv")
    assert [(e.source, e.kind, e.region, e.laterality, e.regional) for e in again.entries] == [
        (e.source, e.kind, e.region, e.laterality, e.regional) for e in session.entries
    ]


def test_folder_names_that_tell_no_region_are_refused(tmp_path: Path) -> None:
    _png(tmp_path / "IMG_0001.png", (8, 8), 0)
    _png(tmp_path / "back.png", (8, 8), 1)
    with pytest.raises(ManifestError) as caught:
        session_from_folder(tmp_path)
    (problem,) = caught.value.problems
    assert problem.startswith("IMG_0001.png: cannot tell the body region")
    assert "rename it <region>_<overview|closeup>[_<lesion id>]" in problem


def test_worker_processes_give_each_image_its_own_region(tmp_path: Path) -> None:
    views = ["head", "neck", "anterior-trunk", "posterior-trunk", "left-arm"]
    for seed, view in enumerate(views):
        _png(tmp_path / f"{view}.png", (16, 12), seed)
    rows = "".join(f"{view}.png,{view}\n" for view in views)
    (tmp_path / "s.csv").write_text(f"file,region\n{rows}", encoding="utf-16")
    session = parse_manifest(tmp_path / "s.csv")
    result = convert_session(session, tmp_path / "out", _job(), jobs=2)
    assert not result.failed
    for number, view in enumerate(views, start=1):
        ds = pydicom.dcmread(tmp_path / "out" / f"{view}.dcm")
        expected = TBP_SESSION.view(view)
        assert expected is not None
        assert ds.AnatomicRegionSequence[0].CodeValue == expected.region().code_value
        assert ds.InstanceNumber == number
