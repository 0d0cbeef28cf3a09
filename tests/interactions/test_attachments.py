"""An inbound email's attachments: stored under the organisation's prefix, limited, kept
once, deleted with their interaction, and downloaded at
/o/<org>/interactions/<id>/attachments/<id>/ only by who may see the interaction."""

from email.message import EmailMessage
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client

from crm import files
from crm import services as crm_services
from crm.records.trash import trash_purge
from crm.tenancy import activate
from interactions import attachments, mail_in
from interactions.inbound import mailbox_rotate
from interactions.models import Attachment, Interaction
from tests.factories import ContactFactory, InteractionFactory, trash

pytestmark = pytest.mark.django_db

PDF = ("Quote é.pdf", "application/pdf", b"%PDF-1.4 the quote")


def _message(*attached: tuple[str, str, bytes], message_id: str = "files-1@example.com") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ada Lovelace <ada@example.com>"
    msg["To"] = "sales@acme.test"
    msg["Subject"] = "The files"
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content("See attached.")
    for name, content_type, content in attached:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def address(acme) -> str:
    with activate(acme):
        return f"/inbound/email/{mailbox_rotate(org=acme, by=None)}/"


def _post(client: Client, address: str, raw: bytes):
    return client.post(address, raw, content_type="message/rfc822")


def _filed(org) -> tuple[Interaction, list[Attachment]]:
    with activate(org):
        interaction = Interaction.objects.get()
        return interaction, list(interaction.attachments.all())


def _stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


def test_it_stores_each_attachment_under_the_organisations_prefix(client, acme, address, media):
    assert _post(client, address, _message(PDF, ("a.txt", "text/plain", b"hi"))).status_code == 201
    _, [pdf, text] = _filed(acme)
    assert (pdf.filename, pdf.content_type, pdf.size) == ("Quote é.pdf", "application/pdf", 18)
    assert (text.filename, text.size) == ("a.txt", 2)
    assert pdf.stored_as.startswith(f"{acme.pk}/attachments/")
    assert "Quote" not in pdf.stored_as  # never the sender's name
    assert (media / pdf.stored_as).read_bytes() == b"%PDF-1.4 the quote"


def test_a_member_downloads_it_as_a_file(client, acme, alice, address):
    _post(client, address, _message(PDF))
    interaction, [pdf] = _filed(acme)
    client.force_login(alice)
    response = client.get(f"/o/acme/interactions/{interaction.pk}/attachments/{pdf.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 the quote"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Quote%20%C3%A9.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize(
    "content_type", ["text/html", "image/svg+xml", "application/javascript", "image/png"]
)
def test_it_serves_a_type_only_from_the_safe_list(client, acme, alice, address, content_type):
    _post(client, address, _message(("x.bin", content_type, b"<script>alert(1)</script>")))
    interaction, [attached] = _filed(acme)
    client.force_login(alice)
    response = client.get(f"/o/acme/interactions/{interaction.pk}/attachments/{attached.pk}/")
    expected = content_type if content_type == "image/png" else "application/octet-stream"
    assert response["Content-Type"] == expected
    assert response["Content-Disposition"].startswith("attachment;")  # never inline


def test_another_organisation_gets_404(client, acme, address, globex, charlie):
    _post(client, address, _message(PDF))
    interaction, [pdf] = _filed(acme)
    client.force_login(charlie)  # a real admin of Globex: only the walls stop him
    for org in ("globex", "acme"):
        url = f"/o/{org}/interactions/{interaction.pk}/attachments/{pdf.pk}/"
        assert client.get(url).status_code == 404


def test_a_rep_who_may_not_see_the_interaction_gets_404(client, acme, alice, rita, address):
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    ContactFactory(org=acme, owner=alice, email="ada@example.com")  # Alice's contact, not Rita's
    _post(client, address, _message(PDF))
    interaction, [pdf] = _filed(acme)
    url = f"/o/acme/interactions/{interaction.pk}/attachments/{pdf.pk}/"
    client.force_login(rita)
    assert client.get(url).status_code == 404
    client.force_login(alice)
    assert client.get(url).status_code == 200


def test_an_attachment_named_under_another_interaction_is_not_found(client, acme, alice, address):
    _post(client, address, _message(PDF))
    _, [pdf] = _filed(acme)
    other = InteractionFactory(org=acme, owner=alice)
    client.force_login(alice)
    assert client.get(f"/o/acme/interactions/{other.pk}/attachments/{pdf.pk}/").status_code == 404


def test_one_in_the_trash_is_not_found(client, acme, alice, address):
    _post(client, address, _message(PDF))
    interaction, [pdf] = _filed(acme)
    trash(acme, interaction)
    client.force_login(alice)
    url = f"/o/acme/interactions/{interaction.pk}/attachments/{pdf.pk}/"
    assert client.get(url).status_code == 404


def test_it_skips_an_attachment_over_the_size_limit_and_names_it(
    client, acme, address, settings, media
):
    settings.INBOUND_ATTACHMENT_MAX_BYTES = 100
    big = ("big.zip", "application/zip", b"x" * 101)
    assert _post(client, address, _message(big, PDF)).status_code == 201
    interaction, [pdf] = _filed(acme)
    assert pdf.filename == "Quote é.pdf"
    assert interaction.details["skipped_attachments"] == ["big.zip"]
    assert len(_stored_files(media)) == 1


def test_it_keeps_no_more_than_the_count_limit(client, acme, address, settings):
    settings.INBOUND_ATTACHMENT_MAX_COUNT = 2
    many = [(f"{n}.txt", "text/plain", b"n") for n in range(4)]
    assert _post(client, address, _message(*many)).status_code == 201
    interaction, kept = _filed(acme)
    assert [a.filename for a in kept] == ["0.txt", "1.txt"]
    assert interaction.details["skipped_attachments"] == ["2.txt", "3.txt"]


def test_the_same_message_twice_stores_one_file(client, acme, address, media):
    first = _post(client, address, _message(PDF)).json()
    assert _post(client, address, _message(PDF)).json() == {**first, "created": False}
    _, [pdf] = _filed(acme)
    assert _stored_files(media) == [media / pdf.stored_as]


def _file_then_fail(org, interaction: Interaction, media: Path) -> None:
    with activate(org), attachments.undone_on_error() as written, transaction.atomic():
        found = [mail_in.Attachment(*PDF)]
        attachments.attachments_store(
            org=org, interaction=interaction, attachments=found, written=written
        )
        assert len(_stored_files(media)) == 1
        raise RuntimeError("the filing failed after the files were written")


def test_a_rolled_back_filing_leaves_no_file_behind(acme, media):
    interaction = InteractionFactory(org=acme)
    with pytest.raises(RuntimeError):
        _file_then_fail(acme, interaction, media)
    assert _stored_files(media) == []
    with activate(acme):
        assert not Attachment.objects.exists()


def test_purging_the_interaction_deletes_its_files(
    client, acme, address, media, django_capture_on_commit_callbacks
):
    _post(client, address, _message(PDF))
    interaction, [pdf] = _filed(acme)
    trash(acme, interaction)
    with django_capture_on_commit_callbacks(execute=True), activate(acme):
        purged = trash_purge(org=acme, now=interaction.occurred_at.replace(year=2999))
    assert purged["interaction"] == 1
    assert not files.exists(pdf.stored_as)
    with activate(acme):
        assert not Attachment.objects.exists()


def test_the_interaction_page_lists_them(client, acme, alice, address, settings):
    settings.INBOUND_ATTACHMENT_MAX_BYTES = 100
    _post(client, address, _message(PDF, ("big.zip", "application/zip", b"x" * 101)))
    interaction, [pdf] = _filed(acme)
    client.force_login(alice)
    body = client.get(f"/o/acme/interactions/{interaction.pk}/").content.decode()
    assert f'href="/o/acme/interactions/{interaction.pk}/attachments/{pdf.pk}/"' in body
    assert "Quote é.pdf" in body
    assert "18\xa0bytes" in body
    assert "#paperclip" in body
    assert "Not kept" in body
    assert "big.zip" in body


def test_the_timeline_entry_shows_a_paperclip_with_the_count(client, acme, alice, address):
    ada = ContactFactory(org=acme, email="ada@example.com")
    _post(client, address, _message(PDF, ("a.txt", "text/plain", b"hi")))
    client.force_login(alice)
    body = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    assert "#paperclip" in body
    assert '2<span class="visually-hidden"> attachments</span>' in body
