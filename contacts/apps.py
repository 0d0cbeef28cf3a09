from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        from contacts import demo, merge_privacy, privacy
        from contacts.merging import register_company_link, register_contact_link
        from contacts.models import CompanyTag, ConsentEvent, Contact, ContactTag
        from crm.signals import demo_seeded

        demo_seeded.connect(demo.seed, dispatch_uid="contacts.demo.seed")
        # What a merge moves to the surviving record (other apps register theirs).
        register_contact_link(ContactTag, "contact", unique_with=("tag",))
        register_contact_link(ConsentEvent, "contact")
        register_company_link(CompanyTag, "company", unique_with=("tag",))
        register_company_link(Contact, "company")
        # The records merged into a contact are the same person: its privacy requests
        # reach them too.
        privacy.register_personal_data("merged_records", merge_privacy.merged_records_data)
        privacy.register_erasure("merged_records", merge_privacy.merged_records_erase)
