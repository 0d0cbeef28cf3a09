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
    # Deal and ticket links come with the sales and support apps.
    # The Message-ID of an email: ingesting the same message twice creates nothing new.
    external_id = models.CharField(max_length=300, blank=True, verbose_name="external ID")
    # By channel: a meeting's attendees and place, a social network and handle, …
    details = models.JSONField(default=dict, blank=True)
    # An auto-reply or a bounce: kept, but not a sign of a live conversation.
    is_automatic = models.BooleanField(default=False)
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
            models.Index(fields=["org", "author"], name="interaction_org_author"),
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


class Mailbox(TenantModel):
    """An organisation's inbound email address: the hash of its secret, and how it files mail."""

    # sha256 of the secret part of the token, in hex; the token itself is shown once.
    key_hash = models.CharField(max_length=64)
    # A message from an address no contact has makes a lead, unless it is automatic.
    create_leads = models.BooleanField(
        default=True, verbose_name="Create a lead when the sender is unknown"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    rotated_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    owner_field = None  # a setting of the organisation, not anyone's record

    class Meta:
        constraints = [models.UniqueConstraint("org", name="interactions_mailbox_one_per_org")]

    def __str__(self) -> str:
        return "Inbound email address"
