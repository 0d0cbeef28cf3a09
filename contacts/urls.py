"""Contacts and companies under /o/<org_slug>/."""

from django.urls import path

from contacts import (
    bulk_views,
    company_views,
    custom_field_views,
    export_views,
    import_views,
    merge_views,
    privacy_views,
    saved_view_views,
    views,
)

app_name = "contacts"

urlpatterns = [
    path("contacts/", views.contact_list, name="list"),
    path("contacts/new/", views.contact_new, name="new"),
    path("contacts/export/", export_views.contact_export, name="export"),
    path("contacts/bulk/", bulk_views.contact_bulk, name="bulk"),
    path("contacts/bulk/apply/", bulk_views.contact_bulk_apply, name="bulk_apply"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="detail"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="edit"),
    path("contacts/<int:contact_id>/delete/", views.contact_delete, name="delete"),
    path("contacts/<int:contact_id>/restore/", views.contact_restore, name="restore"),
    path(
        "contacts/<int:contact_id>/personal-data/",
        privacy_views.contact_export_personal_data,
        name="personal_data",
    ),
    path("contacts/<int:contact_id>/erase/", privacy_views.contact_erase, name="erase"),
    path("companies/", company_views.company_list, name="companies"),
    path("companies/new/", company_views.company_new, name="company_new"),
    path("companies/export/", export_views.company_export, name="company_export"),
    path("companies/bulk/", bulk_views.company_bulk, name="company_bulk"),
    path("companies/bulk/apply/", bulk_views.company_bulk_apply, name="company_bulk_apply"),
    path("exports/<int:export_id>/", export_views.export_job, name="export_job"),
    path(
        "exports/<int:export_id>/download/",
        export_views.export_download,
        name="export_download",
    ),
    path("companies/suggest/", company_views.company_suggest, name="company_suggest"),
    path("companies/<int:company_id>/", company_views.company_detail, name="company_detail"),
    path("companies/<int:company_id>/edit/", company_views.company_edit, name="company_edit"),
    path("companies/<int:company_id>/delete/", company_views.company_delete, name="company_delete"),
    path(
        "companies/<int:company_id>/restore/",
        company_views.company_restore,
        name="company_restore",
    ),
    path("trash/", views.trash, name="trash"),
    path("contacts/views/save/", saved_view_views.saved_view_save, name="view_save"),
    path("contacts/views/<int:view_id>/", saved_view_views.saved_view_edit, name="view_edit"),
    path(
        "contacts/views/<int:view_id>/delete/",
        saved_view_views.saved_view_delete,
        name="view_delete",
    ),
    path("settings/custom-fields/", custom_field_views.custom_fields, name="custom_fields"),
    path(
        "settings/custom-fields/new/",
        custom_field_views.custom_field_edit,
        name="custom_field_new",
    ),
    path(
        "settings/custom-fields/<int:field_id>/",
        custom_field_views.custom_field_edit,
        name="custom_field_edit",
    ),
    path(
        "settings/custom-fields/<int:field_id>/delete/",
        custom_field_views.custom_field_delete,
        name="custom_field_delete",
    ),
    path("contacts/import/", import_views.contact_import, name="import"),
    path("companies/import/", import_views.company_import, name="company_import"),
    path("imports/<int:import_id>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:import_id>/map/", import_views.import_map, name="import_map"),
    path("imports/<int:import_id>/commit/", import_views.import_commit, name="import_commit"),
    path("imports/<int:import_id>/undo/", import_views.import_undo, name="import_undo"),
    path("imports/<int:import_id>/discard/", import_views.import_discard, name="import_discard"),
    path(
        "imports/<int:import_id>/problems.csv",
        import_views.import_problems,
        name="import_problems",
    ),
]

# Duplicates and merges.
urlpatterns += [
    path("contacts/duplicates/", merge_views.contact_duplicates, name="duplicates"),
    path(
        "contacts/duplicates/find/",
        merge_views.duplicates_find,
        {"entity": "contact"},
        name="duplicates_find",
    ),
    path("companies/duplicates/", merge_views.company_duplicates, name="company_duplicates"),
    path(
        "companies/duplicates/find/",
        merge_views.duplicates_find,
        {"entity": "company"},
        name="company_duplicates_find",
    ),
    path(
        "duplicates/<int:pair_id>/dismiss/",
        merge_views.duplicate_dismiss,
        name="duplicate_dismiss",
    ),
    path("contacts/merge/", merge_views.contact_merge, name="merge"),
    path("companies/merge/", merge_views.company_merge, name="company_merge"),
    path("merges/<int:merge_id>/undo/", merge_views.merge_undo, name="merge_undo"),
]
