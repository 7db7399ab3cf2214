"""The app in a real browser: Debian's chromium, driven by Playwright, against `streamlit run`.

The server is started as `make run` starts it, on the sample images.

Starts the app on a free port, uploads a PNG, fills Patient's Name, downloads
the DICOM and checks it with pydicom and dciodvfy; uploads a DICOM and finds a
known tag on the Dump page; reloads and finds the session again, then clears
it; shows a file whose values and name carry Markdown/HTML literally without
fetching anything; renders deep-colour images on every page; clicks a page link
right after a cold start. Screenshots of every page land in docs/screenshots/
(the README shows them).
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
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import DATA, ROOT
from tests.referee import dciodvfy

SCREENSHOTS = ROOT / "docs" / "screenshots"
TIMEOUT_MS = 60_000


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
    _settle(page)


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
    _go(page, "Validate & Download")
    page.get_by_role("button", name="Prepare DICOM").click()
    _settle(page)
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download DICOM").click()
    download = caught.value
    assert download.suggested_filename == "basn2c08.dcm"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
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
        ["Metadata", "Tags", "Dump", "Structure", "Validate & Download"], start=2
    ):
        _go(page, title)
        expect(page.get_by_role("heading", name=title).first).to_be_visible()
        page.mouse.move(0, 0)
        _shot(page, f"{index}-{title.split()[0].lower()}")
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 6


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
