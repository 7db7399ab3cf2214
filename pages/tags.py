"""tags page (stub, being built)."""

from __future__ import annotations

from ui.layout import header, require_document

header("tags", "stub")
doc = require_document()
