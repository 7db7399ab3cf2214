"""Files given by path, found in directories and inside ZIP archives, as named sources.

A ZIP archive is read in memory, never extracted: each member's bytes are read
up to a cap (:class:`ArchiveLimits`), so a member that claims a small size but
inflates to gigabytes, an archive of a million empty members or one whose
members add up to more than the cap is refused in one line instead of filling
memory. Member names are only labels (``archive.zip!path/in/zip``); names that
would be unsafe to extract (absolute, ``..``, drive letters, NUL) are listed
as refused all the same, so what the index shows never hides them.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from tbp_core.fileio.limits import setting

__all__ = [
    "DEFAULT_ARCHIVE_LIMITS",
    "ArchiveLimits",
    "Source",
    "is_zip",
    "walk_sources",
    "zip_sources",
]

_MIB = 1 << 20
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on what one ZIP archive may make us read into memory.

    Attributes
    ----------
    max_member_bytes : int
        Largest inflated member (``TBP_MAX_ZIP_MEMBER_MB``, default 512).
    max_total_bytes : int
        Largest sum of inflated members of one archive (``TBP_MAX_ZIP_TOTAL_MB``,
        default 4096).
    max_members : int
        Most members of one archive (``TBP_MAX_ZIP_MEMBERS``, default 100000).
    """

    max_member_bytes: int = 512 * _MIB
    max_total_bytes: int = 4096 * _MIB
    max_members: int = 100_000

    @classmethod
    def from_environment(cls) -> ArchiveLimits:
        """The defaults, overridden by the ``TBP_MAX_ZIP_*`` environment variables."""
        return cls(
            max_member_bytes=setting("TBP_MAX_ZIP_MEMBER_MB", 512) * _MIB,
            max_total_bytes=setting("TBP_MAX_ZIP_TOTAL_MB", 4096) * _MIB,
            max_members=setting("TBP_MAX_ZIP_MEMBERS", 100_000),
        )


DEFAULT_ARCHIVE_LIMITS = ArchiveLimits.from_environment()


@dataclass(frozen=True)
class Source:
    """One input file: its name, and its path or its bytes, or why it cannot be read.

    Exactly one of ``path``, ``data`` and ``error`` is set.
    """

    name: str
    path: Path | None = None
    data: bytes | None = None
    error: str | None = None


def is_zip(head: bytes) -> bool:
    """True when the first bytes of a file are those of a ZIP archive.

    Parameters
    ----------
    head : bytes
        At least the first four bytes of the file.

    Returns
    -------
    bool
    """
    return head[:4] in _ZIP_MAGIC


def _unsafe_name(name: str) -> str | None:
    """Why a member name would be unsafe to extract, or None."""
    if "\x00" in name:
        return "its name holds a NUL character"
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "its name is an absolute path"
    if ".." in posix.parts:
        return "its name climbs out of the archive (..)"
    return None


def _zip_members(path: Path | IO[bytes], label: str, limits: ArchiveLimits) -> Iterator[Source]:
    """The members of one ZIP archive, read in memory within ``limits``."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        yield Source(label, error=f"not a readable ZIP archive ({exc})")
        return
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) > limits.max_members:
            yield Source(
                label,
                error=f"ZIP archive with {len(members):,} members refused (more than "
                f"{limits.max_members:,}; raise TBP_MAX_ZIP_MEMBERS if it is trusted)",
            )
            return
        total = 0
        for info in members:
            name = f"{label}!{info.filename}"
            unsafe = _unsafe_name(info.filename)
            if unsafe:
                yield Source(name, error=f"member refused: {unsafe}")
                continue
            room = min(limits.max_member_bytes, limits.max_total_bytes - total)
            if info.file_size > room:
                yield Source(name, error=_too_large(info.file_size, limits, total))
                continue
            try:
                with archive.open(info) as stream:
                    data = stream.read(room + 1)
            except (OSError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                yield Source(name, error=f"cannot read ZIP member ({exc})")
                continue
            if len(data) > room:  # the header understated the size
                yield Source(name, error=_too_large(len(data), limits, total))
                continue
            total += len(data)
            if is_zip(data):
                yield Source(name, error="a ZIP archive inside a ZIP archive is not opened")
                continue
            yield Source(name, data=data)


def zip_sources(
    data: bytes, label: str, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS
) -> Iterator[Source]:
    """The members of a ZIP archive held in memory (an upload), read within ``limits``.

    Parameters
    ----------
    data : bytes
        The archive's bytes.
    label : str
        The archive's name; members are named ``label!path/in/zip``.
    limits : ArchiveLimits, optional
        Caps on what the archive may make us read.

    Yields
    ------
    Source
        Each member with its ``data``, or with the ``error`` that refused it (an
        unsafe name, a size over the limits, a nested archive); an unreadable
        archive gives one source named ``label`` with its error.
    """
    yield from _zip_members(io.BytesIO(data), label, limits)


def _too_large(size: int, limits: ArchiveLimits, total: int) -> str:
    """The one-line reason a member is refused for its size."""
    if size > limits.max_member_bytes:
        return (
            f"ZIP member inflates to more than {limits.max_member_bytes // _MIB} MiB — refused "
            "(raise TBP_MAX_ZIP_MEMBER_MB if the archive is trusted)"
        )
    return (
        f"the archive's members inflate to more than {limits.max_total_bytes // _MIB} MiB "
        f"in all ({total // _MIB} MiB before this one) — refused (raise TBP_MAX_ZIP_TOTAL_MB "
        "if the archive is trusted)"
    )


def _file_source(path: Path, label: str, limits: ArchiveLimits) -> Iterator[Source]:
    """One file: a ZIP archive's members, or the file itself."""
    try:
        with path.open("rb") as stream:
            head = stream.read(4)
    except OSError as exc:
        yield Source(label, error=f"cannot read ({exc.strerror or exc})")
        return
    if is_zip(head):
        yield from _zip_members(path, label, limits)
    else:
        yield Source(label, path=path)


def walk_sources(
    paths: Iterable[str | Path], limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS
) -> Iterator[Source]:
    """Every file under the given paths, with ZIP archives opened in memory.

    Directories are walked recursively in name order (hidden entries too;
    symbolic links to directories are not followed). Files are not read here,
    except ZIP members, whose bytes are.

    Parameters
    ----------
    paths : iterable of str or Path
        Files, directories and ZIP archives.
    limits : ArchiveLimits, optional
        Caps on what a ZIP archive may make us read.

    Yields
    ------
    Source
        Named ``path`` as given (``dir/sub/file`` for directory entries,
        ``archive.zip!member`` for ZIP members); a path that does not exist or
        cannot be read comes with its ``error``.
    """
    for given in paths:
        path = Path(given)
        label = str(given)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for file_name in sorted(files):
                    yield from _file_source(
                        Path(root) / file_name, os.path.join(root, file_name), limits
                    )
        elif path.exists():
            yield from _file_source(path, label, limits)
        else:
            yield Source(label, error="no such file or directory")
