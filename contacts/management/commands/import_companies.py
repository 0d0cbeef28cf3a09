"""Import companies from a CSV or XLSX file, from the shell (see import_contacts)."""

from crm.management.commands import import_records


class Command(import_records.Command):
    help = "Import companies from a CSV or XLSX file into an organisation."
    record_kind = "company"
