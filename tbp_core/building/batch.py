"""Convert a batch of image files into one series, on every core when it pays.

The series context (Study and Series Instance UIDs, study date and time) is
made once by the caller and shared by every input; each input's Instance
Number is its position in the batch, from 1, whichever process converts it.
Each output file is written whole or not at all by the process that converted
it (:func:`tbp_core.fileio.safewrite.write_atomically`).

Small batches, and ``jobs=1``, run in this process. Larger ones run in a pool
of worker processes; the results are handed back in input order, and the
progress callback is told of each one as it arrives. SIGINT or SIGTERM stops
the pool: each worker removes the temporary file it was writing and exits, and
the caller sees :class:`~tbp_core.fileio.safewrite.Interrupted` (or
:class:`KeyboardInterrupt`). Nothing here prints; the caller reports through
the callbacks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from tbp_core.building.convert import ConvertOptions, dicom_file_name
from tbp_core.building.iods import SeriesContext
from tbp_core.building.tofile import convert_to_file
from tbp_core.errors import TbpError
from tbp_core.fileio.safewrite import Interrupted, same_file
from tbp_core.machine import usable_cores

if TYPE_CHECKING:
    import concurrent.futures

__all__ = [
    "SMALL_BATCH",
    "BatchItem",
    "BatchJob",
    "ItemResult",
    "default_jobs",
    "plan_batch",
    "progress_bar",
    "run_batch",
]

#: Batches with fewer inputs than this run in this process: starting workers
#: costs more than it saves.
SMALL_BATCH = 4

#: Seconds a stopped worker gets to remove its temporary file before SIGKILL.
_STOP_GRACE = 5.0


@dataclass(frozen=True)
class BatchJob:
    """What every input of one batch shares.

    Attributes
    ----------
    metadata : Mapping
        Normalised metadata (template and ``--set`` values merged).
    context : SeriesContext
        The one study and series of the batch, made once by the caller.
    options : ConvertOptions
        How each input is converted.
    exif_report : bool
        Whether each result carries the EXIF mapping report as text.
    """

    metadata: Mapping[str, Any]
    context: SeriesContext
    options: ConvertOptions
    exif_report: bool = False


@dataclass(frozen=True)
class BatchItem:
    """One input: its position (its Instance Number), source and target files.

    ``refusal`` is the one-line reason when the input must not be converted at
    all (its target is the input itself, or another input's target).
    ``metadata`` is this input's own layer, merged over the job's (e.g. its
    anatomic region in a TBP session).
    """

    position: int
    source: Path
    target: Path
    refusal: str = ""
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ItemResult:
    """What became of one input: written (with a summary) or failed (with one line).

    Attributes
    ----------
    position, source, target
        As in the :class:`BatchItem`.
    error : str
        One line naming the input when it failed; empty when it was written.
    modality, photometric : str
        Modality and Photometric Interpretation of the written instance.
    columns, rows, bits_allocated, instance_number : int
        Its size, bits per sample and Instance Number.
    notices : tuple of str
        What the conversion changed or decided, for the user.
    warnings : tuple of str
        Warnings the libraries raised while converting (e.g. odd JPEG markers).
    exif_report : str
        The EXIF mapping report when the job asked for it, else empty.
    """

    position: int
    source: Path
    target: Path
    error: str = ""
    modality: str = ""
    photometric: str = ""
    columns: int = 0
    rows: int = 0
    bits_allocated: int = 0
    instance_number: int = 0
    notices: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    exif_report: str = ""


def default_jobs() -> int:
    """Return the number of cores this process may run on (at least 1).

    Returns
    -------
    int
    """
    return usable_cores()


def plan_batch(inputs: Sequence[str], output: Path, *, single_file: bool) -> list[BatchItem]:
    """Give each input its position and target, refusing those that would clobber a file.

    Parameters
    ----------
    inputs : sequence of str
        The input files, in the order given.
    output : Path
        The output file (``single_file``) or directory (``<stem>.dcm`` inside).
    single_file : bool
        Whether ``output`` is the one file written.

    Returns
    -------
    list of BatchItem
        In input order; an input whose target is the input itself, or the
        target of an earlier input, carries its ``refusal``.
    """
    items: list[BatchItem] = []
    claimed: set[Path] = set()
    for position, name in enumerate(inputs, start=1):
        source = Path(name)
        target = output if single_file else output / dicom_file_name(name)
        refusal = ""
        if same_file(source, target):
            refusal = (
                f"'{name}': the output {target} is the input itself; choose another "
                "output (-o) so the input is kept"
            )
        elif target in claimed:
            refusal = (
                f"'{name}' would overwrite {target}, the output of an earlier input with the "
                "same name — convert it in a separate call or rename it"
            )
        else:
            claimed.add(target)
        items.append(BatchItem(position, source, target, refusal))
    return items


def progress_bar(done: int, total: int, *, width: int = 24) -> str:
    """Return a one-line text progress bar, e.g. ``converting 37/100 ▕████──────▏``.

    Parameters
    ----------
    done, total : int
        Inputs finished and inputs in all.
    width : int
        Cells in the bar.

    Returns
    -------
    str
    """
    filled = width * done // total if total > 0 else width
    return f"converting {done}/{total} ▕{'█' * filled}{'─' * (width - filled)}▏"


def convert_one(
    item: BatchItem, job: BatchJob, read: Callable[[Path], bytes] = Path.read_bytes
) -> ItemResult:
    """Read, convert and write one input; a problem with it becomes its one-line error.

    Parameters
    ----------
    item : BatchItem
        The input, its position and target.
    job : BatchJob
        What the batch shares.
    read : callable, optional
        Gives an input's bytes (e.g. :meth:`~tbp_core.fileio.readahead.ReadAhead.read`).

    Returns
    -------
    ItemResult
    """
    if item.refusal:
        return ItemResult(item.position, item.source, item.target, error=item.refusal)
    try:
        # Library warnings (e.g. Pillow on odd JPEG markers) are returned, so
        # the caller can show them as notes, not as stray stderr lines.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                data = read(item.source)
            except OSError as exc:
                raise TbpError(f"cannot read '{item.source}': {exc.strerror}") from exc
            converted = convert_to_file(
                data,
                item.source.name,
                {**job.metadata, **item.metadata} if item.metadata else job.metadata,
                job.context,
                target=item.target,
                options=job.options,
                instance_number=item.position,
            )
            ds = converted.dataset
    except TbpError as exc:
        message = str(exc)
        name = str(item.source)
        line = message if item.source.name in message else f"{name}: {message}"
        return ItemResult(item.position, item.source, item.target, error=line)
    image = converted.image
    report = ""
    if job.exif_report:
        from tbp_core.sources.exif import format_report

        report = format_report(converted.instance.exif)
    return ItemResult(
        item.position,
        item.source,
        item.target,
        modality=str(ds.Modality),
        photometric=str(ds.PhotometricInterpretation),
        columns=int(image.columns),
        rows=int(image.rows),
        bits_allocated=int(image.bits_allocated),
        instance_number=int(ds.InstanceNumber),
        notices=tuple(converted.notices),
        warnings=tuple(str(warning.message) for warning in caught),
        exif_report=report,
    )


def run_batch(
    items: Sequence[BatchItem],
    job: BatchJob,
    *,
    jobs: int | None = None,
    on_result: Callable[[ItemResult], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    read: Callable[[Path], bytes] = Path.read_bytes,
) -> list[ItemResult]:
    """Convert every item, in worker processes when the batch is large enough.

    Parameters
    ----------
    items : sequence of BatchItem
        From :func:`plan_batch`.
    job : BatchJob
        What the batch shares.
    jobs : int, optional
        Processes to use; defaults to :func:`default_jobs`. 1 converts in this
        process, as do batches of fewer than :data:`SMALL_BATCH` inputs.
    on_result : callable, optional
        Called with each result, in input order, as soon as it and every
        earlier one are done.
    on_progress : callable, optional
        Called with (done, total) after each result arrives, in any order.
    read : callable, optional
        Gives an input's bytes to a conversion in this process (worker
        processes read their inputs themselves).

    Returns
    -------
    list of ItemResult
        In input order.

    Raises
    ------
    TbpError
        When ``jobs`` is below 1, or a worker process died (e.g. killed for
        lack of memory).
    """
    workers = default_jobs() if jobs is None else jobs
    if workers < 1:
        raise TbpError(f"--jobs must be 1 or more, not {workers}")
    delivery = _InOrder(len(items), on_result, on_progress)
    pending = [item for item in items if not item.refusal]
    for item in items:
        if item.refusal:
            delivery.add(convert_one(item, job))
    workers = min(workers, len(pending))
    if workers <= 1 or len(items) < SMALL_BATCH:
        for item in pending:
            delivery.add(convert_one(item, job, read))
    else:
        _run_pool(pending, job, workers, delivery.add)
    return delivery.results()


class _InOrder:
    """Collects results arriving in any order; hands them on in input order."""

    def __init__(
        self,
        total: int,
        on_result: Callable[[ItemResult], None] | None,
        on_progress: Callable[[int, int], None] | None,
    ) -> None:
        self._total = total
        self._on_result = on_result
        self._on_progress = on_progress
        self._done: dict[int, ItemResult] = {}
        self._next = 1

    def add(self, result: ItemResult) -> None:
        self._done[result.position] = result
        while self._next in self._done:
            if self._on_result is not None:
                self._on_result(self._done[self._next])
            self._next += 1
        if self._on_progress is not None:
            self._on_progress(len(self._done), self._total)

    def results(self) -> list[ItemResult]:
        return [self._done[position] for position in sorted(self._done)]


def _run_pool(
    items: Sequence[BatchItem],
    job: BatchJob,
    workers: int,
    deliver: Callable[[ItemResult], None],
) -> None:
    """Convert ``items`` in ``workers`` processes, delivering results as they arrive."""
    # Imported here: a one-image conversion does not pay for them.
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    methods = multiprocessing.get_all_start_methods()
    # fork: the workers inherit the modules this process already imported.
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(job,)
    )
    try:
        futures: list[Future[ItemResult]] = [executor.submit(_work, item) for item in items]
        for future in as_completed(futures):
            deliver(future.result())
    except BrokenProcessPool as exc:
        _stop(executor)
        raise TbpError(
            "a conversion process stopped unexpectedly (out of memory?); the inputs "
            "reported above were written — try again with --jobs 1"
        ) from exc
    except BaseException:
        _stop(executor)
        raise
    executor.shutdown(wait=True)


def _stop(executor: concurrent.futures.ProcessPoolExecutor) -> None:
    """Stop the workers; each removes its temporary file before exiting."""
    # ProcessPoolExecutor (3.11) has no public way to stop running workers.
    processes = list((executor._processes or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.terminate()
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.join(_STOP_GRACE)
            if process.is_alive():
                process.kill()
                process.join()


# --- in each worker process ------------------------------------------------------

_JOB: BatchJob | None = None
_IN_TASK = False


def _start_worker(job: BatchJob) -> None:
    """Keep the shared job; make SIGINT/SIGTERM clean up and end the worker."""
    global _JOB
    _JOB = job
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _worker_signal)


def _worker_signal(signum: int, frame: FrameType | None) -> None:
    """Mid-conversion: unwind (safewrite removes its temporary file); idle: exit now."""
    if _IN_TASK:
        raise Interrupted(signal.Signals(signum).name)
    os._exit(128 + signum)


def _work(item: BatchItem) -> ItemResult:
    """Convert one item in a worker; exit quietly once interrupted."""
    global _IN_TASK
    if _JOB is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("batch worker started without its job")
    try:
        _IN_TASK = True
        return convert_one(item, _JOB)
    except Interrupted:
        os._exit(128 + signal.SIGTERM)
    finally:
        _IN_TASK = False
