"""usable_cores: the cores the process may run on, as batches, encoders and decoders see it."""

from __future__ import annotations

import os

from tbp_core.building import batch, codecs
from tbp_core.machine import usable_cores


def test_usable_cores_follows_the_affinity_mask_and_every_user_asks_it() -> None:
    expected = len(os.sched_getaffinity(0))
    assert usable_cores() == expected >= 1
    assert batch.default_jobs() == codecs.encoder_threads() == expected
    # Narrow the mask to one core: everyone sees it (and the PNG decoder stays on one thread).
    allowed = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(allowed)})
        assert usable_cores() == batch.default_jobs() == codecs.encoder_threads() == 1
    finally:
        os.sched_setaffinity(0, allowed)
