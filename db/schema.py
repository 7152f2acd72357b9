"""Every model module, imported once, so `Base.metadata` holds the whole schema (Alembic, tests)."""

from __future__ import annotations

from db import models, models_collection, models_declarations, models_lifecycle, models_resolver_context
from db.models import Base

__all__ = [
    "Base",
    "models",
    "models_collection",
    "models_declarations",
    "models_lifecycle",
    "models_resolver_context",
]
