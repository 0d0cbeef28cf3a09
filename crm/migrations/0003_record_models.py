"""The rows every record kind shares move from contacts to the platform, keeping every row.

The tables are renamed (contacts_savedview becomes crm_savedview, …) with their row-level
security policies and tenant keys, so that the names match what the platform's models
declare. A kind is now named by its key in `record_kind` (it was `entity`, and an export's
`kind` said "contacts" where the rest said "contact"); a pair of likely duplicates names its
records by id (`first_id`, `second_id`) rather than by a foreign key per kind.

The data changes run as the tables' owner, with row-level security lifted for the moment
of the statement and forced again before the migration ends (one transaction).
"""

import uuid

import django.contrib.postgres.fields
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import crm.records.registry
import crm.tenancy

TABLES = [
    "savedview",
    "customfield",
    "exportjob",
    "importjob",
    "importchange",
    "duplicatepair",
    "merge",
]


def _rename(old: str, new: str) -> str:
    return "".join(
        f"ALTER TABLE {old}_{t} RENAME TO {new}_{t};\n"
        f"ALTER POLICY {old}_{t}_tenant ON {new}_{t} RENAME TO {new}_{t}_tenant;\n"
        f"ALTER TABLE {new}_{t} RENAME CONSTRAINT {old}_{t}_org_id_key TO {new}_{t}_org_id_key;\n"
        for t in TABLES
    ) + (
        f"ALTER TABLE {new}_importchange RENAME CONSTRAINT {old}_importchange_job_same_org "
        f"TO {new}_importchange_job_same_org;\n"
    )


FORWARD = (
    _rename("contacts", "crm")
    + """
ALTER TABLE crm_savedview RENAME COLUMN entity TO record_kind;
ALTER TABLE crm_customfield RENAME COLUMN entity TO record_kind;
ALTER TABLE crm_importjob RENAME COLUMN entity TO record_kind;
ALTER TABLE crm_importchange RENAME COLUMN entity TO record_kind;
ALTER TABLE crm_merge RENAME COLUMN entity TO record_kind;
ALTER TABLE crm_duplicatepair RENAME COLUMN entity TO record_kind;
ALTER TABLE crm_exportjob RENAME COLUMN kind TO record_kind;
ALTER TABLE crm_savedview ALTER COLUMN record_kind TYPE varchar(20);
ALTER TABLE crm_customfield ALTER COLUMN record_kind TYPE varchar(20);
ALTER TABLE crm_importjob ALTER COLUMN record_kind TYPE varchar(20);
ALTER TABLE crm_importchange ALTER COLUMN record_kind TYPE varchar(20);
ALTER TABLE crm_merge ALTER COLUMN record_kind TYPE varchar(20);
ALTER TABLE crm_duplicatepair ALTER COLUMN record_kind TYPE varchar(20);
ALTER TABLE crm_exportjob ALTER COLUMN record_kind TYPE varchar(20);
ALTER TABLE crm_duplicatepair ALTER COLUMN reason TYPE varchar(20);

ALTER TABLE crm_duplicatepair ADD COLUMN first_id bigint, ADD COLUMN second_id bigint;

ALTER TABLE crm_exportjob NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm_duplicatepair NO FORCE ROW LEVEL SECURITY;
UPDATE crm_exportjob SET record_kind = CASE record_kind
    WHEN 'contacts' THEN 'contact' WHEN 'companies' THEN 'company' ELSE record_kind END;
UPDATE crm_duplicatepair SET first_id = coalesce(contact_a_id, company_a_id),
    second_id = coalesce(contact_b_id, company_b_id);
ALTER TABLE crm_exportjob FORCE ROW LEVEL SECURITY;
ALTER TABLE crm_duplicatepair FORCE ROW LEVEL SECURITY;

ALTER TABLE crm_duplicatepair
    ALTER COLUMN first_id SET NOT NULL,
    ALTER COLUMN second_id SET NOT NULL,
    DROP CONSTRAINT duplicatepair_one_kind_lower_first,
    DROP CONSTRAINT duplicatepair_contacts_once,
    DROP CONSTRAINT duplicatepair_companies_once,
    DROP COLUMN contact_a_id,
    DROP COLUMN contact_b_id,
    DROP COLUMN company_a_id,
    DROP COLUMN company_b_id,
    ADD CONSTRAINT duplicatepair_once UNIQUE (org_id, record_kind, first_id, second_id),
    ADD CONSTRAINT duplicatepair_lower_first CHECK (first_id < second_id);
"""
)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_organizations_and_audit"),
        ("contacts", "0012_definer_search_path"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD)],
            state_operations=[
                migrations.CreateModel(
                    name="ImportJob",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "record_kind",
                            models.CharField(
                                max_length=20, validators=[crm.records.registry.validate_kind]
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("uploaded", "Waiting for the column mapping"),
                                    ("checking", "Checking the rows"),
                                    ("checked", "Checked"),
                                    ("importing", "Importing"),
                                    ("done", "Imported"),
                                    ("failed", "Failed"),
                                    ("undoing", "Undoing"),
                                    ("undone", "Undone"),
                                ],
                                default="uploaded",
                                max_length=10,
                            ),
                        ),
                        ("file", models.CharField(max_length=200)),
                        ("file_name", models.CharField(max_length=255)),
                        ("file_size", models.PositiveBigIntegerField(default=0)),
                        ("token", models.UUIDField(default=uuid.uuid4, editable=False)),
                        ("format", models.CharField(max_length=4)),
                        ("encoding", models.CharField(blank=True, max_length=20)),
                        ("delimiter", models.CharField(blank=True, max_length=1)),
                        ("headers", models.JSONField(default=list)),
                        ("mapping", models.JSONField(default=list)),
                        (
                            "mode",
                            models.CharField(
                                choices=[
                                    ("create", "Create new records only"),
                                    ("update", "Update existing records only"),
                                    ("upsert", "Create new and update existing"),
                                ],
                                default="upsert",
                                max_length=6,
                            ),
                        ),
                        ("match_by", models.CharField(default="email", max_length=12)),
                        ("row_count", models.PositiveIntegerField(default=0)),
                        ("totals", models.JSONField(default=dict)),
                        ("problems", models.JSONField(default=list)),
                        ("error", models.TextField(blank=True)),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        ("checked_at", models.DateTimeField(blank=True, null=True)),
                        ("imported_at", models.DateTimeField(blank=True, null=True)),
                        ("undone_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "org",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="crm.organization",
                            ),
                        ),
                        (
                            "undone_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ("-created_at", "-id"),
                    },
                ),
                migrations.CreateModel(
                    name="ImportChange",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "record_kind",
                            models.CharField(
                                max_length=20, validators=[crm.records.registry.validate_kind]
                            ),
                        ),
                        ("record_id", models.BigIntegerField()),
                        ("created", models.BooleanField()),
                        ("changes", models.JSONField(default=dict)),
                        (
                            "org",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="crm.organization",
                            ),
                        ),
                        (
                            "job",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="crm.importjob",
                            ),
                        ),
                    ],
                ),
                migrations.CreateModel(
                    name="Merge",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "record_kind",
                            models.CharField(
                                max_length=20, validators=[crm.records.registry.validate_kind]
                            ),
                        ),
                        ("survivor_id", models.BigIntegerField()),
                        (
                            "merged_ids",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.BigIntegerField(), size=None
                            ),
                        ),
                        ("changes", models.JSONField(default=dict)),
                        ("moved", models.JSONField(default=dict)),
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("undone_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "org",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="crm.organization",
                            ),
                        ),
                        (
                            "undone_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ("-at", "-id"),
                    },
                ),
                migrations.CreateModel(
                    name="SavedView",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "record_kind",
                            models.CharField(
                                max_length=20, validators=[crm.records.registry.validate_kind]
                            ),
                        ),
                        ("name", models.CharField(max_length=100)),
                        (
                            "query",
                            models.TextField(
                                blank=True, help_text="The list's filters, as a query string."
                            ),
                        ),
                        ("columns", models.JSONField(blank=True, default=list)),
                        (
                            "shared",
                            models.BooleanField(
                                default=False, help_text="Everyone in the organisation sees it."
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "org",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="crm.organization",
                            ),
                        ),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ("name",),
                    },
                ),
                migrations.CreateModel(
                    name="CustomField",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "record_kind",
                            models.CharField(
                                max_length=20, validators=[crm.records.registry.validate_kind]
                            ),
                        ),
                        (
                            "key",
                            models.SlugField(help_text="Its name in imports, exports and filters."),
                        ),
                        ("label", models.CharField(max_length=100)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("text", "Text"),
                                    ("long_text", "Long text"),
                                    ("number", "Whole number"),
                                    ("decimal", "Decimal number"),
                                    ("date", "Date"),
                                    ("boolean", "Yes / no"),
                                    ("url", "Web address"),
                                    ("choice", "One of a list"),
                                    ("multi_choice", "Several of a list"),
                                ],
                                max_length=15,
                            ),
                        ),
                        (
                            "choices",
                            models.JSONField(
                                blank=True, default=list, help_text="For the list kinds."
                            ),
                        ),
                        ("required", models.BooleanField(default=False)),
                        ("position", models.PositiveSmallIntegerField(default=0)),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        (
                            "org",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="crm.organization",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ("record_kind", "position", "label"),
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("org", "record_kind", "key"), name="customfield_key_unique"
                            ),
                            crm.tenancy.TenantKey(name="crm_customfield_org_id_key"),
                            crm.tenancy.RowLevelSecurity(name="crm_customfield_tenant"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="DuplicatePair",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "record_kind",
                            models.CharField(
                                max_length=20, validators=[crm.records.registry.validate_kind]
                            ),
                        ),
                        ("first_id", models.BigIntegerField()),
                        ("second_id", models.BigIntegerField()),
                        ("reason", models.CharField(max_length=20)),
                        ("score", models.FloatField()),
                        ("found_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("dismissed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "dismissed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "org",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="crm.organization",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ("-score", "id"),
                        "indexes": [
                            models.Index(
                                condition=models.Q(("dismissed_at__isnull", True)),
                                fields=["org", "record_kind", "-score", "id"],
                                name="duplicatepair_org_open",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("org", "record_kind", "first_id", "second_id"),
                                name="duplicatepair_once",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("first_id__lt", models.F("second_id"))),
                                name="duplicatepair_lower_first",
                            ),
                            crm.tenancy.TenantKey(name="crm_duplicatepair_org_id_key"),
                            crm.tenancy.RowLevelSecurity(name="crm_duplicatepair_tenant"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="ExportJob",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "record_kind",
                            models.CharField(
                                max_length=20, validators=[crm.records.registry.validate_kind]
                            ),
                        ),
                        (
                            "format",
                            models.CharField(
                                choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)")], max_length=4
                            ),
                        ),
                        ("query", models.TextField(blank=True)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("queued", "Queued"),
                                    ("running", "Running"),
                                    ("done", "Done"),
                                    ("failed", "Failed"),
                                ],
                                default="queued",
                                max_length=10,
                            ),
                        ),
                        ("rows_done", models.PositiveIntegerField(default=0)),
                        ("rows_total", models.PositiveIntegerField(default=0)),
                        ("token", models.UUIDField(default=uuid.uuid4, editable=False)),
                        ("file", models.CharField(blank=True, max_length=200)),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("error", models.TextField(blank=True)),
                        (
                            "org",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="crm.organization",
                            ),
                        ),
                        (
                            "requested_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ("-created_at", "-id"),
                        "constraints": [
                            crm.tenancy.TenantKey(name="crm_exportjob_org_id_key"),
                            crm.tenancy.RowLevelSecurity(name="crm_exportjob_tenant"),
                        ],
                    },
                ),
                migrations.AddIndex(
                    model_name="importjob",
                    index=models.Index(
                        fields=["org", "record_kind", "-created_at"], name="import_org_recent"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="importjob",
                    constraint=crm.tenancy.TenantKey(name="crm_importjob_org_id_key"),
                ),
                migrations.AddConstraint(
                    model_name="importjob",
                    constraint=crm.tenancy.RowLevelSecurity(name="crm_importjob_tenant"),
                ),
                migrations.AddIndex(
                    model_name="importchange",
                    index=models.Index(fields=["org", "job", "id"], name="importchange_org_job"),
                ),
                migrations.AddConstraint(
                    model_name="importchange",
                    constraint=crm.tenancy.TenantKey(name="crm_importchange_org_id_key"),
                ),
                migrations.AddConstraint(
                    model_name="importchange",
                    constraint=crm.tenancy.RowLevelSecurity(name="crm_importchange_tenant"),
                ),
                migrations.AddConstraint(
                    model_name="importchange",
                    constraint=crm.tenancy.SameOrgForeignKey(
                        field="job", name="crm_importchange_job_same_org"
                    ),
                ),
                migrations.AddIndex(
                    model_name="merge",
                    index=models.Index(
                        fields=["org", "record_kind", "survivor_id"], name="merge_org_survivor"
                    ),
                ),
                migrations.AddIndex(
                    model_name="merge",
                    index=models.Index(
                        fields=["org", "record_kind", "-at"], name="merge_org_recent"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="merge",
                    constraint=crm.tenancy.TenantKey(name="crm_merge_org_id_key"),
                ),
                migrations.AddConstraint(
                    model_name="merge",
                    constraint=crm.tenancy.RowLevelSecurity(name="crm_merge_tenant"),
                ),
                migrations.AddConstraint(
                    model_name="savedview",
                    constraint=models.UniqueConstraint(
                        models.F("org"),
                        models.F("owner"),
                        models.F("record_kind"),
                        django.db.models.functions.text.Lower("name"),
                        name="savedview_name_unique",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="savedview",
                    constraint=crm.tenancy.TenantKey(name="crm_savedview_org_id_key"),
                ),
                migrations.AddConstraint(
                    model_name="savedview",
                    constraint=crm.tenancy.RowLevelSecurity(name="crm_savedview_tenant"),
                ),
            ],
        ),
    ]
