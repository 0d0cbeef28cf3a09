"""Import companies from a CSV or XLSX file, from the shell (see import_contacts)."""

from contacts.management.commands import import_contacts


class Command(import_contacts.Command):
    help = "Import companies from a CSV or XLSX file into an organisation."
    entity = "company"
