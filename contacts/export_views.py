"""Exports of the contact and company lists: a direct download, or a job with its progress."""

from io import BytesIO

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from contacts import exports
from contacts.models import ExportJob
from crm.permissions import can, org_member
from crm.requests import OrgRequest

CONTENT_TYPES = {
    ExportJob.Format.CSV: "text/csv; charset=utf-8",
    ExportJob.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
LIST_URLS: dict[str, str] = {
    ExportJob.Kind.CONTACTS: "contacts:list",
    ExportJob.Kind.COMPANIES: "contacts:companies",
}


def _back_to_list(request: OrgRequest, kind: str, query: str) -> HttpResponse:
    url = reverse(LIST_URLS[kind], args=[request.org.slug])
    return redirect(f"{url}?{query}" if query else url)


def _export(request: OrgRequest, kind: str) -> HttpResponse:
    fmt = request.GET.get("format", ExportJob.Format.CSV)
    if fmt not in ExportJob.Format.values:
        return HttpResponseBadRequest("Export as format=csv or format=xlsx.")
    if not can(request.membership, "contact.view" if kind == "contacts" else "company.view"):
        raise PermissionDenied
    params = request.GET.copy()
    for key in ("format", "page"):
        params.pop(key, None)
    query = params.urlencode()
    try:
        found, shown = exports.filtered(kind, request.membership, query)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back_to_list(request, kind, query)
    if exports.count_capped(found, exports.DIRECT_LIMIT) > exports.DIRECT_LIMIT:
        job = exports.export_job_create(
            org=request.org, by=request.user, kind=kind, fmt=fmt, query=query
        )
        return redirect("contacts:export_job", request.org.slug, job.pk)
    # Written whole before the response leaves: the rows are readable only inside the
    # request's transaction, which a streaming response would outlive.
    name = f"{kind}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    response = HttpResponse(
        content_type=CONTENT_TYPES[fmt],  # type: ignore[index]
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    rows = exports.export_rows(shown, found)
    if fmt == ExportJob.Format.XLSX:
        buffer = BytesIO()
        exports.write_xlsx(rows, buffer)
        response.content = buffer.getvalue()
    else:
        exports.write_csv(rows, response)
    return response


@require_GET
@org_member("export.run")
def contact_export(request: OrgRequest) -> HttpResponse:
    return _export(request, ExportJob.Kind.CONTACTS)


@require_GET
@org_member("export.run")
def company_export(request: OrgRequest) -> HttpResponse:
    return _export(request, ExportJob.Kind.COMPANIES)


def _own_job(request: OrgRequest, export_id: int) -> ExportJob:
    # Only the member who asked for it: the file holds the rows their visibility showed
    # them, which a colleague limited to their own records must not read.
    return get_object_or_404(ExportJob.objects, pk=export_id, requested_by=request.user)


@require_GET
@org_member("export.run")
def export_job(request: OrgRequest, export_id: int) -> HttpResponse:
    job = _own_job(request, export_id)
    done, total = exports.export_progress(job)
    context = {
        "job": job,
        "done": done,
        "total": total,
        "percent": 100 if job.status == ExportJob.Status.DONE else done * 100 // max(total, 1),
        "waiting": job.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING),
    }
    template = "contacts/export_job.html" + ("#progress" if request.htmx else "")
    return render(request, template, context)


@require_GET
@org_member("export.run")
def export_download(request: OrgRequest, export_id: int) -> FileResponse:
    job = _own_job(request, export_id)
    path = exports.export_path(job)
    if job.status != ExportJob.Status.DONE or not job.file or not path.is_file():
        raise Http404("This export has no file yet.")
    name = f"{job.kind}-{job.created_at:%Y-%m-%d}.{job.format}"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)
