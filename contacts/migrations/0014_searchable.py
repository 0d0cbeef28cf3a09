"""Contacts and companies in the catalogue of searchable tables (crm migration 0004): what
crm_search_ids named before, it now reads from there."""

from django.db import migrations

from crm.records.operations import MakeSearchable


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0013_record_models"),
        ("crm", "0004_searchable"),
    ]

    operations = [
        MakeSearchable("Contact", full_text=True, words_table="contacts_searchword", numbers=True),
        MakeSearchable("Company"),
    ]
