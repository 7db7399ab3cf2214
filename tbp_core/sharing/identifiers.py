"""The old → new identifiers of one de-identification batch.

One :class:`IdentifierMap` is shared by every object of a batch, so the same
old UID always becomes the same new UID (one study stays one study, references
inside sequences follow), the same patient gets the same pseudonym and the same
date offset. New UIDs are derived from the old UID and a per-batch secret, so a
batch is deterministic (same secret, same answers) and different batches cannot
be linked. The map is the only way back to the original identifiers: it is
written out only when the user asks (``tbp-dicom deidentify --map``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass

from pydicom.uid import generate_uid

__all__ = ["IdentifierMap", "MapEntry"]

#: Dates move back by this many days at least and at most (a whole number of days,
#: so weekdays and intervals keep their meaning only within one patient).
_OFFSET_RANGE = (365, 3652)


@dataclass(frozen=True)
class MapEntry:
    """One old → new identifier: ``kind`` is PatientID, PatientName, UID or DateOffsetDays."""

    kind: str
    old: str
    new: str


class IdentifierMap:
    """The replacement identifiers of one batch (mutable: it grows as objects are processed).

    Parameters
    ----------
    secret : bytes, optional
        Makes the batch deterministic; a random one is drawn when omitted.
    patient_id : str, optional
        The new Patient ID (and Patient's Name) for every patient of the batch;
        without it each patient gets a pseudonym ``ANON0001``, ``ANON0002``, ….
    """

    def __init__(self, secret: bytes | None = None, patient_id: str | None = None) -> None:
        self._secret = secrets.token_bytes(16) if secret is None else secret
        self._patient_id = patient_id
        self._uids: dict[str, str] = {}
        self._patients: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._offsets: dict[str, int] = {}

    def uid(self, old: str) -> str:
        """The new UID standing for ``old`` in this batch (the same every time)."""
        new = self._uids.get(old)
        if new is None:
            new = generate_uid(entropy_srcs=[self._secret.hex(), old])
            self._uids[old] = new
        return new

    def patient(self, old_id: str, old_name: str) -> str:
        """The new Patient ID of the patient ``old_id`` (also used as the new name)."""
        new = self._patients.get(old_id)
        if new is None:
            new = self._patient_id or f"ANON{len(self._patients) + 1:04d}"
            self._patients[old_id] = new
        if old_name:
            self._names.setdefault(old_name, new)
        return new

    def date_offset(self, old_id: str) -> int:
        """Days (negative) added to every date of the patient ``old_id``."""
        offset = self._offsets.get(old_id)
        if offset is None:
            digest = hashlib.sha256(self._secret + old_id.encode("utf-8")).digest()
            low, high = _OFFSET_RANGE
            offset = -(low + int.from_bytes(digest[:4], "big") % (high - low + 1))
            self._offsets[old_id] = offset
        return offset

    def entries(self) -> tuple[MapEntry, ...]:
        """Every old → new identifier handed out so far."""
        return (
            *(MapEntry("PatientID", old, new) for old, new in self._patients.items()),
            *(MapEntry("PatientName", old, new) for old, new in self._names.items()),
            *(MapEntry("DateOffsetDays", old, str(d)) for old, d in self._offsets.items()),
            *(MapEntry("UID", old, new) for old, new in self._uids.items()),
        )

    def to_csv(self) -> str:
        """The map as CSV text: a ``kind,old,new`` header, then one row per identifier."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["kind", "old", "new"])
        writer.writerows((e.kind, e.old, e.new) for e in self.entries())
        return buffer.getvalue()
