"""Projects, a record kind only the tests declare."""

import django.contrib.postgres.indexes
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import crm.tenancy
from crm.records.operations import MakeSearchable


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contacts", "0014_searchable"),
        ("crm", "0004_searchable"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("crm", "0004_searchable"),
    ]

    operations = [
        migrations.CreateModel(
            name="Project",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                (
                    "status",
                    models.CharField(
                        choices=[("planned", "Planned"), ("active", "Active"), ("done", "Done")],
                        default="planned",
                        max_length=10,
                    ),
                ),
                ("custom", models.JSONField(blank=True, default=dict)),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("deleted_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "search_text",
                    models.GeneratedField(
                        db_persist=True,
                        expression=django.db.models.functions.text.Lower("name"),
                        output_field=models.TextField(),
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
                    "owner",
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
                "ordering": ("name",),
            },
        ),
        migrations.CreateModel(
            name="ProjectTag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
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
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tag_links",
                        to="projects.project",
                    ),
                ),
                (
                    "tag",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="contacts.tag",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(fields=["org", "name", "id"], name="project_org_name"),
        ),
        migrations.AddIndex(
            model_name="project",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass("search_text", name="gin_trgm_ops"),
                name="project_search_trgm",
            ),
        ),
        migrations.AddConstraint(
            model_name="project",
            constraint=crm.tenancy.TenantKey(name="projects_project_org_id_key"),
        ),
        migrations.AddConstraint(
            model_name="project",
            constraint=crm.tenancy.RowLevelSecurity(name="projects_project_tenant"),
        ),
        migrations.AddConstraint(
            model_name="projecttag",
            constraint=models.UniqueConstraint(fields=("project", "tag"), name="projecttag_once"),
        ),
        migrations.AddConstraint(
            model_name="projecttag",
            constraint=crm.tenancy.TenantKey(name="projects_projecttag_org_id_key"),
        ),
        migrations.AddConstraint(
            model_name="projecttag",
            constraint=crm.tenancy.RowLevelSecurity(name="projects_projecttag_tenant"),
        ),
        migrations.AddConstraint(
            model_name="projecttag",
            constraint=crm.tenancy.SameOrgForeignKey(
                field="project", name="projects_projecttag_project_same_org"
            ),
        ),
        migrations.AddConstraint(
            model_name="projecttag",
            constraint=crm.tenancy.SameOrgForeignKey(
                field="tag", name="projects_projecttag_tag_same_org"
            ),
        ),
        MakeSearchable("Project"),
    ]
