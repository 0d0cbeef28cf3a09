"""A task's pages: add, read, edit, complete, snooze and delete. Completing and snoozing
answer htmx with the task's line again (on My day, on a record's page), and a plain form
post with a redirect to where it came from."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import selectors as contact_selectors
from crm.forms import apply_errors
from crm.permissions import org_member
from crm.requests import OrgRequest
from interactions import selectors, services
from interactions.forms import TaskForm, task_form_for
from interactions.models import Task


def _visible(request: OrgRequest, task_id: int) -> Task:
    return get_object_or_404(selectors.task_list(request.membership), pk=task_id)


def _changeable(request: OrgRequest, task_id: int) -> Task:
    task = _visible(request, task_id)
    if not services.may_change_task(request.membership, task):
        raise PermissionDenied
    return task


def _next(request: OrgRequest, task: Task | None = None) -> str:
    """Where to go after a plain form post: the page it came from, if it is ours."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    if task is not None:
        return reverse("tasks:detail", args=[request.org.slug, task.pk])
    return reverse("task:list", args=[request.org.slug])


def _links(request: OrgRequest) -> dict[str, Any]:
    """The contact or company a new task is for (?contact=<id> or ?company=<id>), among
    those the member may see; none for an id they may not."""
    source = request.POST if request.method == "POST" else request.GET
    links: dict[str, Any] = {}
    contact_id, company_id = source.get("contact", ""), source.get("company", "")
    if contact_id.isascii() and contact_id.isdigit():
        people = contact_selectors.contact_list(request.membership)
        if contact := people.filter(pk=int(contact_id)).first():
            links["contact"] = contact
    elif company_id.isascii() and company_id.isdigit():
        companies = contact_selectors.company_list(request.membership)
        if company := companies.filter(pk=int(company_id)).first():
            links["company"] = company
    return links


@require_http_methods(["GET", "POST"])
@org_member("task.edit")
def task_new(request: OrgRequest) -> HttpResponse:
    links = _links(request)
    if request.method == "POST":
        form = TaskForm(request.POST)
        if form.is_valid():
            try:
                task = services.task_create(
                    org=request.org, by=request.user, **links, **form.cleaned_data
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"Added the task “{task.title}”.")
                return redirect(_next(request, task))
    else:
        form = TaskForm(initial={"assignee": request.user.pk, "due_at": _tomorrow_morning()})
    context = {
        "form": form,
        "links": links,
        "next": _next(request) if "next" in request.GET else "",
    }
    return render(
        request, "interactions/task_form.html", context, status=400 if form.errors else 200
    )


def _tomorrow_morning() -> Any:
    now = timezone.localtime()
    return services.snooze_until("tomorrow", now=now)


@require_GET
@org_member("task.view")
def task_detail(request: OrgRequest, task_id: int) -> HttpResponse:
    task = _visible(request, task_id)
    context = {"task": task, "may_change": services.may_change_task(request.membership, task)}
    return render(request, "interactions/task_detail.html", context)


@require_http_methods(["GET", "POST"])
@org_member("task.edit")
def task_edit(request: OrgRequest, task_id: int) -> HttpResponse:
    task = _changeable(request, task_id)
    form = TaskForm(request.POST) if request.method == "POST" else task_form_for(task)
    if request.method == "POST" and form.is_valid():
        try:
            services.task_update(org=request.org, task=task, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("tasks:detail", request.org.slug, task.pk)
    context = {"task": task, "form": form}
    return render(
        request, "interactions/task_form.html", context, status=400 if form.errors else 200
    )


def _line(request: OrgRequest, task: Task, message: str) -> HttpResponse:
    if request.htmx:
        return render(request, "interactions/_task.html", {"task": task, "changed": message})
    messages.success(request, message)
    return redirect(_next(request, task))


@require_POST
@org_member("task.edit")
def task_complete(request: OrgRequest, task_id: int) -> HttpResponse:
    task = _changeable(request, task_id)
    services.task_complete(org=request.org, task=task, by=request.user)
    return _line(request, task, f"Done: {task.title}.")


@require_POST
@org_member("task.edit")
def task_reopen(request: OrgRequest, task_id: int) -> HttpResponse:
    task = _changeable(request, task_id)
    services.task_complete(org=request.org, task=task, by=request.user, done=False)
    return _line(request, task, f"Open again: {task.title}.")


@require_POST
@org_member("task.edit")
def task_snooze(request: OrgRequest, task_id: int) -> HttpResponse:
    task = _changeable(request, task_id)
    until = services.snooze_until(request.POST.get("until", ""), now=timezone.now())
    if until is None:
        return HttpResponse("Choose when: in an hour, tomorrow or next week.", status=400)
    services.task_snooze(org=request.org, task=task, by=request.user, until=until)
    when = f"{timezone.localtime(until):%a %-d %b, %H:%M}"
    return _line(request, task, f"Snoozed until {when}.")


@require_http_methods(["GET", "POST"])
@org_member("task.edit")
def task_delete(request: OrgRequest, task_id: int) -> HttpResponse:
    task = _changeable(request, task_id)
    if request.method == "POST":
        services.task_delete(org=request.org, task=task, by=request.user)
        if request.htmx:
            return HttpResponse("")
        messages.success(request, f"Moved “{task.title}” to the Trash.")
        return redirect(
            _next(request)
            if request.POST.get("next")
            else reverse("task:list", args=[request.org.slug])
        )
    return render(request, "interactions/task_delete.html", {"task": task})
