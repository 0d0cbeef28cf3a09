"""Find contacts by email through an index that row-level security lets PostgreSQL use.

The index on lower(email) served no query of the app role: under a policy, PostgreSQL
uses a condition as an index condition only when it is leakproof, and lower() is not.
Addresses are stored lower-cased, so a plain (org, email) index answers the same lookups.
Built concurrently: the table may hold millions of rows that must stay writable.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("contacts", "0008_duplicates_and_merges")]

    operations = [
        AddIndexConcurrently(
            model_name="contact",
            index=models.Index(fields=["org", "email"], name="contact_org_email"),
        ),
        RemoveIndexConcurrently(model_name="contact", name="contact_email_lower"),
    ]
