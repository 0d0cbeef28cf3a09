"""Follow-up rules: an email that gets no reply, a meeting whose notes are owed.

Logging an interaction writes the check a rule will make, with the time it is due
(FollowUpDue: a row, not a Celery countdown). Beat runs `followups_run` every minute in each
organisation: it claims the due checks with SELECT … FOR UPDATE SKIP LOCKED, makes them and
marks them done. A check is made once (done_at) and each task it makes has a source key, so
running either function twice makes nothing twice.
"""

import logging
import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.audit import audit_record, diff
from crm.models import Membership, Organization, User
from interactions.models import FollowUpDue, FollowUpRule, Interaction
from interactions.services import task_create

logger = logging.getLogger(__name__)

Kind = FollowUpRule.Kind

# A rule's settings until the organisation saves its own.
DEFAULTS: dict[str, dict[str, Any]] = {
    Kind.NO_REPLY: {
        "enabled": True, "days": 3, "task_title": "Follow up: no reply to “{subject}”"
    },
    Kind.AFTER_MEETING: {
        "enabled": True, "days": 1, "task_title": "Send notes from “{subject}”"
    },
    Kind.STALE_DEAL: {
        "enabled": False, "days": 14, "task_title": "Open deal untouched for {days} days"
    },
}  # fmt: skip
# The rules whose check this product can make: the stale-deal rule's is the sales app's,
# which makes it available (make_available) when it is installed.
AVAILABLE: set[str] = {Kind.NO_REPLY, Kind.AFTER_MEETING}
DAYS = (1, 90)
EDITABLE = ("enabled", "days", "task_title")
PLACEHOLDERS = ("{subject}", "{days}")
# The working day: a task a check makes out of hours is due when the next one starts.
DAY_START, DAY_END = time(9), time(17)
# Rules look forward: what is logged this long after it happened (history brought in) gets
# no follow-up.
LOOK_BACK = timedelta(days=7)
# A reply's Date header may run a little behind the email it answers (clocks differ).
SKEW = timedelta(days=1)


# --- Rules -------------------------------------------------------------------------------


def followup_rules() -> dict[str, FollowUpRule]:
    """The active organisation's rules by kind, each as saved or, never saved, with its
    defaults (unsaved): reading them writes nothing."""
    saved = {rule.kind: rule for rule in FollowUpRule.objects.all()}
    return {kind: saved.get(kind) or FollowUpRule(kind=kind, **DEFAULTS[kind]) for kind in Kind}


@transaction.atomic
def followup_rules_save(
    *, org: Organization, by: User | None, values: dict[str, dict[str, Any]]
) -> dict[str, FollowUpRule]:
    """Save the rules' settings ({kind: {"enabled", "days", "task_title"}}, each part
    optional); ValidationError by form field ("no_reply_days"). Each changed rule is audited."""
    errors: dict[str, str] = {}
    for kind, fields in values.items():
        if kind not in Kind.values or set(fields) - set(EDITABLE):
            raise ValueError(f"Not a rule's setting: {kind} {sorted(fields)}")
        if kind not in AVAILABLE and fields.get("enabled"):
            errors[f"{kind}_enabled"] = "This rule comes with deals."
        days = fields.get("days")
        if days is not None and not DAYS[0] <= days <= DAYS[1]:
            errors[f"{kind}_days"] = f"Between {DAYS[0]} and {DAYS[1]} days."
        title = fields.get("task_title")
        if title is not None and not str(title).strip():
            errors[f"{kind}_task_title"] = "Give the task a title."
    if errors:
        raise ValidationError(errors)
    rules: dict[str, FollowUpRule] = {}
    for kind in Kind:
        rule, _ = FollowUpRule.objects.get_or_create(org=org, kind=kind, defaults=DEFAULTS[kind])
        changes = diff({name: getattr(rule, name) for name in values.get(kind, {})},
                       values.get(kind, {}))  # fmt: skip
        if changes:
            for name in changes:
                setattr(rule, name, values[kind][name])
            rule.save(update_fields=[*changes, "updated_at"])
            audit_record(
                org=org, actor=by, action="followup_rule.updated", target=rule, changes=changes
            )
        rules[kind] = rule
    return rules


def make_available(kind: str) -> None:
    """Let organisations turn on a rule whose check another app makes (stale deals)."""
    AVAILABLE.add(kind)


def task_title(rule: FollowUpRule, interaction: Any) -> str:
    """The rule's title for a task, with {subject} (an interaction's, a deal's title) and
    {days} filled in."""
    template = rule.task_title.strip() or DEFAULTS[rule.kind]["task_title"]
    subject = getattr(interaction, "subject", "") or str(interaction)
    return template.replace("{subject}", subject).replace("{days}", str(rule.days))[:200]


# --- Working days --------------------------------------------------------------------------


def _zone(org: Organization) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(org.time_zone)


def _business_day(day: date, days: int) -> date:
    """The `days`th weekday after `day` (Saturdays and Sundays are not counted)."""
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def business_days_after(when: datetime, days: int, *, org: Organization) -> datetime:
    """`days` working days after `when`, at the same time of day in the organisation's zone:
    an email sent on Friday at 16:00, three days on, is Wednesday at 16:00."""
    local = when.astimezone(_zone(org))
    day = _business_day(local.date(), days)
    return datetime.combine(day, local.time(), tzinfo=_zone(org))


def working_time(now: datetime, *, org: Organization) -> datetime:
    """`now` in working hours (9:00 to 17:00 on a weekday, the organisation's zone), else
    9:00 on the next working day."""
    local = now.astimezone(_zone(org))
    working_day = local.weekday() < 5
    if working_day and DAY_START <= local.time() < DAY_END:
        return now
    early = working_day and local.time() < DAY_START
    day = local.date() if early else _business_day(local.date(), 1)
    return datetime.combine(day, DAY_START, tzinfo=_zone(org))


# --- Scheduling ----------------------------------------------------------------------------


def _check_for(
    org: Organization, interaction: Interaction, rules: dict[str, FollowUpRule], now: datetime
) -> tuple[str, datetime] | None:
    """Which rule looks at this interaction, and when; None when none does."""
    kind = interaction.followed_up_as()
    if kind is None or interaction.occurred_at < now - LOOK_BACK:
        return None
    if kind == Kind.NO_REPLY:
        days = rules[Kind.NO_REPLY].days
        return Kind.NO_REPLY, business_days_after(interaction.occurred_at, days, org=org)
    # Once it has happened: a meeting may be logged as it starts.
    return Kind.AFTER_MEETING, max(now, interaction.occurred_at)


def followups_schedule(
    *, org: Organization, interaction: Interaction, now: datetime | None = None
) -> FollowUpDue | None:
    """Write the check a rule will make of a logged interaction, if an enabled rule looks at
    it: an outbound email to a contact (a reply is due), a meeting with a contact or a
    company (notes are owed). Once per rule and interaction, however often it is called."""
    now = now or timezone.now()
    rules = followup_rules()
    found = _check_for(org, interaction, rules, now)
    if found is None or not rules[found[0]].enabled:
        return None
    kind, due_at = found
    due, _ = FollowUpDue.objects.get_or_create(
        org=org, rule=kind, interaction=interaction, defaults={"due_at": due_at}
    )
    return due


# --- Running the due checks ----------------------------------------------------------------


def followups_run(*, org: Organization, now: datetime | None = None, batch: int = 500) -> int:
    """Make the checks that are due, at most `batch` of them, and mark each done with what
    it found; how many. They are claimed with SKIP LOCKED: two runs at once share them out."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            FollowUpDue.objects.filter(done_at__isnull=True, due_at__lte=now)
            .order_by("due_at")
            .select_for_update(skip_locked=True)[:batch]
        )
        if not due:
            return 0
        # Deleted ones too (deleted_at set): their check finds them gone.
        found = Interaction.objects.select_related("contact").in_bulk(
            {row.interaction_id for row in due}
        )
        rules = followup_rules()
        replied = _replied(
            found[row.interaction_id] for row in due
            if row.rule == Kind.NO_REPLY and row.interaction_id in found
        )  # fmt: skip
        for row in due:
            interaction = found.get(row.interaction_id)
            try:
                with transaction.atomic():  # a savepoint: one bad check spoils no other
                    row.outcome = _check(org, row.rule, interaction, rules, replied, now)
            except ValidationError as error:
                logger.warning("Follow-up %s failed: %s", row.pk, error)
                row.outcome = "failed"
            row.done_at = now
        FollowUpDue.objects.bulk_update(due, ["outcome", "done_at"])
    return len(due)


def _check(
    org: Organization, kind: str, interaction: Interaction | None,
    rules: dict[str, FollowUpRule], replied: set[int], now: datetime,
) -> str:  # fmt: skip
    """Make one check; what it found: "task", "replied", "off", "gone" or "not_sent"."""
    if interaction is None or interaction.deleted_at is not None:
        return "gone"
    rule = rules[kind]
    if kind not in AVAILABLE or not rule.enabled:
        return "off"
    contact = interaction.contact
    if contact is not None and contact.deleted_at is not None:
        return "gone"
    if kind == Kind.NO_REPLY:
        if contact is None:
            return "gone"
        if interaction.delivery == Interaction.Delivery.FAILED:
            return "not_sent"  # its author was told that it failed (a notification)
        if interaction.pk in replied:
            return "replied"
        task_create(
            org=org, by=None, title=task_title(rule, interaction), contact=contact,
            assignee=_member(contact.owner_id, interaction.author_id),
            due_at=working_time(now, org=org), source_key=f"no_reply:{interaction.pk}",
        )  # fmt: skip
        return "task"
    # After a meeting: its notes, by 9:00 the working day after (or now, when that is past).
    local = interaction.occurred_at.astimezone(_zone(org))
    morning = datetime.combine(_business_day(local.date(), rule.days), DAY_START, local.tzinfo)
    owner_id = contact.owner_id if contact is not None else None
    task_create(
        org=org, by=None, title=task_title(rule, interaction), contact=contact,
        company=interaction.company, assignee=_member(interaction.author_id, owner_id),
        due_at=max(morning, working_time(now, org=org)),
        source_key=f"after_meeting:{interaction.pk}",
    )  # fmt: skip
    return "task"


def _replied(emails: Iterable[Interaction]) -> set[int]:
    """The ids of the emails that have had a reply: an inbound interaction, not automatic,
    from the same contact after the email, or threaded to it (its conversation, or In-Reply-To
    its Message-ID). One query for them all, over the interactions since the oldest."""
    emails = [email for email in emails if email.contact_id]
    if not emails:
        return set()
    threaded = Q(details__thread__in=[email.pk for email in emails])
    message_ids = [email.external_id for email in emails if email.external_id]
    if message_ids:
        threaded |= Q(details__in_reply_to__in=message_ids)
    replies = (
        Interaction.objects.alive()
        .filter(direction=Interaction.Direction.INBOUND, is_automatic=False)
        .filter(occurred_at__gte=min(email.occurred_at for email in emails) - SKEW)
        .filter(Q(contact_id__in={email.contact_id for email in emails}) | threaded)
        .values_list("contact_id", "occurred_at", "details__thread", "details__in_reply_to")
    )
    latest: dict[int, datetime] = {}  # each contact's last word
    answered: set[Any] = set()  # the emails (ids, Message-IDs) replies were threaded to
    for contact_id, occurred_at, thread, in_reply_to in replies:
        if contact_id is not None:
            latest[contact_id] = max(occurred_at, latest.get(contact_id, occurred_at))
        answered.update((thread, in_reply_to))
    return {
        email.pk for email in emails
        if email.pk in answered or (email.external_id and email.external_id in answered)
        or latest.get(email.contact_id or 0, email.occurred_at) > email.occurred_at
    }  # fmt: skip


def _member(*user_ids: int | None) -> User | None:
    """The first of these users who is a member of the organisation still."""
    members = set(
        Membership.objects.filter(user_id__in=[pk for pk in user_ids if pk]).values_list(
            "user_id", flat=True
        )
    )
    for pk in user_ids:
        if pk in members:
            return User.objects.get(pk=pk)
    return None
