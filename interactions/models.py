"""Interactions: every touch with a customer, on one timeline."""

from typing import ClassVar

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from crm.tenancy import TenantManager, TenantModel, TenantQuerySet


class InteractionQuerySet(TenantQuerySet["Interaction"]):
    def alive(self) -> "InteractionQuerySet":
        return self.filter(deleted_at__isnull=True)


InteractionManager = TenantManager.from_queryset(InteractionQuerySet)


class Interaction(TenantModel):
    """One touch with a customer: a call, an email, a meeting, a note…"""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        CHAT = "chat", "Chat"
        SMS = "sms", "SMS"
        SOCIAL = "social", "Social"
        WEB_FORM = "web_form", "Web form"
        LETTER = "letter", "Letter"
        NOTE = "note", "Note"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"
        INTERNAL = "internal", "Internal"

    class Outcome(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NO_ANSWER = "no_answer", "No answer"
        VOICEMAIL = "voicemail", "Left voicemail"
        BUSY = "busy", "Busy"
        WRONG_NUMBER = "wrong_number", "Wrong number"

    class Delivery(models.TextChoices):
        QUEUED = "queued", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Not sent"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="In seconds.")
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    # Sanitised by the services before it is stored; shown only as stored.
    body_html = models.TextField(blank=True)
    # Null for what arrives on its own: an inbound email, a web form.
    author = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # [{"name": "...", "email": "..."}]: people outside the CRM as well as contacts.
    participants = models.JSONField(default=list, blank=True)
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="interactions",
    )  # fmt: skip
    company = models.ForeignKey(
        "contacts.Company", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="interactions",
    )  # fmt: skip
    deal = models.ForeignKey(
        "sales.Deal", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="interactions",
    )  # fmt: skip
    # A ticket's conversation: its replies, notes and the customer's mail.
    ticket = models.ForeignKey(
        "support.Ticket", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="interactions",
    )  # fmt: skip
    # The Message-ID of an email: ingesting the same message twice creates nothing new.
    external_id = models.CharField(max_length=300, blank=True, verbose_name="external ID")
    # By channel: a meeting's attendees and place, a social network and handle, …
    details = models.JSONField(default=dict, blank=True)
    # An auto-reply or a bounce: kept, but not a sign of a live conversation.
    is_automatic = models.BooleanField(default=False)
    # An email written in the app: a Celery task sends it; a failed send can be retried.
    delivery = models.CharField(max_length=10, choices=Delivery.choices, blank=True)
    delivery_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Kept by PostgreSQL on every write, for the list's search (crm.records.search).
    search_text = models.GeneratedField(
        expression=Lower("subject"), output_field=models.TextField(), db_persist=True
    )

    objects: ClassVar[InteractionManager] = InteractionManager()  # type: ignore[assignment]

    # Its author owns an interaction; who sees it is interactions.selectors' rule.
    owner_field = "author"

    class Meta:
        ordering = ("-occurred_at", "-id")
        indexes = [
            models.Index(fields=["org", "-occurred_at", "-id"], name="interaction_org_when"),
            models.Index(
                fields=["org", "contact", "-occurred_at", "-id"], name="interaction_contact_when"
            ),
            models.Index(
                fields=["org", "company", "-occurred_at", "-id"], name="interaction_company_when"
            ),
            models.Index(
                fields=["org", "deal", "-occurred_at", "-id"],
                name="interaction_deal_when",
                condition=Q(deal__isnull=False),
            ),
            models.Index(
                fields=["org", "ticket", "-occurred_at", "-id"],
                name="interaction_ticket_when",
                condition=Q(ticket__isnull=False),
            ),
            # An author's interactions, the latest first: the quick log's starting channel
            # (selectors.last_channel) on every record page, one row read, not all of theirs.
            models.Index(
                fields=["org", "author", "-created_at", "-id"], name="interaction_author_latest"
            ),
            # What each author logged in a period, counted from the index alone: the pipeline
            # dashboard's interactions per rep.
            models.Index(
                fields=["org", "author", "occurred_at"],
                name="interaction_author_when",
                condition=Q(deleted_at__isnull=True),
            ),
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="interaction_search_trgm"),
        ]
        constraints = [
            models.UniqueConstraint(
                "org", "external_id", name="interaction_external_id_once",
                condition=~Q(external_id=""),
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.subject or f"{self.get_channel_display()} {self.occurred_at:%Y-%m-%d}"

    def followed_up_as(self) -> "str | None":
        """The follow-up rule (FollowUpRule.Kind) that looks at an interaction like this one,
        if it is on: an outbound email to a contact (a reply is due), a meeting with a contact
        or a company (notes are owed). None for the rest: most of what is logged."""
        if self.deleted_at is not None or self.is_automatic:
            return None
        if self.channel == self.Channel.EMAIL:
            outbound = self.direction == self.Direction.OUTBOUND
            return FollowUpRule.Kind.NO_REPLY if outbound and self.contact_id else None
        if self.channel == self.Channel.MEETING and (self.contact_id or self.company_id):
            return FollowUpRule.Kind.AFTER_MEETING
        return None


class Mailbox(TenantModel):
    """An organisation's inbound email address: the hash of its secret, and how it files mail."""

    # sha256 of the secret part of the token, in hex; the token itself is shown once.
    key_hash = models.CharField(max_length=64)
    # A message from an address no contact has makes a lead, unless it is automatic.
    create_leads = models.BooleanField(
        default=True, verbose_name="Create a lead when the sender is unknown"
    )
    # Where customers' replies to email sent from the app go: an address that the
    # organisation's relay forwards to the inbound address, so that replies are logged.
    reply_to = models.EmailField(blank=True, verbose_name="Reply-To address")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    rotated_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    owner_field = None  # a setting of the organisation, not anyone's record

    class Meta:
        constraints = [models.UniqueConstraint("org", name="interactions_mailbox_one_per_org")]

    def __str__(self) -> str:
        return "Inbound email address"


class Attachment(TenantModel):
    """A file that came with an interaction: stored under the organisation's prefix
    (crm.files) and served only through a view that checks who may see the interaction."""

    interaction = models.ForeignKey(
        Interaction, on_delete=models.CASCADE, related_name="attachments"
    )
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    # <organisation id>/attachments/<random token>: never the sender's file name.
    stored_as = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    owner_field = None  # who sees it is who sees its interaction

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.filename


class TaskQuerySet(TenantQuerySet["Task"]):
    def alive(self) -> "TaskQuerySet":
        return self.filter(deleted_at__isnull=True)

    def open(self) -> "TaskQuerySet":
        return self.filter(deleted_at__isnull=True, status=Task.Status.OPEN)


TaskManager = TenantManager.from_queryset(TaskQuerySet)


class Task(TenantModel):
    """Something someone must do, by a time: call back, send the notes, chase a reply."""

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True, verbose_name="due")
    assignee = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=4, choices=Status.choices, default=Status.OPEN)
    reminder_at = models.DateTimeField(null=True, blank=True, verbose_name="remind me at")
    # Set when the reminder was sent: each reminder time is sent once.
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    company = models.ForeignKey(
        "contacts.Company", on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    deal = models.ForeignKey(
        "sales.Deal", on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    ticket = models.ForeignKey(
        "support.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    created_by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        editable=False,
    )  # fmt: skip
    # What made it, for a task made by a rule or a form ("no_reply:<interaction id>"):
    # making it again finds this one instead.
    source_key = models.CharField(max_length=100, blank=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    search_text = models.GeneratedField(
        expression=Lower("title"), output_field=models.TextField(), db_persist=True
    )

    objects: ClassVar[TaskManager] = TaskManager()  # type: ignore[assignment]

    owner_field = "assignee"

    class Meta:
        ordering = ("due_at", "id")
        indexes = [
            models.Index(fields=["org", "assignee", "status", "due_at"], name="task_assignee_due"),
            models.Index(fields=["org", "contact", "status", "due_at"], name="task_contact_due"),
            models.Index(fields=["org", "company", "status", "due_at"], name="task_company_due"),
            models.Index(
                fields=["org", "deal", "status", "due_at"], name="task_deal_due",
                condition=Q(deal__isnull=False),
            ),
            models.Index(
                fields=["org", "ticket", "status", "due_at"], name="task_ticket_due",
                condition=Q(ticket__isnull=False),
            ),
            models.Index(fields=["org", "-status", "due_at", "id"], name="task_org_open_due"),
            models.Index(fields=["org", "-created_at", "-id"], name="task_org_created"),
            # What beat claims every minute: the open tasks whose reminder has not gone.
            models.Index(
                fields=["org", "reminder_at"], name="task_reminder_pending",
                condition=Q(reminded_at__isnull=True, reminder_at__isnull=False,
                            status="open", deleted_at__isnull=True),
            ),
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="task_search_trgm"),
        ]  # fmt: skip
        constraints = [
            models.UniqueConstraint(
                "org", "source_key", name="task_source_once", condition=~Q(source_key="")
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE


class Notification(TenantModel):
    """A line in a member's notifications menu (and, for a reminder, an email)."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", "Reminder"
        ASSIGNED = "assigned", "Task assigned"
        SEND_FAILED = "send_failed", "Email not sent"
        TICKET = "ticket", "Ticket assigned"
        SLA_WARNING = "sla_warning", "SLA warning"
        SLA_BREACH = "sla_breach", "SLA breached"

    user = models.ForeignKey("crm.User", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # One notification per event: "reminder:<task id>:<reminder time>" is written once.
    key = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)
    # Its email: pending until a worker sends it, then the time it went.
    email_pending = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)

    owner_field = None  # a member's own: the views read only the signed-in member's

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["org", "user", "-created_at"], name="notification_user_when"),
            models.Index(
                fields=["org", "created_at"], name="notification_email_pending",
                condition=Q(email_pending=True),
            ),
        ]  # fmt: skip
        constraints = [models.UniqueConstraint("org", "key", name="notification_once")]

    def __str__(self) -> str:
        return self.title


class FollowUpRule(TenantModel):
    """One of the organisation's follow-up rules: on or off, after how many days."""

    class Kind(models.TextChoices):
        NO_REPLY = "no_reply", "No reply to an email"
        AFTER_MEETING = "after_meeting", "After a meeting"
        STALE_DEAL = "stale_deal", "Open deal untouched"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    enabled = models.BooleanField(default=False)
    days = models.PositiveSmallIntegerField(default=3)
    task_title = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    owner_field = None  # a setting of the organisation

    class Meta:
        constraints = [models.UniqueConstraint("org", "kind", name="followup_rule_once")]

    def __str__(self) -> str:
        return self.get_kind_display()


class FollowUpDue(TenantModel):
    """A check a rule must make at a time: "has this email had a reply by then?". Written
    when the interaction is logged; claimed by beat once due (SKIP LOCKED), then done."""

    rule = models.CharField(max_length=16, choices=FollowUpRule.Kind.choices)
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    # What the check found: "task" (one was made), "replied", "off" (the rule was off)…
    outcome = models.CharField(max_length=20, blank=True)

    owner_field = None

    class Meta:
        indexes = [
            models.Index(
                fields=["org", "due_at"], name="followup_due_pending",
                condition=Q(done_at__isnull=True),
            ),
        ]  # fmt: skip
        constraints = [
            models.UniqueConstraint("org", "rule", "interaction", name="followup_due_once")
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.interaction_id}"


class WebForm(TenantModel):
    """A capture form on the organisation's website: /forms/<org id>.<key>/, no login."""

    name = models.CharField(max_length=100)
    # Public (it is in the page that embeds the form), but unguessable and replaceable.
    key = models.CharField(max_length=43, editable=False)
    # [{"name": "email", "required": true}, …]: contact fields, custom ones included.
    fields = models.JSONField(default=list)
    consent_label = models.CharField(max_length=300, blank=True)
    thank_you = models.CharField(max_length=300, blank=True)
    # Who gets the follow-up task for a new submission, when the contact has no owner.
    owner = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    submissions = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    owner_field = None  # a setting of the organisation

    class Meta:
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class CalendarFeed(TenantModel):
    """A member's private iCalendar feed: the hash of its secret; revoking deletes it."""

    user = models.ForeignKey("crm.User", on_delete=models.CASCADE, related_name="+")
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    owner_field = None  # a member's own

    class Meta:
        constraints = [models.UniqueConstraint("org", "user", name="calendar_feed_one_per_user")]

    def __str__(self) -> str:
        return "Calendar feed"
