"""Web capture forms: their pages in the organisation's settings, and the public page a
website embeds (/forms/<org id>.<key>/, no login), with the forms for both."""

from typing import Any

from csp.decorators import csp_replace
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from contacts.services import normalise_phone
from crm.forms import apply_errors
from crm.models import Organization, User
from crm.permissions import org_member
from crm.records.custom_field_forms import value_field
from crm.records.models import CustomField
from crm.requests import OrgRequest, client_ip
from crm.selectors import org_users
from interactions import webforms
from interactions.models import WebForm

TRAP = "website"  # the honeypot: hidden from people by CSS, filled in by bots
MAX_BODY = 64 * 1024  # a submission's bytes: the longest custom text fits, with room
THANKS = "Thank you: we will be in touch."


# --- Forms ---------------------------------------------------------------------------------


class WebFormSettingsForm(forms.Form):
    """A form's settings: its name, which contact fields it asks (each perhaps required),
    the consent box, the thanks, and who follows up."""

    name = forms.CharField(max_length=100, help_text="Shown as the form's title.")
    consent_label = forms.CharField(
        max_length=300, required=False, label="Consent box",
        help_text="The text beside a checkbox, such as “Send me news and offers”. A tick is "
        "recorded as consent to email marketing. Leave it empty for no box.",
    )  # fmt: skip
    thank_you = forms.CharField(
        max_length=300, required=False, label="Thank-you message",
        widget=forms.Textarea(attrs={"rows": 2}), help_text=f"Empty: “{THANKS}”",
    )  # fmt: skip
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label="Follow-up goes to",
        help_text="Who gets the follow-up task when the contact has no owner.",
    )  # fmt: skip
    is_active = forms.BooleanField(required=False, initial=True, label="Taking submissions")

    def __init__(self, *args: Any, custom: list[CustomField], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = org_users()  # this organisation's people only
        # Always asked, and required: the email (submissions are matched by it), and the
        # custom fields every contact must have.
        self.forced = {"email"} | {f"{webforms.CUSTOM}{f.key}" for f in custom if f.required}
        self.choices = webforms.field_choices(custom)
        for name, label in self.choices.items():
            ask = forms.BooleanField(required=False, label=f"Ask for {label}")
            require = forms.BooleanField(required=False, label=f"{label} required")
            if name in self.forced:
                ask.disabled = require.disabled = True
                ask.initial = require.initial = True
            self.fields[f"ask_{name}"], self.fields[f"require_{name}"] = ask, require

    def rows(self) -> list[dict[str, Any]]:
        """The table of fields: label, its two boxes, and whether they are fixed."""
        return [
            {"label": label, "ask": self[f"ask_{name}"], "require": self[f"require_{name}"],
             "forced": name in self.forced}
            for name, label in self.choices.items()
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["fields"] = [
            {"name": name, "required": bool(data.get(f"require_{name}"))}
            for name in self.choices
            if data.get(f"ask_{name}") or data.get(f"require_{name}")
        ]
        return data

    def values(self) -> dict[str, Any]:
        names = ("name", "fields", "consent_label", "thank_you", "owner", "is_active")
        return {name: self.cleaned_data[name] for name in names}

    @staticmethod
    def initial_for(form: WebForm | None) -> dict[str, Any]:
        if form is None:
            return {"ask_first_name": True, "ask_last_name": True}
        initial: dict[str, Any] = {
            "name": form.name, "consent_label": form.consent_label,
            "thank_you": form.thank_you, "owner": form.owner_id, "is_active": form.is_active,
        }  # fmt: skip
        for spec in form.fields:
            initial[f"ask_{spec['name']}"] = True
            initial[f"require_{spec['name']}"] = bool(spec.get("required"))
        return initial


def _text(max_length: int, autocomplete: str, kind: str = "text") -> forms.CharField:
    attrs = {"autocomplete": autocomplete}
    widget = forms.EmailInput(attrs) if kind == "email" else forms.TextInput(attrs)
    if kind == "tel":
        widget.input_type = "tel"
    field_class = forms.EmailField if kind == "email" else forms.CharField
    return field_class(max_length=max_length, widget=widget)


def _built_in(name: str) -> forms.Field:
    """The public form's field for one of the contact's own fields."""
    return {
        "first_name": lambda: _text(100, "given-name"),
        "last_name": lambda: _text(100, "family-name"),
        "email": lambda: _text(254, "email", "email"),
        "phone": lambda: _text(40, "tel", "tel"),
        "job_title": lambda: _text(150, "organization-title"),
        "company": lambda: _text(200, "organization"),
    }[name]()


class WebFormEntry(forms.Form):
    """What a visitor fills in: the fields the form asks, the consent box, the honeypot."""

    def __init__(
        self, *args: Any, webform: WebForm, custom: list[CustomField], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        by_name = {f"{webforms.CUSTOM}{field.key}": field for field in custom}
        for name, required in webforms.form_fields(webform, custom):
            field = value_field(by_name[name]) if name in by_name else _built_in(name)
            field.label = webforms.BUILT_IN.get(name, field.label)
            field.required = required
            self.fields[name] = field
        if webform.consent_label:
            self.fields["consent"] = forms.BooleanField(required=False, label=webform.consent_label)
        self.fields[TRAP] = forms.CharField(
            required=False, label="Leave this empty",
            widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
        )  # fmt: skip

    def shown(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name != TRAP]

    def trap(self) -> forms.BoundField:
        return self[TRAP]

    def trapped(self) -> bool:
        return bool(str(self.data.get(TRAP, "")).strip())

    def clean_phone(self) -> str:
        # Beside the field, with the other errors; the service normalises it the same way.
        return normalise_phone(self.cleaned_data["phone"] or "")

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("consent", TRAP)}


# --- Settings pages -----------------------------------------------------------------------


@require_GET
@org_member("org.manage")
def webform_list(request: OrgRequest) -> HttpResponse:
    context = {"webforms": WebForm.objects.order_by("name", "id"), "section": "web_forms"}
    return render(request, "interactions/webforms/list.html", context)


@require_http_methods(["GET", "POST"])
@org_member("org.manage")
def webform_edit(request: OrgRequest, form_id: int | None = None) -> HttpResponse:
    webform = get_object_or_404(WebForm.objects, pk=form_id) if form_id else None
    initial = WebFormSettingsForm.initial_for(webform)
    custom = webforms.contact_custom_fields()
    form = WebFormSettingsForm(request.POST or None, custom=custom, initial=initial)
    if form.is_valid():
        try:
            if webform is None:
                values = form.values()
                values.pop("is_active")  # a new form takes submissions
                webform = webforms.webform_create(org=request.org, by=request.user, **values)
            else:
                webform = webforms.webform_update(
                    org=request.org, form=webform, by=request.user, **form.values()
                )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Saved the form {webform.name}.")
            return redirect("interactions:webform", request.org.slug, webform.pk)
    context = {"form": form, "webform": webform, "section": "web_forms"}
    return render(request, "interactions/webforms/form.html", context)


@require_GET
@org_member("org.manage")
def webform_detail(request: OrgRequest, form_id: int) -> HttpResponse:
    webform = get_object_or_404(WebForm.objects.select_related("owner"), pk=form_id)
    path = reverse("webform_public", args=[webforms.webform_token(webform)])
    address = request.build_absolute_uri(path)
    entry = WebFormEntry(webform=webform, custom=webforms.contact_custom_fields(), auto_id=False)
    embed = {"address": address, "webform": webform, "entry": entry, "trap": TRAP}
    context = {
        "webform": webform, "address": address, "section": "web_forms",
        "iframe": render_to_string("interactions/webforms/_embed_iframe.html", embed),
        "html": render_to_string("interactions/webforms/_embed_form.html", embed),
    }  # fmt: skip
    return render(request, "interactions/webforms/detail.html", context)


@require_http_methods(["GET", "POST"])
@org_member("org.manage")
def webform_rotate(request: OrgRequest, form_id: int) -> HttpResponse:
    webform = get_object_or_404(WebForm.objects, pk=form_id)
    if request.method == "POST":
        webforms.webform_rotate(org=request.org, form=webform, by=request.user)
        messages.success(request, "The form has a new address: update the pages that embed it.")
        return redirect("interactions:webform", request.org.slug, webform.pk)
    context = {"webform": webform, "section": "web_forms"}
    return render(request, "interactions/webforms/rotate.html", context)


@require_http_methods(["GET", "POST"])
@org_member("org.manage")
def webform_delete(request: OrgRequest, form_id: int) -> HttpResponse:
    webform = get_object_or_404(WebForm.objects, pk=form_id)
    if request.method == "POST":
        webforms.webform_delete(org=request.org, form=webform, by=request.user)
        messages.success(request, f"Deleted the form {webform.name}. What it captured stays.")
        return redirect("interactions:webforms", request.org.slug)
    context = {"webform": webform, "section": "web_forms"}
    return render(request, "interactions/webforms/delete.html", context)


# --- The public page ----------------------------------------------------------------------


# Embedded in other sites: no CSRF token (the honeypot, the rate limit and the size limit
# stand in for it), and framing allowed, on this page only; scripts stay our own (none).
@csrf_exempt
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})  # type: ignore[arg-type]  # typed for (request) only
@require_http_methods(["GET", "POST"])
def webform_public(request: HttpRequest, token: str) -> HttpResponse:
    """The form, and what a submission answers: thanks (200), the form with its errors
    (400), too many submissions (429), too large (413); 404 for any token that opens no
    live form."""
    with webforms.webform_opened(token) as found:  # one transaction, the organisation's
        if found is None:
            raise Http404("No form here.")
        return _public(request, *found)


def _public(request: HttpRequest, org: Organization, webform: WebForm) -> HttpResponse:
    custom = webforms.contact_custom_fields()
    if request.method == "GET":
        return _page(request, webform, WebFormEntry(webform=webform, custom=custom))
    if _length(request) > MAX_BODY:
        return _page(request, webform, notice="That is too much to send: shorten it.", status=413)
    if webforms.rate_limited(form=webform, ip=client_ip(request)):
        notice = "Too many submissions from your address: try again in a few minutes."
        response = _page(request, webform, notice=notice, status=429)
        response["Retry-After"] = str(webforms.RATE_WINDOW)
        return response
    form = WebFormEntry(request.POST, webform=webform, custom=custom)
    if form.trapped():  # a bot: it is told what a person would be, and nothing is kept
        return _page(request, webform, thanked=True)
    if form.is_valid():
        consent = bool(form.cleaned_data.get("consent"))
        try:
            webforms.webform_submit(org=org, form=webform, values=form.values(), consent=consent)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            return _page(request, webform, thanked=True)
    return _page(request, webform, form, status=400)


def _length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return MAX_BODY + 1


def _page(
    request: HttpRequest, webform: WebForm, form: WebFormEntry | None = None, *,
    thanked: bool = False, notice: str = "", status: int = 200,
) -> HttpResponse:  # fmt: skip
    context = {
        "webform": webform, "form": form, "thanked": thanked, "notice": notice,
        "thank_you": webform.thank_you or THANKS,
    }  # fmt: skip
    return render(request, "interactions/webforms/public.html", context, status=status)
