"""Platform views outside any organisation: home, health, sign-up, one's name, new
organisation, invitations."""

import contextlib
import sys
from typing import Any

from allauth.account.views import SignupView as AllauthSignupView
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from crm import health, services
from crm.forms import NameForm, OrganizationCreateForm, apply_errors
from crm.models import Invitation, Membership, User
from crm.params import text_param
from crm.selectors import my_memberships
from crm.tenancy import activate, set_database_user


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send a member to the organisation they used last; anyone else to create one."""
    with transaction.atomic():
        set_database_user(request.user.pk)
        memberships = my_memberships(request.user)  # type: ignore[arg-type]
    if not memberships:
        return redirect("org_new")
    last = request.session.get("last_org")
    org = next((m.org for m in memberships if m.org.slug == last), memberships[0].org)
    return redirect("crm:home", org.slug)


@require_http_methods(["GET", "POST"])
@login_required
def org_new(request: HttpRequest) -> HttpResponse:
    form = OrganizationCreateForm(request.POST or None)
    if form.is_valid():
        try:
            org = services.org_create(name=form.cleaned_data["name"], owner=request.user)  # type: ignore[arg-type]
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{org.name} is ready. Invite your colleagues next.")
            return redirect("crm:members", org.slug)
    return render(request, "crm/org_new.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def account_profile(request: HttpRequest) -> HttpResponse:
    """The signed-in person's name, which colleagues see wherever they appear."""
    user: User = request.user  # type: ignore[assignment]
    form = NameForm(request.POST or None, initial={"name": user.get_full_name()})
    if form.is_valid():
        services.user_rename(user=user, name=form.cleaned_data["name"])
        messages.success(request, "Saved your name.")
        return redirect("account_profile")
    return render(request, "account/profile.html", {"form": form})


def _invitation(request: HttpRequest) -> str:
    """The invitation token a sign-up came with, from its link or its form."""
    return text_param(request.GET, "invitation") or text_param(request.POST, "invitation")


class SignupView(AllauthSignupView):
    """allauth's sign-up, told which invitation (if any) the person arrived with."""

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        token = _invitation(self.request)
        # A bad token makes an ordinary sign-up, which creates an organisation.
        if token:
            with contextlib.suppress(ValidationError):
                kwargs["invitation"] = org, invitation_id = services.invitation_from_token(token)
                with activate(org):
                    invited = Invitation.objects.filter(pk=invitation_id).first()
                if invited and not self.request.POST:
                    kwargs.setdefault("initial", {})["email"] = invited.email
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        token = _invitation(self.request)
        context["invitation_token"] = token if context["form"].invitation else ""
        return context


signup = SignupView.as_view()


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Show an invitation; a signed-in person accepts it, anyone else signs up or logs in."""
    try:
        org, invitation_id = services.invitation_from_token(token)
    except ValidationError as error:
        return render(request, "crm/invitation.html", {"error": error.messages[0]}, status=404)
    with activate(org):
        invitation = Invitation.objects.filter(pk=invitation_id).first()
        user = request.user if request.user.is_authenticated else None
        already = user is not None and Membership.objects.filter(user=user).exists()
        problem = None
        if not already:
            # Anonymous visitors see the invitation; their address is checked at sign-up.
            email = user.email if user else (invitation.email if invitation else "")
            try:
                services.invitation_check(invitation_id=invitation_id, email=email)
                if user and request.method == "POST":
                    services.invitation_accept(org=org, invitation_id=invitation_id, user=user)
                    messages.success(request, f"Welcome to {org.name}.")
                    return redirect("crm:home", org.slug)
            except ValidationError as failure:
                problem = failure.messages[0]
    context = {"inviting_org": org, "invitation": invitation, "token": token, "error": problem,
               "already_member": already}  # fmt: skip
    return render(request, "crm/invitation.html", context, status=404 if problem else 200)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the static manifest may not exist when URLs are imported.
    return redirect(static("img/logo.svg"), permanent=True)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker both answer; 503 naming the one that does not."""
    checks = {"database": health.database_status(), "broker": health.broker_status()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400: a value no form would take, said in the product's page (Django's own has none
    of its navigation)."""
    return render(request, "400.html", status=400)


# What a server that cannot reach the database or Redis raises: the page says "try again"
# with a 503, which tells a proxy and a monitor the same.
UNAVAILABLE: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    RedisError,
    KombuOperationalError,
)


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when what failed is a server the app depends on (a database or Redis
    that cannot be reached): both pages are plain, needing neither to render."""
    error = sys.exc_info()[1]
    if isinstance(error, UNAVAILABLE):
        page = loader.get_template("503.html").render()
        return HttpResponse(page, status=503, headers={"Retry-After": "30"})
    return HttpResponse(loader.get_template("500.html").render(), status=500)
