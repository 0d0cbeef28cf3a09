from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        from contacts import demo
        from crm.signals import demo_seeded

        demo_seeded.connect(demo.seed, dispatch_uid="contacts.demo.seed")
