"""The rows every record kind shares: saved views, custom fields, exports, imports, merges and
likely duplicates. Each names its kind by key (`record_kind`), checked against the registry
rather than a list of choices, so that a new kind needs no migration here."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from crm.records import registry
from crm.tenancy import TenantModel

KIND_LENGTH = 20


def _kind_field() -> models.CharField:
    return models.CharField(max_length=KIND_LENGTH, validators=[registry.validate_kind])


class SavedView(TenantModel):
    """A named search, filter set and choice of columns for a list, kept per person."""

    owner = models.ForeignKey("crm.User", on_delete=models.CASCADE, related_name="+")
    record_kind = _kind_field()
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
                "org", "owner", "record_kind", Lower("name"), name="savedview_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CustomField(TenantModel):
    """A field an organisation adds to one kind of record; values live in its `custom`."""

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

    record_kind = _kind_field()
    key = models.SlugField(max_length=50, help_text="Its name in imports, exports and filters.")
    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=15, choices=Kind.choices)
    choices = models.JSONField(default=list, blank=True, help_text="For the list kinds.")
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("record_kind", "position", "label")
        constraints = [
            models.UniqueConstraint(
                fields=["org", "record_kind", "key"], name="customfield_key_unique"
            )
        ]

    def __str__(self) -> str:
        return self.label


class ExportJob(TenantModel):
    """An export of a filtered list to a file, built by a worker."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    record_kind = _kind_field()
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
        return f"{registry.kind(self.record_kind).label} export {self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, self.rows_done * 100 // self.rows_total) if self.rows_total else 0


class ImportJob(TenantModel):
    """A file of records being imported: mapped, checked, committed, undone."""

    class Mode(models.TextChoices):
        CREATE = "create", "Create new records only"
        UPDATE = "update", "Update existing records only"
        UPSERT = "upsert", "Create new and update existing"

    class Status(models.TextChoices):
        READING = "reading", "Reading the file"
        UPLOADED = "uploaded", "Waiting for the column mapping"
        CHECKING = "checking", "Checking the rows"
        CHECKED = "checked", "Checked"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"
        UNDOING = "undoing", "Undoing"
        UNDONE = "undone", "Undone"

    record_kind = _kind_field()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READING)
    # Relative to MEDIA_ROOT: <org_id>/imports/<token>.<csv|xlsx>; removed once imported,
    # and when it cannot be read ("" then).
    file = models.CharField(max_length=200)
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    token = models.UUIDField(default=uuid.uuid4, editable=False)
    # What reading the file found: "csv" or "xlsx", the text encoding and the delimiter.
    format = models.CharField(max_length=4)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    headers = models.JSONField(default=list)
    # The first few rows, as read once in the worker, for the mapping page.
    samples = models.JSONField(default=list)
    # One target field per column, in the file's order ("" leaves the column out).
    mapping = models.JSONField(default=list)
    mode = models.CharField(max_length=6, choices=Mode.choices, default=Mode.UPSERT)
    # One of the kind's match keys ("email" or "external_id" for contacts, …).
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
        indexes = [
            models.Index(fields=["org", "record_kind", "-created_at"], name="import_org_recent")
        ]

    def __str__(self) -> str:
        return f"Import of {self.file_name}"


class ImportChange(TenantModel):
    """A record one import created or updated, and what it changed: what undo reverses."""

    job = models.ForeignKey("crm.ImportJob", on_delete=models.CASCADE, related_name="+")
    # The job's kind, or another that its rows create (a contacts import creates companies).
    record_kind = _kind_field()
    record_id = models.BigIntegerField()
    created = models.BooleanField()
    # {field: [before, after]} for an update, as the audit log has it; {} for a creation.
    changes = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["org", "job", "id"], name="importchange_org_job")]


class DuplicatePair(TenantModel):
    """Two records of one kind that look like one, and why: found nightly."""

    record_kind = _kind_field()
    # The two records' ids, the lower first.
    first_id = models.BigIntegerField()
    second_id = models.BigIntegerField()
    # One of the kind's reasons (DuplicateSpec.reasons): "email", "domain", …
    reason = models.CharField(max_length=20)
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
                fields=["org", "record_kind", "first_id", "second_id"], name="duplicatepair_once"
            ),
            models.CheckConstraint(
                condition=models.Q(first_id__lt=models.F("second_id")),
                name="duplicatepair_lower_first",
            ),
        ]
        indexes = [
            models.Index(
                fields=["org", "record_kind", "-score", "id"], name="duplicatepair_org_open",
                condition=models.Q(dismissed_at__isnull=True),
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"Possible duplicates ({self.reason_label.lower()})"

    @property
    def reason_label(self) -> str:
        spec = registry.kind(self.record_kind).duplicates
        return spec.reasons.get(self.reason, self.reason) if spec else self.reason


class Merge(TenantModel):
    """Records merged into one: the survivor's values before, and every row that moved."""

    record_kind = _kind_field()
    survivor_id = models.BigIntegerField()
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
            models.Index(fields=["org", "record_kind", "survivor_id"], name="merge_org_survivor"),
            models.Index(fields=["org", "record_kind", "-at"], name="merge_org_recent"),
        ]

    def __str__(self) -> str:
        return f"Merge of {len(self.merged_ids) + 1} {registry.kind(self.record_kind).nouns}"
