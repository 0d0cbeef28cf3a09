from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support"

    def ready(self) -> None:
        from crm.models import Role
        from crm.permissions import ALL_ROLES, CRM_WRITERS, register_actions

        register_actions({
            "ticket.view": ALL_ROLES,
            "ticket.edit": CRM_WRITERS | {Role.AGENT},
            "canned_reply.edit": CRM_WRITERS | {Role.AGENT},
        })  # fmt: skip
