"""A few useful segments for the demo organisation, refreshed by the worker once every
app's demo records are in (after seed_demo's transaction), after the contacts' scores
(the champions are an RFM segment)."""

from typing import Any

from celery import chain
from django.db import transaction

from contacts.models import Segment
from contacts.segments import services
from crm.celery import app
from crm.models import Organization, User

SEGMENTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("New leads this month", "Leads added in the last 30 days: call them while they're warm.",
     Segment.Schedule.HOURLY,
     {"match": "all", "rules": [{"field": "lifecycle", "op": "is", "value": "lead"},
                                {"field": "created", "op": "in_last", "value": 30}]}),
    ("At-risk customers with open tickets",
     "Customers waiting on support: look after them before renewal.",
     Segment.Schedule.HOURLY,
     {"match": "all", "rules": [{"field": "lifecycle", "op": "is", "value": "customer"},
                                {"field": "tickets.open", "op": "gte", "value": 1}]}),
    ("Quiet customers", "Customers nobody has talked to in a month.", Segment.Schedule.DAILY,
     {"match": "all", "rules": [{"field": "lifecycle", "op": "is", "value": "customer"},
                                {"field": "interactions.days_since", "op": "gte",
                                 "value": 30}]}),
    ("Big open pipeline", "Contacts with 10,000 or more in open deals.", Segment.Schedule.DAILY,
     {"match": "all", "rules": [{"field": "deals.open_amount", "op": "gte", "value": 10000}]}),
    ("Champions", "They bought lately and often: ask them for a reference.",
     Segment.Schedule.DAILY,
     {"match": "all", "rules": [{"field": "scores.rfm", "op": "is", "value": "champions"}]}),
]  # fmt: skip
# A frozen list: filled once from its rules when it is made, then by hand (the contacts
# list's "Add to segment", the member list's "Remove").
STATIC = ("Customer evening in Berlin",
          "The guest list: add people from the contacts list with Add to segment.",
          {"match": "all", "rules": [{"field": "lifecycle", "op": "is", "value": "customer"},
                                     {"field": "country", "op": "is", "value": "DE"}]})  # fmt: skip


def seed(*, org: Organization, users: dict[str, User], **kwargs: Any) -> None:
    if Segment.objects.exists():
        return  # seeded before: seed_demo runs again on every `make run`
    made = [
        services.segment_save(
            org=org, by=users["manager"], name=name, description=description,
            rules_tree=tree, schedule=schedule,
        )
        for name, description, schedule, tree in SEGMENTS
    ]  # fmt: skip
    name, description, tree = STATIC
    services.segment_save(org=org, by=users["manager"], name=name, description=description,
                          rules_tree=tree, kind=Segment.Kind.STATIC)  # fmt: skip
    # In this order, one after the other: the scores, then each segment.
    steps = [app.signature("contacts.scores_run", kwargs={"org_id": org.pk}, immutable=True)]
    steps += [
        app.signature("contacts.segment_refresh", immutable=True,
                      kwargs={"org_id": org.pk, "segment_id": s.pk, "trigger": "saved"})
        for s in made
    ]  # fmt: skip
    transaction.on_commit(lambda: chain(*steps).apply_async(), robust=True)
