"""Contacts and companies: the records everything else hangs on."""

from typing import Any, ClassVar

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Value
from django.db.models.functions import Concat, Lower
from django.utils import timezone

from crm.tenancy import TenantManager, TenantModel, TenantQuerySet


class Tag(TenantModel):
    """A label for contacts and companies, with a colour."""

    class Color(models.TextChoices):
        # A fixed palette: colours are CSS classes, as the CSP allows no inline style.
        SLATE = "slate", "Slate"
        RED = "red", "Red"
        AMBER = "amber", "Amber"
        GREEN = "green", "Green"
        TEAL = "teal", "Teal"
        BLUE = "blue", "Blue"
        VIOLET = "violet", "Violet"
        PINK = "pink", "Pink"

    name = models.CharField(max_length=50)
    color = models.CharField(max_length=10, choices=Color.choices, default=Color.SLATE)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint("org", Lower("name"), name="contacts_tag_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class RecordQuerySet(TenantQuerySet[models.Model]):
    """Verbs shared by contacts and companies."""

    def alive(self) -> "RecordQuerySet":
        return self.filter(deleted_at__isnull=True)

    def trashed(self) -> "RecordQuerySet":
        # A merged record is gone for the user too, but it is no Trash to restore from:
        # only undoing its merge brings it back.
        return self.filter(deleted_at__isnull=False, merged_into__isnull=True)


RecordManager = TenantManager.from_queryset(RecordQuerySet)


class Record(TenantModel):
    """What contacts and companies share: an owner, tags, custom values, soft deletion."""

    owner = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    custom = models.JSONField(default=dict, blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, e.g. FR")
    # The record's id in another system (a previous CRM, a billing tool): imports match on it.
    external_id = models.CharField(max_length=100, blank=True, verbose_name="external ID")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set, with deleted_at, on a record merged into another: its old links lead there.
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, editable=False,
        related_name="+", db_index=False,
    )  # fmt: skip

    objects: ClassVar[RecordManager] = RecordManager()  # type: ignore[assignment]

    # Record visibility (Settings → Record visibility) filters on this column.
    owner_field = "owner"

    class Meta:
        abstract = True


class Company(Record):
    """An organisation the customer sells to or supports."""

    class Size(models.TextChoices):
        S1 = "1-10", "1–10"
        S2 = "11-50", "11–50"
        S3 = "51-200", "51–200"
        S4 = "201-1000", "201–1,000"
        S5 = "1001-5000", "1,001–5,000"
        S6 = "5001+", "5,001+"

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, help_text="e.g. example.com")
    industry = models.CharField(max_length=100, blank=True)
    size = models.CharField(max_length=10, choices=Size.choices, blank=True)
    # Its last interaction, its people's included, kept by the interactions' services.
    last_interaction_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Kept by PostgreSQL on every write (COPY included), for partial and misspelled search.
    search_text = models.GeneratedField(
        expression=Lower(Concat("name", Value(" "), "domain", output_field=models.TextField())),
        output_field=models.TextField(),
        db_persist=True,
    )

    class Meta:
        verbose_name_plural = "companies"
        ordering = ("name",)
        indexes = [
            models.Index(fields=["org", "name", "id"], name="company_org_name"),
            models.Index(fields=["org", "domain"], name="company_org_domain"),
            models.Index(
                fields=["org", "last_interaction_at", "id"], name="company_org_last_touch"
            ),
            models.Index(fields=["org", "external_id"], name="company_org_external_id"),
            models.Index(fields=["org", "-created_at", "-id"], name="company_org_created"),
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="company_search_trgm"),
            models.Index(
                fields=["merged_into"],
                name="company_merged_into",
                condition=models.Q(merged_into__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(Record):
    """A person the organisation talks to."""

    class Lifecycle(models.TextChoices):
        SUBSCRIBER = "subscriber", "Subscriber"
        LEAD = "lead", "Lead"
        MQL = "mql", "Marketing-qualified lead"
        SQL = "sql", "Sales-qualified lead"
        OPPORTUNITY = "opportunity", "Opportunity"
        CUSTOMER = "customer", "Customer"
        ADVOCATE = "advocate", "Advocate"
        CHURNED = "churned", "Churned"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        SMS = "sms", "SMS"
        MEETING = "meeting", "Meeting"
        CHAT = "chat", "Chat"

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True, help_text="The primary address.")
    other_emails = ArrayField(models.EmailField(), default=list, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +442079460958")
    other_phones = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    job_title = models.CharField(max_length=150, blank=True)
    company = models.ForeignKey(
        "contacts.Company", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="contacts",
    )  # fmt: skip
    lifecycle = models.CharField(max_length=12, choices=Lifecycle.choices, default=Lifecycle.LEAD)
    source = models.CharField(max_length=100, blank=True, help_text="Where they came from.")
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    language = models.CharField(max_length=10, blank=True, help_text="e.g. en, fr-CA")
    last_interaction_at = models.DateTimeField(null=True, blank=True)
    # The next open task on the contact, kept by the tasks' services: sortable on the list.
    next_step_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_step = models.CharField(max_length=200, blank=True, editable=False)
    # {"email_marketing": {"granted": true, "at": "...", "how": "..."}, ...}: the current
    # state per channel; every change is kept in ConsentEvent.
    consent = models.JSONField(default=dict, blank=True)
    # Set when the contact's personal data was erased; an erased contact cannot be edited.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The company's name, copied by the services so that search covers it without a join.
    company_name = models.CharField(max_length=200, blank=True, editable=False)
    # Kept by PostgreSQL on every write (COPY included): words for full-text search, and
    # lower-cased text for partial and misspelled matches by trigram.
    search_vector = models.GeneratedField(
        expression=SearchVector(
            "first_name", "last_name", "email", "company_name", "job_title", config="simple"
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    search_text = models.GeneratedField(
        expression=Lower(
            Concat(
                "first_name", Value(" "), "last_name", Value(" "), "email", Value(" "),
                "phone", Value(" "), "company_name", output_field=models.TextField(),
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
    )  # fmt: skip

    class Meta:
        ordering = ("last_name", "first_name")
        indexes = [
            models.Index(fields=["org", "last_name", "first_name", "id"], name="contact_org_name"),
            models.Index(fields=["org", "-created_at", "-id"], name="contact_org_created"),
            models.Index(fields=["org", "owner"], name="contact_org_owner"),
            models.Index(fields=["org", "next_step_at", "id"], name="contact_org_next_step"),
            models.Index(
                fields=["org", "last_interaction_at", "id"], name="contact_org_last_touch"
            ),
            models.Index(fields=["org", "company"], name="contact_org_company"),
            models.Index(fields=["org", "lifecycle"], name="contact_org_lifecycle"),
            models.Index(fields=["org", "country"], name="contact_org_country"),
            # Addresses are stored lower-cased: a plain index, which row-level security lets
            # PostgreSQL use (an index on lower(email) it cannot, lower() being not leakproof).
            models.Index(fields=["org", "email"], name="contact_org_email"),
            models.Index(fields=["org", "phone"], name="contact_org_phone"),
            models.Index(fields=["org", "external_id"], name="contact_org_external_id"),
            GinIndex(fields=["search_vector"], name="contact_search_fts"),
            # Read past the policy by crm_contacts_by_other_email (contacts migration 0016):
            # array overlap is not leakproof, so under the policy no index would serve it.
            GinIndex(fields=["other_emails"], name="contact_other_emails"),
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="contact_search_trgm"),
            models.Index(
                fields=["merged_into"],
                name="contact_merged_into",
                condition=models.Q(merged_into__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"Contact {self.pk}"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class SearchWord(TenantModel):
    """A word of the organisation's contacts, which a misspelt search is matched against."""

    # The words of search_vector, without addresses and numbers. Added by database triggers
    # on contacts_contact (contacts migration 0010); a word leaves with its last contact on
    # a rename or an erasure (the trigger) or a purge from the Trash
    # (services.contacts_purge), and in any other case the next night
    # (services.search_words_resync).
    word = models.TextField()

    class Meta:
        indexes = [
            models.Index(fields=["org", "word"], name="searchword_org_word"),
            GinIndex(OpClass("word", name="gin_trgm_ops"), name="searchword_trgm"),
        ]

    def __str__(self) -> str:
        return self.word


class ContactTag(TenantModel):
    """A tag on a contact (a tenant table, so the link itself is walled too)."""

    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="tag_links"
    )
    tag = models.ForeignKey("contacts.Tag", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "tag"], name="contacttag_once")]


class CompanyTag(TenantModel):
    """A tag on a company."""

    company = models.ForeignKey(
        "contacts.Company", on_delete=models.CASCADE, related_name="tag_links"
    )
    tag = models.ForeignKey("contacts.Tag", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "tag"], name="companytag_once")]


class ConsentEvent(TenantModel):
    """Consent given or withdrawn for one channel: when, how, and by whom it was recorded."""

    class Purpose(models.TextChoices):
        EMAIL_MARKETING = "email_marketing", "Email marketing"
        PHONE = "phone", "Phone calls"
        SMS = "sms", "SMS"

    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="consent_events"
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    granted = models.BooleanField()
    how = models.CharField(max_length=200, help_text="e.g. web form, phone call, import")
    at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-at",)


# --- Segments (contacts.segments) ----------------------------------------------------------


class Segment(TenantModel):
    """A named list of contacts: a rule tree whose members a refresh keeps (dynamic), or a
    list filled once and then by hand (static)."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", "Dynamic"
        STATIC = "static", "Static"

    class Schedule(models.TextChoices):
        MANUAL = "manual", "Only when asked"
        HOURLY = "hourly", "Every hour"
        DAILY = "daily", "Every day"

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=7, choices=Kind.choices, default=Kind.DYNAMIC)
    # {"match": "all"|"any", "rules": [condition or group, …]}: contacts.segments.rules.
    rules = models.JSONField(default=dict, blank=True)
    schedule = models.CharField(max_length=6, choices=Schedule.choices, default=Schedule.DAILY)
    size = models.PositiveIntegerField(default=0, editable=False)
    refreshed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the schedule next wants it refreshed; the beat job claims the due ones.
    refresh_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Why it cannot be refreshed (a rule naming a custom field or segment deleted since).
    broken = models.CharField(max_length=300, blank=True, editable=False)
    created_by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    owner_field = None  # every member sees every segment; its members as they see contacts

    class Meta:
        ordering = ("name", "id")
        indexes = [
            models.Index(fields=["org", "refresh_due_at"], name="segment_refresh_due",
                         condition=models.Q(deleted_at__isnull=True,
                                            refresh_due_at__isnull=False)),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.name


# A refresh writes a row here for every newcomer: a million at a segment's first refresh
# over every contact. Their links to the segment and the contact are checked by the tenant's
# same-organisation keys ((org_id, segment_id), (org_id, contact_id)), which also say the
# row exists: the plain foreign keys would check each row twice more, and their own indexes
# repeat the composite ones; the key to the segment says the organisation exists, so the
# organisation's own foreign key and index, and the table's (org_id, id) that nothing points
# at, go too (_org_through_segment). A member is its own open spell (since `added_at`); only
# a leaver writes a row of history (SegmentSpell).


def _org_through_segment() -> models.ForeignKey[Any, Any]:
    """TenantModel's `org`, checked by the database through the row's segment (its
    same-organisation key), not with a key and index of its own."""
    return models.ForeignKey("crm.Organization", models.CASCADE, editable=False,
                             related_name="+", db_constraint=False, db_index=False)  # fmt: skip


class SegmentMember(TenantModel):
    """A contact in a segment, now, since `added_at`."""

    org = _org_through_segment()
    segment = models.ForeignKey(Segment, models.CASCADE, related_name="members",
                                db_constraint=False, db_index=False)  # fmt: skip
    contact = models.ForeignKey(Contact, models.CASCADE, related_name="+", db_constraint=False,
                                db_index=False)  # fmt: skip
    added_at = models.DateTimeField(default=timezone.now)

    owner_field = None  # read through the contacts a member may see
    tenant_key = False

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "contact"], name="segmentmember_once"),
        ]
        indexes = [models.Index(fields=["org", "contact"], name="segmentmember_contact")]


class SegmentSpell(TenantModel):
    """A contact's past time in a segment: when they entered, and when they left. Written
    as they leave it, from their member row (the time they are in it now is that row)."""

    org = _org_through_segment()
    segment = models.ForeignKey(Segment, models.CASCADE, related_name="spells",
                                db_constraint=False, db_index=False)  # fmt: skip
    contact = models.ForeignKey(Contact, models.CASCADE, related_name="+", db_constraint=False,
                                db_index=False)  # fmt: skip
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField()

    owner_field = None
    tenant_key = False

    class Meta:
        indexes = [
            # A contact's spells (their history, a merge moving them).
            models.Index(fields=["org", "contact", "-entered_at"], name="segmentspell_contact"),
        ]


class SegmentRun(TenantModel):
    """One refresh of a segment: when, how it ended, and what it changed."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=20, default="schedule")  # schedule, asked, saved
    by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    added = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    owner_field = None

    class Meta:
        ordering = ("-started_at", "-id")
        indexes = [models.Index(fields=["org", "segment", "-started_at"], name="segmentrun_when")]

    @property
    def duration(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def trigger_label(self) -> str:
        return {"schedule": "on schedule", "asked": "asked for", "saved": "after a save"}.get(
            self.trigger, self.trigger
        )


class ContactScore(TenantModel):
    """A contact's scores, computed every night (contacts.scores) from their interactions
    (engagement) and their won deals (recency, frequency and monetary value, with the RFM
    segment they give), with the figures they were made from. A contact with neither has
    no row: an engagement of 0 and no RFM."""

    contact = models.OneToOneField(Contact, models.CASCADE, related_name="score",
                                   db_constraint=False)  # fmt: skip
    engagement = models.PositiveSmallIntegerField(default=0)  # 0 to 100
    engagement_points = models.FloatField(default=0)
    interactions = models.PositiveIntegerField(default=0)  # counted: the last 365 days'
    recency = models.PositiveSmallIntegerField(null=True, blank=True)  # 1 to 5, 5 the best
    frequency = models.PositiveSmallIntegerField(null=True, blank=True)
    monetary = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_segment = models.CharField(max_length=20, blank=True)
    last_won_at = models.DateTimeField(null=True, blank=True)
    won_deals = models.PositiveIntegerField(default=0)
    won_amount = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    scored_at = models.DateTimeField()

    owner_field = None  # read through the contacts a member may see
    tenant_key = False

    @property
    def rfm_label(self) -> str:
        from contacts.scores import rfm_label

        return rfm_label(self.rfm_segment)

    class Meta:
        indexes = [
            models.Index(fields=["org", "engagement"], name="contactscore_engagement"),
            models.Index(fields=["org", "rfm_segment"], name="contactscore_rfm"),
        ]
