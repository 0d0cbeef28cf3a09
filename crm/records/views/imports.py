"""Imports of a kind's records: upload a file, map its columns, check the rows, import them,
undo the import."""

import csv
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from crm import files, jobs
from crm.forms import apply_errors
from crm.paging import bounded_page
from crm.params import text_param
from crm.permissions import can, org_member
from crm.progress import progress_get
from crm.records import exports, registry
from crm.records.forms import ImportMappingForm, ImportUploadForm
from crm.records.imports import services
from crm.records.imports.fields import targets
from crm.records.imports.plan import importer_of
from crm.records.models import ImportJob
from crm.records.registry import Kind
from crm.records.views import for_kind
from crm.requests import OrgRequest

Status = ImportJob.Status
RUNNING = (Status.READING, Status.CHECKING, Status.IMPORTING, Status.UNDOING)


def _jobs(request: OrgRequest) -> Any:
    """The imports this member may open: their own, or everyone's for managers and admins."""
    found = ImportJob.objects.select_related("created_by")
    if can(request.membership, "import.view_all"):
        return found
    return found.filter(created_by=request.user)


def _job(request: OrgRequest, import_id: int) -> ImportJob:
    return get_object_or_404(_jobs(request), pk=import_id)


@require_http_methods(["GET", "POST"])
@org_member("import.run")
@for_kind("view")
def records_import(request: OrgRequest, kind: Kind) -> HttpResponse:
    if kind.imports is None:
        raise Http404("This kind of record cannot be imported.")
    files = request.FILES  # read the body first: the upload handler marks a file too large
    too_large = getattr(request, "upload_too_large", False)
    posted = request.method == "POST"
    form = ImportUploadForm(
        request.POST if posted else None, files if posted else None, too_large=too_large
    )
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_upload(
                org=request.org, by=request.user, record_kind=kind.key, file=upload,
                name=upload.name or "upload", size=upload.size or 0,
            )  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        else:
            return redirect("records:import_detail", request.org.slug, job.pk)
    jobs = _jobs(request).filter(record_kind=kind.key)
    page = bounded_page(jobs, text_param(request.GET, "page"), size=20)
    context = {"form": form, "kind": kind, "page": page}
    return render(request, "records/import_start.html", context)


def _mapping_form(job: ImportJob, data: Any = None) -> ImportMappingForm | None:
    """The column mapping of a job, beside the first rows the worker read; None once the
    file is gone (or was never read)."""
    if not job.headers or not files.exists(job.file):
        return None
    kind = registry.kind(job.record_kind)
    return ImportMappingForm(
        data, job=job, targets=targets(kind), matches=importer_of(kind).match,
        samples=job.samples,
    )  # fmt: skip


@require_GET
@org_member("import.run")
def import_detail(request: OrgRequest, import_id: int) -> HttpResponse:
    job = _job(request, import_id)
    running = job.status in RUNNING
    if request.htmx and not running:
        return HttpResponseClientRefresh()  # finished: show the whole page with its report
    editable = job.status in (Status.UPLOADED, Status.FAILED) or "remap" in request.GET
    form = _mapping_form(job) if editable and not running else None
    template = "records/import_detail.html" + ("#progress" if request.htmx else "")
    return render(request, template, _detail(job, form))


def _detail(job: ImportJob, form: ImportMappingForm | None) -> dict[str, Any]:
    running = job.status in RUNNING
    kind = registry.kind(job.record_kind)
    match = importer_of(kind).match.get(job.match_by)
    return {
        "job": job,
        "kind": kind,
        "running": running,
        "progress": progress_get(services.PROGRESS, job.pk) if running else None,
        "stalled": jobs.stalled_for("import", job.pk) if running else None,
        "form": form,
        "match_label": match.label.lower() if match else job.match_by,
        "own_totals": importer_of(kind).totals_of_its_own(job.totals),
    }


@require_POST
@org_member("import.run")
def import_map(request: OrgRequest, import_id: int) -> HttpResponse:
    job = _job(request, import_id)
    form = _mapping_form(job, request.POST)
    if form is not None and form.is_valid():
        try:
            services.import_check_start(
                org=request.org, job=job, by=request.user, mapping=form.mapping(),
                mode=form.cleaned_data["mode"], match_by=form.cleaned_data["match_by"],
            )  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        else:
            return redirect("records:import_detail", request.org.slug, job.pk)
    if form is None:
        messages.error(request, "The file of this import is gone: upload it again.")
        return redirect("records:import_detail", request.org.slug, job.pk)
    return render(request, "records/import_detail.html", _detail(job, form))


def _act(request: OrgRequest, job: ImportJob, action: Any, done: str) -> HttpResponse:
    try:
        action(org=request.org, job=job, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("records:import_detail", request.org.slug, job.pk)


@require_POST
@org_member("import.run")
def import_commit(request: OrgRequest, import_id: int) -> HttpResponse:
    job = _job(request, import_id)
    return _act(request, job, services.import_commit_start, "Importing: this page follows it.")


@require_http_methods(["GET", "POST"])
@org_member("import.run")
def import_undo(request: OrgRequest, import_id: int) -> HttpResponse:
    job = _job(request, import_id)
    if request.method == "POST":
        return _act(request, job, services.import_undo_start, "Undoing the import.")
    kind = registry.kind(job.record_kind)
    own_totals = importer_of(kind).totals_of_its_own(job.totals)
    context = {"job": job, "kind": kind, "action": "undo", "own_totals": own_totals}
    return render(request, "records/import_confirm.html", context)


@require_http_methods(["GET", "POST"])
@org_member("import.run")
def import_discard(request: OrgRequest, import_id: int) -> HttpResponse:
    job = _job(request, import_id)
    if request.method == "GET":
        context = {"job": job, "kind": registry.kind(job.record_kind), "action": "discard"}
        return render(request, "records/import_confirm.html", context)
    try:
        services.import_discard(org=request.org, job=job, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("records:import_detail", request.org.slug, job.pk)
    messages.success(request, f"Discarded the import of {job.file_name}.")
    return redirect(registry.kind(job.record_kind).url("import", request.org.slug))


@require_GET
@org_member("import.run")
def import_problems(request: OrgRequest, import_id: int) -> HttpResponse:
    """The report's problems as CSV, to fix the file beside it."""
    job = _job(request, import_id)
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job.pk}-problems.csv"'},
    )
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["Row", "Column", "Outcome", "Problem"])
    for row, column, message, outcome in job.problems:
        writer.writerow([row, exports.neutralise(column), outcome, exports.neutralise(message)])
    return response
