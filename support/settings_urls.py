"""Settings → Queues, SLA policies, Business hours, Canned replies and Support, under
/o/<org_slug>/settings/ (namespace "support_settings")."""

from django.urls import path

from support import settings_views as views

app_name = "support_settings"

_QUEUE = "settings/queues/<int:queue_id>/"
_POLICY = "settings/sla-policies/<int:policy_id>/"
_CALENDAR = "settings/business-hours/<int:calendar_id>/"
_REPLY = "settings/canned-replies/<int:reply_id>/"

urlpatterns = [
    path("settings/queues/", views.queue_list, name="queues"),
    path("settings/queues/new/", views.queue_new, name="queue_new"),
    path(_QUEUE, views.queue_edit, name="queue_edit"),
    path(f"{_QUEUE}archive/", views.queue_archive, name="queue_archive"),
    path(f"{_QUEUE}new-address/", views.queue_rotate, name="queue_rotate"),
    path("settings/sla-policies/", views.policy_list, name="policies"),
    path("settings/sla-policies/new/", views.policy_new, name="policy_new"),
    path(_POLICY, views.policy_edit, name="policy_edit"),
    path(f"{_POLICY}delete/", views.policy_delete, name="policy_delete"),
    path("settings/business-hours/", views.calendar_list, name="calendars"),
    path("settings/business-hours/new/", views.calendar_new, name="calendar_new"),
    path(_CALENDAR, views.calendar_edit, name="calendar_edit"),
    path(f"{_CALENDAR}delete/", views.calendar_delete, name="calendar_delete"),
    path("settings/canned-replies/", views.reply_list, name="replies"),
    path("settings/canned-replies/new/", views.reply_new, name="reply_new"),
    path(_REPLY, views.reply_edit, name="reply_edit"),
    path(f"{_REPLY}delete/", views.reply_delete, name="reply_delete"),
    path("settings/support/", views.support_settings, name="support"),
]
