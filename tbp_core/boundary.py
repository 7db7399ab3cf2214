"""One boundary for foreign exceptions at every entry point of the core.

pydicom, Pillow, imagecodecs, numpy and the codec plugins raise dozens of
exception types on damaged input — and pylibjpeg-rle's Rust code raises
``pyo3_runtime.PanicException``, a :class:`BaseException`, which
``except Exception`` misses. :func:`guarded` wraps an entry point (read, dump,
table, structure, validate, edit, export, preview, convert) so that any of
them becomes one :class:`UnexpectedInputError`: a :class:`TbpError` whose
single line names the file, the element being worked on (tag, VR and byte
offset when known) and what to do.

Not converted, because they are not about the input:

- :class:`KeyboardInterrupt`, :class:`SystemExit`, :class:`GeneratorExit` and
  :class:`~tbp_core.fileio.safewrite.Interrupted` (SIGTERM/SIGINT): they must
  unwind so that temporary files are removed and the process stops;
- :class:`MemoryError`: the process, not the file, ran out of room. The
  reading limits (:mod:`tbp_core.fileio.limits`) are what keep damaged files
  small; a ``MemoryError`` that still happens is a limit we lack, and it must
  stay visible (the fuzz harness counts it as over-memory) instead of looking
  like a damaged element. The CLI's last resort still prints it in one line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from pathlib import PurePath
from types import TracebackType
from typing import Literal, ParamSpec, TypeVar

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from tbp_core.errors import TbpError
from tbp_core.fileio.safewrite import Interrupted

__all__ = ["PASS_THROUGH", "Boundary", "UnexpectedInputError", "guarded", "where"]

P = ParamSpec("P")
R = TypeVar("R")

#: Exceptions that cross the boundary unchanged (see the module docstring).
PASS_THROUGH: tuple[type[BaseException], ...] = (
    KeyboardInterrupt,
    SystemExit,
    GeneratorExit,
    MemoryError,
    Interrupted,
)

_REASON_LENGTH = 160

#: How many guarded entry points are running in this context: only the
#: outermost converts, so the message names the file the caller knows.
_DEPTH: ContextVar[int] = ContextVar("tbp_boundary_depth", default=0)

#: pydicom's writer wraps errors as "With tag (GGGG,EEEE) got exception: ...".
_WITH_TAG = re.compile(r"With tag (\([0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\)) got exception: ")


def _reason(exc: BaseException) -> tuple[str, str | None]:
    """The exception's message without pydicom's embedded traceback, and a tag it names."""
    text = str(exc).split("Traceback (most recent call last)")[0]
    match = _WITH_TAG.search(text)
    tag = match.group(1).upper() if match else None
    if match:
        text = text[match.end() :]
    return (" ".join(text.split()) or type(exc).__name__)[:_REASON_LENGTH], tag


class UnexpectedInputError(TbpError):
    """A library failed on damaged input; the message says where and what to do.

    ``tag``, ``vr`` and ``offset`` locate the element being processed when the
    failure happened (None when unknown); ``cause`` is the library's exception
    type name.
    """

    def __init__(
        self,
        message: str,
        *,
        tag: str | None = None,
        vr: str | None = None,
        offset: int | None = None,
        cause: str = "",
    ) -> None:
        super().__init__(message)
        self.tag = tag
        self.vr = vr
        self.offset = offset
        self.cause = cause


def _element_in(tb: TracebackType | None) -> DataElement | RawDataElement | None:
    """The innermost element a frame of the traceback was working on."""
    found: DataElement | RawDataElement | None = None
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            if isinstance(value, (DataElement, RawDataElement)):
                found = value
        tb = tb.tb_next
    return found


def where(
    element: DataElement | RawDataElement | None,
) -> tuple[str | None, str | None, int | None]:
    """(tag text, VR, byte offset of the value) of an element; Nones when unknown.

    Parameters
    ----------
    element : DataElement or RawDataElement or None

    Returns
    -------
    tuple
        ``("(GGGG,EEEE)", "VR", offset)``; the offset is known for elements
        read from a file (the position of the value).
    """
    if element is None:
        return None, None, None
    tag = str(BaseTag(element.tag))
    vr = str(element.VR) if element.VR else None
    offset: int | None = None
    if isinstance(element, RawDataElement):
        offset = element.value_tell
    else:
        tell = getattr(element, "file_tell", None)
        offset = tell if isinstance(tell, int) else None
    return tag, vr, offset


def _subject_of(value: object) -> str:
    """A file name for messages from an entry point's first argument."""
    if isinstance(value, PurePath):
        return value.name
    if isinstance(value, str) and value:
        return PurePath(value).name
    if isinstance(value, Dataset):
        filename = getattr(value, "filename", None)
        return PurePath(filename).name if isinstance(filename, str) and filename else ""
    name = getattr(value, "name", None)
    return name if isinstance(name, str) else ""


def _subject(args: tuple[object, ...], kwargs: Mapping[str, object]) -> str:
    name = kwargs.get("name")
    if isinstance(name, str) and name:
        return name
    if args and isinstance(args[0], bytes) and len(args) > 1 and isinstance(args[1], str):
        return args[1]  # convert_image(data, name, ...)
    return _subject_of(args[0]) if args else ""


class Boundary:
    """Context manager converting foreign exceptions into :class:`UnexpectedInputError`.

    Parameters
    ----------
    action : str
        What was being done, for the message ("dump", "export", ...).
    subject : str
        The file's name ('' when unknown).
    """

    def __init__(self, action: str, subject: str = "") -> None:
        self.action = action
        self.subject = subject

    def __enter__(self) -> Boundary:
        """Enter the guarded block."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        """Re-raise ours and the pass-through kinds; convert anything else."""
        if exc is None or isinstance(exc, (TbpError, *PASS_THROUGH)):
            return False
        raise self.convert(exc, tb) from exc

    def convert(self, exc: BaseException, tb: TracebackType | None) -> UnexpectedInputError:
        """The one-line error for ``exc``, raised with traceback ``tb``.

        Parameters
        ----------
        exc : BaseException
        tb : traceback or None

        Returns
        -------
        UnexpectedInputError
        """
        tag, vr, offset = where(_element_in(tb))
        target = f" '{self.subject}'" if self.subject else ""
        reason, named = _reason(exc)
        if named is not None and named != tag:  # the writer names the element it failed on
            tag, vr, offset = named, None, None
        cause = type(exc).__name__
        if tag is not None:
            at = f" at byte {offset}" if offset is not None else ""
            place = f" in element {tag}{f' {vr}' if vr else ''}{at}"
            advice = (
                f"that element is damaged: delete or re-enter it (e.g. tbp-dicom edit "
                f"--delete '{tag}'), or report the file if it opens elsewhere"
            )
        else:
            place = ""
            advice = "the file may be damaged: check it with tbp-dicom validate, or report it"
        return UnexpectedInputError(
            f"{self.action} failed on{target or ' the input'}{place} ({cause}: {reason}) — "
            f"{advice}",
            tag=tag,
            vr=vr,
            offset=offset,
            cause=cause,
        )


def guarded(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate an entry point so any foreign exception leaves it as a :class:`TbpError`.

    The file name for the message comes from a ``name`` keyword argument, a
    ``(bytes, name)`` pair of leading arguments, or the first argument (a
    path, a dataset read from a file, or anything with a ``name``).

    Parameters
    ----------
    action : str
        What the entry point does, for the message ("dump", "export", ...).

    Returns
    -------
    Callable
        The decorator.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return function(*args, **kwargs)
            except TbpError:
                raise
            except PASS_THROUGH:
                raise
            except BaseException as exc:
                boundary = Boundary(action, _subject(args, kwargs))
                raise boundary.convert(exc, exc.__traceback__) from exc

        return wrapper

    return decorate
