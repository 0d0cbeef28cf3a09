"""My day: the home page's panel of the signed-in member's tasks (overdue, today, the next
week) and the interactions they logged last (crm.contributions.register_home_panel)."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from crm.permissions import can
from crm.requests import OrgRequest
from crm.selectors import person_fields_unshown
from interactions import selectors
from interactions.models import Interaction, Task

# How many of each the panel lists: the Tasks list has the rest.
MOST_TASKS = 40
RECENT_INTERACTIONS = 6


@dataclass
class MyDay:
    overdue: list[Task] = field(default_factory=list)
    today: list[Task] = field(default_factory=list)
    upcoming: list[Task] = field(default_factory=list)
    recent: list[Interaction] = field(default_factory=list)
    tasks_url: str = ""
    new_task_url: str = ""
    may_edit: bool = False

    @property
    def has_tasks(self) -> bool:
        return bool(self.overdue or self.today or self.upcoming)


def my_day(request: OrgRequest) -> MyDay | None:
    """The panel's data, in two queries (tasks, interactions); None for a member who may
    see no tasks."""
    membership = request.membership
    if not can(membership, "task.view"):
        return None
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow, week = midnight + timedelta(days=1), midnight + timedelta(days=8)
    mine = Task.objects.open().filter(assignee_id=membership.user_id)
    found = (
        mine.filter(due_at__lt=week)
        .select_related("contact", "company")
        .defer("search_text", "contact__search_vector", "contact__search_text",
               "company__search_text")
        .order_by(F("due_at").asc(nulls_last=True), "id")[:MOST_TASKS]
    )  # fmt: skip
    slug = request.org.slug
    day = MyDay(
        tasks_url=reverse("task:list", args=[slug]) + f"?owner={membership.user_id}&status=open",
        new_task_url=reverse("tasks:new", args=[slug]),
        may_edit=can(membership, "task.edit"),
    )
    for task in found:
        assert task.due_at is not None
        if task.due_at < now:
            day.overdue.append(task)
        elif task.due_at < tomorrow:
            day.today.append(task)
        else:
            day.upcoming.append(task)
    interactions = selectors.interaction_list(membership).filter(author_id=membership.user_id)
    day.recent = list(
        interactions.defer(*person_fields_unshown("author")).order_by("-occurred_at", "-id")[
            :RECENT_INTERACTIONS
        ]
    )
    return day
