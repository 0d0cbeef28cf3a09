"""Settings → Custom fields: the fields an organisation adds to its kinds of record."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from crm.forms import apply_errors
from crm.permissions import org_member
from crm.records import custom_fields as services
from crm.records import registry
from crm.records.custom_field_forms import CustomFieldForm
from crm.records.models import CustomField
from crm.requests import OrgRequest
from crm.selectors import object_history


@require_GET
@org_member("settings.configure")
def custom_fields(request: OrgRequest) -> HttpResponse:
    kinds = [
        (kind.label, services.definitions(kind.key))
        for kind in registry.kinds()
        if kind.custom_fields
    ]
    context = {"kinds": kinds, "any": any(found for _, found in kinds)}
    return render(request, "records/custom_fields.html", context | {"section": "custom_fields"})


@require_http_methods(["GET", "POST"])
@org_member("settings.configure")
def custom_field_edit(request: OrgRequest, field_id: int | None = None) -> HttpResponse:
    field = get_object_or_404(CustomField.objects, pk=field_id) if field_id else None
    initial = CustomFieldForm.initial_for(field) if field else {}
    form = CustomFieldForm(request.POST or None, initial=initial, editing=field is not None)
    if form.is_valid():
        try:
            field = services.custom_field_save(
                org=request.org, by=request.user, field=field, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Saved the custom field {field.label}.")
            return redirect("records:custom_fields", request.org.slug)
    history = object_history(field) if field else []
    context = {"form": form, "field": field, "history": history, "section": "custom_fields"}
    return render(request, "records/custom_field_form.html", context)


@require_http_methods(["GET", "POST"])
@org_member("settings.configure")
def custom_field_delete(request: OrgRequest, field_id: int) -> HttpResponse:
    field = get_object_or_404(CustomField.objects, pk=field_id)
    if request.method == "POST":
        services.custom_field_delete(org=request.org, field=field, by=request.user)
        messages.success(
            request,
            f"Deleted the custom field {field.label}. Values already entered are kept but "
            "no longer shown.",
        )
        return redirect("records:custom_fields", request.org.slug)
    context = {
        "field": field,
        "field_kind": registry.kind(field.record_kind),
        "section": "custom_fields",
    }
    return render(request, "records/custom_field_delete.html", context)
