"""Members and invitations: invite, change a role, remove, revoke."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm import services
from crm.forms import InvitationForm, RoleForm, apply_errors
from crm.models import Invitation, Membership, Role
from crm.permissions import org_member
from crm.requests import OrgRequest
from crm.selectors import member_list, open_invitations


def _members_page(request: OrgRequest, invite_form: InvitationForm) -> HttpResponse:
    context = {
        "members": member_list(),
        "invitations": open_invitations(),
        "invite_form": invite_form,
        "role_choices": Role.choices,
        "section": "members",
    }
    return render(request, "crm/settings/members.html", context)


@require_GET
@org_member("org.manage")
def members(request: OrgRequest) -> HttpResponse:
    return _members_page(request, InvitationForm(inviter=request.membership))


@require_POST
@org_member("org.manage")
def member_invite(request: OrgRequest) -> HttpResponse:
    form = InvitationForm(request.POST, inviter=request.membership)
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                org=request.org, by=request.membership, **form.cleaned_data,
                accept_url_for=lambda inv: request.build_absolute_uri(
                    reverse("invitation_accept", args=[services.invitation_token(inv)])
                ),
            )  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("crm:members", request.org.slug)
    return _members_page(request, form)


@require_POST
@org_member("org.manage")
def member_role(request: OrgRequest, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
    else:
        try:
            services.membership_change_role(
                org=request.org, membership=membership, role=form.cleaned_data["role"],
                by=request.membership,
            )  # fmt: skip
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(
                request, f"{membership.user.display_name} is now {membership.get_role_display()}."
            )
    return redirect("crm:members", request.org.slug)


@require_http_methods(["GET", "POST"])
@org_member("org.manage")
def member_remove(request: OrgRequest, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id)
    if request.method == "POST":
        try:
            services.membership_remove(
                org=request.org, membership=membership, by=request.membership
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, f"{membership.user.display_name} no longer has access.")
            if membership.pk == request.membership.pk:
                return redirect("home")
        return redirect("crm:members", request.org.slug)
    context = {"member": membership, "section": "members"}
    return render(request, "crm/settings/member_remove.html", context)


@require_POST
@org_member("org.manage")
def invitation_revoke(request: OrgRequest, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects, pk=invitation_id)
    try:
        services.invitation_revoke(org=request.org, invitation=invitation, by=request.membership)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"Withdrew the invitation for {invitation.email}.")
    return redirect("crm:members", request.org.slug)
