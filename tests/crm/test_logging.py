import json
import logging

from crm.logging import JsonFormatter


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
