"""manage.py import_contacts / import_companies: the import pages' report, from the shell."""

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from contacts.models import Company, Contact
from crm.models import Organization
from crm.records.models import ImportJob
from crm.tenancy import activate
from tests.contacts.imports import csv_bytes, media

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    media(settings, tmp_path / "media")


def _file(tmp_path: Path, rows: list[list[str]]) -> str:
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(rows))
    return str(path)


def _call(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_it_imports_and_prints_the_report(acme: Organization, tmp_path: Path) -> None:
    path = _file(tmp_path, [["Name", "Email"], ["Ada Lovelace", "ada@example.com"]])
    out = _call("import_contacts", "--org", "acme", path)
    assert "created: 1" in out
    assert "Email -> email" in out
    with activate(acme):
        assert Contact.objects.get().first_name == "Ada"
        assert ImportJob.objects.get().status == ImportJob.Status.DONE  # undoable in the pages


def test_a_dry_run_writes_nothing(acme: Organization, tmp_path: Path) -> None:
    out = _call("import_contacts", "--org", "acme", "--dry-run",
                _file(tmp_path, [["Email"], ["ada@example.com"]]))  # fmt: skip
    assert "would be:" in out
    assert "created: 1" in out
    with activate(acme):
        assert not Contact.objects.exists()


def test_it_exits_1_when_rows_were_refused(acme: Organization, tmp_path: Path) -> None:
    path = _file(tmp_path, [["Email"], ["ada@example.com"], ["nope"]])
    with pytest.raises(SystemExit) as exit_:
        _call("import_contacts", "--org", "acme", path)
    assert exit_.value.code == 1
    with activate(acme):
        assert Contact.objects.count() == 1  # the good row is imported


def test_it_maps_columns_as_told(acme: Organization, tmp_path: Path) -> None:
    path = _file(tmp_path, [["Mail", "Who"], ["ada@example.com", "Ada"]])
    _call(
        "import_contacts", "--org", "acme", "--map", "Mail=email", "--map", "who=first_name", path
    )
    with activate(acme):
        assert Contact.objects.get().first_name == "Ada"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--org", "nowhere"], "No organisation"),
     (["--org", "acme", "--map", "Nope=email"], "no column"),
     (["--org", "acme", "--map", "Email=salary"], "not a field"),
     (["--org", "acme", "--mode", "update", "--map", "Email="], "map a column")],
)  # fmt: skip
def test_it_explains_what_it_cannot_do(
    acme: Organization, tmp_path: Path, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        _call("import_contacts", *args, _file(tmp_path, [["Email"], ["a@example.com"]]))


def test_it_imports_companies(acme: Organization, tmp_path: Path) -> None:
    _call(
        "import_companies",
        "--org",
        "acme",
        _file(tmp_path, [["Company", "Domain"], ["Initech", "initech.example"]]),
    )
    with activate(acme):
        assert Company.objects.get().domain == "initech.example"
