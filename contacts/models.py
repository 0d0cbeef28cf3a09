"""Contacts and companies: the records everything else hangs on."""

import uuid
from typing import ClassVar

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
            models.Index(fields=["org", "company"], name="contact_org_company"),
            models.Index(fields=["org", "lifecycle"], name="contact_org_lifecycle"),
            models.Index(fields=["org", "country"], name="contact_org_country"),
            # Addresses are stored lower-cased: a plain index, which row-level security lets
            # PostgreSQL use (an index on lower(email) it cannot, lower() being not leakproof).
            models.Index(fields=["org", "email"], name="contact_org_email"),
            models.Index(fields=["org", "phone"], name="contact_org_phone"),
            models.Index(fields=["org", "external_id"], name="contact_org_external_id"),
            GinIndex(fields=["search_vector"], name="contact_search_fts"),
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
    # a rename or an erasure (the trigger) or a purge from the Trash (trash_purge), and in
    # any other case the next night (services.search_words_resync).
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


class ExportJob(TenantModel):
    """An export of a filtered contact or company list to a file, built by a worker."""

    class Kind(models.TextChoices):
        CONTACTS = "contacts", "Contacts"
        COMPANIES = "companies", "Companies"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    format = models.CharField(max_length=4, choices=Format.choices)
    # The list's filters as the member had them (a URL query string), applied again by the task.
    query = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    # Names the file, so that running the task again rewrites the same one.
    token = models.UUIDField(default=uuid.uuid4, editable=False)
    # Relative to MEDIA_ROOT: <org_id>/exports/<token>.<format>
    file = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} export {self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, self.rows_done * 100 // self.rows_total) if self.rows_total else 0


class RecordKind(models.TextChoices):
    """The kinds of record that custom fields and saved views belong to."""

    CONTACT = "contact", "Contacts"
    COMPANY = "company", "Companies"


class CustomField(TenantModel):
    """A field an organisation adds to its contacts or companies; values live in `custom`."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        LONG_TEXT = "long_text", "Long text"
        NUMBER = "number", "Whole number"
        DECIMAL = "decimal", "Decimal number"
        DATE = "date", "Date"
        BOOLEAN = "boolean", "Yes / no"
        URL = "url", "Web address"
        CHOICE = "choice", "One of a list"
        MULTI_CHOICE = "multi_choice", "Several of a list"

    entity = models.CharField(max_length=10, choices=RecordKind.choices)
    key = models.SlugField(max_length=50, help_text="Its name in imports, exports and filters.")
    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=15, choices=Kind.choices)
    choices = models.JSONField(default=list, blank=True, help_text="For the list kinds.")
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("entity", "position", "label")
        constraints = [
            models.UniqueConstraint(fields=["org", "entity", "key"], name="customfield_key_unique")
        ]

    def __str__(self) -> str:
        return self.label


class SavedView(TenantModel):
    """A named search, filter set and choice of columns for a list, kept per person."""

    owner = models.ForeignKey("crm.User", on_delete=models.CASCADE, related_name="+")
    entity = models.CharField(max_length=10, choices=RecordKind.choices)
    name = models.CharField(max_length=100)
    query = models.TextField(blank=True, help_text="The list's filters, as a query string.")
    columns = models.JSONField(default=list, blank=True)
    shared = models.BooleanField(default=False, help_text="Everyone in the organisation sees it.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                "org", "owner", "entity", Lower("name"), name="savedview_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ImportJob(TenantModel):
    """A file of contacts or companies being imported: mapped, checked, committed, undone."""

    class Mode(models.TextChoices):
        CREATE = "create", "Create new records only"
        UPDATE = "update", "Update existing records only"
        UPSERT = "upsert", "Create new and update existing"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Waiting for the column mapping"
        CHECKING = "checking", "Checking the rows"
        CHECKED = "checked", "Checked"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"
        UNDOING = "undoing", "Undoing"
        UNDONE = "undone", "Undone"

    entity = models.CharField(max_length=10, choices=RecordKind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    # Relative to MEDIA_ROOT: <org_id>/imports/<token>.<csv|xlsx>; removed once imported.
    file = models.CharField(max_length=200)
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    token = models.UUIDField(default=uuid.uuid4, editable=False)
    # What reading the file found: "csv" or "xlsx", the text encoding and the delimiter.
    format = models.CharField(max_length=4)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    headers = models.JSONField(default=list)
    # One target field per column, in the file's order ("" leaves the column out).
    mapping = models.JSONField(default=list)
    mode = models.CharField(max_length=6, choices=Mode.choices, default=Mode.UPSERT)
    # "email" or "external_id" for contacts; "domain" or "external_id" for companies.
    match_by = models.CharField(max_length=12, default="email")
    row_count = models.PositiveIntegerField(default=0)
    # {"created": n, "updated": n, "unchanged": n, "skipped": n, "rejected": n, ...}
    totals = models.JSONField(default=dict)
    # [[row, column, message], ...] for the rows skipped or rejected, the first thousand.
    problems = models.JSONField(default=list)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    checked_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["org", "entity", "-created_at"], name="import_org_recent")]

    def __str__(self) -> str:
        return f"Import of {self.file_name}"


class ImportChange(TenantModel):
    """A record one import created or updated, and what it changed: what undo reverses."""

    job = models.ForeignKey("contacts.ImportJob", on_delete=models.CASCADE, related_name="+")
    # A contact or a company: a contacts import also creates the companies its rows name.
    entity = models.CharField(max_length=10, choices=RecordKind.choices)
    record_id = models.BigIntegerField()
    created = models.BooleanField()
    # {field: [before, after]} for an update, as the audit log has it; {} for a creation.
    changes = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["org", "job", "id"], name="importchange_org_job")]


class DuplicatePair(TenantModel):
    """Two contacts or two companies that look like one record, and why: found nightly."""

    class Reason(models.TextChoices):
        EMAIL = "email", "Same email address"
        PHONE = "phone", "Same phone number"
        NAME = "name", "Similar name at the same company"
        DOMAIN = "domain", "Same web domain"
        COMPANY_NAME = "company_name", "Similar company name"

    entity = models.CharField(max_length=10, choices=RecordKind.choices)
    # The two records, the lower id first; the pair of the other kind stays empty.
    contact_a = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, null=True, related_name="+"
    )
    contact_b = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, null=True, related_name="+"
    )
    company_a = models.ForeignKey(
        "contacts.Company", on_delete=models.CASCADE, null=True, related_name="+"
    )
    company_b = models.ForeignKey(
        "contacts.Company", on_delete=models.CASCADE, null=True, related_name="+"
    )
    reason = models.CharField(max_length=12, choices=Reason.choices)
    # 1 for the same email, 0.9 for the same phone or domain, the names' trigram similarity.
    score = models.FloatField()
    found_at = models.DateTimeField(default=timezone.now)
    # "Not duplicates": the pair stays, so that the nightly search never lists it again.
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-score", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["org", "contact_a", "contact_b"], name="duplicatepair_contacts_once"
            ),
            models.UniqueConstraint(
                fields=["org", "company_a", "company_b"], name="duplicatepair_companies_once"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    entity=RecordKind.CONTACT, contact_a__lt=models.F("contact_b"),
                    company_a__isnull=True, company_b__isnull=True,
                ) | models.Q(
                    entity=RecordKind.COMPANY, company_a__lt=models.F("company_b"),
                    contact_a__isnull=True, contact_b__isnull=True,
                ),
                name="duplicatepair_one_kind_lower_first",
            ),
        ]  # fmt: skip
        indexes = [
            models.Index(
                fields=["org", "entity", "-score", "id"], name="duplicatepair_org_open",
                condition=models.Q(dismissed_at__isnull=True),
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"Possible duplicates ({self.get_reason_display().lower()})"

    @property
    def records(self) -> tuple["Contact | Company | None", "Contact | Company | None"]:
        if self.entity == RecordKind.CONTACT:
            return self.contact_a, self.contact_b
        return self.company_a, self.company_b


class Merge(TenantModel):
    """Records merged into one: the survivor's values before, and every row that moved."""

    entity = models.CharField(max_length=10, choices=RecordKind.choices)
    survivor_id = models.BigIntegerField()  # a contact or a company, as `entity` says
    merged_ids = ArrayField(models.BigIntegerField())
    # {field: [before, after]} of the survivor, as the audit log has it.
    changes = models.JSONField(default=dict)
    # Per registered link ("app.Model.field"): {"moved": {merged id: [row ids]}, "deleted":
    # [row values]}: rows that moved to the survivor, and rows deleted because the survivor
    # already had their like (a tag both had). Undo moves back the one, recreates the other.
    moved = models.JSONField(default=dict)
    by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-at", "-id")
        indexes = [
            models.Index(fields=["org", "entity", "survivor_id"], name="merge_org_survivor"),
            models.Index(fields=["org", "entity", "-at"], name="merge_org_recent"),
        ]

    def __str__(self) -> str:
        return f"Merge of {len(self.merged_ids) + 1} {RecordKind(self.entity).label.lower()}"
