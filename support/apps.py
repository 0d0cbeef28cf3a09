from typing import Any

from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support"

    def ready(self) -> None:
        from celery.schedules import crontab

        from crm import contributions
        from crm.models import Role
        from crm.permissions import ALL_ROLES, CRM_WRITERS, register_actions
        from crm.records import registry
        from crm.records.merging import register_link
        from crm.signals import demo_seeded
        from interactions import inbound, timeline
        from support import cards, demo, home, isolation, mail, selectors
        from support import csat_tasks as _csat_tasks  # noqa: F401 - registers the task sent by name
        from support import segments as segment_fields
        from support import tasks as _tasks  # noqa: F401 - registers the tasks sent by name
        from support.models import Ticket
        from support.records import TICKET

        register_actions({
            "ticket.view": ALL_ROLES,
            "ticket.edit": CRM_WRITERS | {Role.AGENT},
            "canned_reply.edit": CRM_WRITERS | {Role.AGENT},
            # Reps sell: their dashboard is the pipeline's.
            "support_dashboard.view": ALL_ROLES - {Role.REP},
        })  # fmt: skip
        registry.register(TICKET)
        contributions.register_home_panel("support/_my_tickets.html", home.my_tickets, order=20)
        # Mail to a queue's address opens or answers its tickets.
        inbound.register_address(mail.queue_address)
        contributions.register_org_urls("support.urls")
        contributions.register_org_urls("support.settings_urls")
        contributions.register_org_urls("support.dashboard_urls")
        # Every minute: the SLA warnings and breaches now due (support.sla).
        contributions.register_tenant_job("sla clocks", "support.sla_run", crontab(minute="*"))
        contributions.register_navigation(
            "Support dashboard", "support_dashboard:support", order=61,
            action="support_dashboard.view", icon="chart-column",
        )  # fmt: skip
        # A solved ticket's requester rates it, by a signed link that needs no login.
        contributions.register_public_urls("support.csat_urls")
        contributions.register_page(
            "Queues", "support_settings:queues", section="Settings",
            action="settings.configure", keywords="ticket inbox inbound email address agents",
        )  # fmt: skip
        contributions.register_page(
            "SLA policies", "support_settings:policies", section="Settings",
            action="settings.configure", keywords="sla targets first response resolution breach",
        )  # fmt: skip
        contributions.register_page(
            "Business hours", "support_settings:calendars", section="Settings",
            action="settings.configure", keywords="calendar opening hours holidays time zone",
        )  # fmt: skip
        contributions.register_page(
            "Canned replies", "support_settings:replies", section="Settings",
            action="canned_reply.edit", keywords="templates macros saved answers",
        )  # fmt: skip
        contributions.register_page(
            "Support", "support_settings:support", section="Settings",
            action="settings.configure", keywords="csat rating satisfaction",
        )  # fmt: skip
        contributions.register_isolation_seeder(isolation.seed, isolation.URL_KWARGS)
        contributions.register_navigation(
            "Tickets", "ticket:list", order=27, action="ticket.view", icon="inbox"
        )
        # A ticket's page has a timeline: its conversation, tasks and events. Its requester's
        # and its company's show what matters to the customer of its events.
        timeline.register_host(timeline.Host(
            key="ticket", model=Ticket, prefix="tickets", visible=selectors.ticket_list,
            page="tickets:by_id", links=_ticket_links, logged=_ticket_touched,
        ))  # fmt: skip
        timeline.register_source(timeline.Source(
            letter="e", rank=0, template="support/_event_entry.html",
            hosts=frozenset({"ticket", "contact", "company"}), fetch=selectors.ticket_events,
            time=lambda event: event.at,
        ))  # fmt: skip
        for kind in ("contact", "company"):
            contributions.register_record_card(kind, "support/_tickets_card.html",
                                               cards.tickets_card, order=20)  # fmt: skip
        # After the contacts' and interactions' own: tickets from their contacts.
        demo_seeded.connect(demo.seed, dispatch_uid="support.demo.seed")
        # A merged contact's or company's tickets move to the one that stays.
        register_link("contact", Ticket, "requester")
        register_link("company", Ticket, "company")
        # What a segment's conditions may test of a contact's tickets.
        segment_fields.register()


def _ticket_links(ticket: Any) -> dict[str, Any]:
    """What a task or an interaction made on a ticket's page links to: the ticket, and its
    requester and company, whose timelines show it too."""
    return {"ticket": ticket, "contact": ticket.requester, "company": ticket.company}


def _ticket_touched(*, org: Any, record: Any, at: Any) -> None:
    from support.models import Ticket

    Ticket.objects.filter(pk=record.pk, touched_at__lt=at).update(touched_at=at)
