"""An index as JSON (ARCHITECTURE.md §4), CSV or an aligned text table.

JSON keeps absent elements as ``null`` and empty ones as ``""``; CSV and the
table show both as an empty cell. The three list the same instances with the
same values (a test reads CSV and JSON back and compares them).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from tbp_core.inspection.index import Index

__all__ = ["to_csv", "to_json", "to_table_text"]

#: Widest cell of the text table; longer values end with "…".
MAX_CELL = 64


def to_json(index: Index) -> dict[str, Any]:
    """The JSON of ``tbp-dicom index --format json``.

    Parameters
    ----------
    index : Index

    Returns
    -------
    dict
        ``{"instances": [{column: value}], "unreadable": [{"file", "error"}]}``.
    """
    return {
        "instances": [
            {column: row.values.get(column) for column in index.columns} for row in index.instances
        ],
        "unreadable": [{"file": item.file, "error": item.error} for item in index.unreadable],
    }


def to_csv(index: Index) -> str:
    """The instances as CSV: a header row of the columns, then one row per instance.

    Parameters
    ----------
    index : Index

    Returns
    -------
    str
        RFC 4180 CSV (CR LF line ends, quoted where needed).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(index.columns)
    for row in index.instances:
        writer.writerow([row.values.get(column) or "" for column in index.columns])
    return buffer.getvalue()


def _cell(text: str | None) -> str:
    value = " ".join((text or "").split())
    return value if len(value) <= MAX_CELL else value[: MAX_CELL - 1] + "…"


def to_table_text(index: Index) -> str:
    """The instances as a text table with aligned columns.

    Parameters
    ----------
    index : Index

    Returns
    -------
    str
        A header line, a rule, one line per instance (cells longer than
        :data:`MAX_CELL` characters are shortened), and a count line.
    """
    cells = [[_cell(row.values.get(column)) for column in index.columns] for row in index.instances]
    widths = [
        max([len(column), *(len(line[i]) for line in cells)])
        for i, column in enumerate(index.columns)
    ]
    lines = [
        "  ".join(column.ljust(width) for column, width in zip(index.columns, widths, strict=True))
    ]
    lines.append("  ".join("-" * width for width in widths))
    lines.extend(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )
    count = len(index.instances)
    lines.append(
        f"{count} instance{'' if count == 1 else 's'}, "
        f"{len(index.unreadable)} other file{'' if len(index.unreadable) == 1 else 's'}"
    )
    return "\n".join(line.rstrip() for line in lines)
