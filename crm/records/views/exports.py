"""Exports of a list: a direct download, or a job with its progress."""

from io import BytesIO
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crm import files, jobs
from crm.paging import PAGE_SIZE
from crm.params import text_param
from crm.permissions import can, org_member
from crm.records import exports, registry
from crm.records.models import ExportJob
from crm.records.registry import Kind
from crm.records.views import for_kind
from crm.requests import OrgRequest

CONTENT_TYPES = {
    ExportJob.Format.CSV: "text/csv; charset=utf-8",
    ExportJob.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _back_to_list(request: OrgRequest, kind: Kind, query: str) -> HttpResponse:
    url = kind.url("list", request.org.slug)
    return redirect(f"{url}?{query}" if query else url)


@require_GET
@org_member("export.run")
@for_kind("view")
def records_export(request: OrgRequest, kind: Kind) -> HttpResponse:
    fmt = text_param(request.GET, "format", ExportJob.Format.CSV)
    if fmt not in ExportJob.Format.values:
        return HttpResponseBadRequest("Export as format=csv or format=xlsx.")
    params = request.GET.copy()
    for key in ("format", "page"):
        params.pop(key, None)
    query = params.urlencode()
    try:
        found, shown = exports.filtered(kind, request.membership, query)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back_to_list(request, kind, query)
    limited = not can(request.membership, "records.export_many")
    if limited and exports.count_capped(found, PAGE_SIZE) > PAGE_SIZE:
        messages.error(request, (
            f"Your role may export one page of a list at most ({PAGE_SIZE} rows): narrow "
            "the search or filters, or ask an admin (Settings → Permissions)."
        ))  # fmt: skip
        return _back_to_list(request, kind, query)
    if exports.count_capped(found, exports.DIRECT_LIMIT) > exports.DIRECT_LIMIT:
        job = exports.export_job_create(
            org=request.org, by=request.user, record_kind=kind.key, fmt=fmt, query=query
        )
        return redirect("records:export_job", request.org.slug, job.pk)
    # Written whole before the response leaves: the rows are readable only inside the
    # request's transaction, which a streaming response would outlive.
    name = f"{kind.nouns}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    response = HttpResponse(
        content_type=CONTENT_TYPES[fmt],  # type: ignore[index]
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    out: Any = BytesIO() if fmt == ExportJob.Format.XLSX else response
    exports.export_now(
        org=request.org, by=request.user, kind=kind, fmt=fmt, query=query, found=found,
        shown=shown, file=out,
    )  # fmt: skip
    if out is not response:
        response.content = out.getvalue()
    return response


def _own_job(request: OrgRequest, export_id: int) -> ExportJob:
    # Only the member who asked for it: the file holds the rows their visibility showed
    # them, which a colleague limited to their own records must not read.
    return get_object_or_404(ExportJob.objects, pk=export_id, requested_by=request.user)


@require_GET
@org_member("export.run")
def export_job(request: OrgRequest, export_id: int) -> HttpResponse:
    job = _own_job(request, export_id)
    done, total = exports.export_progress(job)
    kind = registry.kind(job.record_kind)
    waiting = job.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)
    context = {
        "job": job,
        "kind": kind,
        "done": done,
        "total": total,
        "percent": 100 if job.status == ExportJob.Status.DONE else done * 100 // max(total, 1),
        "waiting": waiting,
        "stalled": jobs.stalled_for("export", job.pk) if waiting else None,
    }
    template = "records/export_job.html" + ("#progress" if request.htmx else "")
    return render(request, template, context)


@require_GET
@org_member("export.run")
def export_download(request: OrgRequest, export_id: int) -> FileResponse:
    job = _own_job(request, export_id)
    if job.status != ExportJob.Status.DONE or not files.exists(job.file):
        raise Http404("This export has no file yet.")
    name = f"{registry.kind(job.record_kind).nouns}-{job.created_at:%Y-%m-%d}.{job.format}"
    return FileResponse(files.open_file(job.file), as_attachment=True, filename=name)
