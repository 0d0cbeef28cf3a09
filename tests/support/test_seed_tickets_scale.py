"""seed_tickets_scale: many tickets set-based, each with its conversation, topped up."""

import pytest
from django.core.management import call_command
from django.db.models import Count

from crm.tenancy import activate
from interactions.models import Interaction
from support.models import Status, Ticket
from tests.conftest import member
from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db


def test_it_adds_numbered_tickets_with_their_conversations_and_tops_up(acme) -> None:
    member(acme, "sam@acme.test", "agent", "Sam Singh")
    for n in range(5):
        ContactFactory(org=acme, email=f"c{n}@example.com")
    call_command("seed_tickets_scale", "--org", "acme", "--tickets", "300", "--open", "40",
                 verbosity=0)  # fmt: skip
    with activate(acme):
        tickets = Ticket.objects.all()
        assert tickets.count() == 300
        numbers = sorted(tickets.values_list("number", flat=True))
        assert numbers == list(range(1001, 1301))
        unsolved = tickets.exclude(status__in=[Status.SOLVED, Status.CLOSED]).count()
        assert unsolved == 40
        assert not tickets.filter(requester__isnull=True).exists()
        assert not tickets.filter(solved_at__isnull=False, resolution_seconds__isnull=True)
        # A message from the customer each, and a reply for every answered one.
        counts = dict(Interaction.objects.values_list("direction").annotate(n=Count("id")))
        answered = tickets.filter(first_response_at__isnull=False).count()
        assert counts == {"inbound": 300, "outbound": answered}
    call_command("seed_tickets_scale", "--org", "acme", "--tickets", "300", verbosity=0)
    with activate(acme):
        assert Ticket.objects.count() == 300
    # The next ticket opened by hand takes the next number.
    assert TicketFactory(org=acme).number == 1301
