"""ReadAhead: an input read on a thread gives what ``Path.read_bytes`` gives."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

import pytest

from tbp_core.fileio.readahead import ReadAhead


def test_the_bytes_read_ahead_are_the_files(tmp_path: Path) -> None:
    image = tmp_path / "image.png"
    image.write_bytes(bytes(range(256)) * 4099)
    ahead = ReadAhead(image)
    assert ahead.read(Path(str(image))) == image.read_bytes()


def test_they_are_handed_over_once_then_the_file_is_read_again(tmp_path: Path) -> None:
    image = tmp_path / "image.png"
    image.write_bytes(b"first")
    ahead = ReadAhead(image)
    assert ahead.read(image) == b"first"
    image.write_bytes(b"second")
    assert ahead.read(image) == b"second"


def test_another_file_is_read_when_asked(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"a")
    (tmp_path / "b.png").write_bytes(b"b")
    ahead = ReadAhead(tmp_path / "a.png")
    assert ahead.read(tmp_path / "b.png") == b"b"
    assert ahead.read(tmp_path / "a.png") == b"a"


@pytest.mark.parametrize("name", ["missing.png", "."])
def test_a_read_error_is_raised_in_the_callers_thread_as_read_bytes_raises_it(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    with pytest.raises(OSError) as expected:
        path.read_bytes()
    ahead = ReadAhead(path)
    with pytest.raises(OSError) as raised:
        ahead.read(path)
    assert type(raised.value) is type(expected.value)
    assert raised.value.errno == expected.value.errno
    assert str(raised.value) == str(expected.value)


class _FailsOnce(type(Path())):  # type: ignore[misc]
    """A path whose first read fails as a read of a too-large file would."""

    failures: ClassVar[list[str]] = []

    def read_bytes(self) -> bytes:
        if not self.failures:
            self.failures.append("read")
            raise MemoryError
        return super().read_bytes()


def test_another_failure_escapes_no_thread_and_the_caller_reads_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    escaped: list[threading.ExceptHookArgs] = []
    # What the interpreter would print as "Exception in thread ..." on stderr.
    monkeypatch.setattr(threading, "excepthook", escaped.append)
    (tmp_path / "image.png").write_bytes(b"pixels")
    _FailsOnce.failures.clear()
    path = _FailsOnce(tmp_path / "image.png")
    ahead = ReadAhead(path)
    assert ahead.read(path) == b"pixels"
    assert path.failures == ["read"]
    assert escaped == []
