"""Run fuzz cases in forked workers with per-case time and memory limits.

Each case runs in a child forked from this process (everything already
imported, so a fork costs milliseconds): the child caps its address space
with ``RLIMIT_AS`` (memory limit above what it inherited) and reports each
entry point's start and outcome as JSON lines on a pipe; the parent kills it
when the case's time limit passes and reads its peak RSS from ``wait4``.
A case is over-time when killed, over-memory when it raised MemoryError or
its peak RSS passed the limit, and ``died`` when the child ended by a signal
(a crash in native code).

    python -m tests.fuzz.runner --cases 10000 --seed 1 --jobs 2 --save tests/data/fuzz
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import selectors
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.crafted import crafted_cases
from tests.fuzz.entrypoints import ENTRY_POINTS, run_case
from tests.fuzz.mutator import MAX_SEED_SIZE, Case, mutate, seed_files

GIB = 1 << 30


@dataclass
class CaseResult:
    """What happened to one case."""

    case: Case
    outcomes: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    peak_rss: int = 0
    status: str = "ok"  # ok, over-time, over-memory, died

    @property
    def problems(self) -> list[str]:
        """Entry points with an unhandled exception, and the limit broken."""
        found = [
            f"{e}: {self.details[e][:70]}" for e, o in self.outcomes.items() if o == "unhandled"
        ]
        if self.status != "ok":
            found.append(f"{self.last_entry()}: {self.status}")
        return found

    def last_entry(self) -> str:
        """The entry point running when the case ended."""
        return next(reversed(self.outcomes), "?")


def _child(case: Case, write_fd: int, memory: int) -> None:
    """The forked worker: limit memory, run the case, report on the pipe, exit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with open("/proc/self/statm") as statm:
        inherited = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (inherited + memory, inherited + memory))
    out = os.fdopen(write_fd, "w", buffering=1)

    def report(entry: str, phase: str, seconds: float, detail: str) -> None:
        out.write(json.dumps([entry, phase, seconds, detail]) + "\n")

    status = 0
    try:
        run_case(case.name, case.data, report)
        out.flush()
    except BaseException:
        status = 3
    os._exit(status)


@dataclass
class _Running:
    result: CaseResult
    pid: int
    fd: int
    started: float
    entry_started: float
    buffer: bytes = b""


def _absorb(running: _Running, chunk: bytes) -> None:
    running.buffer += chunk
    *lines, running.buffer = running.buffer.split(b"\n")
    for line in lines:
        entry, phase, seconds, detail = json.loads(line)
        if phase == "start":
            running.result.outcomes[entry] = "running"
            running.entry_started = time.monotonic()
            continue
        running.result.outcomes[entry] = phase
        running.result.seconds[entry] = seconds
        if detail:
            running.result.details[entry] = detail


def run_cases(
    cases: Iterable[Case], *, jobs: int = 2, time_limit: float = 10.0, memory: int = 2 * GIB
) -> Iterator[CaseResult]:
    """Run each case in its own forked child, ``jobs`` at a time.

    Parameters
    ----------
    cases : iterable of Case
    jobs : int
        Children running at once.
    time_limit : float
        Seconds one entry point may take on a case before the case is killed.
    memory : int
        Bytes a case may allocate beyond what the child inherited.

    Yields
    ------
    CaseResult
        In completion order.
    """
    pending = iter(cases)
    running: dict[int, _Running] = {}
    selector = selectors.DefaultSelector()
    exhausted = False
    while running or not exhausted:
        while not exhausted and len(running) < jobs:
            case = next(pending, None)
            if case is None:
                exhausted = True
                break
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child
                os.close(read_fd)
                _child(case, write_fd, memory)
            os.close(write_fd)
            os.set_blocking(read_fd, False)
            running[read_fd] = _Running(
                CaseResult(case), pid, read_fd, time.monotonic(), time.monotonic()
            )
            selector.register(read_fd, selectors.EVENT_READ)
        now = time.monotonic()
        deadline = min((r.entry_started + time_limit for r in running.values()), default=now)
        for key, _ in selector.select(timeout=max(0.0, min(deadline - now, 0.5))):
            item = running[key.fd]
            chunk = os.read(key.fd, 1 << 16)
            if chunk:
                _absorb(item, chunk)
                continue
            yield _finish(item, selector, running, killed=False, memory=memory)
        now = time.monotonic()
        for item in [r for r in running.values() if now - r.entry_started > time_limit]:
            os.kill(item.pid, signal.SIGKILL)
            yield _finish(item, selector, running, killed=True, memory=memory)


def _finish(
    item: _Running,
    selector: selectors.BaseSelector,
    running: dict[int, _Running],
    *,
    killed: bool,
    memory: int,
) -> CaseResult:
    selector.unregister(item.fd)
    os.close(item.fd)
    del running[item.fd]
    _, status, usage = os.wait4(item.pid, 0)
    result = item.result
    result.wall = time.monotonic() - item.started
    result.peak_rss = usage.ru_maxrss * 1024
    if killed:
        result.status = "over-time"
    elif "memory" in result.outcomes.values() or result.peak_rss > memory:
        result.status = "over-memory"
    elif os.WIFSIGNALED(status) or (os.WIFEXITED(status) and os.WEXITSTATUS(status)):
        result.status = "died"
    return result


def warm_up() -> None:
    """Run a few cases here, before forking, so the children inherit warm caches."""
    seeds = seed_files()
    for index in range(6):
        case = mutate(0, index, seeds)
        run_case(case.name, case.data, lambda *_: None)


def all_cases(
    count: int, seed: int, *, bombs: bool = True, max_seed_size: int = MAX_SEED_SIZE
) -> Iterator[Case]:
    """The crafted cases, then mutated ones up to ``count`` cases in all.

    ``bombs=False`` leaves out the crafted cases that take seconds (deflate,
    item and element bombs; ``tests/tbp_core/fileio/test_limits.py`` has them).
    """
    crafted = crafted_cases(bombs=bombs)
    yield from crafted[:count]
    seeds = seed_files(max_seed_size)
    for index in range(max(0, count - len(crafted))):
        yield mutate(seed, index, seeds)


@dataclass
class Summary:
    """Counts over a run."""

    cases: int = 0
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    per_entry: dict[str, Counter[str]] = field(default_factory=dict)
    signatures: dict[str, CaseResult] = field(default_factory=dict)
    slowest: float = 0.0
    peak_rss: int = 0

    def add(self, result: CaseResult) -> None:
        """Count one case's result."""
        self.cases += 1
        self.statuses[result.status] += 1
        self.slowest = max(self.slowest, result.wall)
        self.peak_rss = max(self.peak_rss, result.peak_rss)
        for entry, outcome in result.outcomes.items():
            self.per_entry.setdefault(entry, Counter())[outcome] += 1
        for signature in result.problems:
            known = self.signatures.get(signature)
            if known is None or len(result.case.data) < len(known.case.data):
                self.signatures[signature] = result

    @property
    def unhandled(self) -> int:
        """Entry point runs that ended in an exception other than ours."""
        return sum(c["unhandled"] for c in self.per_entry.values())

    def text(self) -> str:
        """The summary as lines for a terminal or the README."""
        lines = [
            f"{self.cases} cases in {self.seconds:.0f} s: {self.unhandled} unhandled exceptions, "
            f"{self.statuses['over-time']} over time, {self.statuses['over-memory']} over "
            f"memory, {self.statuses['died']} died; slowest case {self.slowest:.2f} s, "
            f"peak RSS {self.peak_rss / (1 << 20):.0f} MiB",
            f"{'entry point':12} " + " ".join(f"{k:>9}" for k in _OUTCOMES),
        ]
        for entry in ENTRY_POINTS:
            counts = self.per_entry.get(entry, Counter())
            lines.append(f"{entry:12} " + " ".join(f"{counts[k]:>9}" for k in _OUTCOMES))
        for signature, result in sorted(self.signatures.items()):
            lines.append(f"  {signature} <- {result.case.recipe}")
        return "\n".join(lines)


_OUTCOMES = ("ok", "refused", "boundary", "unhandled", "memory", "running")


def save_findings(summary: Summary, folder: Path) -> list[Path]:
    """Write the smallest case of each problem signature into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for signature, result in summary.signatures.items():
        digest = hashlib.sha1(result.case.data).hexdigest()[:10]
        suffix = Path(result.case.name).suffix or ".dcm"
        entry = signature.split(":")[0].split()[-1]
        path = folder / f"{entry}-{digest}{suffix}"
        path.write_bytes(result.case.data)
        saved.append(path)
    return saved


def run(
    count: int, seed: int, *, jobs: int, time_limit: float, memory: int, progress: bool = False
) -> Summary:
    """Run ``count`` cases and summarise them."""
    summary = Summary()
    warm_up()
    began = time.monotonic()
    for result in run_cases(
        all_cases(count, seed), jobs=jobs, time_limit=time_limit, memory=memory
    ):
        summary.add(result)
        if progress and summary.cases % 500 == 0:
            print(f"  {summary.cases} cases, {summary.unhandled} unhandled", file=sys.stderr)
    summary.seconds = time.monotonic() - began
    return summary


def main(argv: list[str] | None = None) -> int:
    """Command line: run a fuzz campaign and print its summary; exit 1 on any problem."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per case")
    parser.add_argument("--memory", type=float, default=2.0, help="GiB per case")
    parser.add_argument("--save", type=Path, help="write each problem's smallest case here")
    args = parser.parse_args(argv)
    summary = run(
        args.cases,
        args.seed,
        jobs=args.jobs,
        time_limit=args.time_limit,
        memory=int(args.memory * GIB),
        progress=True,
    )
    print(summary.text())
    if args.save and summary.signatures:
        for path in save_findings(summary, args.save):
            print(f"saved {path}")
    problems = summary.unhandled + sum(
        summary.statuses[k] for k in ("over-time", "over-memory", "died")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
