"""How the processes log: one JSON object per line in production, for log shippers and
`grep` alike; short readable lines in development (LOG_FORMAT), without the static files'
requests and without tracebacks for answers that are not errors (a 403, a 404)."""

import json
import logging
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else was passed with `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record as a single JSON line: time, level, logger, message and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            # Plain values only: Django's request logs also carry the request or its socket,
            # whose repr says nothing a reader wants.
            if key not in _STANDARD and not key.startswith("_") and _plain(value):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _plain(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


class TextFormatter(logging.Formatter):
    """A short line for a person at a terminal: level, logger, message (the supervisor of
    `make run`, like a container's log, puts the time and the process before it)."""

    def __init__(self) -> None:
        super().__init__("%(levelname)-7s %(name)s: %(message)s")


class QuietRequests(logging.Filter):
    """Leaves out the development server's lines for static files that were served, and the
    traceback of an answer below 500 (a 403 or a 404 is an answer, not an error): its one
    line stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            if (
                record.name == "django.server"
                and status < 400
                and "/static/" in record.getMessage()
            ):
                return False
            record.exc_info, record.exc_text = None, None
        return True
