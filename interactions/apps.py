from typing import Any

from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "interactions"
    verbose_name = "Interactions"

    def ready(self) -> None:
        from celery.schedules import crontab

        from contacts.models import Company, Contact
        from contacts.selectors import company_list, contact_list
        from crm import contributions, permissions
        from crm.models import Role
        from crm.permissions import ALL_ROLES, CRM_WRITERS
        from crm.records import registry
        from crm.records.merging import register_after_merge, register_link
        from crm.signals import demo_seeded
        from interactions import demo, home, isolation, timeline
        from interactions import segments as segment_fields
        from interactions import tasks as _tasks  # noqa: F401 - registers the tasks sent by name
        from interactions.models import Interaction, Task
        from interactions.records import INTERACTION, TASK

        registry.register(INTERACTION)
        registry.register(TASK)
        # Contacts' and companies' pages have a timeline (other apps add their records').
        timeline.register_host(timeline.Host(
            key="contact", model=Contact, prefix="contacts", visible=contact_list,
            page="contacts:detail", links=lambda contact: {"contact": contact},
        ))  # fmt: skip
        timeline.register_host(timeline.Host(
            key="company", model=Company, prefix="companies", visible=company_list,
            page="contacts:company_detail", links=lambda company: {"company": company},
        ))  # fmt: skip
        writers = CRM_WRITERS | {Role.REP, Role.AGENT}
        permissions.register_actions({
            "interaction.view": ALL_ROLES,
            "interaction.log": writers,
            # an interaction's author edits and deletes it (the rule below), managers any
            "interaction.edit": writers,
            "interaction.edit_any": CRM_WRITERS,
            "task.view": ALL_ROLES,
            # its assignee and its maker edit a task (the rule below), managers any
            "task.edit": writers,
            "task.edit_any": CRM_WRITERS,
        })  # fmt: skip
        permissions.register_rule("interaction.edit", _author_or_manager)
        permissions.register_rule("task.edit", _assignee_maker_or_manager)
        contributions.register_org_urls("interactions.urls")
        contributions.register_org_urls("interactions.task_urls")
        contributions.register_org_urls("interactions.notification_urls")
        contributions.register_topbar("interactions/_notifications_bell.html")
        # Every minute: the reminders now due (interactions.reminders).
        contributions.register_tenant_job(
            "reminders", "interactions.reminders_run", crontab(minute="*")
        )
        contributions.register_public_urls("interactions.public_urls")
        contributions.register_page(
            "Email in", "interactions:mailbox", section="Settings", action="org.manage",
            keywords="inbound mail address relay",
        )  # fmt: skip
        contributions.register_page(
            "Web forms", "interactions:webforms", section="Settings", action="org.manage",
            keywords="capture lead form embed",
        )  # fmt: skip
        contributions.register_page(
            "Follow-up rules", "interactions:followups", section="Settings", action="org.manage",
            keywords="automation reminder task rules",
        )  # fmt: skip
        # Every minute: the follow-up checks now due (interactions.followups).
        contributions.register_tenant_job(
            "follow-ups", "interactions.followups_run", crontab(minute="*")
        )
        contributions.register_org_urls("interactions.calendar_urls")
        contributions.register_page(
            "Calendar feed", "calendar:feed", section="Account", action="task.view",
            keywords="ics ical google outlook subscribe",
        )  # fmt: skip
        contributions.register_navigation(
            "Interactions",
            "interaction:list",
            order=40,
            action="interaction.view",
            icon="messages-square",
        )
        contributions.register_navigation(
            "Tasks", "task:list", order=35, action="task.view", icon="list-checks"
        )
        contributions.register_home_panel("interactions/_my_day.html", home.my_day, order=10)
        contributions.register_isolation_seeder(isolation.seed, isolation.URL_KWARGS)
        # After the contacts' own (an earlier app's receiver runs first): their timelines.
        demo_seeded.connect(demo.seed, dispatch_uid="interactions.demo.seed")
        # A merged contact's or company's interactions move to the one that stays.
        register_link("contact", Interaction, "contact")
        register_link("company", Interaction, "company")
        register_link("contact", Task, "contact")
        register_link("company", Task, "company")
        # The contact that stays (and, on an undo, those back) gets its next step again.
        register_after_merge("contact", _next_steps_again)
        # What a segment's conditions may test of a contact's interactions.
        segment_fields.register()


def _author_or_manager(membership: Any, interaction: Any) -> bool:
    from crm.permissions import can

    return interaction.author_id == membership.user_id or can(membership, "interaction.edit_any")


def _assignee_maker_or_manager(membership: Any, task: Any) -> bool:
    from crm.permissions import can

    mine = membership.user_id in (task.assignee_id, task.created_by_id)
    return mine or can(membership, "task.edit_any")


def _next_steps_again(ids: Any) -> None:
    from interactions.services import contacts_next_step

    contacts_next_step(contact_ids=list(ids))
