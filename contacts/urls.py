"""The pages of contacts and companies under /o/<org_slug>/; their lists, exports, imports,
bulk actions, saved views, duplicates and merges are the platform's (crm.records.urls)."""

from django.urls import path

from contacts import company_views, privacy_views, views

app_name = "contacts"

urlpatterns = [
    path("contacts/new/", views.contact_new, name="new"),
    path("contacts/suggest/", views.contact_suggest, name="contact_suggest"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="detail"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="edit"),
    path("contacts/<int:contact_id>/delete/", views.contact_delete, name="delete"),
    path(
        "contacts/<int:contact_id>/personal-data/",
        privacy_views.contact_export_personal_data,
        name="personal_data",
    ),
    path("contacts/<int:contact_id>/erase/", privacy_views.contact_erase, name="erase"),
    path("companies/new/", company_views.company_new, name="company_new"),
    path("companies/suggest/", company_views.company_suggest, name="company_suggest"),
    path("companies/<int:company_id>/", company_views.company_detail, name="company_detail"),
    path("companies/<int:company_id>/edit/", company_views.company_edit, name="company_edit"),
    path("companies/<int:company_id>/delete/", company_views.company_delete, name="company_delete"),
]
