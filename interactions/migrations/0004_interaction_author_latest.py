"""An author's latest interaction from the index: the quick log's starting channel read one
row instead of sorting all of the author's interactions (274 ms with 500,000 in the
organisation). The new index starts with the old one's columns, so it replaces it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("interactions", "0003_tasks_and_follow_ups"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="interaction", name="interaction_org_author"),
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                fields=["org", "author", "-created_at", "-id"], name="interaction_author_latest"
            ),
        ),
    ]
