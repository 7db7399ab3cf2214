"""``python -m tbp_core`` and the ``tbp-dicom`` command.

SIGINT and SIGTERM end the process quietly (exit 2, one line) even while the
command's modules are still being imported; once a command runs,
:func:`tbp_core.cli.main` turns them into an exception that removes any
half-written file first.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from types import FrameType

#: Net allocations between two collections of the youngest generation (CPython: 700).
_YOUNG_COLLECTION = 100_000


def _quiet_exit(signum: int, frame: FrameType | None) -> None:
    os.write(2, b"tbp-dicom: interrupted before anything was written\n")
    os._exit(2)


def run() -> None:
    """Run ``tbp-dicom`` with the process's arguments and exit with its status.

    A command is short and most of what it allocates lives until it ends
    (modules, pydicom's dictionaries), so the youngest generation is collected
    only every :data:`_YOUNG_COLLECTION` allocations instead of every 700:
    converting one image then runs no collection at all instead of about 130
    (0.025 s), and a long batch still collects regularly. Before exiting, the
    objects still alive are frozen (:func:`gc.freeze`):
    the interpreter's shutdown then skips its collections over the tens of
    thousands of objects pydicom's dictionaries and the imported modules hold,
    0.04–0.05 s of every command on the benchmark machine. Files are closed
    and outputs flushed before this; the standard streams are flushed by the
    shutdown as always.

    No command multiplies matrices, so numpy's BLAS (OpenBLAS in numpy's
    wheels) gets one thread unless ``OPENBLAS_NUM_THREADS`` already says
    otherwise: by default OpenBLAS starts a thread per core as numpy is
    imported, and on the benchmark machine (2 cores) that pool burns 0.14 s
    of CPU while the command's modules load, delaying them by 0.035 s.
    Batch workers inherit the setting.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _quiet_exit)
    gc.set_threshold(_YOUNG_COLLECTION, *gc.get_threshold()[1:])
    from tbp_core.cli import main

    status = main()
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    run()
