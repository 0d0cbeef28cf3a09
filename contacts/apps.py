from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        from celery.schedules import crontab

        from contacts import demo, isolation, merge_privacy, privacy, tasks  # noqa: F401
        from contacts.models import (
            CompanyTag,
            ConsentEvent,
            Contact,
            ContactScore,
            ContactTag,
            SegmentMember,
            SegmentSpell,
        )
        from contacts.records import COMPANY, CONTACT
        from contacts.segments import demo as segment_demo
        from contacts.segments import fields as segment_fields
        from crm import contributions, permissions
        from crm.models import Role
        from crm.permissions import ALL_ROLES, CRM_WRITERS
        from crm.records import registry
        from crm.records.merging import register_link
        from crm.signals import demo_seeded

        registry.register(CONTACT)
        registry.register(COMPANY)
        writers = CRM_WRITERS | {Role.REP, Role.AGENT}
        permissions.register_actions({
            "contact.view": ALL_ROLES,
            "contact.edit": writers,
            "contact.privacy": CRM_WRITERS,  # export or erase a contact's personal data
            "contact.merge": CRM_WRITERS,  # and undo a merge
            "company.view": ALL_ROLES,
            "company.edit": writers,
            "company.merge": CRM_WRITERS,
            "segment.edit": CRM_WRITERS | {Role.REP},
        })  # fmt: skip
        # What takes much away at once: managers and up by default, as each organisation
        # chooses (Settings → Permissions).
        permissions.register_configurable({
            "contact.merge": "Merge contacts",
            "company.merge": "Merge companies",
            "contact.privacy": "Export or erase a contact's personal data",
        })  # fmt: skip
        contributions.register_org_urls("contacts.urls")
        contributions.register_org_urls("contacts.segments.urls")
        # What a segment's conditions may test of contacts (other apps add theirs).
        segment_fields.register_all()
        contributions.register_navigation(
            "Segments", "segments:list", order=50, action="contact.view", icon="filter"
        )
        # Every minute: a refresh for each segment its schedule says is due (a cheap read of
        # an index; beat's next minute is its catch-up).
        contributions.register_tenant_job("segments", "contacts.segments_due", crontab(minute="*"))
        # Every night: the contacts' engagement and RFM scores (contacts.scores).
        contributions.register_tenant_job(
            "scores", "contacts.scores_run", crontab(hour=2, minute=45)
        )
        contributions.register_navigation(
            "Contacts", "contact:list", order=10, action="contact.view", icon="users"
        )
        contributions.register_navigation(
            "Companies", "company:list", order=20, action="company.view", icon="building-2"
        )
        contributions.register_tenant_job(
            "search-words-resync", "contacts.search_words_resync", crontab(hour=4, minute=30)
        )
        contributions.register_isolation_seeder(isolation.seed, isolation.URL_KWARGS)
        demo_seeded.connect(demo.seed, dispatch_uid="contacts.demo.seed")
        demo_seeded.connect(segment_demo.seed, dispatch_uid="contacts.segments.demo.seed")
        # What a merge moves to the surviving record (other apps register theirs).
        register_link("contact", ContactTag, "contact", unique_with=("tag",))
        register_link("contact", ConsentEvent, "contact")
        register_link("company", CompanyTag, "company", unique_with=("tag",))
        register_link("company", Contact, "company")
        # A merged contact's segments are the survivor's (a refresh would say so too).
        register_link("contact", SegmentMember, "contact", unique_with=("segment",))
        register_link("contact", SegmentSpell, "contact")
        # A contact has one score row: a merged one's goes when the survivor has its own
        # (the organisation, the same on every row, makes any two clash), and the night
        # scores the survivor afresh.
        register_link("contact", ContactScore, "contact", unique_with=("org",))
        # The records merged into a contact are the same person: its privacy requests
        # reach them too.
        privacy.register_personal_data("merged_records", merge_privacy.merged_records_data)
        privacy.register_erasure("merged_records", merge_privacy.merged_records_erase)
