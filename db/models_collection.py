"""Models of the collection issue (filled in by its own change)."""

from __future__ import annotations
