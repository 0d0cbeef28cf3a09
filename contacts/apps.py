from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        from contacts import demo, merge_privacy, privacy, tasks  # noqa: F401
        from contacts.models import CompanyTag, ConsentEvent, Contact, ContactTag
        from contacts.records import COMPANY, CONTACT
        from crm.records import registry
        from crm.records.merging import register_link
        from crm.signals import demo_seeded

        registry.register(CONTACT)
        registry.register(COMPANY)
        demo_seeded.connect(demo.seed, dispatch_uid="contacts.demo.seed")
        # What a merge moves to the surviving record (other apps register theirs).
        register_link("contact", ContactTag, "contact", unique_with=("tag",))
        register_link("contact", ConsentEvent, "contact")
        register_link("company", CompanyTag, "company", unique_with=("tag",))
        register_link("company", Contact, "company")
        # The records merged into a contact are the same person: its privacy requests
        # reach them too.
        privacy.register_personal_data("merged_records", merge_privacy.merged_records_data)
        privacy.register_erasure("merged_records", merge_privacy.merged_records_erase)
