"""Agreement between our validator and dciodvfy, per (file, attribute).

Counted kinds: dciodvfy's "Missing/Empty attribute Type 1/1C/2/2C" and
"Unrecognized enumerated value" errors, against our errors with the matching
codes. Run ``.venv/bin/python -m tests.agreement [FILES...]`` for the numbers
and the list of disagreements; tests/tbp_core/validation/test_validate_agreement.py
asserts the thresholds.

The files are split (tests/agreement_split.json) into a *tuning* part, whose
disagreements may guide changes to the rules, and a *held-out* part, whose
disagreements must not: the report prints only the held-out numbers unless
``--show-heldout`` is given. Files under tests/data/heldout/ are always held-out.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pydicom._dicom_dict import RepeatersDictionary
from pydicom.datadict import DicomDictionary

from tbp_core.errors import TbpError
from tbp_core.fileio.dicomio import read
from tbp_core.validation.validate import validate
from tests.referee import dciodvfy

_TYPE = re.compile(
    r"^Error - (?:Missing attribute|Empty attribute \(no value\)) Type (?:1|1C|2|2C) "
    r"(?:Required|Conditional) Element=<(\w+)>"
)
_ENUM = re.compile(
    r"^Error - Unrecognized enumerated value <.*> for value \d+ of attribute <(.+)>$"
)
DEFLATED = "1.2.840.10008.1.2.1.99"
#: Our finding codes of the kinds compared: Type 1/1C/2/2C presence and enumerated values.
COUNTED_PREFIXES = ("type1", "type2", "enumerated-value")


@cache
def _keyword_by_name() -> dict[str, str]:
    entries = [*DicomDictionary.values(), *RepeatersDictionary.values()]
    return {entry[2]: entry[4] for entry in entries if entry[4]}


@dataclass
class Agreement:
    """Pairs counted, pairs agreed, the disagreements and the excluded files."""

    theirs: set[tuple[str, str]] = field(default_factory=set)
    ours: set[tuple[str, str]] = field(default_factory=set)
    excluded: dict[str, str] = field(default_factory=dict)
    compared: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return len(self.theirs & self.ours) / len(self.theirs) if self.theirs else 1.0

    @property
    def precision(self) -> float:
        return len(self.theirs & self.ours) / len(self.ours) if self.ours else 1.0

    def summary(self, details: bool = True) -> str:
        """The numbers, and (with ``details``) every disagreement and excluded file."""
        lines = [
            f"files compared: {len(self.compared)} (excluded {len(self.excluded)})",
            f"recall {self.recall:.3f} ({len(self.theirs & self.ours)}/{len(self.theirs)} "
            "dciodvfy errors we report)",
            f"precision {self.precision:.3f} ({len(self.theirs & self.ours)}/{len(self.ours)} "
            "of our errors dciodvfy reports too)",
        ]
        if not details:
            return "\n".join(lines)
        lines += [f"  only dciodvfy: {f} {k}" for f, k in sorted(self.theirs - self.ours)]
        lines += [f"  only ours:     {f} {k}" for f, k in sorted(self.ours - self.theirs)]
        lines += [f"  excluded:      {f}: {why}" for f, why in sorted(self.excluded.items())]
        return "\n".join(lines)


def _dciodvfy_pairs(path: Path) -> tuple[set[str], str | None]:
    report = dciodvfy(path)
    if "Dicom dataset read failed" in report.output:
        return set(), "dciodvfy could not read it"
    if "Tags out of order" in report.output:
        return set(), "dciodvfy stops at out-of-order tags (damaged data); pydicom reads on"
    if "Information Object Not found" in report.output:
        return (
            set(),
            "dciodvfy found no IOD for it (no or unknown SOP Class UID) and checks nothing",
        )
    keywords = set()
    for line in report.errors:
        if match := _TYPE.match(line):
            keywords.add(match.group(1))
        elif match := _ENUM.match(line):
            keywords.add(_keyword_by_name().get(match.group(1), match.group(1)))
    return keywords, None


def _our_pairs(path: Path) -> tuple[set[str], str | None]:
    try:
        ds = read(path)
    except TbpError as exc:
        return set(), f"unreadable for us: {exc}"
    meta = getattr(ds, "file_meta", None)
    if meta is not None and str(meta.get("TransferSyntaxUID", "")) == DEFLATED:
        return set(), "deflated: dciodvfy is known to misread deflated files"
    report = validate(ds)
    keywords = {f.keyword for f in report.errors if f.code.startswith(COUNTED_PREFIXES)}
    return keywords - {""}, None


def agreement(paths: Iterable[Path]) -> Agreement:
    """Compare both validators on each file."""
    result = Agreement()
    for path in paths:
        ours, why_not_ours = _our_pairs(path)
        if why_not_ours:
            result.excluded[path.name] = why_not_ours
            continue
        theirs, why_not_theirs = _dciodvfy_pairs(path)
        if why_not_theirs:
            result.excluded[path.name] = why_not_theirs
            continue
        result.compared.append(path.name)
        result.theirs |= {(path.name, k) for k in theirs}
        result.ours |= {(path.name, k) for k in ours}
    return result


def default_paths() -> list[Path]:
    """tests/data/dicom and tests/data/heldout, plus the shared corpus when present."""
    from tests.conftest import CORPUS, DATA

    paths = sorted((DATA / "dicom").iterdir())
    if (DATA / "heldout").is_dir():
        paths += sorted(p for p in (DATA / "heldout").iterdir() if p.name != "SOURCES.md")
    if (CORPUS / "dicom").is_dir():
        paths += sorted(p for p in (CORPUS / "dicom").iterdir() if p.name != "SOURCES.md")
    return paths


SPLIT_FILE = Path(__file__).with_name("agreement_split.json")


@cache
def _split() -> dict[str, str]:
    recorded = json.loads(SPLIT_FILE.read_text(encoding="utf-8"))
    return {
        **{name: "tuning" for name in recorded["tuning"]},
        **{name: "heldout" for name in recorded["heldout"]},
    }


def part_of(path: Path) -> str:
    """``tuning`` or ``heldout``: as recorded, else by the recorded rule (hash of the name)."""
    if path.parent.name == "heldout":
        return "heldout"
    recorded = _split().get(path.name)
    if recorded:
        return recorded
    digest = int(hashlib.sha256(path.name.encode()).hexdigest()[:8], 16)
    return "tuning" if digest % 10 < 6 else "heldout"


def split_agreement(paths: Iterable[Path]) -> dict[str, Agreement]:
    """The agreement on the tuning files and on the held-out files, separately."""
    chosen = list(paths)
    return {
        part: agreement(p for p in chosen if part_of(p) == part) for part in ("tuning", "heldout")
    }


def main(argv: list[str]) -> None:
    """Print the tuning numbers with their disagreements and the held-out numbers alone."""
    show_heldout = "--show-heldout" in argv
    chosen = [Path(a) for a in argv if not a.startswith("--")] or default_paths()
    for part, result in split_agreement(chosen).items():
        print(f"== {part}")
        print(result.summary(details=part == "tuning" or show_heldout))


if __name__ == "__main__":
    main(sys.argv[1:])
