"""seed_demo's support: office hours, a policy, canned replies, two queues, and months of
tickets in every status with their conversations, once."""

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from crm.models import Organization
from crm.tenancy import activate
from interactions.models import Interaction
from support.models import CannedReply, Queue, SlaPolicy, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> Organization:
    call_command("seed_demo", "--org", "demo", stdout=StringIO())
    return Organization.objects.get(slug="demo")


# A Saturday afternoon and a Monday before anyone is at work: every inbox still has some.
@pytest.mark.parametrize("now", [datetime(2026, 12, 5, 15, tzinfo=UTC),
                                 datetime(2026, 12, 7, 1, tzinfo=UTC)])  # fmt: skip
def test_every_status_whatever_the_day_it_is_seeded(now: datetime) -> None:
    with time_machine.travel(now, tick=False):
        call_command("seed_demo", "--org", "demo", stdout=StringIO())
    with activate(Organization.objects.get(slug="demo")):
        assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)


def test_it_sets_up_support_and_fills_every_status(demo: Organization) -> None:
    with activate(demo):
        assert list(Queue.objects.values_list("name", flat=True)) == ["Billing", "Technical"]
        assert SlaPolicy.objects.get(is_default=True).name == "Standard"
        assert CannedReply.objects.count() == 2
        tickets = Ticket.objects.all()
        assert tickets.count() == 90
        assert set(tickets.values_list("status", flat=True)) == set(Status.values)
        # Every ticket has the customer's message; every answered one, its reply and wait.
        assert not tickets.exclude(interactions__direction="inbound").exists()
        answered = tickets.filter(first_response_at__isnull=False)
        assert not answered.filter(first_response_seconds__isnull=True).exists()
        assert Interaction.objects.filter(ticket__in=answered, direction="outbound").count() >= (
            answered.count()
        )
        assert not tickets.filter(solved_at__isnull=False, resolution_seconds__isnull=True)


def test_it_seeds_support_once(demo: Organization) -> None:
    call_command("seed_demo", "--org", "demo", stdout=StringIO())
    with activate(demo):
        assert Ticket.objects.count() == 90
        assert Queue.objects.count() == 2
