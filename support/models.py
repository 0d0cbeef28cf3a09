"""Support: queues, tickets and their events, SLA policies in business hours, canned replies.

A ticket's conversation is its interactions (interactions.Interaction.ticket); what else
happened to it (its status, assignee, priority, queue, SLA thresholds) is a TicketEvent,
shown on the same timeline.
"""

import secrets
from datetime import date
from typing import Any, ClassVar

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from crm.tenancy import TenantManager, TenantModel, TenantQuerySet


def _weekdays_nine_to_five() -> list[list[list[int]]]:
    return [[[9 * 60, 17 * 60]]] * 5 + [[], []]


class BusinessCalendar(TenantModel):
    """When the organisation's support works: a time zone, weekly hours and holidays. SLA
    clocks run only inside them."""

    name = models.CharField(max_length=100)
    zone = models.CharField(max_length=64, default="UTC", verbose_name="time zone")
    # Seven lists, Monday first, of [start, end] minutes of local time (0 to 1440).
    weekly = models.JSONField(default=_weekdays_nine_to_five)
    holidays = ArrayField(models.DateField(), default=list, blank=True)

    owner_field = None  # a setting of the organisation

    class Meta:
        ordering = ("name", "id")
        constraints = [
            models.UniqueConstraint("org", Lower("name"), name="support_calendar_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def hours(self) -> Any:
        """The calendar as support.hours reckons with it."""
        from support.hours import Calendar

        return Calendar(
            zone=self.zone,
            weekly=tuple(tuple((int(a), int(b)) for a, b in day) for day in self.weekly),
            holidays=frozenset(
                day if isinstance(day, date) else date.fromisoformat(day) for day in self.holidays
            ),
        )


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


# The order priorities rise in: escalation raises a ticket one step.
PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


class SlaPolicy(TenantModel):
    """How soon tickets are answered and solved, in a calendar's business hours, and what
    happens when a ticket comes near its target or misses it."""

    name = models.CharField(max_length=100)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")
    # A warning when this share of a target's time is used.
    near_breach_percent = models.PositiveSmallIntegerField(
        default=80, validators=[MinValueValidator(1), MaxValueValidator(99)],
        verbose_name="warn at (% of the target used)",
    )  # fmt: skip
    # What a breach sets off, besides telling the assignee.
    notify_lead = models.BooleanField(default=True, verbose_name="tell the queue's lead")
    notify_managers = models.BooleanField(default=False, verbose_name="tell the managers")
    raise_priority = models.BooleanField(default=False, verbose_name="raise the priority")
    reassign_to_queue = models.BooleanField(
        default=False, verbose_name="unassign, back to the queue"
    )
    is_default = models.BooleanField(default=False)

    owner_field = None

    class Meta:
        ordering = ("name", "id")
        constraints = [
            models.UniqueConstraint("org", Lower("name"), name="support_policy_name_unique"),
            models.UniqueConstraint(
                "org", name="support_policy_one_default", condition=Q(is_default=True)
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaTarget(TenantModel):
    """A policy's targets for one priority, in business minutes."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(max_length=6, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], verbose_name="first response (minutes)"
    )
    resolution_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], verbose_name="resolution (minutes)"
    )

    owner_field = None

    class Meta:
        ordering = ("policy", "priority")
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="support_target_once"),
            models.CheckConstraint(
                condition=Q(first_response_minutes__gt=0, resolution_minutes__gt=0),
                name="support_target_positive",
            ),
        ]


def new_token() -> str:
    """A queue's address token before it is saved; saving gives it its organisation."""
    return secrets.token_urlsafe(18)


def queue_token(org_id: int) -> str:
    """A queue's address token: "<org id>.<secret>", as the organisation's mailbox's, so that
    the organisation is known (and activated) before its queues are read."""
    from crm import tokens

    return tokens.org_token(org_id, tokens.new_secret())


class Queue(TenantModel):
    """Where tickets wait: Billing, Technical… Mail to its address becomes its tickets."""

    class Assignment(models.TextChoices):
        MANUAL = "manual", "Manual"
        ROUND_ROBIN = "round_robin", "Round robin"
        LEAST_OPEN = "least_open", "Fewest open tickets"

    name = models.CharField(max_length=100)
    # The address token: mail to /inbound/email/<token>/ lands in this queue.
    inbound_token = models.CharField(max_length=80, default=new_token, unique=True)
    # Replies go from this address; empty: the deployment's default sender.
    email = models.EmailField(blank=True, verbose_name="reply address")
    lead = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    policy = models.ForeignKey(
        SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name="SLA policy",
    )  # fmt: skip
    assignment = models.CharField(
        max_length=12, choices=Assignment.choices, default=Assignment.MANUAL
    )
    # Round robin: who was given the last ticket.
    last_assigned = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        editable=False,
    )  # fmt: skip
    position = models.PositiveSmallIntegerField(default=0)
    is_archived = models.BooleanField(default=False)

    owner_field = None

    class Meta:
        ordering = ("position", "name", "id")
        constraints = [
            models.UniqueConstraint("org", Lower("name"), name="support_queue_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.inbound_token.startswith(f"{self.org_id}."):
            self.inbound_token = queue_token(self.org_id)
        super().save(*args, **kwargs)


class QueueAgent(TenantModel):
    """An agent who works a queue's tickets."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="agent_links")
    user = models.ForeignKey("crm.User", on_delete=models.CASCADE, related_name="+")

    owner_field = None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["queue", "user"], name="queueagent_once")]


class AgentStatus(TenantModel):
    """Whether an agent takes new tickets now (automatic assignment skips the away)."""

    user = models.ForeignKey("crm.User", on_delete=models.CASCADE, related_name="+")
    is_available = models.BooleanField(default=True)
    changed_at = models.DateTimeField(default=timezone.now)

    owner_field = None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="agentstatus_once")]


class SupportSettings(TenantModel):
    """The organisation's support settings, and the last ticket number given."""

    last_number = models.PositiveIntegerField(default=1000, editable=False)
    csat_enabled = models.BooleanField(default=True, verbose_name="ask for a rating when solved")

    owner_field = None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org"], name="supportsettings_once")]


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending on customer"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


# Statuses a ticket is still being worked in.
UNSOLVED = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


# A ticket neither in the Trash nor merged into another: what lists and figures count.
_ALIVE = Q(deleted_at__isnull=True, merged_into__isnull=True)


class TicketQuerySet(TenantQuerySet["Ticket"]):
    def alive(self) -> "TicketQuerySet":
        return self.filter(deleted_at__isnull=True, merged_into__isnull=True)

    def unsolved(self) -> "TicketQuerySet":
        return self.alive().filter(status__in=UNSOLVED)


TicketManager = TenantManager.from_queryset(TicketQuerySet)


class Ticket(TenantModel):
    """A customer's request, worked by an agent in a queue under an SLA."""

    number = models.PositiveIntegerField(editable=False)
    subject = models.CharField(max_length=300)
    requester = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="tickets",
    )  # fmt: skip
    company = models.ForeignKey(
        "contacts.Company", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="tickets",
    )  # fmt: skip
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.NEW)
    custom = models.JSONField(default=dict, blank=True)
    # The SLA: the policy the ticket runs under, its due times as last computed (null: no
    # target, or the clock stopped while pending), and the spans it was paused.
    policy = models.ForeignKey(
        SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name="SLA policy",
    )  # fmt: skip
    first_response_due = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_due = models.DateTimeField(null=True, blank=True, editable=False)
    # [[start, end or null], …] in ISO 8601: while pending on the customer.
    sla_pauses = models.JSONField(default=list, blank=True, editable=False)
    # When the SLA job next looks at it (a warning or a breach comes due); null: nothing to.
    sla_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_response_at = models.DateTimeField(null=True, blank=True, editable=False)
    solved_at = models.DateTimeField(null=True, blank=True, editable=False)
    # How long the customer waited for them, in the policy's business hours (round the
    # clock without one), set when they happen: the dashboard's percentiles are SQL over
    # these, where reckoning hours there would mean holidays and summer time in SQL.
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True, editable=False)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    csat_score = models.PositiveSmallIntegerField(
        null=True, blank=True, editable=False, verbose_name="CSAT",
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )  # fmt: skip
    csat_comment = models.TextField(blank=True, editable=False)
    csat_at = models.DateTimeField(null=True, blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        editable=False,
    )  # fmt: skip
    touched_at = models.DateTimeField(default=timezone.now, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    search_text = models.GeneratedField(
        expression=Lower("subject"), output_field=models.TextField(), db_persist=True
    )

    objects: ClassVar[TicketManager] = TicketManager()  # type: ignore[assignment]

    owner_field = "assignee"

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["org", "-created_at", "-id"], name="ticket_org_created"),
            # The inboxes: unsolved tickets by due time, a member's and the unassigned.
            models.Index(
                fields=["org", "resolution_due", "id"], name="ticket_org_due_open",
                condition=Q(deleted_at__isnull=True, status__in=UNSOLVED),
            ),
            models.Index(fields=["org", "assignee", "status"], name="ticket_org_assignee"),
            models.Index(fields=["org", "queue", "status"], name="ticket_org_queue"),
            models.Index(fields=["org", "status", "-created_at"], name="ticket_org_status"),
            models.Index(fields=["org", "requester", "-created_at"], name="ticket_org_requester"),
            models.Index(fields=["org", "company"], name="ticket_org_company"),
            # The support dashboard's figures over a period, each from an index alone (an
            # index-only scan: no row of the table read): tickets added, answered, solved
            # and rated in it, with what it measures of them.
            models.Index(fields=["org", "created_at"], name="ticket_dash_created",
                         condition=_ALIVE),
            models.Index(fields=["org", "first_response_at"], name="ticket_dash_answered",
                         include=["first_response_seconds", "first_response_due", "created_at",
                                  "assignee"], condition=_ALIVE),
            models.Index(fields=["org", "solved_at"], name="ticket_dash_solved",
                         include=["resolution_seconds", "resolution_due", "created_at",
                                  "assignee"], condition=_ALIVE),
            models.Index(fields=["org", "csat_at"], name="ticket_dash_rated",
                         include=["csat_score", "assignee"],
                         condition=_ALIVE & Q(csat_score__isnull=False)),
            # The SLA job's claim: what comes due.
            models.Index(fields=["org", "sla_check_at"], name="ticket_sla_check",
                         condition=Q(sla_check_at__isnull=False)),
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="ticket_search_trgm"),
        ]  # fmt: skip
        constraints = [
            models.UniqueConstraint(fields=["org", "number"], name="ticket_number_once"),
            models.CheckConstraint(
                condition=Q(csat_score__isnull=True) | Q(csat_score__gte=1, csat_score__lte=5),
                name="ticket_csat_range",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def is_solved(self) -> bool:
        return self.status in (Status.SOLVED, Status.CLOSED)


class TicketTag(TenantModel):
    """A tag on a ticket: the organisation's tags, as on contacts and deals."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey("contacts.Tag", on_delete=models.CASCADE, related_name="+")

    owner_field = None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "tag"], name="tickettag_once")]


class TicketEvent(TenantModel):
    """Something that happened to a ticket besides its conversation, on its timeline."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status"
        ASSIGNED = "assigned", "Assigned"
        PRIORITY = "priority", "Priority"
        QUEUE = "queue", "Queue"
        NEAR_BREACH = "near_breach", "SLA warning"
        BREACHED = "breached", "SLA breached"
        MERGED = "merged", "Merged"
        RATED = "rated", "Rated"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What changed, as it read: "open" → "pending", or a name.
    old = models.CharField(max_length=200, blank=True)
    new = models.CharField(max_length=200, blank=True)
    # An SLA event once per threshold: "first_response:<due ISO>" or "resolution:<due ISO>".
    key = models.CharField(max_length=100, blank=True)

    owner_field = None  # read through its ticket

    class Meta:
        ordering = ("-at", "-id")
        indexes = [models.Index(fields=["org", "ticket", "-at", "-id"], name="ticketevent_when")]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind", "key"], name="ticketevent_sla_once",
                condition=~Q(key=""),
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.old} → {self.new}"


class CannedReply(TenantModel):
    """A reply agents insert and adapt, with placeholders such as {{ contact.first_name }}."""

    name = models.CharField(max_length=100)
    body = models.TextField()
    created_by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    owner_field = None  # the organisation's, for every agent

    class Meta:
        ordering = ("name", "id")
        verbose_name_plural = "canned replies"
        constraints = [
            models.UniqueConstraint("org", Lower("name"), name="support_canned_name_unique")
        ]

    def __str__(self) -> str:
        return self.name
