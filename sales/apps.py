from typing import Any

from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = "Sales"

    def ready(self) -> None:
        from crm import contributions
        from crm.models import Role
        from crm.permissions import ALL_ROLES, CRM_WRITERS, register_actions, register_rule
        from crm.records import registry
        from crm.records.merging import register_link
        from crm.signals import demo_seeded
        from sales import demo, isolation
        from sales.models import Deal, DealContact
        from sales.records import DEAL

        registry.register(DEAL)
        register_actions({
            # Support agents see deals, but never what they are worth.
            "deal.view": ALL_ROLES,
            "deal.view_value": ALL_ROLES - {Role.AGENT},
            # a rep edits the deals they own (the rule below), managers and admins any
            "deal.edit": CRM_WRITERS | {Role.REP},
        })  # fmt: skip
        register_rule("deal.edit", _own_deal)
        contributions.register_org_urls("sales.urls")
        contributions.register_org_urls("sales.board_urls")
        contributions.register_org_urls("sales.settings_urls")
        contributions.register_org_urls("sales.dashboard_urls")
        contributions.register_navigation(
            "Deals", "deal:list", order=25, action="deal.view", icon="handshake"
        )
        contributions.register_isolation_seeder(isolation.seed, isolation.URL_KWARGS)
        # After the contacts' and interactions' own: deals on their contacts.
        demo_seeded.connect(demo.seed, dispatch_uid="sales.demo.seed")
        # A merged contact's or company's deals move to the one that stays.
        register_link("contact", Deal, "contact")
        register_link("company", Deal, "company")
        register_link("contact", DealContact, "contact")


def _own_deal(membership: Any, deal: Any) -> bool:
    """A rep edits only the deals they own; others' they may only read."""
    return membership.role != "rep" or getattr(deal, "owner_id", None) == membership.user_id
