"""contacts.merging: merging contacts and companies, the registry of links, and undo."""

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from contacts import services
from contacts.models import Company, CompanyTag, ConsentEvent, Contact, ContactTag
from contacts.privacy import contact_erase
from crm.models import AuditEvent, Organization, User
from crm.records import merging
from crm.records.models import CustomField, Merge
from crm.records.trash import trash_purge
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory, merge, trash

pytestmark = pytest.mark.django_db


def _merge(org: Organization, survivor: Any, *others: Any, by: User | None = None,
           **values: int) -> Merge:  # fmt: skip
    return merge(org, survivor, others, values=values, by=by)


def _undo(org: Organization, merge: Merge, by: User | None = None) -> Merge:
    with activate(org):
        return merging.merge_undo(org=org, merge=merge, by=by)


def _get(org: Organization, record: Any) -> Any:
    with activate(org):
        return type(record).objects.get(pk=record.pk)


def _tags(org: Organization, record: Any) -> list[str]:
    link, field = (
        (ContactTag, "contact") if isinstance(record, Contact) else (CompanyTag, "company")
    )
    with activate(org):
        found = link.objects.filter(**{field: record.pk}).values_list("tag__name", flat=True)
        return sorted(found)


def _state(org: Organization) -> dict[str, list[dict[str, Any]]]:
    """Every contact, company, tag link and consent event, to compare before and after."""
    with activate(org):
        return {
            model.__name__: [
                {k: v for k, v in row.items() if k != "updated_at"}
                for row in model.objects.order_by("pk").values()
            ]
            for model in (Contact, Company, ContactTag, CompanyTag, ConsentEvent)
        }


@pytest.fixture
def ada(acme: Organization) -> Contact:
    return ContactFactory(org=acme, tags=("VIP",), first_name="Ada", last_name="Lovelace",
                    email="ada@engines.example", job_title="")  # fmt: skip


@pytest.fixture
def ada2(acme: Organization) -> Contact:
    return ContactFactory(org=acme, tags=("VIP", "Speaker"), first_name="Ada", last_name="King",
                    email="countess@engines.example", phone="+442079460958",
                    job_title="Analyst")  # fmt: skip


# --- Merging contacts --------------------------------------------------------------------


def test_it_keeps_the_survivors_values_and_fills_its_empty_fields(acme, ada, ada2) -> None:
    _merge(acme, ada, ada2)
    kept = _get(acme, ada)
    assert (kept.first_name, kept.last_name, kept.email) == (
        "Ada",
        "Lovelace",
        "ada@engines.example",
    )
    assert (kept.phone, kept.job_title) == ("+442079460958", "Analyst")
    assert kept.other_emails == ["countess@engines.example"]


def test_it_keeps_the_values_chosen_per_field(acme, ada, ada2) -> None:
    _merge(acme, ada, ada2, last_name=ada2.pk, email=ada2.pk)
    kept = _get(acme, ada)
    assert (kept.last_name, kept.email) == ("King", "countess@engines.example")
    assert kept.other_emails == ["ada@engines.example"]


def test_it_unites_the_tags_and_moves_the_consent_history(acme, alice, ada, ada2) -> None:
    with activate(acme):
        services.contact_set_consent(org=acme, contact=ada2, purpose="sms", granted=True,
                                     how="phone call", by=alice)  # fmt: skip
    _merge(acme, ada, ada2)
    assert _tags(acme, ada) == ["Speaker", "VIP"]
    with activate(acme):
        assert list(ConsentEvent.objects.values_list("contact_id", flat=True)) == [ada.pk]
    assert _get(acme, ada).consent["sms"]["granted"] is True


def test_it_keeps_the_custom_value_chosen(acme, ada, ada2) -> None:
    with activate(acme):
        CustomField.objects.create(org=acme, record_kind="contact", key="tier", label="Tier",
                                   kind="text")  # fmt: skip
        services.contact_update(org=acme, contact=ada, by=None, custom={"tier": "Gold"})
        services.contact_update(org=acme, contact=ada2, by=None, custom={"tier": "Silver"})
    _merge(acme, ada, ada2, custom_tier=ada2.pk)
    assert _get(acme, ada).custom == {"tier": "Silver"}


def test_it_takes_the_merged_records_out_of_lists_and_the_trash(acme, ada, ada2) -> None:
    _merge(acme, ada, ada2)
    gone = _get(acme, ada2)
    assert gone.merged_into_id == ada.pk
    assert gone.deleted_at is not None
    with activate(acme):
        assert list(Contact.objects.alive().values_list("pk", flat=True)) == [ada.pk]
        assert not Contact.objects.trashed().exists()


def test_it_records_the_merge_on_every_record(acme, alice, ada, ada2) -> None:
    merge = _merge(acme, ada, ada2, by=alice, last_name=ada2.pk)
    with activate(acme):
        events = {e.object_id: e for e in AuditEvent.objects.filter(action__contains="merged")}
    kept, gone = events[str(ada.pk)], events[str(ada2.pk)]
    assert (kept.action, kept.actor) == ("contact.merged", alice)
    assert kept.changes["last_name"] == ["Lovelace", "King"]
    assert kept.changes["merged"] == [None, [ada2.pk]]
    assert (gone.action, gone.changes) == ("contact.merged_into", {"merged_into": [None, ada.pk]})
    assert (merge.survivor_id, merge.merged_ids, merge.by) == (ada.pk, [ada2.pk], alice)


def test_it_merges_up_to_ten_contacts_at_once(acme, ada) -> None:
    others = [ContactFactory(org=acme, first_name=f"Ada {n}") for n in range(9)]
    _merge(acme, ada, *others)
    with activate(acme):
        assert Contact.objects.alive().count() == 1


# --- Refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 10])
def test_it_refuses_fewer_than_two_or_more_than_ten(acme, ada, count: int) -> None:
    others = [ContactFactory(org=acme, first_name=f"Ada {n}") for n in range(count)]
    before = _state(acme)
    with pytest.raises(ValidationError):
        _merge(acme, ada, *others)
    assert _state(acme) == before


def test_it_refuses_to_merge_a_contact_with_a_company(acme, ada) -> None:
    company = CompanyFactory(org=acme, name="Analytical Engines")
    with pytest.raises(ValidationError), activate(acme):
        merge(org=acme, survivor=ada, others=[company], values={}, by=None)


def test_it_refuses_a_record_in_the_trash_merged_or_erased(acme, alice, ada, ada2) -> None:
    trashed, erased = (
        ContactFactory(org=acme, first_name="T"),
        ContactFactory(org=acme, first_name="E"),
    )
    with activate(acme):
        trash(acme, trashed, by=None)
        contact_erase(org=acme, contact=erased, by=alice)
    _merge(acme, ada, ada2)
    before = _state(acme)
    for other in (trashed, erased, ada2):
        with pytest.raises(ValidationError):
            _merge(acme, ada, other)
    assert _state(acme) == before


def test_it_refuses_another_organisations_record(acme, globex, ada) -> None:
    theirs = ContactFactory(org=globex, first_name="Grace")
    before = _state(acme)
    with pytest.raises(ValidationError):
        _merge(acme, ada, theirs)
    assert _state(acme) == before
    assert _get(globex, theirs).merged_into_id is None


def test_it_refuses_a_choice_of_another_record_or_field(acme, ada, ada2) -> None:
    stranger = ContactFactory(org=acme, first_name="Grace")
    with pytest.raises(ValidationError) as refused:
        _merge(acme, ada, ada2, email=stranger.pk, deleted_at=ada2.pk)
    assert set(refused.value.message_dict) == {"email", "deleted_at"}
    assert _get(acme, ada2).merged_into_id is None


# --- Companies ---------------------------------------------------------------------------


def test_it_moves_the_contacts_of_merged_companies_and_their_company_name(acme) -> None:
    northwind = CompanyFactory(org=acme, name="Northwind", tags=("VIP",))
    north_wind = CompanyFactory(
        org=acme, name="North Wind Ltd", tags=("Partner", "VIP"), domain="northwind.example"
    )
    ada = ContactFactory(org=acme, first_name="Ada", company=north_wind)
    _merge(acme, northwind, north_wind, name=north_wind.pk)
    moved = _get(acme, ada)
    assert (moved.company_id, moved.company_name) == (northwind.pk, "North Wind Ltd")
    assert _get(acme, northwind).domain == "northwind.example"
    assert _tags(acme, northwind) == ["Partner", "VIP"]


def test_undo_puts_companies_and_their_contacts_back_exactly(acme) -> None:
    northwind = CompanyFactory(org=acme, name="Northwind", tags=("VIP",))
    north_wind = CompanyFactory(
        org=acme, name="North Wind Ltd", tags=("Partner", "VIP"), domain="northwind.example"
    )
    ContactFactory(org=acme, first_name="Ada", company=north_wind)
    ContactFactory(org=acme, first_name="Grace", company=northwind)
    before = _state(acme)
    _undo(acme, _merge(acme, northwind, north_wind, name=north_wind.pk))
    assert _state(acme) == before


# --- The registry ------------------------------------------------------------------------


def test_every_reference_to_a_contact_or_a_company_is_registered() -> None:
    # A new app's foreign key to a contact fails here until it joins the registry.
    assert merging.unregistered_references() == []


def test_a_registered_links_rows_all_move_and_come_back(
    acme, alice, ada, ada2, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(merging, "_links", {"contact": {}, "company": {}})
    merging.register_link("contact", ConsentEvent, "contact")
    with activate(acme):
        for contact in (ada, ada2, ada2):
            services.contact_set_consent(org=acme, contact=contact, purpose="sms", granted=True,
                                         how="form", by=alice)  # fmt: skip
        by_contact = dict(ConsentEvent.objects.values_list("pk", "contact_id"))
    merge = _merge(acme, ada, ada2)
    with activate(acme):
        assert set(ConsentEvent.objects.values_list("contact_id", flat=True)) == {ada.pk}
        # Not registered in this test: the tags stay on the merged contact.
        assert ContactTag.objects.filter(contact=ada2).count() == 2
    _undo(acme, merge)
    with activate(acme):
        assert dict(ConsentEvent.objects.values_list("pk", "contact_id")) == by_contact


def test_it_refuses_a_link_that_is_no_reference_to_a_contact() -> None:
    with pytest.raises(ValueError, match="not a tenant row's reference"):
        merging.register_link("contact", ContactTag, "tag")


# --- Undo --------------------------------------------------------------------------------


def test_undo_restores_every_record_exactly(acme, alice, ada, ada2) -> None:
    with activate(acme):
        services.contact_set_consent(org=acme, contact=ada2, purpose="sms", granted=True,
                                     how="phone call", by=alice)  # fmt: skip
    third = ContactFactory(
        org=acme, tags=("VIP",), first_name="Augusta", email="ada@engines.example"
    )
    before = _state(acme)
    merge = _merge(acme, ada, ada2, third, email=ada2.pk, first_name=third.pk)
    _undo(acme, merge, by=alice)
    assert _state(acme) == before
    assert _get(acme, merge).undone_by == alice


def test_undo_is_recorded_on_every_record(acme, alice, ada, ada2) -> None:
    _undo(acme, _merge(acme, ada, ada2, last_name=ada2.pk), by=alice)
    with activate(acme):
        kept = AuditEvent.objects.get(action="contact.merge_undone")
        back = AuditEvent.objects.get(action="contact.unmerged")
    assert (kept.object_id, kept.changes["last_name"]) == (str(ada.pk), ["King", "Lovelace"])
    assert (back.object_id, back.actor) == (str(ada2.pk), alice)


def test_undo_keeps_what_was_edited_since_the_merge(acme, ada, ada2) -> None:
    merge = _merge(acme, ada, ada2, last_name=ada2.pk, email=ada2.pk)
    with activate(acme):
        services.contact_update(org=acme, contact=_get(acme, ada), by=None, last_name="Byron")
    _undo(acme, merge)
    kept = _get(acme, ada)
    assert (kept.last_name, kept.email) == ("Byron", "ada@engines.example")


def test_undo_gives_the_contact_its_companys_current_name(acme, ada, ada2) -> None:
    engines, navy = CompanyFactory(org=acme, name="Engines"), CompanyFactory(org=acme, name="Navy")
    with activate(acme):
        services.contact_update(org=acme, contact=ada, by=None, company=engines)
        services.contact_update(org=acme, contact=ada2, by=None, company=navy)
    merge = _merge(acme, ada, ada2, company=ada2.pk)
    assert _get(acme, ada).company_name == "Navy"
    with activate(acme):
        services.company_update(org=acme, company=navy, by=None, name="Royal Navy")
    _undo(acme, merge)
    kept = _get(acme, ada)
    assert (kept.company_id, kept.company_name) == (engines.pk, "Engines")


def test_undo_refuses_twice_and_out_of_order(acme, ada, ada2) -> None:
    first = _merge(acme, ada, ada2)
    second = _merge(acme, ada, ContactFactory(org=acme, first_name="Augusta"))
    with pytest.raises(ValidationError, match="undo that merge first"):
        _undo(acme, first)
    _undo(acme, second)
    with pytest.raises(ValidationError, match="already undone"):
        _undo(acme, second)
    _undo(acme, first)
    assert _get(acme, ada2).merged_into_id is None


def _until_a_lock_is_awaited(seconds: float = 5) -> None:
    """Return once another transaction waits for a row lock (or after `seconds`)."""
    with connection.cursor() as cursor:
        for _ in range(int(seconds / 0.02)):
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)


@pytest.mark.django_db(transaction=True)  # two connections, each committing for real
def test_undo_checks_the_records_after_locking_them(acme, alice, ada, ada2) -> None:
    merge = _merge(acme, ada, ada2)
    trashing = threading.Event()

    def trash_while_the_undo_waits() -> None:
        try:
            with activate(acme):  # one transaction, committed once the undo waits for it
                trash(acme, ada, by=alice)
                trashing.set()
                _until_a_lock_is_awaited()
        finally:
            connection.close()

    other = threading.Thread(target=trash_while_the_undo_waits)
    other.start()
    assert trashing.wait(5)
    with pytest.raises(ValidationError, match="moved to the Trash since"):
        _undo(acme, merge)
    other.join()
    assert _get(acme, ada2).merged_into_id == ada.pk


def test_the_nightly_purge_ends_the_chance_to_undo(acme, ada, ada2) -> None:
    merge = _merge(acme, ada, ada2)
    with time_machine.travel(timezone.now() + timedelta(days=31)), activate(acme):
        assert trash_purge(org=acme)["contact"] == 1
        assert merging.merge_undo_problem(merge) == (
            "The merged contacts have been deleted for good."
        )
    with pytest.raises(ValidationError):
        _undo(acme, merge)
