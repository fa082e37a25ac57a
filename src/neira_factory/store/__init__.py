"""Persistence: SQLAlchemy tables, repositories and a unit of work; Alembic owns the schema."""
from .database import Database
from .records import AuditEntry, TransitionRecord
from .uow import UnitOfWork

__all__ = ["Database", "UnitOfWork", "TransitionRecord", "AuditEntry"]
