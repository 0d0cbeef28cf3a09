"""An interaction's pages, and the timeline and quick log of a record's page (a contact's,
a company's, a deal's), under /o/<org_slug>/; the list across channels is the platform's
(crm.records.urls)."""

from django.urls import path

from interactions import inbound_views, outbound_views, timeline, views, webform_views
from interactions.attachment_views import attachment_download
from interactions.followup_views import followup_settings

app_name = "interactions"

urlpatterns = [
    path("interactions/<int:interaction_id>/", views.interaction_detail, name="detail"),
    path("interactions/<int:interaction_id>/edit/", views.interaction_edit, name="edit"),
    path("interactions/<int:interaction_id>/delete/", views.interaction_delete, name="delete"),
    path(
        "interactions/<int:interaction_id>/attachments/<int:attachment_id>/",
        attachment_download,
        name="attachment",
    ),
    path("settings/email-in/", inbound_views.mailbox_settings, name="mailbox"),
    path("settings/email-in/rotate/", inbound_views.mailbox_rotate, name="mailbox_rotate"),
    path("settings/follow-ups/", followup_settings, name="followups"),
    path("settings/web-forms/", webform_views.webform_list, name="webforms"),
    path("settings/web-forms/new/", webform_views.webform_edit, name="webform_new"),
    path("settings/web-forms/<int:form_id>/", webform_views.webform_detail, name="webform"),
    path("settings/web-forms/<int:form_id>/edit/", webform_views.webform_edit, name="webform_edit"),
    path(
        "settings/web-forms/<int:form_id>/new-address/",
        webform_views.webform_rotate,
        name="webform_rotate",
    ),
    path(
        "settings/web-forms/<int:form_id>/delete/",
        webform_views.webform_delete,
        name="webform_delete",
    ),
    path("contacts/<int:contact_id>/email/", outbound_views.contact_email, name="contact_email"),
    path(
        "interactions/<int:interaction_id>/retry/",
        outbound_views.interaction_email_retry,
        name="email_retry",
    ),
    path(
        "interactions/<int:interaction_id>/delivery/",
        outbound_views.interaction_delivery,
        name="delivery",
    ),
    # A timeline and quick log per record that has them (interactions.timeline): contacts,
    # companies, and those other apps declare.
    *[
        path(
            f"{host.prefix}/<int:{host.key}_id>/interactions/",
            views.record_timeline,
            {"host": host.key},
            name=f"{host.key}_timeline",
        )
        for host in timeline.hosts()
    ],
]
