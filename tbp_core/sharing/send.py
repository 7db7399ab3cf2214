"""Send DICOM objects to a PACS: DICOM C-ECHO/C-STORE (pynetdicom) or DICOMweb STOW-RS.

A destination is written as ``dicom://AET@HOST:PORT`` (DIMSE) or
``http(s)://HOST[:PORT]/DICOMWEB-ROOT`` (DICOMweb); :func:`parse_destination`
reads it. :func:`verify` checks the server answers (C-ECHO, or a QIDO-RS
``GET {root}/studies?limit=1``) and raises :class:`SendConnectionError` when it
does not. :func:`send` then stores each object and yields one
:class:`SendOutcome` per object — the PACS's own answer (status code and
meaning, or the STOW-RS failure reason) — so a caller can show progress per file.
"""

from __future__ import annotations

import copy
import io
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydicom.dataset import Dataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from tbp_core.errors import TbpError
from tbp_core.fileio import dicomio

__all__ = [
    "DEFAULT_CALLING_AET",
    "Destination",
    "SendConnectionError",
    "SendOutcome",
    "parse_destination",
    "send",
    "verify",
]

DEFAULT_CALLING_AET = "TBPDICOM"
"""Our AE title when the user gives none."""

_TIMEOUT = 15.0  # seconds for connecting and for each answer
_MAX_AET = 16


class SendConnectionError(TbpError):
    """The server could not be reached, or refused the association or the request."""


@dataclass(frozen=True)
class Destination:
    """Where to send: a DICOM AE (``scheme == "dicom"``) or a DICOMweb root URL."""

    scheme: Literal["dicom", "dicomweb"]
    host: str
    port: int
    called_aet: str = ""
    url: str = ""

    def __str__(self) -> str:
        """The destination as the user wrote it."""
        if self.scheme == "dicom":
            return f"dicom://{self.called_aet}@{self.host}:{self.port}"
        return self.url


@dataclass(frozen=True)
class SendOutcome:
    """The PACS's answer for one object."""

    name: str
    sop_instance_uid: str
    stored: bool
    status: str


def _check_aet(aet: str, what: str) -> str:
    if not aet or len(aet) > _MAX_AET or not aet.isascii() or "\\" in aet or not aet.strip():
        raise TbpError(
            f"{what} '{aet}' is not a valid AE title: 1 to 16 ASCII characters, no backslash"
        )
    return aet


def parse_destination(text: str) -> Destination:
    """Read ``dicom://AET@HOST:PORT`` or ``http(s)://HOST[:PORT]/ROOT``.

    Parameters
    ----------
    text : str
        The destination as the user wrote it.

    Returns
    -------
    Destination

    Raises
    ------
    TbpError
        When the text is neither form.
    """
    parts = urlsplit(text.strip())
    hint = "write dicom://AET@HOST:PORT or http(s)://HOST[:PORT]/DICOMWEB-ROOT"
    try:
        port = parts.port
    except ValueError as exc:
        raise TbpError(f"destination '{text}' has an invalid port; {hint}") from exc
    if parts.scheme == "dicom":
        if not parts.username or not parts.hostname or port is None:
            raise TbpError(f"destination '{text}' needs an AE title, a host and a port; {hint}")
        aet = _check_aet(parts.username, "the called AE title")
        return Destination("dicom", parts.hostname, port, called_aet=aet)
    if parts.scheme in ("http", "https") and parts.hostname:
        default = 443 if parts.scheme == "https" else 80
        url = text.strip().rstrip("/")
        return Destination("dicomweb", parts.hostname, port or default, url=url)
    raise TbpError(f"destination '{text}' is not understood; {hint}")


def verify(
    destination: Destination,
    calling_aet: str = DEFAULT_CALLING_AET,
    timeout: float = _TIMEOUT,
) -> str:
    """Check the server answers: C-ECHO for DICOM, a QIDO-RS query for DICOMweb.

    Parameters
    ----------
    destination : Destination
        The server.
    calling_aet : str
        Our AE title (DICOM only).
    timeout : float
        Seconds to wait for the connection and each answer.

    Returns
    -------
    str
        A one-line description of the server's answer.

    Raises
    ------
    SendConnectionError
        When the server cannot be reached or does not answer as it should.
    """
    if destination.scheme == "dicom":
        return _echo(destination, _check_aet(calling_aet, "the calling AE title"), timeout)
    status, _body = _http(f"{destination.url}/studies?limit=1", None, {}, timeout, destination)
    if status not in (200, 204):
        raise SendConnectionError(
            f"{destination} answered HTTP {status} to a QIDO-RS query; is this the "
            "DICOMweb root (e.g. http://host:8042/dicom-web)?"
        )
    return f"{destination} answered the QIDO-RS query (HTTP {status})"


def send(
    destination: Destination,
    items: Iterable[tuple[str, Dataset]],
    calling_aet: str = DEFAULT_CALLING_AET,
    timeout: float = _TIMEOUT,
) -> Iterator[SendOutcome]:
    """Store each object on the server and yield the server's answer for it.

    Parameters
    ----------
    destination : Destination
        The server (check it first with :func:`verify`).
    items : iterable of (str, Dataset)
        A name for each object (its file name) and the object.
    calling_aet : str
        Our AE title (DICOM only).
    timeout : float
        Seconds to wait for the connection and each answer.

    Yields
    ------
    SendOutcome
        One per object, in order.

    Raises
    ------
    SendConnectionError
        When the connection fails before or while sending.
    """
    listed = list(items)
    if destination.scheme == "dicom":
        aet = _check_aet(calling_aet, "the calling AE title")
        yield from _store(destination, listed, aet, timeout)
    else:
        for name, ds in listed:
            yield _stow(destination, name, ds, timeout)


# --- DICOM (pynetdicom) -----------------------------------------------------------


def _echo(destination: Destination, calling_aet: str, timeout: float) -> str:
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

    ae = _application_entity(AE, calling_aet, timeout)
    ae.add_requested_context(Verification)
    assoc = _associate(ae, destination)
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    if not status or "Status" not in status:
        raise SendConnectionError(f"{destination} did not answer the C-ECHO")
    if status.Status != 0:
        raise SendConnectionError(f"{destination} answered the C-ECHO with 0x{status.Status:04X}")
    return f"{destination} answered the C-ECHO (Success)"


def _application_entity(ae_class: Any, calling_aet: str, timeout: float) -> Any:
    ae = ae_class(ae_title=calling_aet)
    ae.acse_timeout = timeout
    ae.dimse_timeout = timeout
    ae.network_timeout = timeout
    ae.connection_timeout = timeout
    return ae


def _associate(ae: Any, destination: Destination) -> Any:
    assoc = ae.associate(destination.host, destination.port, ae_title=destination.called_aet)
    if assoc.is_established:
        return assoc
    if assoc.is_rejected:
        why = "rejected the association (is the called AE title right, and are we allowed?)"
    else:
        why = (
            "could not be reached or closed the connection (is the server running, and are "
            "the host, port and called AE title right?)"
        )
    raise SendConnectionError(f"{destination} {why}")


def _syntax_of(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        return UID(str(meta.TransferSyntaxUID))
    return ExplicitVRLittleEndian


def _store(
    destination: Destination, listed: list[tuple[str, Dataset]], calling_aet: str, timeout: float
) -> Iterator[SendOutcome]:
    from pynetdicom import AE

    ae = _application_entity(AE, calling_aet, timeout)
    wanted: dict[str, set[str]] = {}
    for _name, ds in listed:
        syntaxes = wanted.setdefault(str(ds.get("SOPClassUID", "")), set())
        syntaxes.update({_syntax_of(ds), ExplicitVRLittleEndian, ImplicitVRLittleEndian})
    for sop_class, syntaxes in sorted(wanted.items())[:128]:
        if sop_class:
            ae.add_requested_context(sop_class, sorted(syntaxes))
    assoc = _associate(ae, destination)
    try:
        for name, ds in listed:
            yield _store_one(assoc, destination, name, ds)
    finally:
        if assoc.is_established:
            assoc.release()


def _store_one(assoc: Any, destination: Destination, name: str, ds: Dataset) -> SendOutcome:
    from pynetdicom.status import code_to_category

    uid = str(ds.get("SOPInstanceUID", ""))
    sop_class = UID(str(ds.get("SOPClassUID", "")))
    if not uid or not sop_class:
        return SendOutcome(name, uid, False, "not sent: no SOP Class or SOP Instance UID")
    accepted = [
        context for context in assoc.accepted_contexts if context.abstract_syntax == sop_class
    ]
    if not accepted:
        return SendOutcome(
            name,
            uid,
            False,
            f"refused: {destination} does not accept the SOP class {sop_class.name} ({sop_class})",
        )
    note = ""
    syntax = _syntax_of(ds)
    if not any(context.transfer_syntax[0] == syntax for context in accepted):
        # the PACS takes this SOP class, but not in the file's transfer syntax:
        # send it uncompressed, little endian, as storescu's fallback does
        ds, note = _uncompressed(ds, syntax)
    try:
        status = assoc.send_c_store(ds)
    except (ValueError, AttributeError) as exc:
        return SendOutcome(name, uid, False, f"not sent: {' '.join(str(exc).split())}")
    if not assoc.is_established and not status:
        raise SendConnectionError(f"{destination} closed the connection while storing {name}")
    if not status or "Status" not in status:
        return SendOutcome(name, uid, False, "no answer to the C-STORE")
    code = int(status.Status)
    category = code_to_category(code)
    text = f"0x{code:04X} {category}"
    comment = str(status.get("ErrorComment", "") or "")
    if comment:
        text += f": {comment}"
    return SendOutcome(name, uid, category in ("Success", "Warning"), text + note)


def _uncompressed(ds: Dataset, syntax: UID) -> tuple[Dataset, str]:
    """A copy of ``ds`` in explicit VR little endian, and a note saying so.

    The original stays as it is. Big endian data sets (pydicom does not convert
    byte order) and pixel data no installed decoder reads are sent as they are,
    and pynetdicom's refusal names the transfer syntax.
    """
    if not syntax.is_little_endian:
        return ds, ""
    copied = copy.deepcopy(ds)
    try:
        if syntax.is_compressed:
            copied.decompress(generate_instance_uid=False)
        else:
            copied.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    except Exception:  # no decoder for it: send as it is and let the refusal explain
        return ds, ""
    return copied, f" (sent as Explicit VR Little Endian: the PACS does not take {syntax.name})"


# --- DICOMweb (STOW-RS over urllib) -------------------------------------------------


def _http(
    url: str, body: bytes | None, headers: dict[str, str], timeout: float, dest: Destination
) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, headers={"Accept": "application/dicom+json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status), bytes(answer.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read() or b"")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendConnectionError(f"no connection to {dest}: {reason}") from exc


def _part10(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    if getattr(ds, "file_meta", None) is not None and "SOPInstanceUID" in ds:
        dicomio.write(ds, buffer)
    else:
        dcmwrite(buffer, ds)
    return buffer.getvalue()


def _stow(destination: Destination, name: str, ds: Dataset, timeout: float) -> SendOutcome:
    uid = str(ds.get("SOPInstanceUID", ""))
    boundary = f"tbp-{secrets.token_hex(12)}"
    try:
        payload = _part10(ds)
    except (ValueError, TypeError, TbpError) as exc:
        return SendOutcome(name, uid, False, f"not sent: cannot be written ({exc})")
    body = (
        f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    content_type = f'multipart/related; type="application/dicom"; boundary={boundary}'
    status, answer = _http(
        f"{destination.url}/studies", body, {"Content-Type": content_type}, timeout, destination
    )
    return _stow_outcome(name, uid, status, answer)


def _stow_outcome(name: str, uid: str, status: int, answer: bytes) -> SendOutcome:
    """Read the STOW-RS answer (PS3.18 Table 10.5.3-1) for one object."""
    try:
        response = json.loads(answer) if answer.strip() else {}
    except ValueError:
        response = {}
    failed = _sequence(response, "00081198")
    stored = _sequence(response, "00081199")
    if failed:
        reason = _first(failed[0], "00081197")
        why = f"0x{int(reason):04X}" if isinstance(reason, int) else "no reason given"
        return SendOutcome(name, uid, False, f"refused (HTTP {status}, failure reason {why})")
    if status == 200 or (status == 202 and stored):
        return SendOutcome(name, uid, True, f"stored (HTTP {status})")
    return SendOutcome(name, uid, False, f"refused (HTTP {status})")


def _sequence(response: Any, tag: str) -> list[Any]:
    if not isinstance(response, dict):
        return []
    element = response.get(tag, {})
    value = element.get("Value", []) if isinstance(element, dict) else []
    return value if isinstance(value, list) else []


def _first(item: Any, tag: str) -> Any:
    values = _sequence(item, tag)
    return values[0] if values else None
