"""Every model module, imported once, so `Base.metadata` holds the whole schema (Alembic, tests)."""

from __future__ import annotations

from db import models, models_api, models_collection, models_declarations, models_lifecycle
from db.models import Base

__all__ = ["Base", "models", "models_api", "models_collection", "models_declarations", "models_lifecycle"]
