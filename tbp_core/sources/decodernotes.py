"""Turn what image decoders print or warn into notes for the user.

libpng (through imagecodecs) writes ``PNG warning: ...`` lines from C
straight to file descriptor 2, which Python's ``sys.stderr`` never sees.
:func:`native_warnings` points descriptor 2 at an anonymous in-memory file
(``memfd``; a pipe drained by a thread where memfd does not exist) for the
duration of a decode, then turns libpng's lines into notes. Anything else
written there meanwhile (another thread's output) is passed on to the real
stderr unchanged. Nothing touches the disk: the captured text may describe
a patient's picture.

:func:`pillow_warnings` does the same for the Python warnings Pillow emits.

Descriptor 2 belongs to the whole process, so captures are serialised by a
lock: two decodes in different threads never swap each other's stderr.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["native_warnings", "pillow_warnings"]

_LOCK = threading.Lock()
#: Prefixes libpng's warning handlers put before a warning (imagecodecs, libpng default).
_LIBPNG_PREFIXES = ("PNG warning: ", "libpng warning: ")
#: Most captured bytes kept; a decoder printing more is cut (the rest is discarded).
_MAX_CAPTURE = 64 * 1024


class _Sink:
    """A readable place for descriptor 2: a memfd, or a pipe drained by a thread."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._thread: threading.Thread | None = None
        self._read_fd = -1
        memfd = getattr(os, "memfd_create", None)
        if memfd is not None:
            self.write_fd: int = memfd("tbp-decoder-stderr", 0)
        else:  # platforms without memfd (macOS, Windows)
            self._read_fd, self.write_fd = os.pipe()
            self._thread = threading.Thread(target=self._drain, daemon=True)
            self._thread.start()

    def _drain(self) -> None:
        kept = 0
        while chunk := os.read(self._read_fd, 65536):
            if kept < _MAX_CAPTURE:
                self._chunks.append(chunk)
                kept += len(chunk)

    def close(self) -> bytes:
        """Stop capturing and return what was written (at most ``_MAX_CAPTURE`` bytes)."""
        if self._thread is None:
            os.lseek(self.write_fd, 0, os.SEEK_SET)
            text = os.read(self.write_fd, _MAX_CAPTURE)
            os.close(self.write_fd)
            return text
        os.close(self.write_fd)
        self._thread.join()
        os.close(self._read_fd)
        return b"".join(self._chunks)[:_MAX_CAPTURE]


@contextmanager
def native_warnings(notes: list[str]) -> Iterator[None]:
    """Capture descriptor 2 while the block runs; libpng warnings become notes.

    Parameters
    ----------
    notes : list of str
        Receives one ``"libpng: <warning>"`` note per distinct warning line,
        after the block ends (also when it raises).

    Yields
    ------
    None
    """
    with _LOCK:
        sys.stderr.flush()
        sink = _Sink()
        saved = os.dup(2)
        try:
            os.dup2(sink.write_fd, 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
        finally:
            os.close(saved)
            captured = sink.close()
    _sort_lines(captured.decode("utf-8", errors="replace"), notes)


def _sort_lines(text: str, notes: list[str]) -> None:
    """Put libpng's lines into ``notes`` and pass any other output to the real stderr."""
    foreign: list[str] = []
    for line in text.splitlines():
        prefix = next((p for p in _LIBPNG_PREFIXES if line.startswith(p)), None)
        if prefix is not None:
            note = f"libpng: {line[len(prefix) :].strip()}"
            if note not in notes:
                notes.append(note)
        elif line.strip():
            foreign.append(line)
    if foreign:
        sys.stderr.write("\n".join(foreign) + "\n")
        sys.stderr.flush()


@contextmanager
def pillow_warnings(notes: list[str], *, fatal: tuple[type[Warning], ...] = ()) -> Iterator[None]:
    """Record Python warnings raised in the block as notes instead of printing them.

    Parameters
    ----------
    notes : list of str
        Receives one ``"Pillow: <message>"`` note per distinct warning.
    fatal : tuple of Warning subclasses, optional
        Warnings raised as exceptions instead (e.g. Pillow's
        ``DecompressionBombWarning``).

    Yields
    ------
    None
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for kind in fatal:
            warnings.simplefilter("error", kind)
        yield
    for item in caught:
        note = f"Pillow: {item.message}"
        if note not in notes:
            notes.append(note)
