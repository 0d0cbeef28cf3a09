"""A task's pages: add, read, edit, complete, snooze and delete. Completing and snoozing
answer htmx with the task's line again (on My day, on a record's page), and a plain form
post with a redirect to where it came from."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.forms import apply_errors
from crm.params import id_param, local_next
from crm.permissions import can, org_member
from crm.requests import OrgRequest
from interactions import selectors, services, timeline
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
    if wanted := local_next(request):
        return wanted
    if task is not None:
        return reverse("tasks:detail", args=[request.org.slug, task.pk])
    return reverse("task:list", args=[request.org.slug])


def _record(request: OrgRequest) -> Any:
    """The record a new task is for (?contact=<id>, ?company=<id>, ?deal=<id>…), among those
    the member may see: 404 for one they may not, as for one that does not exist."""
    source = request.POST if request.method == "POST" else request.GET
    for host in reversed(timeline.hosts()):  # the most particular first: a deal's, then…
        if record_id := source.get(host.key, ""):
            return get_object_or_404(host.visible(request.membership), pk=_id(record_id))
    return None


def _id(value: str) -> int:
    """A record id from the query; 404 for anything else (another's, or none at all)."""
    found = id_param(value)
    if found is None:
        raise Http404
    return found


def tasks_card_context(
    request: OrgRequest, record: Any, form: TaskForm | None = None
) -> dict[str, Any]:
    """What a record page's Tasks card shows: its open tasks and the quick add."""
    key = timeline.host_of(record).key
    slug = request.org.slug
    may_add = can(request.membership, "task.edit")
    if form is None and may_add:
        form = TaskForm(initial={"due_at": _tomorrow_morning()})
    return {
        "org": request.org, "request": request, "record": record, "key": key,
        "tasks": selectors.record_tasks(record), "form": form, "may_add": may_add,
        "list_url": f"{reverse('task:list', args=[slug])}?{key}={record.pk}",
        "add_url": f"{reverse('tasks:new', args=[slug])}?{key}={record.pk}",
    }  # fmt: skip


@require_http_methods(["GET", "POST"])
@org_member("task.edit")
def task_new(request: OrgRequest) -> HttpResponse:
    """The page that adds a task, which the Tasks card of a record's page also posts to
    (htmx: the card comes back with the task in it)."""
    record = _record(request)
    links = timeline.host_of(record).links(record) if record is not None else {}
    if request.method == "POST":
        form = TaskForm(request.POST)
        if form.is_valid():
            fields = dict(form.cleaned_data)
            if "assignee" not in request.POST:  # the quick add: the task is the member's
                fields["assignee"] = request.user
            try:
                task = services.task_create(org=request.org, by=request.user, **links, **fields)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                if request.htmx and record is not None:
                    context = tasks_card_context(request, record)
                    return render(request, "interactions/_tasks_card.html", context)
                messages.success(request, f"Added the task “{task.title}”.")
                return redirect(_next(request, task))
        if request.htmx and record is not None:
            context = tasks_card_context(request, record, form)
            return render(request, "interactions/_tasks_card.html", context)
    else:
        form = TaskForm(initial={"assignee": request.user.pk, "due_at": _tomorrow_morning()})
    host = timeline.host_of(record) if record is not None else None
    context = {
        "form": form,
        "record": record,
        "record_key": host.key if host else "",
        "record_url": reverse(host.page, args=[request.org.slug, record.pk]) if host else "",
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
        # The line as it was: with its record (My day) or its assignee (a record's card).
        shows = {name: request.POST.get(name) == "1" for name in ("show_record", "show_assignee")}
        context = {"task": task, "changed": message, **shows}
        return render(request, "interactions/_task.html", context)
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
