"""Interactions and tasks as record kinds: their lists, filters, columns, saved views,
export and bulk actions, declared once."""

from datetime import timedelta
from html import escape
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString

from crm.models import Membership
from crm.people import person_html
from crm.permissions import can
from crm.records import bulk
from crm.records import columns as c
from crm.records.filters import DATE, RecordFilter
from crm.records.registry import Kind
from interactions import attachments, selectors, services
from interactions.models import Interaction, Task


class InteractionFilter(RecordFilter):
    primary: ClassVar[tuple[str, ...]] = ("channel", "direction", "owner", "sort")

    channel = django_filters.ChoiceFilter(
        choices=Interaction.Channel.choices, empty_label="Any channel"
    )
    direction = django_filters.ChoiceFilter(
        choices=Interaction.Direction.choices, empty_label="Any direction"
    )
    occurred = django_filters.DateFromToRangeFilter(
        field_name="occurred_at", label="When", widget=DATE
    )
    # By id: a contact's or company's page links here ("View all"); a dropdown of every
    # contact would be the organisation's whole address book.
    contact = django_filters.NumberFilter(field_name="contact_id", label="Contact (id)")
    company = django_filters.NumberFilter(field_name="company_id", label="Company (id)")
    deal = django_filters.NumberFilter(field_name="deal_id", label="Deal (id)")
    sort = django_filters.OrderingFilter(
        fields=(("occurred_at", "name"), ("channel", "channel"), ("subject", "subject"),
                ("created_at", "created")),
        field_labels={"occurred_at": "When"},
        label="Sort by", empty_label="Newest first (default)",
    )  # fmt: skip

    class Meta:
        model = Interaction
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "owner" in self.filters:  # the platform's owner filter, on the author
            self.filters["owner"].label = "Author"
            self.filters["owner"].extra["empty_label"] = "Anyone"


# --- Columns ------------------------------------------------------------------------------


def _when_text(interaction: Interaction) -> str:
    return f"{timezone.localtime(interaction.occurred_at):%-d %b %Y, %H:%M}"


@c.reading("occurred_at", "subject", "channel")
def _when(interaction: Interaction, row: c.Row) -> SafeString:
    url = row.link("interactions:detail", interaction.pk)
    when = timezone.localtime(interaction.occurred_at)
    # Bandit B703: the text is escaped; the URL a reversed path.
    return SafeString(  # nosec B703
        f'<a href="{url}"><time datetime="{when.isoformat()}">{escape(_when_text(interaction))}'
        "</time></a>"
    )


def _when_export(interaction: Interaction, zone: ZoneInfo) -> list[str]:
    return [interaction.occurred_at.astimezone(zone).isoformat(timespec="seconds")]


@c.reading("contact__first_name", "contact__last_name", "contact__email")
def _contact(interaction: Interaction, row: c.Row) -> SafeString | str:
    if interaction.contact is None:
        return ""
    url = row.link("contacts:detail", interaction.contact_id)  # type: ignore[arg-type]
    return SafeString(f'<a href="{url}">{escape(str(interaction.contact))}</a>')  # nosec B703


@c.reading("company__name")
def _company(interaction: Interaction, row: c.Row) -> SafeString | str:
    if interaction.company is None:
        return ""
    url = row.link("contacts:company_detail", interaction.company_id)  # type: ignore[arg-type]
    return SafeString(f'<a href="{url}">{escape(interaction.company.name)}</a>')  # nosec B703


@c.reading("author__first_name", "author__last_name", "author__email")
def _author(interaction: Interaction, row: c.Row) -> SafeString | str:
    return person_html(interaction.author.display_name) if interaction.author else "—"


def _related(name: str) -> c.Export:
    def export(interaction: Interaction, zone: ZoneInfo) -> list[str]:
        found = getattr(interaction, name)
        return [str(found) if found is not None else ""]

    return export


def _author_email(interaction: Interaction, zone: ZoneInfo) -> list[str]:
    return [interaction.author.email if interaction.author else ""]


COLUMNS = [
    c.Column("when", "When", _when, _when_export, sort="name", css="nowrap", width="md"),
    c.Column("channel", "Channel", c.choice("channel"), c.choice_label("channel"),
             sort="channel", width="sm", card="chip"),
    c.Column("direction", "Direction", c.choice("direction"), c.choice_label("direction"),
             width="sm"),
    c.Column("subject", "Subject", c.text("subject"), c.plain("subject"), sort="subject",
             card="fact"),
    c.Column("contact", "Contact", _contact, _related("contact"), card="fact"),
    c.Column("company", "Company", _company, _related("company")),
    c.Column("owner", "Author", _author, _author_email, headers=("Author email",), width="md"),
    c.Column("outcome", "Outcome", c.choice("outcome"), c.choice_label("outcome"), width="sm"),
    c.Column("duration", "Duration (s)", c.text("duration"), c.plain("duration"), css="num",
             width="xs"),
    c.created(),
]  # fmt: skip


def _visible(membership: Any) -> QuerySet[Interaction]:
    return selectors.interaction_list(membership)


INTERACTION = Kind(
    key="interaction",
    model=Interaction,
    noun="interaction",
    nouns="interactions",
    url_prefix="interactions",
    visible=_visible,
    filterset=InteractionFilter,
    columns=COLUMNS,
    default_columns=("when", "channel", "direction", "subject", "contact", "company", "owner"),
    default_order=("-occurred_at", "-id"),
    detail_url="interactions:detail",
    row_reads=("subject", "channel", "occurred_at"),
    empty_text="Log calls, emails, meetings and notes from a contact's or company's page.",
    searchable=True,
    bulk_actions=(bulk.TRASH,),
    # Deleted for good, an interaction takes its attachments' files with it.
    purge=attachments.interactions_purge,
)


# --- Tasks --------------------------------------------------------------------------------


def _due_window(queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
    """ "overdue", "today", "week" (the next seven days) or "none" (no due date), in the
    organisation's time zone."""
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if value == "overdue":
        return queryset.filter(due_at__lt=now, status=Task.Status.OPEN)
    if value == "today":
        return queryset.filter(due_at__gte=midnight, due_at__lt=midnight + timedelta(days=1))
    if value == "week":  # today and the next 7 days, as My day lists them
        return queryset.filter(due_at__gte=midnight, due_at__lt=midnight + timedelta(days=8))
    if value == "none":
        return queryset.filter(due_at__isnull=True)
    return queryset


class TaskFilter(RecordFilter):
    primary: ClassVar[tuple[str, ...]] = ("q", "status", "due", "owner", "sort")

    status = django_filters.ChoiceFilter(choices=Task.Status.choices, empty_label="Open or done")
    due = django_filters.ChoiceFilter(
        label="Due", method=_due_window, empty_label="Any time",
        choices=[("overdue", "Overdue"), ("today", "Today"), ("week", "Next 7 days"),
                 ("none", "No due date")],
    )  # fmt: skip
    priority = django_filters.ChoiceFilter(
        choices=Task.Priority.choices, empty_label="Any priority"
    )
    due_on = django_filters.DateFromToRangeFilter(
        field_name="due_at", label="Due between", widget=DATE
    )
    contact = django_filters.NumberFilter(field_name="contact_id", label="Contact (id)")
    company = django_filters.NumberFilter(field_name="company_id", label="Company (id)")
    deal = django_filters.NumberFilter(field_name="deal_id", label="Deal (id)")
    sort = django_filters.OrderingFilter(
        fields=(("due_at", "due"), ("priority", "priority"), ("title", "name"),
                ("created_at", "created")),
        field_labels={"title": "Title"},
        label="Sort by", empty_label="Due first (default)",
    )  # fmt: skip

    class Meta:
        model = Task
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "owner" in self.filters:  # the platform's owner filter, on the assignee
            self.filters["owner"].label = "Assignee"
            self.filters["owner"].extra["empty_label"] = "Anyone"


@c.reading("title", "status")
def _task_title(task: Task, row: c.Row) -> SafeString:
    url = row.link("tasks:detail", task.pk)
    done = ' class="is-done"' if task.status == Task.Status.DONE else ""
    return SafeString(f'<a href="{url}"{done}>{escape(task.title)}</a>')  # nosec B703  # escaped


@c.reading("due_at", "status")
def _due(task: Task, row: c.Row) -> SafeString | str:
    if task.due_at is None:
        return ""
    when = timezone.localtime(task.due_at)
    late = task.status == Task.Status.OPEN and task.due_at < timezone.now()
    css = ' class="is-overdue"' if late else ""
    text = escape(f"{when:%-d %b %Y, %H:%M}")
    return SafeString(f'<time datetime="{when.isoformat()}"{css}>{text}</time>')  # nosec B703


@c.reading("assignee__first_name", "assignee__last_name", "assignee__email")
def _assignee(task: Task, row: c.Row) -> SafeString | str:
    return person_html(task.assignee.display_name) if task.assignee else "—"


def _assignee_email(task: Task, zone: ZoneInfo) -> list[str]:
    return [task.assignee.email if task.assignee else ""]


TASK_COLUMNS = [
    c.Column("title", "Task", _task_title, c.plain("title"), sort="name"),
    c.Column("due", "Due", _due, c.iso("due_at"), sort="due", css="nowrap", width="md",
             card="fact"),
    c.Column("priority", "Priority", c.choice("priority"), c.choice_label("priority"),
             sort="priority", width="sm", card="chip"),
    c.Column("status", "Status", c.choice("status"), c.choice_label("status"), width="sm"),
    c.Column("owner", "Assignee", _assignee, _assignee_email, headers=("Assignee email",),
             width="md"),
    c.Column("contact", "Contact", _contact, _related("contact"), card="fact", width="md"),
    c.Column("company", "Company", _company, _related("company"), width="md"),
    c.Column("notes", "Notes", c.text("notes"), c.plain("notes")),
    c.created(),
]  # fmt: skip


def _visible_tasks(membership: Any) -> QuerySet[Task]:
    return selectors.task_list(membership)


def _complete(*, org: Any, by: Any, kind: Any, ids: list[int], value: str) -> int:
    """Mark done the chosen open tasks this member may change (a rep's own, say), one by
    one through the service: each its own audit event and its contact's next step."""
    membership = Membership.objects.filter(user=by).first()
    done = 0
    for task in Task.objects.filter(pk__in=ids, status=Task.Status.OPEN):
        if services.may_change_task(membership, task):
            services.task_complete(org=org, task=task, by=by)
            done += 1
    return done


COMPLETE = bulk.BulkAction("complete", "Mark done", _complete)


def _editable_tasks(membership: Any, found: QuerySet[Task]) -> QuerySet[Task]:
    """The tasks among `found` this member may change: given to them or made by them;
    any, for managers and admins."""
    if can(membership, "task.edit_any"):
        return found
    return found.filter(Q(assignee_id=membership.user_id) | Q(created_by_id=membership.user_id))


TASK = Kind(
    key="task",
    model=Task,
    noun="task",
    nouns="tasks",
    url_prefix="tasks",
    visible=_visible_tasks,
    filterset=TaskFilter,
    columns=TASK_COLUMNS,
    default_columns=("title", "due", "priority", "owner", "contact", "company"),
    # Open ("open" > "done") before done, the first due first: the index task_org_open_due.
    default_order=("-status", "due_at", "id"),
    detail_url="tasks:detail",
    new_url="tasks:new",
    row_reads=("title", "status", "due_at"),
    empty_text="Add a task from a contact's page, or with New task. Follow-up rules add them too.",
    searchable=True,
    bulk_actions=(COMPLETE, bulk.ASSIGN_OWNER, bulk.TRASH),
    changed=services.tasks_changed,
    editable=_editable_tasks,
)
