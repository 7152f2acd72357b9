"""Logging that never carries an ID number, a phone number or a bot token, stamped in the
configured time zone with its offset (the scheduler names its times in that zone too)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from zoneinfo import ZoneInfo

from telegram.error import TelegramError

from rules.masking import scrub

SQL_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool")
_TOKEN_RE = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")
# WeCom API URLs carry the access token or the app secret as query parameters.
_QUERY_SECRET_RE = re.compile(r"((?:access_token|corpsecret)=)[^&\s\"']+")


class PrivacyFilter(logging.Filter):
    """Rewrites every record's message before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, TelegramError):
            # The platform's answer (a refused setWebhook, a bad token), not a bug of ours: its
            # words are the whole story, so no traceback reaches the operator's terminal.
            record.msg, record.args = f"{record.getMessage()} ({type(error).__name__}: {error.message})", None
            record.exc_info = record.exc_text = None
        message = record.getMessage()
        cleaned = _QUERY_SECRET_RE.sub(r"\1<secret>", _TOKEN_RE.sub("<token>", scrub(message)))
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class ZonedFormatter(logging.Formatter):
    """Times as `2026-12-07 16:44:48.123+08:00`: the host's clock may be set to UTC while the
    scheduler, the reminders and every user speak Beijing time, and a line without its offset
    cannot be set beside them."""

    def __init__(self, fmt: str, tz: dt.tzinfo) -> None:
        super().__init__(fmt)
        self.tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return dt.datetime.fromtimestamp(record.created, self.tz).isoformat(sep=" ", timespec="milliseconds")


BEIJING = ZoneInfo("Asia/Shanghai")


def setup_logging(level: str = "INFO", tz: dt.tzinfo = BEIJING) -> None:
    """`tz`: the settings' time zone (`timezone`, Asia/Shanghai by default)."""
    root = logging.getLogger()
    if not any(isinstance(f, PrivacyFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(ZonedFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", tz))
        handler.addFilter(PrivacyFilter())
        root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL, and the URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # The drivers log every statement with its parameters at DEBUG (ID hashes, names, file rows):
    # never, whatever the level asked for.
    for name in SQL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
