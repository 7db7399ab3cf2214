"""The bytes the app serves for download, recorded as Streamlit stores them.

AppTest shows a download button but not what it would serve; Streamlit puts
the bytes in its media file storage. The ``served`` fixture wraps the real
storage's ``load_and_get_id`` (the bytes are still stored and served) and
keeps a copy of each, so a test can read back exactly what the user downloads.
tests/app/conftest.py makes the fixture available to every app test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

#: File id → (bytes, file name).
Served = dict[str, tuple[bytes, str | None]]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """File id → (bytes, file name) of everything put in Streamlit's media file storage."""
    record: Served = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def load_and_get_id(
        self: MemoryMediaFileStorage,
        path_or_data: str | bytes,
        mimetype: str,
        kind: Any,
        filename: str | None = None,
    ) -> str:
        file_id = original(self, path_or_data, mimetype, kind, filename)
        if isinstance(path_or_data, bytes):
            record[file_id] = (path_or_data, filename)
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)
    yield record
