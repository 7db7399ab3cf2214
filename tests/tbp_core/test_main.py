"""The ``tbp-dicom`` process: what :func:`tbp_core.__main__.run` sets up before a command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Runs the real entry point with a command that imports numpy and reports
# the BLAS setting and the process's thread count (OpenBLAS threads included).
_PROBE = """
import os, sys
import tbp_core.cli
from tbp_core import __main__

def command():
    import numpy
    print(os.environ.get("OPENBLAS_NUM_THREADS"), len(os.listdir("/proc/self/task")))
    return 0

tbp_core.cli.main = command
__main__.run()
"""


def _probe(environment: dict[str, str]) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, env=environment
    )
    assert done.returncode == 0, done.stderr
    setting, threads = done.stdout.split()
    return setting, int(threads)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux's /proc")
def test_numpy_blas_gets_one_thread_unless_the_user_says_otherwise() -> None:
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    assert _probe(environment) == ("1", 1)
    # The user's own setting wins (and OpenBLAS then starts its pool).
    assert _probe({**environment, "OPENBLAS_NUM_THREADS": "2"}) == ("2", 2)
