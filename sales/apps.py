from typing import Any

from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = "Sales"

    def ready(self) -> None:
        from celery.schedules import crontab

        from crm import contributions
        from crm.models import Role
        from crm.permissions import ALL_ROLES, CRM_WRITERS, register_actions, register_rule
        from crm.records import registry
        from crm.records.merging import register_link
        from crm.signals import demo_seeded
        from interactions import followups, timeline
        from interactions.models import FollowUpRule
        from sales import cards, demo, isolation, selectors
        from sales import segments as segment_fields
        from sales import tasks as _tasks  # noqa: F401 - registers the tasks sent by name
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
        contributions.register_page(
            "Pipelines", "pipelines:list", section="Settings", action="settings.configure",
            keywords="deal stages probability won lost stale",
        )  # fmt: skip
        contributions.register_page(
            "Lost reasons", "pipelines:reasons", section="Settings",
            action="settings.configure", keywords="deal lost why",
        )  # fmt: skip
        contributions.register_page(
            "Exchange rates", "pipelines:rates", section="Settings",
            action="settings.configure", keywords="currency conversion fx base",
        )  # fmt: skip
        contributions.register_org_urls("sales.dashboard_urls")
        # Reps see their own figures, managers and viewers everyone's; agents see no amounts.
        contributions.register_navigation(
            "Dashboards", "dashboards:pipeline", order=60, action="deal.view_value",
            icon="chart-column",
        )  # fmt: skip
        contributions.register_page(
            "Targets", "dashboards:targets", section="Settings", action="settings.configure",
            keywords="quota goal forecast month rep team",
        )  # fmt: skip
        contributions.register_navigation(
            "Deals", "deal:list", order=25, action="deal.view", icon="handshake"
        )
        contributions.register_isolation_seeder(isolation.seed, isolation.URL_KWARGS)
        # After the contacts' and interactions' own: deals on their contacts.
        demo_seeded.connect(demo.seed, dispatch_uid="sales.demo.seed")
        # A deal's page has a timeline; its stage changes are on it, and on its contact's
        # and its company's.
        timeline.register_host(timeline.Host(
            key="deal", model=Deal, prefix="deals", visible=selectors.deal_list,
            page="deals:detail", links=_deal_links, logged=_deal_touched,
        ))  # fmt: skip
        timeline.register_source(timeline.Source(
            letter="s", rank=0, template="sales/_stage_change_entry.html",
            hosts=frozenset({"deal", "contact", "company"}),
            fetch=selectors.contact_stage_changes, time=lambda change: change.at,
        ))  # fmt: skip
        contributions.register_record_card("contact", "sales/_deals_card.html", cards.deals_card,
                                           order=10)  # fmt: skip
        contributions.register_record_card("company", "sales/_deals_card.html", cards.deals_card,
                                           order=10)  # fmt: skip
        # Every hour: tasks for the deals gone stale, when the organisation's rule is on.
        followups.make_available(FollowUpRule.Kind.STALE_DEAL)
        contributions.register_tenant_job(
            "stale deals", "sales.stale_deals_run", crontab(minute=17)
        )
        # A merged contact's or company's deals move to the one that stays.
        register_link("contact", Deal, "contact")
        register_link("company", Deal, "company")
        # A deal's other contacts: one of them merged into another also on the deal goes.
        register_link("contact", DealContact, "contact", unique_with=("deal",))
        # What a segment's conditions may test of a contact's deals.
        segment_fields.register()


def _own_deal(membership: Any, deal: Any) -> bool:
    """A rep edits only the deals they own; others' they may only read."""
    return membership.role != "rep" or getattr(deal, "owner_id", None) == membership.user_id


def _deal_links(deal: Any) -> dict[str, Any]:
    """What an interaction or a task made on a deal's page links to: the deal, and its
    contact and company, whose timelines show it too."""
    return {"deal": deal, "contact": deal.contact, "company": deal.company}


def _deal_touched(*, org: Any, record: Any, at: Any) -> None:
    from sales.services import deals_touch

    deals_touch(deal_ids=[record.pk], at=at)
