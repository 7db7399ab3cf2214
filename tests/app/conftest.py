"""Fixtures every app test may use."""

from tests.app.downloads import served

__all__ = ["served"]
