"""Web capture forms: an organisation's forms (Settings → Web forms), and one submission
filed as a contact, an inbound web-form interaction and a follow-up task.

A form's public address is /forms/<org id>.<key>/. As with the inbound address
(interactions.inbound), the id lets the organisation be activated before its forms are
read: they sit behind row-level security. The key itself is no secret once a page embeds
the form, so it is stored as it is; it is long enough not to be guessed, and replaceable.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from contacts.models import ConsentEvent, Contact
from contacts.selectors import contact_by_address
from contacts.services import contact_save, contact_set_consent
from crm import tokens
from crm.audit import audit_record, diff
from crm.db import advisory_lock
from crm.models import Membership, Organization, User
from crm.records.custom_fields import definitions
from crm.records.models import CustomField
from crm.tenancy import activate, cache_key
from interactions.models import Interaction, WebForm
from interactions.services import interaction_log, task_create

# The contact's own fields a form may ask for, in the order a form shows them. "company"
# is the company's name, as people type it: an existing company of that name, or a new one.
BUILT_IN = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "job_title": "Job title",
    "company": "Company",
}
CUSTOM = "custom_"  # a custom field of contacts, in a form's `fields`: "custom_<key>"
# What a tick in the consent box agrees to: the mail the organisation sends.
CONSENT_PURPOSE = ConsentEvent.Purpose.EMAIL_MARKETING

# A token is "<org id>.<key>"; a key is secrets.token_urlsafe(32): 43 of [A-Za-z0-9_-].
KEY_LENGTH = 43
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
MAX_TOKEN = 19 + 1 + KEY_LENGTH

# Submissions from one address to one form: this many in this many seconds, then 429.
RATE_LIMIT = 10
RATE_WINDOW = 10 * 60


# --- The fields a form may ask for ---------------------------------------------------------


def contact_custom_fields() -> list[CustomField]:
    """The organisation's custom fields of contacts, in their order."""
    return definitions("contact")


def field_choices(custom: Iterable[CustomField] | None = None) -> dict[str, str]:
    """{name: label} of every field a form may ask for: the built-in ones, then the custom."""
    custom = contact_custom_fields() if custom is None else custom
    return BUILT_IN | {f"{CUSTOM}{field.key}": field.label for field in custom}


def form_fields(form: WebForm, custom: list[CustomField]) -> list[tuple[str, bool]]:
    """(name, required) of what the public form asks, in the settings' order: what the
    form was set up with (less any custom field deleted since), the email always, and
    every custom field contacts require (a contact cannot be saved without it)."""
    chosen = {
        str(spec.get("name")): bool(spec.get("required"))
        for spec in form.fields
        if isinstance(spec, dict)
    }
    chosen["email"] = True
    for field in custom:
        if field.required:
            chosen[f"{CUSTOM}{field.key}"] = True
    return [(name, chosen[name]) for name in field_choices(custom) if name in chosen]


def _clean_fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    known = field_choices()
    unknown = [str(spec.get("name")) for spec in fields if spec.get("name") not in known]
    if unknown:
        raise ValidationError({"fields": f"“{unknown[0]}” is not a field of contacts."})
    wanted = {spec["name"]: bool(spec.get("required")) for spec in fields}
    wanted["email"] = True  # a submission is matched to its contact by email
    return [{"name": name, "required": wanted[name]} for name in known if name in wanted]


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    for name in ("name", "consent_label", "thank_you"):
        if name in fields:
            fields[name] = str(fields[name] or "").strip()
            if "\x00" in fields[name]:
                errors[name] = "Remove the null characters (\\x00) from this text."
    if "name" in fields and not fields["name"]:
        errors["name"] = "Give the form a name."
    owner = fields.get("owner")
    if owner is not None and not Membership.objects.filter(user=owner).exists():
        errors["owner"] = "Choose a member of this organisation."
    if errors:
        raise ValidationError(errors)
    if "fields" in fields:
        fields["fields"] = _clean_fields(list(fields["fields"]))
    return fields


# --- The forms ----------------------------------------------------------------------------


@transaction.atomic
def webform_create(
    *, org: Organization, by: User | None, name: str, fields: list[dict[str, Any]],
    consent_label: str = "", thank_you: str = "", owner: User | None = None,
) -> WebForm:  # fmt: skip
    """Add a capture form, with a new key; it takes submissions at once."""
    values = _clean({"name": name, "fields": fields, "consent_label": consent_label,
                     "thank_you": thank_you, "owner": owner})  # fmt: skip
    form = WebForm(org=org, key=tokens.new_secret(), **values)
    form.full_clean(exclude=["org", "owner"])
    form.save()
    audit_record(org=org, actor=by, action="web_form.created", target=form)
    return form


EDITABLE = frozenset({"name", "fields", "consent_label", "thank_you", "owner", "is_active"})


@transaction.atomic
def webform_update(*, org: Organization, form: WebForm, by: User | None, **fields: Any) -> WebForm:
    """Change a form: its name, fields, consent box, thanks, owner; or turn it off or on."""
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    fields = _clean(fields)
    before = {name: getattr(form, name) for name in fields}
    for name, value in fields.items():
        setattr(form, name, value)
    form.full_clean(exclude=["org", "owner"])
    form.save()
    changes = diff(
        {k: getattr(v, "pk", v) for k, v in before.items()},
        {k: getattr(v, "pk", v) for k, v in fields.items()},
    )
    if changes:
        audit_record(org=org, actor=by, action="web_form.updated", target=form, changes=changes)
    return form


@transaction.atomic
def webform_rotate(*, org: Organization, form: WebForm, by: User | None) -> WebForm:
    """Give the form a new address; the old one stops working at once."""
    form.key = tokens.new_secret()
    form.save(update_fields=["key", "updated_at"])
    audit_record(org=org, actor=by, action="web_form.rotated", target=form)
    return form


@transaction.atomic
def webform_delete(*, org: Organization, form: WebForm, by: User | None) -> None:
    """Delete a form; what it captured (contacts, interactions, tasks) stays."""
    audit_record(
        org=org, actor=by, action="web_form.deleted", target=form,
        changes={"name": [form.name, None]},
    )  # fmt: skip
    form.delete()


def webform_token(form: WebForm) -> str:
    return tokens.org_token(form.org_id, form.key)


@contextmanager
def webform_opened(token: str) -> Iterator[tuple[Organization, WebForm] | None]:
    """With the organisation of the live form that `token` opens active: (it, the form);
    None, and nothing active, for any other token. A malformed one costs no query."""
    org_id, key = tokens.split(token)
    if not (org_id and len(token) <= MAX_TOKEN and key and set(key) <= _KEY_CHARS):
        yield None
        return
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        yield None
        return
    with activate(org):
        form = WebForm.objects.filter(key=key, is_active=True).first()
        yield (org, form) if form is not None else None


def webform_for_token(token: str) -> tuple[Organization, WebForm] | None:
    """The organisation and live form that `token` opens, or None."""
    with webform_opened(token) as found:
        return found


# --- Submissions ------------------------------------------------------------------------


def rate_limited(*, form: WebForm, ip: str | None) -> bool:
    """Count a submission from `ip` to `form`: True once there were more than RATE_LIMIT in
    the window. Counted in the cache (with the organisation active); when the cache cannot
    be reached, nothing is limited."""
    key = cache_key("web-form-posts", form.pk, ip or "unknown")
    cache.add(key, 0, timeout=RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between the two calls
        cache.add(key, 1, timeout=RATE_WINDOW)
        count = 1
    return int(count) > RATE_LIMIT


def next_working_day(now: datetime, time_zone: str) -> datetime:
    """9:00 on the next weekday after `now`, in the organisation's time zone."""
    zone = ZoneInfo(time_zone)
    day = timezone.localtime(now, zone).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(9), tzinfo=zone)


@transaction.atomic
def webform_submit(
    *, org: Organization, form: WebForm, values: dict[str, Any], consent: bool = False
) -> Interaction:
    """File a submission: the contact created, or updated by its email with what was given
    (nothing blanked out); consent recorded when ticked; an inbound web-form interaction on
    the contact; a follow-up task for its owner, or else the form's. ValidationError, by
    field, for what the contact services refuse: then nothing is kept."""
    given = {name: value for name, value in values.items() if not _empty(value)}
    email = str(given.get("email") or "").strip().lower()
    if not email:
        raise ValidationError({"email": "Give an email address."})
    # Two submissions from a new address at once would make two contacts: the second waits
    # for the first's transaction to end, then finds its contact. The key is the inbound
    # email's, so that a form and a message from the same new address make one contact too.
    advisory_lock(f"interactions.lead:{org.pk}:{email}")
    contact = _known(email)
    contact = _save_contact(org, form, contact, {**given, "email": email})
    if consent and form.consent_label:
        contact_set_consent(
            org=org, contact=contact, purpose=CONSENT_PURPOSE, granted=True, by=None,
            how=f"Web form “{form.name}”: {form.consent_label}"[:200],
        )  # fmt: skip
    interaction = interaction_log(
        org=org, by=None, channel=Interaction.Channel.WEB_FORM,
        direction=Interaction.Direction.INBOUND, contact=contact,
        subject=f"Web form: {form.name}"[:200], body=_body(form, given, consent),
        details={"web_form": form.pk},
    )  # fmt: skip
    task_create(
        org=org, by=None, title=f"Follow up {contact}: web form “{form.name}”"[:200],
        contact=contact, assignee=_assignee(contact, form),
        due_at=next_working_day(timezone.now(), org.time_zone),
        source_key=f"web_form:{interaction.pk}",
    )  # fmt: skip
    WebForm.objects.filter(pk=form.pk).update(submissions=F("submissions") + 1)
    return interaction


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _known(email: str) -> Contact | None:
    """The contact with this address: by primary email first, then by another of theirs;
    the oldest when several have it (two indexed queries)."""
    return contact_by_address(email)


def _save_contact(
    org: Organization, form: WebForm, contact: Contact | None, given: dict[str, Any]
) -> Contact:
    fields: dict[str, Any] = {
        name: value for name, value in given.items() if name in BUILT_IN and name != "company"
    }
    if contact is not None and contact.email:
        fields.pop("email", None)  # matched by another address: the primary one stays
    custom = {n.removeprefix(CUSTOM): v for n, v in given.items() if n.startswith(CUSTOM)}
    if custom:
        fields["custom"] = {**(contact.custom if contact is not None else {}), **custom}
    if "company" in given:
        fields["company_name"] = given["company"]
    if contact is None:
        fields["source"] = f"Web form: {form.name}"[:100]
    try:
        return contact_save(org=org, by=None, contact=contact, **fields)
    except ValidationError as error:
        raise _as_form_errors(error) from error


def _as_form_errors(error: ValidationError) -> ValidationError:
    """The contact services' errors under the public form's field names."""
    if not hasattr(error, "error_dict"):
        return error
    renamed = {"company_name": "company", "custom": "__all__"}
    return ValidationError(
        {renamed.get(name, name): errors for name, errors in error.error_dict.items()}
    )


def _assignee(contact: Contact, form: WebForm) -> User | None:
    """The contact's owner, else the form's: whichever is still a member; else nobody."""
    for user_id in (contact.owner_id, form.owner_id):
        if user_id is not None:
            membership = Membership.objects.filter(user_id=user_id).select_related("user").first()
            if membership is not None:
                return membership.user
    return None


def _body(form: WebForm, given: dict[str, Any], consent: bool) -> str:
    """What was submitted, a line a field, under the labels the form showed."""
    labels = field_choices()
    lines = [f"{labels.get(name, name)}: {_shown(value)}" for name, value in given.items()]
    if form.consent_label:
        lines.append(f"{form.consent_label}: {'Yes' if consent else 'No'}")
    return "\n".join(lines)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)
