"""Random bad input, everywhere: generated text, unicode, NULs, huge and malformed values posted
to every form and sent in every page's query string, and random bytes and workbooks fed to
the importer. The properties: never a server error, never a half-written row (a request
that answers with an error changed nothing), and never a file left behind.

Every URL under /o/<org_slug>/ comes from the resolver (as in the isolation matrix), filled
with the ids of one seeded row of each kind; each form's fields are read from its page.
"""

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from crm.models import Organization, User
from crm.records.models import ImportJob
from crm.tenancy import activate
from tests.isolation.registry import fill, seed_rows, snapshot, url_kwargs
from tests.isolation.test_url_matrix import ROUTES

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=8, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip

# What people and attackers type: text of any script, control characters, NULs, numbers in
# other digits, numbers too large for a column, quotes and markup, and a lot of it.
NASTY = st.sampled_from([
    "", " ", "\x00", "a\x00b", "-1", "0", "1e9", "9" * 40, "²", "١٢", "NaN", "∞",
    "' OR 1=1 --", '"><script>alert(1)</script>', "%", "_", "\\", "../../etc/passwd",
    "2026-02-31", "31/12/2026", "null", "[]", "{}", "\ufeff", "\u202e", "🦄" * 3,
])  # fmt: skip
HUGE = st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "\x00", "🦄", " "]),
                 st.integers(1_000, 60_000))  # fmt: skip
VALUES = st.one_of(NASTY, st.text(max_size=300), HUGE, st.integers().map(str))
# The names the pages read from a query string, and a few that nothing reads.
QUERY_NAMES = ["q", "page", "sort", "columns", "owner", "tag", "lifecycle", "created_after",
               "created_before", "format", "view", "ids", "scope", "country", "size",
               "company", "action", "who", "record_type", "date_from", "date_to", "remap",
               "next", "zzz"]  # fmt: skip
INPUT = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')


@pytest.fixture
def seeded(client: Client, acme: Organization, alice: User) -> tuple[Client, dict[str, int]]:
    rows = seed_rows(acme, alice)
    client.force_login(alice)  # an admin: every page is open to her
    return client, {keyword: rows[model].pk for keyword, model in url_kwargs().items()}


def _path(route: str, ids: dict[str, int]) -> str:
    return "/o/acme/" + fill(route, ids)


def _form_names(client: Client, path: str) -> list[str]:
    response = client.get(path)
    # The page's own fields, in <main>: not the top bar's search, which every page has.
    main = _body(response).partition('<main id="main"')[2]
    names = INPUT.findall(main) if response.status_code == 200 else []
    return sorted({n for n in names if n != "csrfmiddlewaretoken"}) or QUERY_NAMES


def _body(response: Any) -> str:
    """A page's text; a download streams its file and holds no form (an attachment)."""
    if getattr(response, "streaming", False):
        return ""
    return str(response.content.decode(errors="replace"))


def _is_refusal(response: Any) -> bool:
    """An answer that says the input was wrong: nothing may have been written."""
    if response.status_code == 400:
        return True
    body = _body(response) if response.status_code == 200 else ""
    return 'class="field__error"' in body or 'class="form-errors"' in body


@pytest.mark.parametrize("route", ROUTES)
@EXAMPLES
@given(data=st.data())
def test_no_query_string_makes_a_page_fail(seeded: Any, route: str, data: Any) -> None:
    client, ids = seeded
    names = data.draw(st.lists(st.sampled_from(QUERY_NAMES), min_size=1, max_size=4))
    query = [(name, data.draw(VALUES)) for name in names]
    response = client.get(_path(route, ids), query)
    assert response.status_code < 500


@pytest.mark.parametrize("route", ROUTES)
@EXAMPLES
@given(data=st.data())
def test_no_form_input_makes_a_page_fail_or_half_write(
    seeded: Any, acme: Organization, route: str, data: Any
) -> None:
    client, ids = seeded
    path = _path(route, ids)
    names = _form_names(client, path)
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    posted = {name: data.draw(st.one_of(VALUES, st.lists(VALUES, max_size=3))) for name in chosen}
    htmx = data.draw(st.sampled_from([{}, {"HTTP_HX_REQUEST": "true"}]))
    before = snapshot(acme)
    response = client.post(path, posted, **htmx)
    assert response.status_code < 500
    if _is_refusal(response):
        assert snapshot(acme) == before, f"{path} refused {posted!r} but wrote"


# --- The importer ---------------------------------------------------------------------------

CELLS = st.one_of(
    st.none(), VALUES, st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.dates(), st.datetimes(),
)  # fmt: skip


def _workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        try:
            sheet.append(row)
        except (ValueError, IllegalCharacterError):  # openpyxl refuses some: leave them out
            sheet.append([None] * len(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


FILES = st.one_of(
    st.binary(max_size=4_000),
    st.builds(lambda b: b"PK\x03\x04" + b, st.binary(max_size=2_000)),
    st.lists(st.lists(VALUES, min_size=1, max_size=6), max_size=8).map(
        lambda rows: "\n".join(",".join(r) for r in rows).encode("utf-8", "surrogatepass")
    ),
    st.lists(st.lists(CELLS, min_size=1, max_size=5), max_size=6).map(_workbook),
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "N",
                    "FN",
                    "EMAIL;TYPE=WORK",
                    "TEL",
                    "ORG",
                    "ADR",
                    "X;Y=",
                    "CATEGORIES",
                    "item1.EMAIL",
                    "N;ENCODING=QUOTED-PRINTABLE",
                ]
            ),
            VALUES,
        ),
        max_size=8,
    ).map(
        lambda props: (
            "BEGIN:VCARD\r\n" + "".join(f"{k}:{v}\r\n" for k, v in props) + "END:VCARD\r\n"
        ).encode("utf-8", "surrogatepass")
    ),
)


def _files(root: Path) -> set[str]:
    return {p.name for p in root.rglob("*") if p.is_file()}


@EXAMPLES
@given(data=FILES)
def test_no_file_makes_an_import_fail_or_leave_a_file_behind(
    client: Client, acme: Organization, rita: User, tmp_path: Path, settings: Any, data: bytes
) -> None:
    settings.MEDIA_ROOT = tmp_path
    client.force_login(rita)
    with activate(acme):  # each example starts afresh
        ImportJob.objects.all().delete()
    for path in tmp_path.rglob("*.*"):
        path.unlink()
    with TestCase.captureOnCommitCallbacks(execute=True):  # the worker's read, here
        response = client.post(
            "/o/acme/contacts/import/", {"file": SimpleUploadedFile("f.csv", data)}
        )
    assert response.status_code in (200, 302)
    with activate(acme):
        jobs = list(ImportJob.objects.all())
    if response.status_code == 200:  # refused beside the field: nothing kept
        assert not jobs
        assert _files(tmp_path) == set()
        return
    (job,) = jobs
    if job.status == ImportJob.Status.UPLOADED:
        mapping = {f"column_{i}": "" for i in range(len(job.headers))} | {"column_0": "email"}
        with TestCase.captureOnCommitCallbacks(execute=True):
            checked = client.post(
                f"/o/acme/imports/{job.pk}/map/", {**mapping, "mode": "upsert", "match_by": "email"}
            )
        assert checked.status_code in (200, 302)
    assert client.get(f"/o/acme/imports/{job.pk}/").status_code == 200
    with activate(acme):
        job.refresh_from_db()
    assert job.status in (ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED,
                          ImportJob.Status.FAILED)  # fmt: skip
    if job.status == ImportJob.Status.FAILED and not job.headers:
        assert _files(tmp_path) == set(), job.error  # unreadable: its file went with it
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(f"/o/acme/imports/{job.pk}/discard/")
    with activate(acme):
        assert not ImportJob.objects.exists()
    assert _files(tmp_path) == set()
