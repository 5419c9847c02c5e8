"""Structured logs: one JSON object per line (PORTAL_LOG_FORMAT=json), for a log collector."""

import json
import logging
from datetime import UTC, datetime

# LogRecord attributes that are not extra fields given by the caller.
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """time (UTC, ISO 8601), level, logger, message, the exception's traceback if any, and any extra
    fields the caller passed (`logger.info("...", extra={"feed": 3})`); values JSON cannot write are
    written as text, so a log line is never lost to its contents."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = value
        return json.dumps(entry, default=str, ensure_ascii=False)
