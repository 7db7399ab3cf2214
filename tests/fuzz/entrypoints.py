"""Every entry point of the core, run on one case in the app's order.

Each step reports an outcome: ``ok``; ``refused`` (a :class:`TbpError` with
one line: the input is unusable and we said so); ``boundary`` (a foreign
exception converted by :mod:`tbp_core.boundary` — still one line, but a crash
site worth fixing); ``unhandled`` (anything else: a bug). A step whose
prerequisite was refused is skipped.
"""

from __future__ import annotations

import io
import json
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from tbp_core.boundary import UnexpectedInputError
from tbp_core.building.convert import convert_image
from tbp_core.building.iods import new_series_context
from tbp_core.errors import TbpError
from tbp_core.fileio import dicomio
from tbp_core.inspection import dump, explain, tags
from tbp_core.inspection.preview import preview_document
from tbp_core.session import export as exports
from tbp_core.session import workspace
from tbp_core.validation.validate import validate

ENTRY_POINTS = (
    "read",
    "dump",
    "table",
    "structure",
    "validate",
    "preview",
    "edit",
    "export",
    "convert",
)

Report = Callable[[str, str, float, str], None]


def _outcome(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    if isinstance(exc, UnexpectedInputError):
        return "boundary"
    if isinstance(exc, TbpError):
        return "refused"
    return "unhandled"


def _is_image(data: bytes) -> bool:
    return data.startswith((b"\x89PNG", b"\xff\xd8", b"II*\0", b"MM\0*"))


def _steps(name: str, data: bytes) -> Iterator[tuple[str, Callable[[dict[str, Any]], object]]]:
    """(entry point, step) pairs; steps share state through a dict, as the app does."""
    if _is_image(data):
        yield "convert", lambda s: convert_image(data, name, {}, new_series_context())
        yield "read", lambda s: s.update(doc=workspace.open_document(name, data, s["ctx"]))
        yield "preview", lambda s: preview_document(s["doc"])
        yield "export", lambda s: exports.export_bytes(s["doc"])
        return

    def read(s: dict[str, Any]) -> None:
        s["doc"] = workspace.open_document(name, data, s["ctx"])
        s["ds"] = workspace.dataset_of(s["doc"])

    def dump_all(s: dict[str, Any]) -> None:
        tree = dump.build_tree(s["ds"])
        dump.render_text(tree, title=name)
        json.dumps(dump.to_json(tree), ensure_ascii=False)
        dump.search(tree, "patient")

    def structure(s: dict[str, Any]) -> None:
        tree = explain.build_structure(s["ds"])
        json.dumps(explain.structure_json(tree, name), ensure_ascii=False)
        explain.render_text(tree, name, show_all=True)

    def edit(s: dict[str, Any]) -> None:
        ds = dicomio.read_with_report(data, name=name).dataset
        edits = tags.parse_cli_edits(["PatientName=Fuzz^Case", "(0009,0010)=FUZZ"], [])
        results = tags.apply_edits(ds, edits)
        if results and results[-1].applied:
            dicomio.write(ds, io.BytesIO())

    def export(s: dict[str, Any]) -> None:
        exports.export_bytes(s["doc"])
        exports.export_bytes(s["doc"], workspace.KEEP_TRANSFER_SYNTAX)

    yield "read", read
    yield "dump", dump_all
    yield "table", lambda s: tags.to_table(s["ds"])
    yield "structure", structure
    yield "validate", lambda s: validate(s["ds"])
    yield "preview", lambda s: preview_document(s["doc"])
    yield "edit", edit
    yield "export", export


def run_case(name: str, data: bytes, report: Report) -> None:
    """Run every entry point on one case, calling ``report`` before and after each.

    Parameters
    ----------
    name : str
        The case's file name.
    data : bytes
        Its content.
    report : callable
        ``report(entry, phase, seconds, detail)`` with phase ``start`` and then
        the outcome (:func:`_outcome`); ``detail`` is the exception's type and
        message for failures.
    """
    state: dict[str, Any] = {"ctx": new_series_context()}
    read_ok = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for entry, step in _steps(name, data):
            if entry not in ("read", "convert", "edit") and not read_ok:
                continue
            report(entry, "start", 0.0, "")
            began = time.perf_counter()
            error: BaseException | None = None
            try:
                step(state)
            except (KeyboardInterrupt, SystemExit):
                raise
            except MemoryError as exc:
                report(entry, "memory", time.perf_counter() - began, _detail(exc))
                continue
            except BaseException as exc:
                error = exc
            outcome = _outcome(error)
            if entry == "read" and error is not None:
                read_ok = False
            report(entry, outcome, time.perf_counter() - began, _detail(error))


def _detail(exc: BaseException | None) -> str:
    if exc is None:
        return ""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
