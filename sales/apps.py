from typing import Any

from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = "Sales"

    def ready(self) -> None:
        from crm.models import Role
        from crm.permissions import ALL_ROLES, CRM_WRITERS, register_actions, register_rule

        register_actions({
            "deal.view": ALL_ROLES - {Role.AGENT},
            "deal.view_value": ALL_ROLES - {Role.AGENT},
            "deal.edit": CRM_WRITERS | {Role.REP},
        })  # fmt: skip
        register_rule("deal.edit", _own_deal)


def _own_deal(membership: Any, deal: Any) -> bool:
    """A rep edits only the deals they own; others' they may only read."""
    return membership.role != "rep" or getattr(deal, "owner_id", None) == membership.user_id
