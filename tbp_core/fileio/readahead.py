"""Read an input file on a background thread while the command's modules load.

``tbp-dicom convert IMAGE -o OUT.dcm`` spends its first 0.2–0.3 s importing
pydicom, numpy and the builders, all on one core and holding the interpreter
lock. Reading the image does not need the lock (the kernel copies the bytes),
so :class:`ReadAhead` starts that read before the imports and
:meth:`ReadAhead.read` hands the bytes over when the converter asks for
them. On the benchmark machine a 75 MB PNG already in the page cache is
ready 0.04 s earlier; a file still on disk saves the whole disk read, up
to the length of the imports.

What the caller sees is what ``Path.read_bytes`` gives at that moment: the
same bytes, or the same ``OSError`` raised in the caller's thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

__all__ = ["ReadAhead"]


class ReadAhead:
    """One file being read on a daemon thread, handed over once.

    Parameters
    ----------
    path : Path
        The file to read; reading starts at once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: bytes | None = None
        self._error: OSError | None = None
        self._taken = False
        # A daemon thread: a command that stops early (a bad option, Ctrl-C)
        # does not wait for a read it no longer needs.
        self._thread = threading.Thread(target=self._read, name="tbp-read-ahead", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            self._data = self.path.read_bytes()
        except OSError as exc:
            self._error = exc
        except Exception:
            # Anything else (MemoryError for a file too large) is not printed by
            # the thread: :meth:`read` reads again in the caller's thread, which
            # then raises it where the command reports it.
            return

    def read(self, path: Path) -> bytes:
        """The bytes of ``path``: those read ahead the first time it is this file.

        Parameters
        ----------
        path : Path
            The file the caller needs.

        Returns
        -------
        bytes
            Its whole content.

        Raises
        ------
        OSError
            As ``path.read_bytes()`` raises it.
        """
        if self._taken or path != self.path:
            return path.read_bytes()
        self._taken = True
        self._thread.join()
        data, error = self._data, self._error
        self._data = self._error = None  # the caller owns the bytes now
        if error is not None:
            raise error
        if data is None:  # the thread failed otherwise (memory): read here, raise here
            return path.read_bytes()
        return data
