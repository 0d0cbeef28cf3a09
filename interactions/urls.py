"""An interaction's pages, and the timeline and quick log of a contact's or company's page,
under /o/<org_slug>/; the list across channels is the platform's (crm.records.urls)."""

from django.urls import path

from interactions import inbound_views, views

app_name = "interactions"

urlpatterns = [
    path("interactions/<int:interaction_id>/", views.interaction_detail, name="detail"),
    path("interactions/<int:interaction_id>/edit/", views.interaction_edit, name="edit"),
    path("interactions/<int:interaction_id>/delete/", views.interaction_delete, name="delete"),
    path("contacts/<int:contact_id>/interactions/", views.record_timeline, name="contact_timeline"),
    path("settings/email-in/", inbound_views.mailbox_settings, name="mailbox"),
    path("settings/email-in/rotate/", inbound_views.mailbox_rotate, name="mailbox_rotate"),
    path(
        "companies/<int:company_id>/interactions/", views.record_timeline, name="company_timeline"
    ),
]
