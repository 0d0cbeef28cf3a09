"""Import contacts from a CSV or XLSX file, as the import pages do, from the shell.

    python manage.py import_contacts --org acme people.csv --dry-run
    python manage.py import_contacts --org acme people.csv --mode update \\
        --map "E-mail=email" --map "Notes=" --match-by email

It prints the report the pages show, and exits with status 1 when rows were refused.
The import is recorded like one made in the browser, so it can be undone there.
"""

from crm.management.commands import import_records


class Command(import_records.Command):
    help = "Import contacts from a CSV or XLSX file into an organisation."
    record_kind = "contact"
