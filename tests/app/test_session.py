"""Sessions that survive a reload, Clear session, idle expiry, and uploader chips with documents."""

from __future__ import annotations

import gc
import sys
import time
import weakref
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tbp_core.session.workspace import Document, dataset_of
from tests.conftest import DATA, ROOT
from ui.layout import METADATA_PAGE
from ui.sessionbar import CLEAR_KEY
from ui.sessions import (
    IDLE_MINUTES_ENV,
    QUERY_PARAM,
    SessionStore,
    idle_seconds,
    return_freed_memory,
    store,
)
from ui.state import CURRENT, DOCUMENTS, MEMO, UPLOAD_KEY

FAMILY = "meta_PatientName_family"
PNG = DATA / "png" / "basn2c08.png"
OTHER_PNG = DATA / "png" / "basn0g08.png"


def _open(key: str | None = None) -> AppTest:
    """A browser tab on the app; with ``key``, the URL carries that session key (a reload)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if key is not None:
        at.query_params[QUERY_PARAM] = key
    at.run()
    assert not at.exception, at.exception
    return at


def _key(at: AppTest) -> str:
    key = at.query_params[QUERY_PARAM]
    assert isinstance(key, str)
    return key


def _documents(at: AppTest) -> list[Document]:
    docs: list[Document] = at.session_state[DOCUMENTS]
    return docs


def _uploader_keys(at: AppTest) -> list[str]:
    return [u.key for u in at.file_uploader if u.key is not None]


def _upload(at: AppTest, *paths: Path) -> None:
    (uploader,) = [u for u in at.file_uploader if u.key and u.key.startswith(UPLOAD_KEY)]
    uploader.set_value([(p.name, p.read_bytes(), "image/png") for p in paths]).run()
    assert not at.exception, at.exception


def _memo_ids(at: AppTest) -> set[str]:
    return {doc_id for doc_id, _ in at.session_state[MEMO]}


def test_the_url_carries_a_random_key_of_a_stored_session() -> None:
    first, second = _open(), _open()
    assert len(_key(first)) >= 43 and _key(first) != _key(second)
    assert _key(first) in store() and _key(second) in store()
    key = _key(first)
    first.run()
    assert _key(first) == key  # kept across reruns
    assert _documents(first) == []


def test_a_reload_keeps_the_documents_and_the_typed_name() -> None:
    at = _open()
    key = _key(at)
    _upload(at, PNG)
    (doc,) = _documents(at)
    at.switch_page(METADATA_PAGE).run()
    at.text_input(key=FAMILY).input("Reload").run()
    assert not at.exception, at.exception
    assert str(dataset_of(doc).PatientName).startswith("Reload")

    again = _open(key)  # F5: a new browser session on the same URL
    assert _key(again) == key
    assert [d.id for d in _documents(again)] == [doc.id]
    assert again.session_state[CURRENT] == doc.id
    again.switch_page(METADATA_PAGE).run()
    assert not again.exception, again.exception
    assert again.text_input(key=FAMILY).value == "Reload"
    assert str(dataset_of(_documents(again)[0]).PatientName).startswith("Reload")


def test_a_restored_session_is_not_replaced_by_the_samples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "argv", [*sys.argv, "--samples"])  # as `make run` starts it
    at = _open()
    samples = list(_documents(at))
    assert [d.name for d in samples] == ["regional_back.png", "dermoscopic_lesion.png"]
    at.button(key=f"upload_remove_{samples[0].id}").click().run()
    again = _open(_key(at))
    assert [d.id for d in _documents(again)] == [samples[1].id]
    assert len(_documents(_open())) == 2  # a new visit still opens on the samples


def test_clear_session_forgets_everything_and_starts_a_new_key() -> None:
    at = _open()
    old = _key(at)
    _upload(at, PNG)
    at.switch_page(METADATA_PAGE).run()
    at.text_input(key=FAMILY).input("Forget").run()
    stored = store().open(old)
    assert stored is not None and stored.documents and stored.memo

    # AppTest runs a switched-to page without app.py, where the sidebar's Clear
    # session button lives: reload first, then clear.
    again = _open(old)
    assert len(_documents(again)) == 1
    again.session_state[FAMILY] = "Forget"  # a value this tab holds for a widget
    again.button(key=CLEAR_KEY).click().run()
    assert not again.exception, again.exception
    assert _documents(again) == [] and again.session_state[MEMO] == {}
    assert old not in store()
    assert stored.documents == [] and stored.memo == {}  # freed, not only unlisted
    assert _documents(at) == []  # the other tab on that session holds nothing either
    assert FAMILY not in again.session_state  # typed values are dropped too
    new = _key(again)
    assert new != old and new in store()
    assert _uploader_keys(again) == [f"{UPLOAD_KEY}_1"]  # an empty uploader: no chips left

    stale = _open(old)  # the old URL does not bring anything back
    assert _documents(stale) == [] and _key(stale) not in (old, new)


def test_an_idle_session_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _open()
    key = _key(at)
    _upload(at, PNG)
    stored = store().open(key)
    assert stored is not None and len(stored.documents) == 1
    monkeypatch.setenv(IDLE_MINUTES_ENV, "0.0005")  # 30 ms
    time.sleep(0.1)
    again = _open(key)
    assert _key(again) != key and _documents(again) == []
    assert key not in store() and stored.documents == [] and stored.memo == {}


def test_a_removed_uploader_file_removes_its_document_and_memo() -> None:
    at = _open()
    _upload(at, PNG, OTHER_PNG)
    kept, removed = _documents(at)
    assert {kept.id, removed.id} <= _memo_ids(at)  # previews, thumbnails were made
    _upload(at, PNG)  # the second chip removed
    assert [d.id for d in _documents(at)] == [kept.id]
    assert removed.id not in _memo_ids(at)
    stored = store().open(_key(at))
    assert stored is not None and removed.id not in stored.fingerprints
    _upload(at)  # the last chip removed
    assert _documents(at) == [] and _memo_ids(at) == set()


def test_remove_takes_the_chips_with_it_and_frees_the_memo() -> None:
    at = _open()
    _upload(at, PNG, OTHER_PNG)
    kept, removed = _documents(at)
    at.button(key=f"upload_remove_{removed.id}").click().run()
    assert not at.exception, at.exception
    assert [d.id for d in _documents(at)] == [kept.id]
    assert removed.id not in _memo_ids(at)
    assert _uploader_keys(at) == [f"{UPLOAD_KEY}_1"]  # a fresh, empty uploader
    gone = weakref.ref(removed)
    del removed
    gc.collect()
    assert gone() is None  # nothing (memo, widget callbacks, the page's globals) holds it
    _upload(at, OTHER_PNG)  # the same file can come back
    assert [d.name for d in _documents(at)] == [PNG.name, OTHER_PNG.name]
    _upload(at)  # its chip removed: only it goes, the chipless document stays
    assert [d.id for d in _documents(at)] == [kept.id]


def test_an_unknown_key_in_the_url_is_not_adopted() -> None:
    at = _open("not-a-key-this-server-made")
    assert _key(at) != "not-a-key-this-server-made"
    assert "not-a-key-this-server-made" not in store()


def test_the_store_expires_on_access_and_by_sweep() -> None:
    now = [1000.0]
    sessions = SessionStore(idle=lambda: 60.0, clock=lambda: now[0])
    key, stored = sessions.create()
    other, _ = sessions.create()
    now[0] += 50
    assert sessions.open(key) is stored  # used: its idle time restarts
    now[0] += 30
    assert sessions.sweep() == 1  # `other` idled 80 s
    assert other not in sessions and key in sessions
    now[0] += 61
    assert sessions.open(key) is None and len(sessions) == 0
    assert sessions.forget(key) is False


def test_the_idle_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IDLE_MINUTES_ENV, raising=False)
    assert idle_seconds() == 3600
    monkeypatch.setenv(IDLE_MINUTES_ENV, "15")
    assert idle_seconds() == 900
    for bad in ("soon", "0", "-5", "nan"):
        monkeypatch.setenv(IDLE_MINUTES_ENV, bad)
        assert idle_seconds() == 3600


def test_freeing_memory_collects_garbage_frozen_at_warm_up() -> None:
    # A cycle alive when warm_up froze the heap (like the first session's state
    # holding a page's document), then dropped: an ordinary collection leaves
    # it, the one that returns memory frees it.
    class Holder:
        pass

    holder = Holder()
    holder.cycle = holder  # type: ignore[attr-defined]
    holder.pixels = bytearray(1 << 20)  # type: ignore[attr-defined]
    alive = weakref.ref(holder)
    gc.collect()
    gc.freeze()
    try:
        del holder
        gc.collect()
        assert alive() is not None
        return_freed_memory()
        assert alive() is None
    finally:
        gc.unfreeze()
