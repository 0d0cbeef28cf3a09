from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "interactions"
    verbose_name = "Interactions"

    def ready(self) -> None:
        from crm.models import Role
        from crm.permissions import ALL_ROLES, CRM_WRITERS, register_actions

        register_actions({
            "interaction.view": ALL_ROLES,
            "interaction.edit": CRM_WRITERS | {Role.REP, Role.AGENT},
            "task.view": ALL_ROLES,
            "task.edit": CRM_WRITERS | {Role.REP, Role.AGENT},
        })  # fmt: skip
