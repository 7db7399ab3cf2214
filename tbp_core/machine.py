"""What this machine lets the process use: one answer for every part that runs in parallel."""

from __future__ import annotations

import os

__all__ = ["usable_cores"]


def usable_cores() -> int:
    """Return the number of cores this process may run on (at least 1).

    The CPU affinity mask where the platform has one (a container or
    ``taskset`` may allow fewer cores than the machine has), else the
    machine's count. Batches size their process pool by it, the JPEG 2000
    encoder its threads, and the PNG decoder whether to decode strips on a
    second thread.

    Returns
    -------
    int
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
