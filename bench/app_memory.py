"""Benchmark: the app's server memory over upload/remove cycles, and what one 50 MP image holds.

Run by hand (``.venv/bin/python bench/app_memory.py``), not in the tests. The real
app runs in this process through ``streamlit.testing.v1.AppTest`` (as tests/app
and bench/app_rerun.py do), so this process's resident set size (RSS, from
psutil when installed, else ``VmRSS`` of ``/proc/self/status``; after
``gc.collect()``) is the server's.

1. Cycles: a deterministic ~20 MB PNG (3200 × 4000 synthetic skin photograph of
   ``sample_data/make_samples.py``) is uploaded through the Upload page's file
   uploader and removed again, 20 times. Odd cycles remove it by taking the file
   out of the uploader (the chip), even cycles with the document's Remove
   button. RSS is printed at the start (app loaded, nothing uploaded), after
   every cycle, and at the end. The first cycle warms up what any first upload
   loads once per process (codecs, Plotly, PIL plugins), so the baseline is the
   RSS after cycle 1; the target is the end within 10 % of it.
2. One 50 MP image: the 6144 × 8192 RGB picture of bench/convert.py is
   uploaded into a fresh session and every page is visited; what the session
   holds (RSS then, minus RSS before the upload) must be ≤ 3 × its decoded size
   (151 MB). What is still held after "Clear session", and after both tabs
   are gone and the app next returns memory, is printed for information.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path[:0] = [str(ROOT), str(ROOT / "sample_data")]

import argparse  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import time  # noqa: E402

from make_samples import synthetic_skin  # type: ignore[import-not-found]  # noqa: E402
from PIL import Image  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402, TID251 (drives the app, as tests/app do)

from tbp_core.session.workspace import Document  # noqa: E402
from ui.layout import (  # noqa: E402
    DUMP_PAGE,
    METADATA_PAGE,
    STRUCTURE_PAGE,
    TAGS_PAGE,
    UPLOAD_PAGE,
    VALIDATE_PAGE,
)
from ui.sessionbar import CLEAR_KEY  # noqa: E402
from ui.sessions import return_freed_memory  # noqa: E402
from ui.state import DOCUMENTS, MEMO, UPLOAD_KEY  # noqa: E402

MB = 1024 * 1024
CYCLE_ROWS, CYCLE_COLUMNS = 3200, 4000
BIG_ROWS, BIG_COLUMNS = 8192, 6144
PAGES = (UPLOAD_PAGE, METADATA_PAGE, TAGS_PAGE, DUMP_PAGE, STRUCTURE_PAGE, VALIDATE_PAGE)


def rss() -> int:
    """This process's resident set size in bytes, after a full garbage collection."""
    gc.collect()
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise SystemExit("no psutil and no /proc/self/status: cannot read RSS") from None
    return int(psutil.Process().memory_info().rss)


def png_of(rows: int, columns: int, seed: int) -> bytes:
    """A deterministic synthetic skin photograph as PNG bytes."""
    pixels = synthetic_skin(rows, columns, seed=seed, naevi=200)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def checked(at: AppTest) -> AppTest:
    """Run the script; stop the benchmark if the app raised."""
    at.run()
    if at.exception:
        raise SystemExit(f"the app raised: {[e.value for e in at.exception]}")
    return at


def documents(at: AppTest) -> list[Document]:
    """The session's documents."""
    docs: list[Document] = at.session_state[DOCUMENTS]
    return docs


def upload(at: AppTest, name: str, data: bytes) -> None:
    """Put one file in the (current) uploader."""
    (uploader,) = [u for u in at.file_uploader if u.key and u.key.startswith(UPLOAD_KEY)]
    uploader.set_value((name, data, "image/png"))
    checked(at)


def cycle(at: AppTest, png: bytes, index: int) -> str:
    """Upload the PNG and remove it again (odd cycles by the chip, even by Remove)."""
    upload(at, f"cycle_{index}.png", png)
    (doc,) = documents(at)
    if index % 2:
        (uploader,) = [u for u in at.file_uploader if u.key and u.key.startswith(UPLOAD_KEY)]
        uploader.set_value(None)
        how = "chip"
    else:
        at.button(key=f"upload_remove_{doc.id}").click()
        how = "Remove"
    checked(at)
    if documents(at) or any(key[0] == doc.id for key in at.session_state[MEMO]):
        raise SystemExit(f"cycle {index}: the document or its memo entries are still held")
    return how


def cycles(count: int) -> bool:
    """Run the upload/remove cycles; print RSS; return whether the target is met."""
    started = time.perf_counter()
    png = png_of(CYCLE_ROWS, CYCLE_COLUMNS, seed=20260101)
    decoded = CYCLE_ROWS * CYCLE_COLUMNS * 3
    print(
        f"PNG: {len(png) / MB:.1f} MB ({CYCLE_COLUMNS} × {CYCLE_ROWS} RGB, "
        f"{decoded / MB:.1f} MB decoded); made in {time.perf_counter() - started:.1f} s"
    )
    at = checked(AppTest.from_file(str(ROOT / "app.py"), default_timeout=600))
    start = rss()
    print(f"start (app loaded, nothing uploaded): {start / MB:8.1f} MB")
    after: list[int] = []
    for index in range(1, count + 1):
        how = cycle(at, png, index)
        after.append(rss())
        print(f"after cycle {index:2d} (removed by {how:6s}): {after[-1] / MB:8.1f} MB")
    end = rss()
    baseline = after[0]
    growth = (end - baseline) / baseline
    print(f"end: {end / MB:.1f} MB")
    print(
        f"baseline (after cycle 1, the warm-up): {baseline / MB:.1f} MB; "
        f"end vs baseline: {growth:+.1%} (target within ±10 %); "
        f"end vs start: {(end - start) / start:+.1%}"
    )
    return abs(growth) <= 0.10


def big_image() -> bool:
    """Upload one 50 MP image, visit every page; print what the session holds."""
    started = time.perf_counter()
    png = png_of(BIG_ROWS, BIG_COLUMNS, seed=20261122)
    decoded = BIG_ROWS * BIG_COLUMNS * 3
    print(
        f"\n50 MP PNG: {len(png) / MB:.1f} MB ({BIG_COLUMNS} × {BIG_ROWS} RGB, "
        f"{decoded / MB:.1f} MB decoded); made in {time.perf_counter() - started:.1f} s"
    )
    at = checked(AppTest.from_file(str(ROOT / "app.py"), default_timeout=600))
    before = rss()
    print(f"before the upload: {before / MB:.1f} MB")
    upload(at, "tbp_50mp.png", png)
    uploaded = rss()
    _visit_every_page(at)
    visited = rss()
    held = visited - before
    print(
        f"after the upload (Upload page): {uploaded / MB:.1f} MB (+{(uploaded - before) / MB:.1f})"
    )
    print(f"after visiting every page: {visited / MB:.1f} MB (+{held / MB:.1f})")
    ratio = held / decoded
    print(f"held by the session: {held / MB:.1f} MB = {ratio:.2f} × decoded (target ≤ 3)")
    again = _clear_from_reload(at)
    cleared = rss()
    print(
        f"after Clear session, first tab still open: {cleared / MB:.1f} MB "
        f"(+{(cleared - before) / MB:.1f} vs before)"
    )
    # Both tabs closed; the app returns memory again when it next forgets a
    # session (the idle sweep) or a document: what is left then is kept for good.
    del again, at
    return_freed_memory()
    closed = rss()
    print(
        f"after both tabs closed and memory next returned: {closed / MB:.1f} MB "
        f"(+{(closed - before) / MB:.1f} vs before)"
    )
    # Part of that is paid once (modules and caches the pages load on their first
    # visit with a document); a second identical session shows what each one leaves.
    _session_cycle(png)
    repeated = rss()
    print(
        f"after a second identical session, closed the same way: {repeated / MB:.1f} MB "
        f"(+{(repeated - closed) / MB:.1f} vs after the first)"
    )
    return ratio <= 3.0


def _visit_every_page(at: AppTest) -> None:
    for page in PAGES:
        at.switch_page(page)
        checked(at)


def _clear_from_reload(at: AppTest) -> AppTest:
    """Click Clear session in a reload of ``at``'s session; return that second tab.

    Clear session lives in app.py's sidebar; AppTest runs a switched-to page
    alone, so it is clicked in a reload of the same session (as after F5).
    """
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    again.query_params.update(at.query_params)
    checked(again)
    again.button(key=CLEAR_KEY).click()
    return checked(again)


def _session_cycle(png: bytes) -> None:
    """Upload the PNG in a new session, visit every page, clear it from a reload, close both."""
    at = checked(AppTest.from_file(str(ROOT / "app.py"), default_timeout=600))
    upload(at, "tbp_50mp.png", png)
    _visit_every_page(at)
    again = _clear_from_reload(at)
    del again, at
    return_freed_memory()


def main() -> None:
    """Run both measurements; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20, help="upload/remove cycles")
    parser.add_argument("--skip-50mp", action="store_true", help="only the cycles")
    args = parser.parse_args()
    ok = cycles(args.cycles)
    if not args.skip_50mp:
        ok = big_image() and ok
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
