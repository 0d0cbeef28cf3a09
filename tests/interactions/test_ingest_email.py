"""manage.py ingest_email: raw messages from files or stdin, as the inbound address files them."""

import io
import sys

import pytest
from django.core.management import CommandError, call_command

from crm.tenancy import activate
from interactions.models import Interaction
from tests.interactions.messages import BOUNCE, PLAIN

pytestmark = pytest.mark.django_db


def _ids(org) -> list[int]:
    with activate(org):
        return list(Interaction.objects.order_by("pk").values_list("pk", flat=True))


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("ingest_email", *args, stdout=out)
    return out.getvalue()


def test_it_stores_each_file_once(acme, tmp_path):
    (tmp_path / "a.eml").write_bytes(PLAIN)
    (tmp_path / "b.eml").write_bytes(BOUNCE)
    files = [str(tmp_path / "a.eml"), str(tmp_path / "b.eml")]
    first = _run("--org", "acme", *files)
    a, b = _ids(acme)
    assert first.splitlines() == [f"{files[0]}: stored #{a}", f"{files[1]}: stored #{b}"]
    assert _run("--org", "acme", files[0]) == f"already stored #{a}\n"
    assert _ids(acme) == [a, b]


def test_it_reads_one_message_from_stdin(acme, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PLAIN)))
    assert _run("--org", "acme") == f"stored #{_ids(acme)[0]}\n"


def test_it_exits_non_zero_when_one_is_refused(acme, tmp_path):
    (tmp_path / "good.eml").write_bytes(PLAIN)
    (tmp_path / "empty.eml").write_bytes(b"")
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("ingest_email", "--org", "acme", str(tmp_path / "good.eml"),
                     str(tmp_path / "empty.eml"), stdout=out)  # fmt: skip
    assert refused.value.returncode == 1
    assert "empty.eml: refused: The message is empty." in out.getvalue()
    assert len(_ids(acme)) == 1


def test_it_refuses_an_unknown_organisation(acme):
    with pytest.raises(CommandError, match="No organisation"):
        _run("--org", "nope")
