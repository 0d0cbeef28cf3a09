"""The Trash of every registered kind: its page, restoring from it, and the nightly purge
(crm.records.trash). What a kind's purge hook does besides deleting rows is its app's to
test (a company's contacts: tests/contacts/test_trash_purge.py)."""

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from crm import services as crm_services
from crm.models import AuditEvent, Organization
from crm.records import registry, tasks
from crm.records.trash import trash_purge
from crm.tenancy import activate
from tests.factories import make_record, trash

pytestmark = pytest.mark.django_db

KINDS = [kind.key for kind in registry.kinds() if kind.has_trash]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> registry.Kind:
    return registry.kind(request.param)


def _exists(kind: registry.Kind, org: Organization, record: Any) -> bool:
    with activate(org):
        return kind.model._default_manager.filter(pk=record.pk).exists()


def _deleted(kind: registry.Kind, org: Organization, record: Any) -> bool:
    with activate(org):
        found: Any = kind.model._default_manager.get(pk=record.pk)
        return found.deleted_at is not None


def _purge(org: Organization, days: int) -> dict[str, int]:
    with time_machine.travel(timezone.now() + timedelta(days=days)), activate(org):
        return trash_purge(org=org)


def _section(page: str, kind: registry.Kind) -> str:
    """The part of the Trash page that lists one kind."""
    found = re.search(rf'<section[^>]*aria-labelledby="trash-{kind.key}".*?</section>', page, re.S)
    assert found, f"no section for {kind.nouns}"
    return found.group(0)


def _restore(kind: registry.Kind, record: Any, org: str = "acme") -> str:
    return f"/o/{org}/{kind.url_prefix}/{record.pk}/restore/"


# --- The page ------------------------------------------------------------------------------


def test_the_page_lists_each_kinds_deleted_records_under_it(client: Client, kind, acme, alice):
    gone, kept = make_record(kind.key, acme, 1, owner=alice), make_record(kind.key, acme, 2)
    trash(acme, gone, by=alice)
    client.force_login(alice)
    section = _section(client.get("/o/acme/trash/").content.decode(), kind)
    assert f"<td>{gone}</td>" in section
    assert str(kept) not in section
    assert "Alice Archer" in section
    assert f'formaction="{_restore(kind, gone)}"' in section


def test_the_page_says_when_a_kind_has_nothing_deleted(client: Client, kind, acme, alice):
    make_record(kind.key, acme, 1)
    client.force_login(alice)
    section = _section(client.get("/o/acme/trash/").content.decode(), kind)
    assert f"No deleted {kind.nouns}." in section


def test_the_navigation_leads_to_it(client: Client, acme, alice) -> None:
    client.force_login(alice)
    assert 'href="/o/acme/trash/"' in client.get("/o/acme/").content.decode()


def test_a_viewer_sees_the_trash_but_cannot_restore(client: Client, kind, acme, alice, bob):
    record = make_record(kind.key, acme, 1)
    trash(acme, record, by=alice)
    client.force_login(bob)
    section = _section(client.get("/o/acme/trash/").content.decode(), kind)
    assert str(record) in section
    assert "Restore" not in section
    assert client.post(_restore(kind, record)).status_code == 403
    assert _deleted(kind, acme, record)


def test_a_member_sees_only_their_own_deleted_records_when_limited_to_them(
    client: Client, kind, acme, alice, worker, worker_role
) -> None:
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={worker_role: "own"})
    mine, theirs = make_record(kind.key, acme, 1, owner=worker), make_record(kind.key, acme, 2,
                                                                           owner=alice)  # fmt: skip
    trash(acme, mine, by=worker)
    trash(acme, theirs, by=alice)
    client.force_login(worker)
    section = _section(client.get("/o/acme/trash/").content.decode(), kind)
    assert str(mine) in section
    assert str(theirs) not in section
    assert client.post(_restore(kind, theirs)).status_code == 404
    assert _deleted(kind, acme, theirs)


def test_the_page_reads_a_fixed_number_of_queries(
    client: Client, acme, alice, django_assert_num_queries
) -> None:
    for kind in registry.kinds():
        if kind.has_trash:
            for n in range(3):
                trash(acme, make_record(kind.key, acme, n, owner=alice), by=alice)
    client.force_login(alice)
    # The user, the membership and the organisation's setting of the connection (7 with
    # their savepoint), then one read per kind with its owners: never one per record.
    with django_assert_num_queries(7 + len(KINDS)):
        assert client.get("/o/acme/trash/").status_code == 200


# --- Restoring -----------------------------------------------------------------------------


def test_it_restores_a_record_to_its_list(client: Client, kind, acme, alice) -> None:
    record = make_record(kind.key, acme, 1)
    trash(acme, record, by=alice)
    client.force_login(alice)
    response = client.post(_restore(kind, record))
    assert response["Location"] == kind.detail("acme", record.pk)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"Restored {record}."]
    assert not _deleted(kind, acme, record)
    assert str(record) in client.get(f"/o/acme/{kind.url_prefix}/").content.decode()
    with activate(acme):
        event = AuditEvent.objects.get(action=f"{kind.key}.restored")
    assert (event.actor, event.object_id) == (alice, str(record.pk))


def test_it_restores_only_what_is_in_the_trash(client: Client, kind, acme, alice) -> None:
    record = make_record(kind.key, acme, 1)
    client.force_login(alice)
    assert client.post(_restore(kind, record)).status_code == 404
    assert client.get(_restore(kind, record)).status_code == 405
    with activate(acme):
        assert not AuditEvent.objects.filter(action=f"{kind.key}.restored").exists()


def test_another_organisation_neither_sees_nor_restores_it(
    client: Client, kind, acme, alice, charlie
) -> None:
    record = make_record(kind.key, acme, 1)
    trash(acme, record, by=alice)
    client.force_login(charlie)
    assert str(record) not in client.get("/o/globex/trash/").content.decode()
    assert client.post(_restore(kind, record, org="globex")).status_code == 404
    assert client.post(_restore(kind, record)).status_code == 404  # not a member of Acme
    assert _deleted(kind, acme, record)


def test_it_restores_the_selected_records_at_once(client: Client, kind, acme, alice) -> None:
    chosen = [make_record(kind.key, acme, n) for n in range(3)]
    left = make_record(kind.key, acme, 3)
    for record in [*chosen, left]:
        trash(acme, record, by=alice)
    client.force_login(alice)
    ids = [str(r.pk) for r in chosen] + ["junk", "999999999"]
    response = client.post(f"/o/acme/{kind.url_prefix}/restore/", {"ids": ids}, follow=True)
    assert f"Restored 3 {kind.nouns}." in response.content.decode()
    assert not any(_deleted(kind, acme, record) for record in chosen)
    assert _deleted(kind, acme, left)
    nothing = client.post(f"/o/acme/{kind.url_prefix}/restore/", {}, follow=True)
    assert f"Select the {kind.nouns} to restore." in nothing.content.decode()


def test_a_viewer_cannot_restore_at_once(client: Client, kind, acme, alice, bob) -> None:
    record = make_record(kind.key, acme, 1)
    trash(acme, record, by=alice)
    client.force_login(bob)
    response = client.post(f"/o/acme/{kind.url_prefix}/restore/", {"ids": [record.pk]})
    assert response.status_code == 403
    assert _deleted(kind, acme, record)


# --- The nightly purge ---------------------------------------------------------------------


def test_it_deletes_a_record_for_good_after_thirty_days(kind, acme, alice) -> None:
    record = make_record(kind.key, acme, 1)
    trash(acme, record, by=alice)
    purged = _purge(acme, days=31)
    assert purged == {key: int(key == kind.key) for key in KINDS}
    assert not _exists(kind, acme, record)
    with activate(acme):
        event = AuditEvent.objects.get(action=f"{kind.key}.purged")
    assert (event.actor, event.changes) == (None, {"count": [None, 1]})


def test_it_keeps_a_record_in_the_trash_for_thirty_days(kind, acme, alice) -> None:
    record = make_record(kind.key, acme, 1)
    trash(acme, record, by=alice)
    assert _purge(acme, days=29) == dict.fromkeys(KINDS, 0)
    assert _exists(kind, acme, record)
    with activate(acme):
        assert not AuditEvent.objects.filter(action=f"{kind.key}.purged").exists()


def test_it_never_purges_a_record_that_is_not_in_the_trash(kind, acme) -> None:
    record = make_record(kind.key, acme, 1)
    _purge(acme, days=365)
    assert _exists(kind, acme, record)


def test_the_task_purges_only_its_organisations_trash(kind, acme, globex) -> None:
    ours, theirs = make_record(kind.key, acme, 1), make_record(kind.key, globex, 1)
    trash(acme, ours)
    trash(globex, theirs)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        tasks.trash_purge.apply(kwargs={"org_id": acme.pk}).get()
    assert not _exists(kind, acme, ours)
    assert _exists(kind, globex, theirs)


def test_the_task_is_safe_to_run_twice(kind, acme) -> None:
    record = make_record(kind.key, acme, 1)
    trash(acme, record)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        tasks.trash_purge.apply(kwargs={"org_id": acme.pk}).get()
        tasks.trash_purge.apply(kwargs={"org_id": acme.pk}).get()
    assert not _exists(kind, acme, record)
    with activate(acme):
        assert AuditEvent.objects.filter(action=f"{kind.key}.purged").count() == 1
