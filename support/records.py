"""Tickets as a record kind: the inboxes are the list's filters, with its columns, saved
views, export and bulk actions declared once. Bulk assign and close go through the ticket
services, one ticket at a time, so that each gets its events and its SLA recomputed."""

from html import escape
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import django_filters
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString

from contacts.services import tags_by_name
from crm.models import Membership, Organization, User
from crm.people import person_html
from crm.records import bulk
from crm.records import columns as c
from crm.records.filters import DATE, ModelFilter, RecordFilter
from crm.records.registry import Kind, Tags
from support import selectors, services
from support.models import Priority, Queue, Status, Ticket, TicketEvent, TicketTag


def _sort() -> django_filters.OrderingFilter:
    return django_filters.OrderingFilter(
        fields=(("subject", "name"), ("resolution_due", "due"), ("number", "number"),
                ("touched_at", "updated"), ("created_at", "created")),
        field_labels={"subject": "Subject", "resolution_due": "Due", "number": "Number",
                      "touched_at": "Last activity"},
        label="Sort by", empty_label="Newest first (default)",
    )  # fmt: skip


_MET = [("met", "Met"), ("missed", "Missed")]
_BREACHES = [("first_response", "First response"), ("resolution", "Resolution")]
# A target's filter: (when it was done, when it was due).
_TARGETS = {
    "first_response_sla": ("first_response_at", "first_response_due"),
    "resolution_sla": ("solved_at", "resolution_due"),
}


class TicketFilter(RecordFilter):
    primary: ClassVar[tuple[str, ...]] = ("q", "inbox", "queue", "status", "priority", "sort")

    inbox = django_filters.ChoiceFilter(
        choices=selectors.INBOXES,
        method="filter_inbox",
        label="Inbox",
        empty_label="Every ticket",
    )
    queue = ModelFilter(queryset=Queue.unscoped.none(), empty_label="Any queue")
    status = django_filters.ChoiceFilter(choices=Status.choices, empty_label="Any status")
    priority = django_filters.ChoiceFilter(choices=Priority.choices, empty_label="Any priority")
    unassigned = django_filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label="Unassigned"
    )
    requester = django_filters.NumberFilter(field_name="requester_id", label="Requester (id)")
    # The support dashboard's figures link here: tickets solved, answered, rated or
    # breached in a period, and whether each target was met.
    solved = django_filters.DateFromToRangeFilter(
        field_name="solved_at", label="Solved", widget=DATE
    )
    responded = django_filters.DateFromToRangeFilter(
        field_name="first_response_at", label="First response", widget=DATE
    )
    rated = django_filters.DateFromToRangeFilter(field_name="csat_at", label="Rated", widget=DATE)
    csat = django_filters.ChoiceFilter(
        field_name="csat_score", label="Rating", choices=[(n, f"{n} of 5") for n in range(1, 6)]
    )
    first_response_sla = django_filters.ChoiceFilter(
        choices=_MET, method="filter_met", label="First response target"
    )
    resolution_sla = django_filters.ChoiceFilter(
        choices=_MET, method="filter_met", label="Resolution target"
    )
    breach = django_filters.ChoiceFilter(
        choices=_BREACHES, method="filter_breach", label="Breached target"
    )
    breached = django_filters.DateFromToRangeFilter(
        method="filter_breach", label="Breached", widget=DATE
    )
    company = django_filters.NumberFilter(field_name="company_id", label="Company (id)")
    sort = _sort()

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(self, *args: Any, membership: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, membership=membership, **kwargs)
        self.filters["queue"].queryset = Queue.objects.all()
        if "owner" in self.filters:
            self.filters["owner"].label = "Assignee"
            self.filters["owner"].extra["empty_label"] = "Anyone"

    def filter_met(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        done, due = _TARGETS[name]
        met = Q(**{f"{done}__lte": F(due)})
        answered = queryset.filter(**{f"{done}__isnull": False, f"{due}__isnull": False})
        return answered.filter(met) if value == "met" else answered.exclude(met)

    def filter_breach(self, queryset: QuerySet[Ticket], name: str, value: Any) -> QuerySet[Ticket]:
        # Both fields make one filter (the target, and when it was missed), applied once: by
        # the target's field when it is given, else by the period's.
        data = self.form.cleaned_data
        if name == "breached" and data.get("breach"):
            return queryset
        events = TicketEvent.objects.filter(ticket=OuterRef("pk"), kind=TicketEvent.Kind.BREACHED)
        if data.get("breach"):
            events = events.filter(key=f"{data['breach']}:breach")
        when = data.get("breached")
        if when is not None and when.start is not None:
            events = events.filter(at__gte=when.start)
        if when is not None and when.stop is not None:
            events = events.filter(at__lte=when.stop)  # the last day's end
        return queryset.filter(Exists(events))

    def filter_inbox(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        user_id = self.membership.user_id if self.membership is not None else 0
        return selectors.inbox(queryset, value, user_id)

    def filter_search(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        # "#1042" or "1042" finds that ticket, besides the subjects that say it.
        term = value.strip()
        digits = term.removeprefix("#")
        if not (digits.isascii() and digits.isdigit() and len(digits) < 10):
            return super().filter_search(queryset, name, value)
        by_number = queryset.filter(number=int(digits))
        if term.startswith("#"):
            return by_number
        searched = super().filter_search(queryset, name, value)
        return searched | by_number


# --- Columns ------------------------------------------------------------------------------

_STATUS_TONE = {
    Status.NEW: "info", Status.OPEN: "warning", Status.PENDING: "neutral",
    Status.ON_HOLD: "neutral", Status.SOLVED: "success", Status.CLOSED: "neutral",
}  # fmt: skip
_PRIORITY_TONE = {Priority.URGENT: "danger", Priority.HIGH: "warning"}


@c.reading("number", "subject")
def _subject(ticket: Ticket, row: c.Row) -> SafeString:
    url = row.link("tickets:detail", ticket.number)
    return SafeString(  # nosec B703  # the subject escaped
        f'<a href="{url}"><span class="muted">#{ticket.number}</span> {escape(ticket.subject)}</a>'
    )


def status_badge(status: str) -> SafeString:
    tone = _STATUS_TONE.get(Status(status), "neutral")
    label = escape(Status(status).label)
    return SafeString(f'<span class="badge badge--{tone}">{label}</span>')  # nosec B703


@c.reading("status")
def _status(ticket: Ticket, row: c.Row) -> SafeString:
    return status_badge(ticket.status)


def priority_badge(priority: str) -> SafeString | str:
    tone = _PRIORITY_TONE.get(Priority(priority))
    label = escape(Priority(priority).label)
    if tone is None:
        return label
    return SafeString(f'<span class="badge badge--{tone}">{label}</span>')  # nosec B703


@c.reading("priority")
def _priority(ticket: Ticket, row: c.Row) -> SafeString | str:
    return priority_badge(ticket.priority)


@c.reading("assignee__first_name", "assignee__last_name", "assignee__email")
def _assignee(ticket: Ticket, row: c.Row) -> SafeString | str:
    return person_html(ticket.assignee.display_name) if ticket.assignee is not None else "—"


@c.reading("requester__first_name", "requester__last_name", "requester__email")
def _requester(ticket: Ticket, row: c.Row) -> SafeString | str:
    if ticket.requester_id is None:
        return ""
    url = row.link("contacts:detail", ticket.requester_id)
    name = escape(str(ticket.requester))
    return SafeString(f'<a href="{url}">{name}</a>')  # nosec B703  # escaped


@c.reading("queue__name")
def _queue(ticket: Ticket, row: c.Row) -> str:
    return ticket.queue.name


def due_html(due: Any, *, now: Any = None) -> SafeString | str:
    """A due time as the inbox shows it: overdue in red, else the day and time."""
    if due is None:
        return ""
    now = now or timezone.now()
    text = escape(timezone.localtime(due).strftime("%-d %b %H:%M"))
    if due <= now:
        return SafeString(f'<span class="is-overdue" title="Past due">{text}</span>')  # nosec B703
    return text


@c.reading("resolution_due", "first_response_due", "first_response_at", "status")
def _due(ticket: Ticket, row: c.Row) -> SafeString | str:
    if ticket.status not in (Status.NEW, Status.OPEN, Status.ON_HOLD):
        return ""
    due = ticket.resolution_due
    if ticket.first_response_at is None and ticket.first_response_due is not None:
        due = ticket.first_response_due
    return due_html(due)


def _export_person(relation: str) -> c.Export:
    def export(ticket: Ticket, zone: ZoneInfo) -> list[str]:
        found = getattr(ticket, relation)
        return [str(found), found.email] if found is not None else ["", ""]

    return export


COLUMNS = [
    c.Column("subject", "Ticket", _subject, lambda t, zone: [f"#{t.number}", t.subject],
             headers=("Number", "Subject"), sort="name", width="lg"),
    c.Column("status", "Status", _status, c.choice_label("status"), width="sm", card="chip"),
    c.Column("priority", "Priority", _priority, c.choice_label("priority"), width="xs",
             card="chip"),
    c.Column("requester", "Requester", _requester, _export_person("requester"),
             headers=("Requester", "Requester email"), width="md", card="fact"),
    # "owner", as every kind's column of who owns a record is keyed.
    c.Column("owner", "Assignee", _assignee, _export_person("assignee"),
             headers=("Assignee", "Assignee email"), width="md"),
    c.Column("queue", "Queue", _queue, lambda t, zone: [t.queue.name], width="sm"),
    c.Column("due", "Due", _due, c.iso("resolution_due"), sort="due", css="nowrap",
             width="sm", card="fact"),
    c.Column("updated", "Last activity", c.day("touched_at"), c.iso("touched_at"),
             sort="updated", css="nowrap", width="sm"),
    c.TAGS,
    c.created(),
]  # fmt: skip


# --- Bulk actions, through the services -----------------------------------------------------


def _each(org: Organization, ids: list[int], change: Any) -> int:
    changed = 0
    for ticket in Ticket.objects.alive().filter(pk__in=ids).select_related("queue"):
        if change(ticket):
            changed += 1
    return changed


def _assign(*, org: Organization, by: User | None, kind: Kind, ids: list[int], value: int) -> int:
    assignee = User.objects.filter(pk=value).first()

    def change(ticket: Ticket) -> bool:
        if ticket.assignee_id == value:
            return False
        services.ticket_update(org=org, ticket=ticket, by=by, assignee=assignee)
        return True

    return _each(org, ids, change)


def _set_status(status: str) -> bulk.Apply:
    def apply(*, org: Organization, by: User | None, kind: Kind, ids: list[int],
              value: str) -> int:  # fmt: skip
        def change(ticket: Ticket) -> bool:
            if ticket.status == status or ticket.status == Status.CLOSED:
                return False
            services.ticket_update(org=org, ticket=ticket, by=by, status=status)
            return True

        return _each(org, ids, change)

    return apply


ASSIGN = bulk.BulkAction(
    "ticket_assign", "Assign", _assign, field="assignee", field_label="Assignee", value="member"
)
SOLVE = bulk.BulkAction("ticket_solve", "Solve", _set_status(Status.SOLVED))
CLOSE = bulk.BulkAction(
    "ticket_close", "Close", _set_status(Status.CLOSED), destructive=True,
    note="A closed ticket takes no more replies; the customer's next message opens a new one.",
)  # fmt: skip


def _editable(membership: Membership, found: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return found if services.may_work(membership) else found.none()


EXPORT_COLUMNS = (
    "subject", "status", "priority", "requester", "owner", "queue", "due", "tags", "created",
)  # fmt: skip
TICKET_TAGS = Tags(link=TicketTag, field="ticket", by_name=tags_by_name)

TICKET = Kind(
    key="ticket",
    model=Ticket,
    noun="ticket",
    nouns="tickets",
    url_prefix="tickets",
    visible=selectors.ticket_list,
    filterset=TicketFilter,
    columns=COLUMNS,
    default_columns=("subject", "status", "priority", "requester", "owner", "due"),
    export_columns=EXPORT_COLUMNS,
    default_order=("-created_at", "-id"),
    detail_url="tickets:by_id",
    new_url="tickets:new",
    row_reads=("number", "subject"),
    empty_text="Tickets arrive by email to a queue's address, or an agent opens one here.",
    searchable=True,
    custom_fields=True,
    tags=TICKET_TAGS,
    bulk_actions=(ASSIGN, SOLVE, CLOSE, bulk.ADD_TAG, bulk.REMOVE_TAG, bulk.TRASH),
    editable=_editable,
)
