"""A task's pages under /o/<org_slug>/tasks/; the Tasks list is the platform's
(crm.records.urls)."""

from django.urls import path

from interactions import task_views as views

app_name = "tasks"

urlpatterns = [
    path("tasks/new/", views.task_new, name="new"),
    path("tasks/<int:task_id>/", views.task_detail, name="detail"),
    path("tasks/<int:task_id>/edit/", views.task_edit, name="edit"),
    path("tasks/<int:task_id>/complete/", views.task_complete, name="complete"),
    path("tasks/<int:task_id>/reopen/", views.task_reopen, name="reopen"),
    path("tasks/<int:task_id>/snooze/", views.task_snooze, name="snooze"),
    path("tasks/<int:task_id>/delete/", views.task_delete, name="delete"),
]
