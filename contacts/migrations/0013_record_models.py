"""The rows every record kind shares now belong to the platform (crm migration 0003, which
renamed their tables): they leave this app's state, and nothing changes in the database."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0012_definer_search_path"),
        ("crm", "0003_record_models"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="duplicatepair",
                    name="company_a",
                ),
                migrations.RemoveField(
                    model_name="duplicatepair",
                    name="company_b",
                ),
                migrations.RemoveField(
                    model_name="duplicatepair",
                    name="contact_a",
                ),
                migrations.RemoveField(
                    model_name="duplicatepair",
                    name="contact_b",
                ),
                migrations.RemoveField(
                    model_name="duplicatepair",
                    name="dismissed_by",
                ),
                migrations.RemoveField(
                    model_name="duplicatepair",
                    name="org",
                ),
                migrations.RemoveField(
                    model_name="exportjob",
                    name="org",
                ),
                migrations.RemoveField(
                    model_name="exportjob",
                    name="requested_by",
                ),
                migrations.RemoveField(
                    model_name="importchange",
                    name="job",
                ),
                migrations.RemoveField(
                    model_name="importchange",
                    name="org",
                ),
                migrations.RemoveField(
                    model_name="importjob",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="importjob",
                    name="org",
                ),
                migrations.RemoveField(
                    model_name="importjob",
                    name="undone_by",
                ),
                migrations.RemoveField(
                    model_name="merge",
                    name="by",
                ),
                migrations.RemoveField(
                    model_name="merge",
                    name="org",
                ),
                migrations.RemoveField(
                    model_name="merge",
                    name="undone_by",
                ),
                migrations.RemoveField(
                    model_name="savedview",
                    name="org",
                ),
                migrations.RemoveField(
                    model_name="savedview",
                    name="owner",
                ),
                migrations.DeleteModel(
                    name="CustomField",
                ),
                migrations.DeleteModel(
                    name="DuplicatePair",
                ),
                migrations.DeleteModel(
                    name="ExportJob",
                ),
                migrations.DeleteModel(
                    name="ImportChange",
                ),
                migrations.DeleteModel(
                    name="ImportJob",
                ),
                migrations.DeleteModel(
                    name="Merge",
                ),
                migrations.DeleteModel(
                    name="SavedView",
                ),
            ],
        ),
    ]
