"""validate_download page (stub, being built)."""

from __future__ import annotations

from ui.layout import header, require_document

header("validate_download", "stub")
doc = require_document()
