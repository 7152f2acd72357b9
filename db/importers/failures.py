"""The one Chinese sentence a collector sees when the database, not the file, stops an import.

The old message blamed "another import running at the same time" for every failure, which sent
people to wait and retry when the cause was a missing schema or a bug. The reason is chosen from the
exception's class and the driver's error code only; the statement and its parameters (which can
carry personal data) are never part of the message or the log line.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from db.importers.writer import MissingSubject

NOTHING_WRITTEN = "未写入任何数据"


def _driver_text(exc: DBAPIError) -> str:
    return str(getattr(exc, "orig", "") or "").lower()


def failure_reason(exc: Exception) -> str:
    """Shape: one sentence ending in 未写入任何数据 + what to do. Never echoes SQL or values."""
    if isinstance(exc, MissingSubject):
        return f"导入程序内部错误（第 {exc.row} 行的信用主体未能建立），{NOTHING_WRITTEN}，请将文件交给系统管理员处理"
    if isinstance(exc, IntegrityError):
        return f"写入时与档案中刚刚写入的数据冲突（可能有其他导入同时写入了相同的记录），{NOTHING_WRITTEN}，请稍后重试"
    if isinstance(exc, OperationalError | DBAPIError):
        text = _driver_text(exc)
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            return f"数据库尚未初始化（缺少数据表），{NOTHING_WRITTEN}，请先运行 creditbot db upgrade"
        if "locked" in text or "deadlock" in text or "could not serialize" in text:
            return f"数据库正忙（其他写入尚未结束），{NOTHING_WRITTEN}，请稍后重试"
        if "connect" in text or "connection" in text:
            return f"无法连接数据库，{NOTHING_WRITTEN}，请检查数据库服务后重试"
    if isinstance(exc, SQLAlchemyError):
        return f"写入数据库失败（{type(exc).__name__}），{NOTHING_WRITTEN}，请将文件交给系统管理员处理"
    return f"导入程序内部错误，{NOTHING_WRITTEN}，请将文件交给系统管理员处理"


__all__ = ["failure_reason"]
