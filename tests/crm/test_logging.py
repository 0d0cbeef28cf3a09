import io
import json
import logging
import re
import sys

from django.core.mail import EmailMessage

from crm.logging import JsonFormatter, QuietRequests, TextFormatter
from crm.mail import FramedConsoleBackend


def test_it_writes_one_json_line_with_extras() -> None:
    record = logging.LogRecord(
        "crm.test", logging.WARNING, __file__, 1, "two\nlines %s", ("x",), None
    )
    record.org_id = 7
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "crm.test"
    assert entry["message"] == "two\nlines x"
    assert entry["org_id"] == 7


def test_it_keeps_only_plain_extras() -> None:
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, "GET /", (), None)
    record.status_code = 200
    record.request = object()  # what Django's server passes: a socket, a request
    entry = json.loads(JsonFormatter().format(record))
    assert entry["status_code"] == 200
    assert "request" not in entry


def _record(name: str, message: str, status: int, exc: bool = False) -> logging.LogRecord:
    try:
        raise PermissionError("denied")
    except PermissionError:
        info = sys.exc_info() if exc else None
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, message, (), info)
    record.status_code = status
    return record


def test_development_lines_are_short_and_quiet() -> None:
    quiet = QuietRequests()
    assert not quiet.filter(_record("django.server", '"GET /static/css/app.css" 200', 200))
    assert quiet.filter(_record("django.server", '"GET /static/missing.css" 404', 404))
    forbidden = _record("django.request", "Forbidden (Permission denied): /o/acme/", 403, True)
    assert quiet.filter(forbidden)
    assert forbidden.exc_info is None  # the line, without a traceback
    crash = _record("django.request", "Internal Server Error: /o/acme/", 500, True)
    assert quiet.filter(crash)
    assert crash.exc_info is not None
    line = TextFormatter().format(forbidden)
    assert re.fullmatch(r"WARNING django.request: Forbidden \(Permission denied\): /o/acme/", line)


def test_mail_printed_in_development_is_framed() -> None:
    stream = io.StringIO()
    backend = FramedConsoleBackend(stream=stream)
    backend.send_messages([EmailMessage("Confirm your address", "Click", to=["dana@x.org"])])
    printed = stream.getvalue()
    assert printed.startswith("=" * 78 + "\nMAIL to dana@x.org: Confirm your address\n")
    assert "Click" in printed
