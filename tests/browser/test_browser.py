"""The app in a real browser: Debian's chromium, driven by Playwright, against `streamlit run`.

The server is started as `make run` starts it, on the sample images.

Starts the app on a free port, uploads a PNG, fills Patient's Name, downloads
the DICOM and checks it with pydicom and dciodvfy; uploads a DICOM and finds a
known tag on the Dump page; reloads and finds the session again, then clears
it; shows a file whose values and name carry Markdown/HTML literally without
fetching anything; renders deep-colour images on every page; clicks a page link
right after a cold start; links the dermoscopic sample to the regional one by
clicking the lesion on the overview's picture. Screenshots of every page, and of
the lesion link, land in docs/screenshots/ (the README shows them).
"""

from __future__ import annotations

import csv
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tbp_core.building import lesionlink
from tbp_core.standard import private
from tests.conftest import DATA, ROOT
from tests.referee import dciodvfy

SCREENSHOTS = ROOT / "docs" / "screenshots"
TIMEOUT_MS = 60_000
SAMPLES = ROOT / "sample_data"
OVERVIEW = SAMPLES / "regional_back.png"
EQUIPMENT = SAMPLES / "dermoscopic_equipment_template.json"
#: Where the lesion is clicked on the overview: the dark naevus right of its centre.
LESION_AT = (680.0, 380.0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("streamlit did not become healthy within 90 s")


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--",
            "--samples",  # as `make run` does: every new session opens on the samples
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed: apt-get install -y chromium (.ci/run does it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Upload")).to_be_visible()
    yield page
    context.close()


def _settle(page: Page) -> None:
    """Wait until the script run triggered by the last interaction has finished."""
    page.wait_for_timeout(500)
    # the app's own run state: "running" from the start of a run (the status widget
    # below shows only after half a second of it)
    expect(page.locator('[data-testid="stApp"]')).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=TIMEOUT_MS
    )
    for busy in (
        '[data-testid="stStatusWidget"]',
        '[data-testid="stSkeleton"]',
        '[data-stale="true"]',
    ):
        expect(page.locator(busy)).to_have_count(0, timeout=TIMEOUT_MS)
    page.wait_for_load_state("networkidle")


def _go(page: Page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    _settle(page)


def _upload(page: Page, path: Path) -> None:
    uploader = page.locator('[data-testid="stFileUploader"]').filter(
        has_text="Images or DICOM files"
    )
    uploader.locator('input[type="file"]').set_input_files(str(path))
    # The file's name in the uploader is drawn by the browser at once; the
    # server has read the file when the sidebar's current document names it.
    # (Waiting only for the run state raced a slow upload on a loaded machine:
    # the test went on with a sample document current.)
    picker = page.get_by_role("combobox", name="Current document")
    expect(picker).to_have_value(re.compile(re.escape(path.name)), timeout=TIMEOUT_MS)
    _settle(page)


def _choose(page: Page, selectbox: Locator, option: str) -> None:
    selectbox.click()
    page.get_by_role("option", name=option, exact=True).click()
    _settle(page)


def _download_current(page: Page, tmp_path: Path) -> Path:
    """Prepare and download the current document's DICOM file on Validate & Download."""
    _go(page, "Validate & Download")
    page.get_by_role("button", name="Prepare DICOM").click()
    _settle(page)
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download DICOM").click()
    download = caught.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    return target


PAGES = ["Upload", "Browse", "Metadata", "Tags", "Dump", "Structure", "Validate & Download"]


def _no_error_shown(page: Page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.get_by_text("This app has encountered an error")).to_have_count(0)


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_png_to_dicom_with_patient_name(page: Page, tmp_path: Path) -> None:
    _upload(page, DATA / "png" / "basn2c08.png")
    expect(page.get_by_text("basn2c08.png").first).to_be_visible()
    _go(page, "Metadata")
    for part, value in (("family name", "Müller"), ("given name", "Zoë")):
        field = page.get_by_label(f"Patient's Name — {part}")
        field.fill(value)
        field.press("Enter")
        _settle(page)
    target = _download_current(page, tmp_path)
    assert target.name == "basn2c08.dcm"
    ds = pydicom.dcmread(target)
    assert str(ds.PatientName) == "Müller^Zoë"
    assert dciodvfy(target).errors == ()


def test_dicom_upload_shows_a_known_tag_in_the_dump(page: Page) -> None:
    _upload(page, DATA / "dicom" / "CT_small.dcm")
    _go(page, "Dump")
    expect(page.get_by_text("CompressedSamples^CT1").first).to_be_visible()
    search = page.get_by_label("Search the dump")
    search.fill("PatientName")
    search.press("Enter")
    _settle(page)
    # In the page's main area: the sidebar's (collapsed) glossary quotes the tag too.
    main = page.locator("[data-testid='stMain']")
    expect(main.get_by_text("(0010,0010)").first).to_be_visible()


def test_screenshots_of_every_page(page: Page) -> None:
    _settle(page)
    expect(page.get_by_text("regional_back.png").first).to_be_visible()  # opened on the samples
    page.get_by_role("button", name="Load sample images").click()  # idempotent
    _settle(page)
    page.mouse.move(0, 0)
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    page.wait_for_timeout(1000)  # let Plotly finish drawing
    _shot(page, "1-upload")
    for index, title in enumerate(
        ["Metadata", "Tags", "Dump", "Structure", "Validate & Download", "Conformance"], start=2
    ):
        _go(page, title)
        expect(page.get_by_role("heading", name=title).first).to_be_visible()
        page.mouse.move(0, 0)
        _shot(page, f"{index}-{title.split()[0].lower()}")
    section = _lesion_link_section(page)
    _click_on_overview(page, section, *LESION_AT)
    _type_lesion_id(page, section, "L7")
    section.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.mouse.move(0, 0)
    _shot(page, "8-lesion-link")
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 8


def test_reload_keeps_the_session_and_clear_session_forgets_it(page: Page) -> None:
    _upload(page, DATA / "png" / "basn2c08.png")
    _go(page, "Metadata")
    field = page.get_by_label("Patient's Name — family name")
    field.fill("Reloaded")
    field.press("Enter")
    _settle(page)
    assert "session=" in page.url
    page.reload()
    _settle(page)
    _go(page, "Upload")
    expect(page.get_by_text("basn2c08.png").first).to_be_visible()
    _go(page, "Metadata")
    expect(page.get_by_label("Patient's Name — family name")).to_have_value("Reloaded")
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Clear session").click()
    _settle(page)
    _go(page, "Upload")
    expect(page.get_by_text("basn2c08.png")).to_have_count(0)


def _payload_dicom(tmp_path: Path) -> Path:
    from tests.app.test_hardening import PAYLOAD, _injection_file

    path = tmp_path / "payload.dcm"
    path.write_bytes(_injection_file())
    named = tmp_path / f"{PAYLOAD.replace('/', '_')}.dcm"
    named.write_bytes(path.read_bytes())
    return named


def test_untrusted_text_is_shown_literally_and_fetches_nothing(page: Page, tmp_path: Path) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    _upload(page, _payload_dicom(tmp_path))
    for title in PAGES:
        _go(page, title)
        _no_error_shown(page)
        expect(page.locator('a[href*="e.invalid"]')).to_have_count(0)
        expect(page.locator('img[src*="e.invalid"]')).to_have_count(0)
        # the payload's **bold** made into bold: a <strong> holding just that word
        expect(page.locator("main strong", has_text=re.compile(r"^bold$"))).to_have_count(0)
    assert not [url for url in requested if "e.invalid" in url], requested
    _go(page, "Upload")
    shown = page.locator("main").inner_text()
    assert "**bold** [x](http:" in shown and "<img src=" in shown  # the characters, as text


@pytest.mark.parametrize(
    "path",
    [DATA / "dicom" / "SC_rgb_16bit.dcm", DATA / "dicom" / "SC_rgb_rle_32bit_2frame.dcm"],
    ids=lambda p: p.name,
)
def test_deep_colour_images_render_on_every_page(page: Page, path: Path) -> None:
    _upload(page, path)
    for title in PAGES:
        _go(page, title)
        expect(page.get_by_role("heading", name=title).first).to_be_visible()
        _no_error_shown(page)
    _go(page, "Upload")
    expect(page.locator(".js-plotly-plot").first).to_be_visible()


def test_a_page_link_works_right_after_a_cold_start(browser: Browser) -> None:
    """A fresh server: the first click on a page link, within a second of loading, works."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        _wait_healthy(url, server)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        nav = page.locator('[data-testid="stSidebarNav"] a').nth(3)
        nav.wait_for(timeout=TIMEOUT_MS)
        nav.click()
        _settle(page)
        _no_error_shown(page)
        expect(page.get_by_text("KeyError")).to_have_count(0)
        expect(page.get_by_role("heading").first).to_be_visible()
        links = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
        assert [text.strip() for text in links] == [*PAGES, "Conformance"], links
    finally:
        context.close()
        server.terminate()
        server.wait(timeout=30)


def test_a_zip_upload_is_browsed_in_a_table(page: Page, tmp_path: Path) -> None:
    archive = tmp_path / "dicoms.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name in ("CT_small.dcm", "MR_small.dcm"):
            bundle.write(DATA / "dicom" / name, f"study/{name}")
    _upload(page, archive)
    _no_error_shown(page)
    _go(page, "Browse")
    _no_error_shown(page)
    # The grid draws its cells on a canvas: its rows are read back through the page's CSV.
    expect(page.locator('[data-testid="stDataFrame"] canvas').first).to_be_visible()
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download (.csv)").click()
    target = tmp_path / caught.value.suggested_filename
    caught.value.save_as(target)
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    by_file = {row["file"]: row for row in rows}
    assert by_file["dicoms.zip!study/CT_small.dcm"]["PatientName"] == "CompressedSamples^CT1"
    assert by_file["dicoms.zip!study/MR_small.dcm"]["Modality"] == "MR"
    tree = page.locator('[data-testid="stExpander"]').filter(has_text="CompressedSamples^CT1")
    expect(tree.first).to_contain_text("1 study, 1 series, 1 instance")


# ------------------------------------------------------------------ the lesion link (issue 15)


def _overview_size() -> tuple[int, int]:
    with Image.open(OVERVIEW) as picture:
        columns, rows = picture.size
    return columns, rows


def _lesion_link_section(page: Page) -> Locator:
    """The samples' close-up as a Dermoscopic image, linked to the regional overview.

    Returns the Metadata page's lesion link section, with the overview's picture drawn.
    """
    sidebar = page.locator('[data-testid="stSidebar"]')
    _choose(page, sidebar.locator('[data-testid="stSelectbox"]'), "dermoscopic_lesion.png (image)")
    _go(page, "Upload")
    page.get_by_text("Dermoscopic Photography Image", exact=True).click()  # no-op if chosen
    _settle(page)
    _go(page, "Metadata")
    form = page.get_by_text("Form for the Dermoscopic Photography Image IOD")
    expect(form).to_be_visible(timeout=TIMEOUT_MS)
    template = page.locator('[data-testid="stFileUploader"]').filter(has_text="Load template")
    template.locator('input[type="file"]').set_input_files(str(EQUIPMENT))  # dermatoscope
    _settle(page)
    loaded = re.compile(rf"Loaded \d+ values from '{re.escape(EQUIPMENT.name)}'")
    expect(page.get_by_text(loaded)).to_be_visible(timeout=TIMEOUT_MS)
    section = page.locator('[data-testid="stExpander"]').filter(has_text="Lesion link")
    expect(section.get_by_text("Regional overview", exact=True)).to_be_visible()  # open: a close-up
    _choose(page, section.locator('[data-testid="stSelectbox"]'), OVERVIEW.name)
    expect(section.locator(".js-plotly-plot g.imagelayer image")).to_have_count(
        1, timeout=TIMEOUT_MS
    )
    return section


def _on_page(picture: Locator, column: float, row: float) -> tuple[float, float]:
    """Where the overview's pixel (column, row) is drawn on the page.

    Plotly draws the picture as one SVG image, pixel i covering [i - 0.5, i + 0.5]
    of its axis, so the image element's box spans the overview's width and height.
    """
    box = picture.bounding_box()
    assert box is not None
    columns, rows = _overview_size()
    return (
        box["x"] + (column + 0.5) * box["width"] / columns,
        box["y"] + (row + 0.5) * box["height"] / rows,
    )


def _click_on_overview(page: Page, section: Locator, column: float, row: float) -> None:
    """Click the overview's picture at the pixel (column, row), as a user points at a lesion."""
    chart = section.locator(".js-plotly-plot")
    picture = chart.locator("g.imagelayer image")
    picture.scroll_into_view_if_needed()
    drag, shown = chart.locator(".nsewdrag").bounding_box(), picture.bounding_box()
    assert drag is not None and shown is not None
    # the picture lies inside the plot area that takes the clicks
    assert drag["x"] <= shown["x"] and shown["x"] + shown["width"] <= drag["x"] + drag["width"]
    assert drag["y"] <= shown["y"] and shown["y"] + shown["height"] <= drag["y"] + drag["height"]
    x, y = _on_page(picture, column, row)
    page.mouse.move(x, y)
    expect(chart.locator(".hoverlayer .hovertext")).to_contain_text("click: the lesion is here")
    page.mouse.click(x, y)
    _settle(page)


def _type_lesion_id(page: Page, section: Locator, lesion: str) -> None:
    field = section.get_by_role("textbox", name="Lesion id")
    field.fill(lesion)
    field.press("Enter")
    field.blur()
    _settle(page)


def test_clicking_the_lesion_on_the_overview_links_the_close_up(page: Page, tmp_path: Path) -> None:
    section = _lesion_link_section(page)
    spacing = re.search(r"a point every (\d+) pixels", section.inner_text())
    assert spacing, section.inner_text()
    step = int(spacing[1])
    x_field = section.get_by_role("spinbutton", name="X (column)")
    y_field = section.get_by_role("spinbutton", name="Y (row)")
    expect(x_field).to_have_value("")
    expect(y_field).to_have_value("")

    _click_on_overview(page, section, *LESION_AT)
    expect(x_field).not_to_have_value("", timeout=TIMEOUT_MS)
    expect(y_field).not_to_have_value("", timeout=TIMEOUT_MS)
    x, y = float(x_field.input_value()), float(y_field.input_value())
    assert x % step == 0 and y % step == 0, (x, y, step)  # a point of the clickable grid
    assert abs(x - LESION_AT[0]) <= step and abs(y - LESION_AT[1]) <= step, (x, y, step)
    # the marker (the chart's second scatter trace: one point) is drawn at that pixel
    marker = section.locator(".js-plotly-plot .scatterlayer .trace").nth(1).locator(".point")
    expect(marker).to_have_count(1, timeout=TIMEOUT_MS)
    box = marker.bounding_box()
    assert box is not None
    drawn = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expected = _on_page(section.locator(".js-plotly-plot g.imagelayer image"), x, y)
    assert abs(drawn[0] - expected[0]) <= 2 and abs(drawn[1] - expected[1]) <= 2, (drawn, expected)
    linked = f"Linked to overview '{OVERVIEW.name}' at ({x:.0f}, {y:.0f})"
    expect(section.get_by_text(linked)).to_be_visible(timeout=TIMEOUT_MS)

    _type_lesion_id(page, section, "L7")
    expect(section.get_by_text(f"{linked}, lesion L7")).to_be_visible(timeout=TIMEOUT_MS)
    close_up_file = _download_current(page, tmp_path)
    sidebar = page.locator('[data-testid="stSidebar"]')
    _choose(page, sidebar.locator('[data-testid="stSelectbox"]'), f"{OVERVIEW.name} (image)")
    overview = pydicom.dcmread(_download_current(page, tmp_path))
    close_up = pydicom.dcmread(close_up_file)
    assert close_up_file.name == "dermoscopic_lesion.dcm" and close_up.Modality == "DMS"
    (reference,) = close_up.ReferencedImageSequence
    assert reference.ReferencedSOPInstanceUID == overview.SOPInstanceUID
    assert reference.ReferencedSOPClassUID == overview.SOPClassUID
    (purpose,) = reference.PurposeOfReferenceCodeSequence
    assert (purpose.CodeValue, purpose.CodingSchemeDesignator) == ("121311", "DCM")  # Localizer
    assert close_up.StudyInstanceUID == overview.StudyInstanceUID
    assert close_up.TrackingID == "L7"
    assert private.get_tbp_values(close_up)[lesionlink.LOCATION_KEY] == [x, y]
    assert dciodvfy(close_up_file).errors == ()
