from django.core.management import call_command

from crm.models import Organization, User
from crm.tenancy import activate
from interactions.management.commands.seed_interactions_scale import HEAVY_MARK
from interactions.models import Interaction, Task
from tests.factories import ContactFactory


def _seed(acme: Organization, **sizes: int) -> None:
    args = [f"--{name}={value}" for name, value in sizes.items()]
    call_command("seed_interactions_scale", "--org", acme.slug, *args, verbosity=0)


def test_it_brings_interactions_and_tasks_up_to_size_with_one_long_timeline(
    acme: Organization, alice: User
) -> None:
    for _ in range(30):
        ContactFactory(org=acme)
    _seed(acme, interactions=2000, tasks=300, heavy=500)
    with activate(acme):
        heavy = Interaction.objects.filter(contact__external_id=HEAVY_MARK)
        assert heavy.count() == 500
        assert 1980 <= Interaction.objects.count() <= 2020
        assert 297 <= Task.objects.count() <= 303
        assert not Interaction.objects.filter(author__isnull=False).exclude(author=alice).exists()


def test_it_adds_nothing_when_the_organisation_is_up_to_size(
    acme: Organization, alice: User
) -> None:
    for _ in range(10):
        ContactFactory(org=acme)
    _seed(acme, interactions=400, tasks=50, heavy=100)
    with activate(acme):
        before = (Interaction.objects.count(), Task.objects.count())
    _seed(acme, interactions=400, tasks=50, heavy=100)
    with activate(acme):
        assert (Interaction.objects.count(), Task.objects.count()) == before
