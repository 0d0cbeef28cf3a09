"""Who may open Settings → Pipelines, Lost reasons and Exchange rates: admins and owners;
every other role is refused every page and every post, and another organisation's ids
answer 404."""

from datetime import date
from decimal import Decimal

import pytest

from crm.models import Role
from crm.tenancy import activate
from sales import pipelines as services
from sales.models import ExchangeRate, LostReason, Pipeline, Stage
from tests.conftest import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(acme):
    return member(acme, "mia@acme.test", Role.MANAGER, "Mia Moss")


@pytest.fixture
def paths(acme, alice) -> list[str]:
    """Every page and action of the three settings pages, with Acme's ids."""
    with activate(acme):
        services.pipelines_ensure(org=acme)
        pipeline = Pipeline.objects.get()
        stage = Stage.objects.filter(pipeline=pipeline)[0]
        reason = LostReason.objects.all()[0]
        rate = services.rate_set(org=acme, by=alice, currency="EUR", rate=Decimal("1.1"),
                                 valid_from=date(2026, 1, 1))  # fmt: skip
    p = f"settings/pipelines/{pipeline.pk}/"
    s = f"{p}stages/{stage.pk}/"
    return [
        "settings/pipelines/", "settings/pipelines/new/", p, f"{p}move/", f"{p}archive/",
        f"{p}stages/new/", s, f"{s}move/", f"{s}archive/", f"{s}delete/",
        "settings/lost-reasons/", f"settings/lost-reasons/{reason.pk}/",
        f"settings/lost-reasons/{reason.pk}/archive/", "settings/exchange-rates/",
        f"settings/exchange-rates/{rate.pk}/delete/",
    ]  # fmt: skip


def _state(acme) -> list[object]:
    with activate(acme):
        return [
            list(Pipeline.objects.values_list("name", "position", "is_archived")),
            list(Stage.objects.values_list("name", "position", "kind", "is_archived")),
            list(LostReason.objects.values_list("name", "is_archived")),
            list(ExchangeRate.objects.values_list("currency", "rate")),
        ]


@pytest.mark.parametrize("who", ["manager", "rita", "sam", "bob"])
def test_it_refuses_every_role_but_admins(client, acme, paths, who, request):
    before = _state(acme)
    client.force_login(request.getfixturevalue(who))
    for path in paths:
        assert client.get(f"/o/acme/{path}").status_code in (403, 405), path
        posted = client.post(f"/o/acme/{path}", {"direction": "up", "name": "X"})
        assert posted.status_code == (405 if path == "settings/pipelines/" else 403), path
    assert _state(acme) == before


@pytest.mark.parametrize("who", ["alice", "oscar"])
def test_it_lets_an_admin_and_an_owner_open_every_page(client, paths, who, request):
    client.force_login(request.getfixturevalue(who))
    for path in paths:
        if not path.endswith(("move/", "archive/")):  # posts only
            assert client.get(f"/o/acme/{path}").status_code == 200, path


def test_another_organisations_ids_answer_404_and_change_nothing(client, acme, globex, paths,
                                                                 charlie):  # fmt: skip
    before = _state(acme)
    client.force_login(charlie)
    for path in [p for p in paths if any(char.isdigit() for char in p)]:
        posts_only = path.endswith(("move/", "archive/"))
        assert client.get(f"/o/globex/{path}").status_code == (405 if posts_only else 404), path
        assert client.post(f"/o/globex/{path}", {"direction": "up"}).status_code == 404, path
    for path in paths:  # and Acme's pages are not his
        assert client.get(f"/o/acme/{path}").status_code == 404, path
    assert _state(acme) == before
