"""A few useful segments for the demo organisation, refreshed by the worker once every
app's demo records are in (after seed_demo's transaction)."""

from typing import Any

from contacts.models import Segment
from contacts.segments import services
from crm.models import Organization, User
from crm.tasks import enqueue

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
]  # fmt: skip


def seed(*, org: Organization, users: dict[str, User], **kwargs: Any) -> None:
    if Segment.objects.exists():
        return  # seeded before: seed_demo runs again on every `make run`
    for name, description, schedule, tree in SEGMENTS:
        segment = services.segment_save(
            org=org, by=users["manager"], name=name, description=description,
            rules_tree=tree, schedule=schedule,
        )  # fmt: skip
        enqueue("contacts.segment_refresh", org_id=org.pk, segment_id=segment.pk,
                trigger="saved")  # fmt: skip
